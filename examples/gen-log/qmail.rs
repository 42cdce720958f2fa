//! `--mta qmail`: the realistic traffic as qmail writes it through multilog
//! (`@4000000069a3…` TAI64N labels): qmail-send's `new msg`, `info msg`,
//! `starting delivery`/`delivery D: success|failure|deferral`, `bounce msg`,
//! `end msg` and `status:` lines, and qmail-smtpd's tcpserver, chkuser and
//! rblsmtpd lines, in one stream (as `cat`ing the two log directories merged
//! by time would give).

use super::traffic::{Counted, Fate, Host, Refusal, Shape, EPOCH};
use super::Rng;
use std::io::{self, Write};

pub struct Qmail<W: Write> {
    out: Counted<W>,
    delivery: u64,
    pid: u64,
    remote: u64,
    /// The sub-second part of the labels.
    nanos: Rng,
    last: (u64, u64),
}

impl<W: Write> Qmail<W> {
    pub fn new(out: W) -> Self {
        Qmail {
            out: Counted { out, written: 0 },
            delivery: 0,
            pid: 16_000,
            remote: 0,
            nanos: Rng(0x2545_f491_4f6c_dd1d),
            last: (u64::MAX, 0),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.out.flush()
    }

    fn line(&mut self, t: u64, text: &str) -> io::Result<()> {
        let label = (1u64 << 62) + 10 + EPOCH + t;
        // Increasing within a second, as a clock's would.
        let nanos = match self.last {
            (lt, n) if lt == t && n < 990_000_000 => n + 1 + self.nanos.below(10_000_000),
            _ => self.nanos.below(100_000_000),
        };
        self.last = (t, nanos);
        self.out.put(&format!("@{label:016x}{nanos:08x} {text}"))
    }

    /// qmail's message number (the queue file's inode).
    fn num(msg: u64) -> u64 {
        400_000 + msg * 37 % 9_000_000
    }

    fn connect(&mut self, rng: &mut Rng, t: u64, c: &Host) -> io::Result<u64> {
        self.pid += 1 + rng.below(20);
        let pid = self.pid;
        self.line(t, &format!("tcpserver: status: {}/40", 1 + rng.below(10)))?;
        self.line(t, &format!("tcpserver: pid {pid} from {}", c.ip))?;
        self.line(
            t,
            &format!(
                "tcpserver: ok {pid} mx.example.com:192.0.2.1:25 {}:{}::{}",
                c.name,
                c.ip,
                30_000 + rng.below(30_000)
            ),
        )?;
        Ok(pid)
    }

    fn end(&mut self, t: u64, pid: u64) -> io::Result<()> {
        self.line(t, &format!("tcpserver: end {pid} status 0"))
    }

    fn start(&mut self, t: u64, msg: u64, to: &str, rcpt: &str) -> io::Result<u64> {
        self.delivery += 1;
        let d = self.delivery;
        let m = Self::num(msg);
        self.line(t, &format!("starting delivery {d}: msg {m} to {to} {rcpt}"))?;
        if to == "remote" {
            self.remote = (self.remote + 1) % 20;
        }
        let r = self.remote;
        self.line(t, &format!("status: local 0/10 remote {r}/20"))?;
        Ok(d)
    }
}

/// Text as qmail-send logs it: `_` for space, `/` after each line.
fn q(text: &str) -> String {
    text.replace(' ', "_")
}

impl<W: Write> Shape for Qmail<W> {
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
        let pid = self.connect(rng, t, c)?;
        let remote = format!("{}:{}:{}", c.name, c.name, c.ip);
        let l = match why {
            Refusal::Blocklisted => format!(
                "rblsmtpd: {} pid {pid}: 451 http://www.spamhaus.org/query/bl?ip={}",
                c.ip, c.ip
            ),
            Refusal::Unknown => format!(
                "CHKUSER rejected rcpt: from <{sender}::> remote <{remote}> rcpt <{rcpt}> : not existing recipient"
            ),
            Refusal::Relay => format!(
                "CHKUSER rejected relaying: from <{sender}::> remote <{remote}> rcpt <{rcpt}> : client not allowed to relay"
            ),
            Refusal::Spam => format!(
                "simscan:[{pid}]:SPAM REJECT ({}.{:02}/5.00):1.{}s:Special offer:{}:{sender}:{rcpt}",
                6 + rng.below(20),
                rng.below(100),
                rng.below(10),
                c.ip
            ),
        };
        if why != Refusal::Blocklisted {
            self.line(
                t,
                &format!(
                    "CHKUSER accepted sender: from <{sender}::> remote <{remote}> rcpt <> : sender accepted"
                ),
            )?;
        }
        self.line(t, &l)?;
        self.end(t + 1, pid)
    }

    fn received(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        sender: &str,
        client: Option<&Host>,
        rcpts: &[String],
    ) -> io::Result<()> {
        let mut qp = 3_000 + rng.below(60_000);
        if let Some(c) = client.filter(|c| !c.ip.starts_with("10.")) {
            let pid = self.connect(rng, t, c)?;
            let remote = format!("{}:{}:{}", c.name, c.name, c.ip);
            self.line(t, &format!("CHKUSER accepted sender: from <{sender}::> remote <{remote}> rcpt <> : sender accepted"))?;
            for r in rcpts {
                self.line(t, &format!("CHKUSER accepted rcpt: from <{sender}::> remote <{remote}> rcpt <{r}> : found existing recipient"))?;
            }
            self.end(t, pid)?;
            qp = pid + 1;
        }
        let m = Self::num(msg);
        self.line(t, &format!("new msg {m}"))?;
        let uid = if client.is_some() { 89 } else { 555 };
        self.line(
            t,
            &format!(
                "info msg {m}: bytes {} from <{sender}> qp {qp} uid {uid}",
                1_000 + rng.below(90_000)
            ),
        )
    }

    fn delivery(
        &mut self,
        _: &mut Rng,
        t: u64,
        msg: u64,
        rcpt: &str,
        relay: &Host,
        fate: Fate,
    ) -> io::Result<()> {
        let to = if fate == Fate::Local {
            "local"
        } else {
            "remote"
        };
        let d = self.start(t, msg, to, rcpt)?;
        let ip = &relay.ip;
        let l = match fate {
            Fate::Local => "success: did_1+0+0/".to_string(),
            Fate::Sent => format!(
                "success: {ip}_accepted_message./Remote_host_said:_250_2.0.0_OK_{}_-_gsmtp/",
                EPOCH + t
            ),
            Fate::Unknown => format!(
                "failure: {ip}_does_not_like_recipient./Remote_host_said:_550_5.1.1_<{rcpt}>:_Recipient_address_rejected:_User_unknown/Giving_up_on_{ip}./"
            ),
            Fate::Spam => format!(
                "failure: {ip}_failed_after_I_sent_the_message./Remote_host_said:_{}/",
                q("554 5.7.1 Message rejected as spam by Content Filtering")
            ),
            Fate::Deferred(_) => format!(
                "deferral: {ip}_does_not_like_recipient./Remote_host_said:_{}/",
                q("451 4.2.0 Mailbox busy, try again later")
            ),
        };
        self.line(t, &format!("delivery {d}: {l}"))
    }

    fn expired(&mut self, _: &mut Rng, t: u64, msg: u64, rcpt: &str) -> io::Result<()> {
        let d = self.start(t, msg, "remote", rcpt)?;
        self.line(
            t,
            &format!(
                "delivery {d}: failure: 203.0.113.7_does_not_like_recipient./Remote_host_said:_{}/I'm_not_going_to_try_again;_this_message_has_been_in_the_queue_too_long./",
                q("451 4.2.0 Mailbox busy, try again later")
            ),
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
        let qp = 3_000 + rng.below(60_000);
        let (m, n) = (Self::num(msg), Self::num(ndr));
        self.line(t, &format!("bounce msg {m} qp {qp}"))?;
        self.line(t, &format!("new msg {n}"))?;
        self.line(
            t,
            &format!(
                "info msg {n}: bytes {} from <> qp {qp} uid 555",
                3_000 + rng.below(20_000)
            ),
        )?;
        let d = self.start(t, ndr, "local", sender)?;
        self.line(t, &format!("delivery {d}: success: did_1+0+0/"))?;
        self.line(t, &format!("end msg {n}"))
    }

    fn completed(&mut self, _: &mut Rng, t: u64, msg: u64) -> io::Result<()> {
        let m = Self::num(msg);
        self.line(t, &format!("end msg {m}"))
    }

    fn idle(&mut self, _: &mut Rng, t: u64) -> io::Result<()> {
        let r = self.remote;
        self.line(t, &format!("status: local 0/10 remote {r}/20"))
    }
}
