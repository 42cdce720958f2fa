//! `--mta exim`: the realistic traffic as Exim 4 writes its mainlog with
//! Debian's default log selectors (`2026-03-01 07:01:44 1vAbCd-000Ab1-2T <= …`):
//! `<=` arrivals, `=>`/`->` deliveries, `**` failures, `==` deferrals,
//! `Completed`, ACL rejections, NDRs (`<= <> R=id`) and queue runs.

use super::traffic::{ymd_hms, Counted, Fate, Host, Refusal, Shape, EPOCH};
use super::Rng;
use std::collections::HashMap;
use std::io::{self, Write};

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut n: u64, width: usize) -> String {
    let mut b = vec![b'0'; width];
    for c in b.iter_mut().rev() {
        *c = B62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(b).unwrap_or_default()
}

pub struct Exim<W: Write> {
    out: Counted<W>,
    /// Message ids of open messages, by serial.
    ids: HashMap<u64, String>,
    /// The last delivery's message and host (the next to it is `->`).
    last: Option<(u64, String)>,
    pid: u64,
}

impl<W: Write> Exim<W> {
    pub fn new(out: W) -> Self {
        Exim {
            out: Counted { out, written: 0 },
            ids: HashMap::new(),
            last: None,
            pid: 3000,
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.out.flush()
    }

    fn line(&mut self, t: u64, text: &str) -> io::Result<()> {
        let (d, h) = ymd_hms(t);
        self.out.put(&format!("{d} {h} {text}"))
    }

    /// The id of a message (made at its arrival: time, "pid", fraction).
    fn id(&mut self, t: u64, msg: u64) -> String {
        self.ids
            .entry(msg)
            .or_insert_with(|| {
                format!(
                    "{}-{}-{}",
                    base62(EPOCH + t, 6),
                    base62(msg * 7919 % 56_800_235_584, 6),
                    base62(msg % 3844, 2)
                )
            })
            .clone()
    }
}

fn tls() -> &'static str {
    "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes"
}

impl<W: Write> Shape for Exim<W> {
    fn written(&self) -> u64 {
        self.out.written
    }

    fn refused(
        &mut self,
        rng: &mut Rng,
        t: u64,
        c: &Host,
        sender: &str,
        rcpt: &str,
        why: Refusal,
    ) -> io::Result<()> {
        let port = 30_000 + rng.below(30_000);
        let from = format!("H={} [{}]:{port} I=[192.0.2.1]:25", c.name, c.ip);
        let l = match why {
            Refusal::Unknown => {
                format!("{from} F=<{sender}> rejected RCPT <{rcpt}>: Unknown user")
            }
            Refusal::Blocklisted => format!(
                "{from} F=<{sender}> rejected RCPT <{rcpt}>: rejected because {} is in a black list at zen.spamhaus.org",
                c.ip
            ),
            Refusal::Relay => {
                format!("{from} F=<{sender}> rejected RCPT <{rcpt}>: relay not permitted")
            }
            Refusal::Spam => {
                let id = format!(
                    "{}-{}-{}",
                    base62(EPOCH + t, 6),
                    base62(rng.below(56_800_235_584), 6),
                    base62(rng.below(3844), 2)
                );
                format!(
                    "{id} {from} F=<{sender}> rejected after DATA: Your message looks like spam (score {}.{})",
                    6 + rng.below(20),
                    rng.below(10)
                )
            }
        };
        self.line(t, &l)
    }

    fn received(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        sender: &str,
        client: Option<&Host>,
        _rcpts: &[String],
    ) -> io::Result<()> {
        let id = self.id(t, msg);
        let size = 1_000 + rng.below(90_000);
        let l = match client {
            Some(c) if c.ip.starts_with("10.") => format!(
                "{id} <= {sender} H=({}) [{}]:{} I=[192.0.2.1]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:{sender} S={size} id={t}.{}@example.com",
                c.name,
                c.ip,
                40_000 + rng.below(20_000),
                rng.below(100_000)
            ),
            Some(c) => format!(
                "{id} <= {sender} H={} [{}]:{} I=[192.0.2.1]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S={size} id={t}.{}@{}",
                c.name,
                c.ip,
                30_000 + rng.below(30_000),
                rng.below(100_000),
                c.name
            ),
            None => format!(
                "{id} <= {sender} U=list P=local S={size} id=list.{t}.{}@lists.example.com",
                rng.below(100_000)
            ),
        };
        self.line(t, &l)
    }

    fn delivery(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        rcpt: &str,
        relay: &Host,
        fate: Fate,
    ) -> io::Result<()> {
        let id = self.id(t, msg);
        let host = format!("H={} [{}]", relay.name, relay.ip);
        let same = self.last.as_ref() == Some(&(msg, relay.name.clone()));
        self.last = Some((msg, relay.name.clone()));
        let l = match fate {
            Fate::Local => {
                let user = rcpt.split('@').next().unwrap_or(rcpt);
                format!("{id} => {user} <{rcpt}> R=local_user T=mail_spool")
            }
            Fate::Sent => format!(
                "{id} {} {rcpt} R=dnslookup T=remote_smtp {host} {} C=\"250 2.0.0 OK  {} {}si{} - gsmtp\"",
                if same { "->" } else { "=>" },
                tls(),
                EPOCH + t,
                base62(rng.below(1 << 30), 5),
                rng.below(100_000)
            ),
            Fate::Unknown => format!(
                "{id} ** {rcpt} R=dnslookup T=remote_smtp {host} {}: SMTP error from remote mail server after RCPT TO:<{rcpt}>: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
                tls()
            ),
            Fate::Spam => format!(
                "{id} ** {rcpt} R=dnslookup T=remote_smtp {host} {}: SMTP error from remote mail server after end of data: 554 5.7.1 Message rejected as spam by Content Filtering",
                tls()
            ),
            Fate::Deferred(_) => format!(
                "{id} == {rcpt} R=dnslookup T=remote_smtp defer (-44) {host}: SMTP error from remote mail server after RCPT TO:<{rcpt}>: 451 4.2.0 Mailbox busy, try again later"
            ),
        };
        self.line(t, &l)
    }

    fn expired(&mut self, _: &mut Rng, t: u64, msg: u64, rcpt: &str) -> io::Result<()> {
        let id = self.id(t, msg);
        self.line(
            t,
            &format!("{id} ** {rcpt} R=dnslookup T=remote_smtp: retry timeout exceeded"),
        )
    }

    fn bounced(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        ndr: u64,
        sender: &str,
    ) -> io::Result<()> {
        let id = self.id(t, msg);
        let n = self.id(t, ndr);
        self.line(
            t,
            &format!(
                "{n} <= <> R={id} U=Debian-exim P=local S={}",
                3_000 + rng.below(20_000)
            ),
        )?;
        let user = sender.split('@').next().unwrap_or(sender);
        self.line(
            t,
            &format!("{n} => {user} <{sender}> R=local_user T=mail_spool"),
        )?;
        self.line(t, &format!("{n} Completed"))?;
        self.ids.remove(&ndr);
        Ok(())
    }

    fn completed(&mut self, _: &mut Rng, t: u64, msg: u64) -> io::Result<()> {
        let id = self.id(t, msg);
        self.ids.remove(&msg);
        self.line(t, &format!("{id} Completed"))
    }

    fn idle(&mut self, rng: &mut Rng, t: u64) -> io::Result<()> {
        self.pid += 1 + rng.below(50);
        let pid = self.pid;
        match rng.below(3) {
            0 => {
                self.line(t, &format!("Start queue run: pid={pid}"))?;
                self.line(t, &format!("End queue run: pid={pid}"))
            }
            1 => self.line(
                t,
                &format!(
                    "no host name found for IP address 198.51.{}.{}",
                    rng.below(256),
                    rng.below(256)
                ),
            ),
            _ => self.line(
                t,
                &format!(
                    "SMTP connection from [203.0.113.{}]:{} lost while reading message data",
                    rng.below(250),
                    30_000 + rng.below(30_000)
                ),
            ),
        }
    }
}
