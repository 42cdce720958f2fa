//! The `realistic` profile of `gen-log`: a Postfix log shaped like a busy
//! real server's rather than like the test data.
//!
//! - Recipients: a population of about 250 addresses per MiB of log (256,000
//!   per GiB) over 3,000 domains whose sizes follow Zipf's law (exponent 1):
//!   at 1 GiB the largest has ~30,000 addresses, the next ~15,000 and ~10,000.
//!   Local parts are names (`first.last`, `first_last`, `firstlast`, with a
//!   number once the names run out), so near neighbours are common.
//! - Traffic: outbound mail from our users to that population (popular
//!   addresses more often), inbound mail to our 3,000 users at example.com,
//!   mailing-list posts (one queue id, hundreds to thousands of recipients
//!   delivered in a burst, the same members each time, some of them gone).
//! - Failures (2–3 % of lines): unknown users (often one edit from a real
//!   address), spam and RBL rejects, milter rejects, relay denied; deferred
//!   deliveries retried with growing delays (up to 4 hours apart, about
//!   2.5 days for those that expire), then
//!   delivered or expired; now and then a directory-harvest run of hundreds
//!   of guessed addresses from one client within minutes.

use super::{Rng, MONTHS};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

pub(super) const FIRST: [&str; 48] = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "chris",
    "lisa",
    "daniel",
    "nancy",
    "matthew",
    "betty",
    "anthony",
    "sandra",
    "mark",
    "ashley",
    "paul",
    "emily",
    "steven",
    "donna",
    "andrew",
    "michelle",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "ronald",
    "laura",
    "jason",
    "rebecca",
];
const LAST: [&str; 48] = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
];
const BIG: [&str; 6] = [
    "bigmail.example",
    "outlook.example",
    "yahoo.example",
    "isp-one.example",
    "telco.example",
    "university.example",
];
pub(super) const OURS: u64 = 3_000;

/// A local part: names first, a number once the names run out.
pub(super) fn local(i: u64) -> String {
    let (f, l, n) = (
        FIRST[(i % 48) as usize],
        LAST[((i / 48) % 48) as usize],
        i / (48 * 48),
    );
    let name = match (i / 48 + i) % 3 {
        0 => format!("{f}.{l}"),
        1 => format!("{f}_{l}"),
        _ => format!("{f}{l}"),
    };
    if n == 0 {
        name
    } else {
        format!("{name}{n}")
    }
}

/// A string one random edit away (a typo).
pub(super) fn typo(s: &str, rng: &mut Rng) -> String {
    let mut b = s.as_bytes().to_vec();
    let p = rng.below(b.len() as u64) as usize;
    let c = b'a' + rng.below(26) as u8;
    match rng.below(4) {
        0 => b.insert(p, c),
        1 if b.len() > 3 => {
            b.remove(p);
        }
        2 if p + 1 < b.len() => b.swap(p, p + 1),
        _ => b[p] = c,
    }
    String::from_utf8(b).unwrap_or_else(|_| s.to_string())
}

/// The recipient population: Zipf-sized domains.
pub(super) struct World {
    pub(super) names: Vec<String>,
    /// Cumulative weights of the domains.
    cdf: Vec<f64>,
    /// Addresses of each domain.
    size: Vec<u64>,
}

impl World {
    pub(super) fn new(population: u64) -> World {
        let n = 3_000usize;
        let w: Vec<f64> = (1..=n).map(|k| 1.0 / k as f64).collect();
        let total: f64 = w.iter().sum();
        let mut acc = 0.0;
        let cdf = w
            .iter()
            .map(|x| {
                acc += x / total;
                acc
            })
            .collect();
        let size = w
            .iter()
            .map(|x| ((population as f64) * x / total).round().max(5.0) as u64)
            .collect();
        let names = (0..n)
            .map(|k| match BIG.get(k) {
                Some(d) => d.to_string(),
                None => format!("corp{k}.example.net"),
            })
            .collect();
        World { names, cdf, size }
    }

    /// A domain, by its share of the traffic.
    pub(super) fn domain(&self, rng: &mut Rng) -> usize {
        let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }

    /// An address of a domain, popular ones more often (squared uniform).
    pub(super) fn address(&self, d: usize, rng: &mut Rng) -> String {
        let a = rng.below(self.size[d]);
        let i = a * rng.below(self.size[d]) / self.size[d].max(1);
        format!("{}@{}", local(i), self.names[d])
    }
}

/// A deferred delivery waiting for its next attempt.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Retry {
    qid: String,
    rcpt: String,
    attempt: u32,
    /// Attempts before it is delivered (or, when `expires`, expires).
    last: u32,
    expires: bool,
}

struct Log<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> Log<W> {
    fn line(&mut self, t: u64, host: &str, line: &str) -> io::Result<()> {
        let day = t / 86_400;
        let (h, m, s) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
        let month = MONTHS[(2 + day / 28) as usize % 12];
        let l = format!(
            "{month} {:>2} {h:02}:{m:02}:{s:02} {host} {line}\n",
            1 + day % 28
        );
        self.out.write_all(l.as_bytes())?;
        self.written += l.len() as u64;
        Ok(())
    }
}

fn relay(d: &str, rng: &mut Rng) -> String {
    format!("mx{}.{d}[203.0.113.{}]:25", rng.below(3), rng.below(250))
}

/// Writes about `limit` bytes of the realistic profile.
pub fn run(out: impl Write, limit: u64, mb: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed);
    let world = World::new((mb * 250).max(2_000));
    let mut log = Log { out, written: 0 };
    let mut retries: BinaryHeap<Reverse<(u64, Retry)>> = BinaryHeap::new();
    let (mut t, mut pid, mut serial) = (0u64, 4000u64, 0u64);
    let mut qid = |rng: &mut Rng| {
        serial += 1;
        format!("{:06X}{:05X}", serial & 0xff_ffff, rng.below(1 << 20))
    };
    while log.written < limit {
        t += rng.below(4);
        pid += 1;
        // Deferred deliveries whose time has come.
        while retries.peek().is_some_and(|r| r.0 .0 <= t) {
            let Some(Reverse((when, r))) = retries.pop() else {
                break;
            };
            let d = r
                .rcpt
                .rsplit_once('@')
                .map(|x| x.1)
                .unwrap_or("x")
                .to_string();
            let delay = 300 * u64::from(r.attempt);
            if r.attempt < r.last {
                log.line(when, "mx1", &format!("postfix/smtp[{pid}]: {}: to=<{}>, relay={}, delay={delay}, delays={delay}/0/0.3/0, dsn=4.2.0, status=deferred (host mx0.{d}[203.0.113.7] said: 451 4.2.0 Mailbox busy, try again later (in reply to RCPT TO command))", r.qid, r.rcpt, relay(&d, &mut rng)))?;
                let next = when + (300u64 << r.attempt.min(9)).min(4 * 3600);
                retries.push(Reverse((
                    next,
                    Retry {
                        attempt: r.attempt + 1,
                        ..r
                    },
                )));
            } else if r.expires {
                log.line(
                    when,
                    "mx1",
                    &format!(
                        "postfix/qmgr[815]: {}: from=<{}>, status=expired, returned to sender",
                        r.qid, "ops@example.com"
                    ),
                )?;
                log.line(
                    when,
                    "mx1",
                    &format!("postfix/qmgr[815]: {}: removed", r.qid),
                )?;
            } else {
                log.line(when, "mx1", &format!("postfix/smtp[{pid}]: {}: to=<{}>, relay={}, delay={delay}, delays={delay}/0/0.3/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {:08X})", r.qid, r.rcpt, relay(&d, &mut rng), rng.next() & 0xffff_ffff))?;
                log.line(
                    when,
                    "mx1",
                    &format!("postfix/qmgr[815]: {}: removed", r.qid),
                )?;
            }
        }
        let r = rng.below(10_000);
        if r < 3 {
            // A directory-harvest run: hundreds of guessed addresses in minutes.
            let ip = format!("192.0.2.{}", rng.below(250));
            let n = 100 + rng.below(600);
            for k in 0..n {
                let guess = format!("{}{}", FIRST[rng.below(48) as usize], rng.below(1000));
                let g = format!("{guess}@example.com");
                log.line(t + k / 3, "mx1", &format!("postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <{g}>: Recipient address rejected: User unknown in local recipient table; from=<info@promo{}.example> to=<{g}> proto=ESMTP helo=<pc-{ip}>", rng.below(20)))?;
            }
            t += n / 3;
            continue;
        }
        if r < 4 {
            // A mailing-list post: the same members each time, some gone.
            let list = rng.below(5);
            let mut members = Rng(0x51_7cc1_b727_220a ^ (list + 1));
            let n = 200 + members.below(2_800);
            let q = qid(&mut rng);
            log.line(t, "mx1", &format!("postfix/pickup[812]: {q}: uid=1001 from=<list{list}-bounces@lists.example.com>"))?;
            log.line(t, "mx1", &format!("postfix/qmgr[815]: {q}: from=<list{list}-bounces@lists.example.com>, size={}, nrcpt={n} (queue active)", 5_000 + rng.below(50_000)))?;
            for k in 0..n {
                let d = world.domain(&mut members);
                let a = world.address(d, &mut members);
                let gone = members.below(100) < 2;
                let rl = relay(&world.names[d], &mut rng);
                let ts = t + k / 40;
                if gone {
                    log.line(ts, "mx1", &format!("postfix/smtp[{}]: {q}: to=<old.{a}>, relay={rl}, delay=2, delays=0.1/0/0.5/1.4, dsn=5.1.1, status=bounced (host {} said: 550 5.1.1 <old.{a}>: Recipient address rejected: User unknown (in reply to RCPT TO command))", pid + k % 8, rl.trim_end_matches(":25")))?;
                } else {
                    log.line(ts, "mx1", &format!("postfix/smtp[{}]: {q}: to=<{a}>, relay={rl}, delay=2, delays=0.1/0/0.5/1.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {:08X})", pid + k % 8, rng.next() & 0xffff_ffff))?;
                }
            }
            t += n / 40;
            log.line(t, "mx1", &format!("postfix/qmgr[815]: {q}: removed"))?;
            continue;
        }
        let host = format!("mail{}.example.net", rng.below(5_000));
        let ip = format!("198.51.{}.{}", rng.below(256), rng.below(256));
        if r < 230 {
            // An inbound rejection, no queue id.
            let user = local(rng.below(OURS));
            let rcpt = if rng.below(2) == 0 {
                format!("{}@example.com", typo(&user, &mut rng))
            } else {
                format!("{user}@example.com")
            };
            let sender = world.address(world.domain(&mut rng), &mut rng);
            log.line(
                t,
                "mx1",
                &format!("postfix/smtpd[{pid}]: connect from {host}[{ip}]"),
            )?;
            let text = match rng.below(10) {
                0..=3 if rcpt != format!("{user}@example.com") => format!("RCPT from {host}[{ip}]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>"),
                0..=5 => format!("RCPT from {host}[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>"),
                6 => format!("RCPT from {host}[{ip}]: 454 4.7.1 <{rcpt}>: Relay access denied; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>"),
                7 => format!("RCPT from {host}[{ip}]: 450 4.7.1 <{host}>: Helo command rejected: Host not found; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>"),
                _ => String::new(),
            };
            if text.is_empty() {
                log.line(t, "mx1", &format!("postfix/smtpd[{pid}]: NOQUEUE: milter-reject: END-OF-MESSAGE from {host}[{ip}]: 5.7.1 Spam message rejected; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>"))?;
            } else {
                log.line(
                    t,
                    "mx1",
                    &format!("postfix/smtpd[{pid}]: NOQUEUE: reject: {text}"),
                )?;
            }
            log.line(t + 1, "mx1", &format!("postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"))?;
            continue;
        }
        let q = qid(&mut rng);
        if r < 3_500 {
            // Inbound mail to our users.
            let sender = world.address(world.domain(&mut rng), &mut rng);
            log.line(
                t,
                "mx1",
                &format!("postfix/smtpd[{pid}]: connect from {host}[{ip}]"),
            )?;
            log.line(
                t,
                "mx1",
                &format!("postfix/smtpd[{pid}]: {q}: client={host}[{ip}]"),
            )?;
            log.line(
                t,
                "mx1",
                &format!(
                    "postfix/cleanup[{}]: {q}: message-id=<{t}.{}@{host}>",
                    pid + 1,
                    rng.below(100_000)
                ),
            )?;
            log.line(
                t,
                "mx1",
                &format!(
                    "postfix/qmgr[815]: {q}: from=<{sender}>, size={}, nrcpt=1 (queue active)",
                    1_000 + rng.below(90_000)
                ),
            )?;
            log.line(t, "mx1", &format!("postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"))?;
            let rcpt = format!("{}@example.com", local(rng.below(OURS)));
            log.line(t + 1, "mx1", &format!("postfix/local[{}]: {q}: to=<{rcpt}>, relay=local, delay=0.1, delays=0.05/0/0/0.05, dsn=2.0.0, status=sent (delivered to mailbox)", pid + 2))?;
            log.line(t + 1, "mx1", &format!("postfix/qmgr[815]: {q}: removed"))?;
            continue;
        }
        // Outbound mail from our users: submission, then one to three recipients.
        let from = format!("{}@example.com", local(rng.below(OURS)));
        let n = 1 + rng.below(3);
        log.line(t, "mx1", &format!("postfix/submission/smtpd[{pid}]: {q}: client=laptop{}.example.com[10.0.{}.{}], sasl_method=PLAIN, sasl_username={from}", rng.below(500), rng.below(256), rng.below(256)))?;
        log.line(
            t,
            "mx1",
            &format!(
                "postfix/cleanup[{}]: {q}: message-id=<{t}.{}@example.com>",
                pid + 1,
                rng.below(100_000)
            ),
        )?;
        log.line(
            t,
            "mx1",
            &format!(
                "postfix/qmgr[815]: {q}: from=<{from}>, size={}, nrcpt={n} (queue active)",
                1_000 + rng.below(200_000)
            ),
        )?;
        let mut pending = false;
        for _ in 0..n {
            let d = world.domain(&mut rng);
            let mut rcpt = world.address(d, &mut rng);
            let dn = &world.names[d];
            let rl = relay(dn, &mut rng);
            let fate = rng.below(1_000);
            let line = if fate < 16 {
                rcpt = typo(&rcpt, &mut rng);
                format!("to=<{rcpt}>, relay={rl}, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host {} said: 550 5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command))", rl.trim_end_matches(":25"))
            } else if fate < 24 {
                format!("to=<{rcpt}>, relay={rl}, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.7.1, status=bounced (host {} said: 554 5.7.1 Message rejected as spam by Content Filtering (in reply to end of DATA command))", rl.trim_end_matches(":25"))
            } else if fate < 29 {
                let last = 1 + rng.below(4) as u32;
                let expires = rng.below(4) == 0;
                retries.push(Reverse((
                    t + 300,
                    Retry {
                        qid: q.clone(),
                        rcpt: rcpt.clone(),
                        attempt: 1,
                        last: if expires { 20 } else { last },
                        expires,
                    },
                )));
                pending = true;
                format!("to=<{rcpt}>, relay={rl}, delay=0.5, delays=0.1/0/0.2/0.2, dsn=4.2.0, status=deferred (host {} said: 451 4.2.0 Mailbox busy, try again later (in reply to RCPT TO command))", rl.trim_end_matches(":25"))
            } else {
                format!("to=<{rcpt}>, relay={rl}, delay=0.8, delays=0.1/0/0.3/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {:08X})", rng.next() & 0xffff_ffff)
            };
            log.line(
                t + 1,
                "mx1",
                &format!("postfix/smtp[{}]: {q}: {line}", pid + 2),
            )?;
        }
        if !pending {
            log.line(t + 1, "mx1", &format!("postfix/qmgr[815]: {q}: removed"))?;
        }
    }
    log.out.flush()
}
