//! The traffic of the realistic profile for MTAs other than Postfix: the same
//! shape as `realistic` (a Zipf-sized recipient population, mailing-list
//! bursts, directory-harvest runs, 2–3 % failure lines, deferrals retried over
//! days until delivered or expired), told as events to a [`Shape`] that
//! writes them as one MTA's log lines (`exim`, `qmail`, `exchange`).
//!
//! Times are seconds since 2026-03-01 00:00:00; message serials are unique
//! and increasing, and each shape turns them into its own message ids.

use super::realistic::{local, typo, World, FIRST, OURS};
use super::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// 2026-03-01 00:00:00 UTC in Unix seconds.
pub const EPOCH: u64 = 1_772_323_200;

/// Why our server refused a client's recipient.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such user here.
    Unknown,
    /// The client is on a DNS blocklist.
    Blocklisted,
    /// Not our domain, not allowed to relay.
    Relay,
    /// The message was spam (after DATA).
    Spam,
}

/// What became of one delivery attempt.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered to a mailbox here.
    Local,
    /// Accepted by the remote server.
    Sent,
    /// The remote server does not know the address.
    Unknown,
    /// The remote server refused the content.
    Spam,
    /// Temporarily refused (attempt number from 1).
    Deferred(u32),
}

/// A remote server: host name and address.
pub struct Host {
    pub name: String,
    pub ip: String,
}

/// One MTA's way of writing the events.
pub trait Shape {
    /// Bytes written so far.
    fn written(&self) -> u64;
    /// Our server refused `rcpt` from a client (no message id).
    fn refused(
        &mut self,
        rng: &mut Rng,
        t: u64,
        client: &Host,
        sender: &str,
        rcpt: &str,
        why: Refusal,
    ) -> io::Result<()>;
    /// A message was accepted: from a client (inbound or submission) or
    /// generated locally (`client` none: a list post).
    fn received(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        sender: &str,
        client: Option<&Host>,
        rcpts: &[String],
    ) -> io::Result<()>;
    /// One delivery attempt of `rcpt` (`first`: the first of its message's
    /// connection to that host, for MTAs that log the others apart).
    #[allow(clippy::too_many_arguments)]
    fn delivery(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        rcpt: &str,
        relay: &Host,
        fate: Fate,
    ) -> io::Result<()>;
    /// The message's lifetime is over with `rcpt` still deferred.
    fn expired(&mut self, rng: &mut Rng, t: u64, msg: u64, rcpt: &str) -> io::Result<()>;
    /// A non-delivery notice for `msg` was sent to `sender` (as message `ndr`).
    fn bounced(
        &mut self,
        rng: &mut Rng,
        t: u64,
        msg: u64,
        ndr: u64,
        sender: &str,
    ) -> io::Result<()>;
    /// The message is finished.
    fn completed(&mut self, rng: &mut Rng, t: u64, msg: u64) -> io::Result<()>;
    /// Whatever the MTA writes between messages (queue runs, status lines).
    fn idle(&mut self, rng: &mut Rng, t: u64) -> io::Result<()>;
}

/// A deferred delivery waiting for its next attempt.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Retry {
    msg: u64,
    rcpt: String,
    sender: String,
    attempt: u32,
    last: u32,
    expires: bool,
}

fn remote(d: &str, rng: &mut Rng) -> Host {
    Host {
        name: format!("mx{}.{d}", rng.below(3)),
        ip: format!("203.0.113.{}", rng.below(250)),
    }
}

fn domain_of(a: &str) -> &str {
    a.rsplit_once('@').map_or("example.net", |x| x.1)
}

/// Writes about `limit` bytes of realistic traffic through `shape`.
pub fn run(shape: &mut dyn Shape, limit: u64, mb: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed);
    let world = World::new((mb * 250).max(2_000));
    let mut retries: BinaryHeap<Reverse<(u64, Retry)>> = BinaryHeap::new();
    let (mut t, mut serial) = (0u64, 0u64);
    let mut next_msg = || {
        serial += 1;
        serial
    };
    let local_host = Host {
        name: "localhost".into(),
        ip: "127.0.0.1".into(),
    };
    while shape.written() < limit {
        t += rng.below(4);
        while retries.peek().is_some_and(|r| r.0 .0 <= t) {
            let Some(Reverse((when, r))) = retries.pop() else {
                break;
            };
            let relay = remote(domain_of(&r.rcpt), &mut rng);
            if r.attempt < r.last {
                shape.delivery(
                    &mut rng,
                    when,
                    r.msg,
                    &r.rcpt,
                    &relay,
                    Fate::Deferred(r.attempt + 1),
                )?;
                let next = when + (300u64 << r.attempt.min(9)).min(4 * 3600);
                retries.push(Reverse((
                    next,
                    Retry {
                        attempt: r.attempt + 1,
                        ..r
                    },
                )));
            } else if r.expires {
                shape.expired(&mut rng, when, r.msg, &r.rcpt)?;
                let ndr = next_msg();
                shape.bounced(&mut rng, when, r.msg, ndr, &r.sender)?;
                shape.completed(&mut rng, when, r.msg)?;
            } else {
                shape.delivery(&mut rng, when, r.msg, &r.rcpt, &relay, Fate::Sent)?;
                shape.completed(&mut rng, when, r.msg)?;
            }
        }
        let r = rng.below(10_000);
        if r < 1 {
            // A directory-harvest run: hundreds of guessed addresses in minutes.
            let client = Host {
                name: format!("pc-{}", rng.below(250)),
                ip: format!("192.0.2.{}", rng.below(250)),
            };
            let n = 100 + rng.below(600);
            let sender = format!("info@promo{}.example", rng.below(20));
            for k in 0..n {
                let guess = format!("{}{}", FIRST[rng.below(48) as usize], rng.below(1000));
                let g = format!("{guess}@example.com");
                shape.refused(&mut rng, t + k / 3, &client, &sender, &g, Refusal::Unknown)?;
            }
            t += n / 3;
            continue;
        }
        if r < 2 {
            // A mailing-list post: the same members each time, some gone.
            let list = rng.below(5);
            let mut members = Rng(0x51_7cc1_b727_220a ^ (list + 1));
            let n = 200 + members.below(2_800);
            let msg = next_msg();
            let sender = format!("list{list}-bounces@lists.example.com");
            let rcpts: Vec<(String, usize, bool)> = (0..n)
                .map(|_| {
                    let d = world.domain(&mut members);
                    let a = world.address(d, &mut members);
                    let gone = members.below(100) < 2;
                    (if gone { format!("old.{a}") } else { a }, d, gone)
                })
                .collect();
            // Delivered domain by domain, as MTAs batch them.
            let mut rcpts = rcpts;
            rcpts.sort_by_key(|x| x.1);
            let addrs: Vec<String> = rcpts.iter().map(|x| x.0.clone()).collect();
            shape.received(&mut rng, t, msg, &sender, None, &addrs)?;
            let mut bounced = false;
            for (k, (a, d, gone)) in rcpts.iter().enumerate() {
                let relay = remote(&world.names[*d], &mut rng);
                let fate = if *gone { Fate::Unknown } else { Fate::Sent };
                bounced |= *gone;
                shape.delivery(&mut rng, t + k as u64 / 40, msg, a, &relay, fate)?;
            }
            t += n / 40;
            if bounced {
                let ndr = next_msg();
                shape.bounced(&mut rng, t, msg, ndr, &sender)?;
            }
            shape.completed(&mut rng, t, msg)?;
            continue;
        }
        if r < 60 {
            shape.idle(&mut rng, t)?;
        }
        let client = Host {
            name: format!("mail{}.example.net", rng.below(5_000)),
            ip: format!("198.51.{}.{}", rng.below(256), rng.below(256)),
        };
        // Fewer than Postfix's realistic profile: these MTAs write fewer lines
        // per message, and failures stay at 2–3 % of the lines.
        if r < 130 {
            // An inbound rejection.
            let user = local(rng.below(OURS));
            let rcpt = if rng.below(2) == 0 {
                format!("{}@example.com", typo(&user, &mut rng))
            } else {
                format!("{user}@example.com")
            };
            let sender = world.address(world.domain(&mut rng), &mut rng);
            let why = match rng.below(10) {
                0..=3 if rcpt != format!("{user}@example.com") => Refusal::Unknown,
                0..=5 => Refusal::Blocklisted,
                6 | 7 => Refusal::Relay,
                _ => Refusal::Spam,
            };
            shape.refused(&mut rng, t, &client, &sender, &rcpt, why)?;
            continue;
        }
        let msg = next_msg();
        if r < 3_500 {
            // Inbound mail to one of our users.
            let sender = world.address(world.domain(&mut rng), &mut rng);
            let rcpt = format!("{}@example.com", local(rng.below(OURS)));
            shape.received(
                &mut rng,
                t,
                msg,
                &sender,
                Some(&client),
                std::slice::from_ref(&rcpt),
            )?;
            shape.delivery(&mut rng, t + 1, msg, &rcpt, &local_host, Fate::Local)?;
            shape.completed(&mut rng, t + 1, msg)?;
            continue;
        }
        // Outbound mail from our users: submission, then one to three recipients.
        let from = format!("{}@example.com", local(rng.below(OURS)));
        let laptop = Host {
            name: format!("laptop{}.example.com", rng.below(500)),
            ip: format!("10.0.{}.{}", rng.below(256), rng.below(256)),
        };
        let n = 1 + rng.below(3);
        let mut rcpts = Vec::new();
        let mut fates = Vec::new();
        for _ in 0..n {
            let d = world.domain(&mut rng);
            let mut rcpt = world.address(d, &mut rng);
            let fate = match rng.below(1_000) {
                0..=15 => {
                    rcpt = typo(&rcpt, &mut rng);
                    Fate::Unknown
                }
                16..=23 => Fate::Spam,
                24..=28 => Fate::Deferred(1),
                _ => Fate::Sent,
            };
            rcpts.push(rcpt);
            fates.push((d, fate));
        }
        shape.received(&mut rng, t, msg, &from, Some(&laptop), &rcpts)?;
        let (mut pending, mut bounced) = (false, false);
        for (rcpt, (d, fate)) in rcpts.iter().zip(fates) {
            let relay = remote(&world.names[d], &mut rng);
            shape.delivery(&mut rng, t + 1, msg, rcpt, &relay, fate)?;
            match fate {
                Fate::Deferred(_) => {
                    let last = 1 + rng.below(4) as u32;
                    let expires = rng.below(4) == 0;
                    retries.push(Reverse((
                        t + 300,
                        Retry {
                            msg,
                            rcpt: rcpt.clone(),
                            sender: from.clone(),
                            attempt: 1,
                            last: if expires { 20 } else { last },
                            expires,
                        },
                    )));
                    pending = true;
                }
                Fate::Unknown | Fate::Spam => bounced = true,
                _ => {}
            }
        }
        if bounced {
            let ndr = next_msg();
            shape.bounced(&mut rng, t + 1, msg, ndr, &from)?;
        }
        if !pending {
            shape.completed(&mut rng, t + 1, msg)?;
        }
    }
    Ok(())
}

/// Civil date of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + u64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD`, `HH:MM:SS` of a generator time (UTC).
pub fn ymd_hms(t: u64) -> (String, String) {
    let u = EPOCH + t;
    let (y, m, d) = civil(u / 86_400);
    let s = u % 86_400;
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60),
    )
}

/// Counts the bytes written through it.
pub struct Counted<W: Write> {
    pub out: W,
    pub written: u64,
}

impl<W: Write> Counted<W> {
    pub fn put(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.written += line.len() as u64 + 1;
        Ok(())
    }
}
