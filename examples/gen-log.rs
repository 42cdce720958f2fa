//! Generates a mail log for benchmarks: `cargo run --release --example
//! gen-log -- --mb 1024 [--mta postfix|exim|qmail|exchange] [--profile
//! light|realistic] [--seed N] > big.log`. Deterministic (a seeded xorshift);
//! queue ids link the lines of one message.
//!
//! `--mta exim|qmail|exchange` writes the realistic traffic (see [`traffic`])
//! as that MTA's log: an Exim mainlog, a qmail multilog stream, Exchange
//! message tracking CSV (`--profile` is then ignored).
//!
//! `light` (the default, unchanged): every line shape of the test data in
//! realistic proportions (about 2 % failures: unknown users, other rejects,
//! bounces, deferrals, expiries), but few distinct recipients (~3,000 per
//! 100 MB). `realistic` (see [`realistic`]): traffic shaped like a real
//! server's — about 250,000 recipients per GiB over Zipf-distributed domains
//! (the largest with 10,000+ addresses), mailing-list bursts, 2–3 % failure
//! lines, deferred mail retried over days until delivered or expired, and
//! directory-harvest runs.

use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const USERS: [&str; 12] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "oscar",
];
const REMOTE: [&str; 6] = [
    "gmail.example",
    "outlook.example",
    "yahoo.example",
    "partner.example",
    "isp.example",
    "lists.example.org",
];

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let mb: u64 = arg("--mb").and_then(|v| v.parse().ok()).unwrap_or(100);
    let seed: u64 = arg("--seed")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d);
    let limit = mb << 20;
    let out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let seed1 = seed.max(1);
    match arg("--mta").map(String::as_str).unwrap_or("postfix") {
        "postfix" => {}
        "exim" => {
            let mut s = exim::Exim::new(out);
            traffic::run(&mut s, limit, mb, seed1)?;
            return s.flush();
        }
        "qmail" => {
            let mut s = qmail::Qmail::new(out);
            traffic::run(&mut s, limit, mb, seed1)?;
            return s.flush();
        }
        "exchange" => {
            let mut s = exchange::Exchange::new(out);
            traffic::run(&mut s, limit, mb, seed1)?;
            return s.flush();
        }
        m => {
            eprintln!("gen-log: unknown MTA {m:?} (postfix, exim, qmail, exchange)");
            std::process::exit(2)
        }
    }
    match arg("--profile").map(String::as_str).unwrap_or("light") {
        "light" => light(out, limit),
        "realistic" => realistic::run(out, limit, mb, seed.max(1)),
        p => {
            eprintln!("gen-log: unknown profile {p:?} (light, realistic)");
            std::process::exit(2)
        }
    }
}

/// The light profile (unchanged since the first benchmarks).
fn light(mut out: impl Write, limit: u64) -> io::Result<()> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut written = 0u64;
    let mut t: u64 = 0; // seconds since Mar 1 00:00
    let mut pid = 4000u64;
    let w = |out: &mut dyn Write, t: u64, line: String| -> io::Result<u64> {
        let day = t / 86_400;
        let (h, m, s) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
        let month = MONTHS[(2 + day / 28) as usize % 12];
        let l = format!(
            "{month} {:>2} {h:02}:{m:02}:{s:02} mx1 {line}\n",
            1 + day % 28
        );
        out.write_all(l.as_bytes())?;
        Ok(l.len() as u64)
    };
    while written < limit {
        t += rng.below(3);
        pid += 1;
        let qid = format!("{:010X}", rng.next() & 0xff_ffff_ffff);
        let ip = format!("198.51.{}.{}", rng.below(256), rng.below(256));
        let host = format!("mail{}.example.net", rng.below(500));
        let sender = format!(
            "{}@{}",
            USERS[rng.below(12) as usize],
            REMOTE[rng.below(6) as usize]
        );
        written += w(
            &mut out,
            t,
            format!("postfix/smtpd[{pid}]: connect from {host}[{ip}]"),
        )?;
        if rng.below(100) < 2 {
            // An inbound rejection (mostly unknown users), no queue id.
            let rcpt = format!(
                "{}{}@example.com",
                USERS[rng.below(12) as usize],
                rng.below(50)
            );
            let text = match rng.below(6) {
                0..=2 => format!("550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table"),
                3 => format!("554 5.7.1 <{rcpt}>: Relay access denied"),
                4 => format!("554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org"),
                _ => format!("450 4.1.8 <{sender}>: Sender address rejected: Domain not found"),
            };
            written += w(&mut out, t, format!("postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from {host}[{ip}]: {text}; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{host}>"))?;
            written += w(&mut out, t + 1, format!("postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"))?;
            continue;
        }
        written += w(&mut out, t, format!("postfix/smtpd[{pid}]: Anonymous TLS connection established from {host}[{ip}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"))?;
        written += w(
            &mut out,
            t,
            format!("postfix/smtpd[{pid}]: {qid}: client={host}[{ip}]"),
        )?;
        written += w(
            &mut out,
            t,
            format!(
                "postfix/cleanup[{}]: {qid}: message-id=<{}.{}@{}>",
                pid + 1,
                t,
                rng.next() % 100_000,
                host
            ),
        )?;
        let n = 1 + rng.below(3);
        written += w(
            &mut out,
            t,
            format!(
                "postfix/qmgr[815]: {qid}: from=<{sender}>, size={}, nrcpt={n} (queue active)",
                1000 + rng.below(90_000)
            ),
        )?;
        written += w(&mut out, t, format!("postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=2 starttls=1 mail=1 rcpt={n} data=1 quit=1 commands=7"))?;
        for _ in 0..n {
            let r = rng.below(1000);
            let (svc, rcpt, status) = if r < 500 {
                (
                    "local",
                    format!("{}@example.com", USERS[rng.below(12) as usize]),
                    "status=sent (delivered to mailbox)".to_string(),
                )
            } else if r < 985 {
                let d = REMOTE[rng.below(6) as usize];
                ("smtp", format!("{}{}@{d}", USERS[rng.below(12) as usize], rng.below(20)), format!("relay=mx.{d}[203.0.113.{}]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {:08X})", rng.below(250), rng.next() & 0xffff_ffff))
            } else if r < 993 {
                let d = REMOTE[rng.below(6) as usize];
                ("smtp", format!("gone{}@{d}", rng.below(100)), format!("relay=mx.{d}[203.0.113.9]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=5.1.1, status=bounced (host mx.{d}[203.0.113.9] said: 550 5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command))"))
            } else {
                let d = REMOTE[rng.below(6) as usize];
                ("smtp", format!("slow{}@{d}", rng.below(100)), format!("relay=mx.{d}[203.0.113.9]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=4.2.0, status=deferred (host mx.{d}[203.0.113.9] said: 450 4.2.0 Greylisted, see http://postgrey.example/ (in reply to RCPT TO command))"))
            };
            let line = if status.starts_with("relay=") {
                format!("postfix/{svc}[{}]: {qid}: to=<{rcpt}>, {status}", pid + 2)
            } else {
                format!("postfix/{svc}[{}]: {qid}: to=<{rcpt}>, relay=local, delay=0.1, delays=0.05/0/0/0.05, dsn=2.0.0, {status}", pid + 2)
            };
            written += w(&mut out, t + 1, line)?;
        }
        written += w(
            &mut out,
            t + 1,
            format!("postfix/qmgr[815]: {qid}: removed"),
        )?;
    }
    out.flush()
}

#[path = "gen-log/exchange.rs"]
mod exchange;
#[path = "gen-log/exim.rs"]
mod exim;
#[path = "gen-log/qmail.rs"]
mod qmail;
#[path = "gen-log/realistic.rs"]
mod realistic;
#[path = "gen-log/traffic.rs"]
mod traffic;
