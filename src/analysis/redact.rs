//! `--redact`: replaces the local part of every address in an event
//! (recipient, sender, and addresses inside the text and the example line)
//! with a short stable hash, keeping the domain: `u3f9a1c2e@example.com`.
//! Local parts that servers quote without a domain are replaced too:
//! `<john>` (Postfix's "need fully-qualified address", `to=<john>`),
//! `unknown user: "ghost"`, `ghost... User unknown`.
//!
//! The token is `u` and the low 32 bits of XXH3-64 of the lowercased local
//! part with the fixed seed [`SEED`], in hex: a documented algorithm that
//! does not change between Rust releases or builds, so redacted reports from
//! several hosts and versions still merge. The hash is not a secret: short
//! local parts can be guessed by trying them.

use crate::event::Event;
use regex::Regex;
use std::sync::LazyLock;

/// The XXH3 seed of redaction tokens (`"bouncelg"` in ASCII). Part of the
/// report format: changing it changes every token.
pub const SEED: u64 = 0x626f_756e_6365_6c67;

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)")
        .expect("static regex")
});

/// A bare local part in angle brackets: `<john>`.
static BRACKETED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64})>").expect("static regex")
});

/// A quoted local part after a word naming a user: `unknown user: "ghost"`.
static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(\b(?:user|users|recipient|mailbox|account|address|rcpt|alias)\b[^"\n]{0,24}")([^"@\s]{1,64})(")"#)
        .expect("static regex")
});

/// Sendmail's `ghost... User unknown`.
static ELLIPSIS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64})(\.\.\.\s+(?:user unknown|no such user|unknown user))")
        .expect("static regex")
});

/// The token of a local part.
pub fn token(local: &str) -> String {
    let h = xxhash_rust::xxh3::xxh3_64_with_seed(local.to_ascii_lowercase().as_bytes(), SEED);
    format!("u{:08x}", h as u32)
}

/// Protocol words in angle brackets that are not local parts (`<CR><LF>`).
fn protocol_word(s: &str) -> bool {
    s.len() <= 4 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Text with every address's local part replaced.
pub fn text(s: &str) -> String {
    let s = ADDRESS.replace_all(s, |c: &regex::Captures<'_>| {
        let whole = &c[0];
        let at = whole.rfind('@').unwrap_or(0);
        format!("{}@{}", token(&whole[..at]), &c[1])
    });
    let before = s.clone();
    let s = BRACKETED.replace_all(&before, |c: &regex::Captures<'_>| {
        let start = c.get(0).map_or(0, |m| m.start());
        // `helo=<mail.example.org>` is a host name, not a local part.
        let helo = before[..start].to_ascii_lowercase().ends_with("helo=");
        if helo || protocol_word(&c[1]) || is_token(&c[1]) {
            c[0].to_string()
        } else {
            format!("<{}>", token(&c[1]))
        }
    });
    let s = QUOTED.replace_all(&s, |c: &regex::Captures<'_>| {
        format!("{}{}{}", &c[1], token(&c[2]), &c[3])
    });
    let s = ELLIPSIS.replace_all(&s, |c: &regex::Captures<'_>| {
        format!("{}{}", token(&c[1]), &c[2])
    });
    s.into_owned()
}

/// Already a token (`u` and 8 hex digits): redacting twice changes nothing.
fn is_token(s: &str) -> bool {
    s.len() == 9
        && s.starts_with('u')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn address(a: &str) -> String {
    match a.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", token(local)),
        None if a.is_empty() => String::new(),
        None => token(a),
    }
}

/// Redacts an event in place.
pub fn event(e: &mut Event) {
    for f in [&mut e.recipient, &mut e.sender] {
        if let Some(v) = f.as_mut() {
            *v = address(v);
        }
    }
    for f in [&mut e.text, &mut e.raw] {
        if let Some(v) = f.as_mut() {
            *v = text(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_domains_and_is_stable() {
        let a = address("John.Smith@example.com");
        assert!(a.ends_with("@example.com") && a.starts_with('u') && !a.contains("John"));
        assert_eq!(a, address("john.smith@example.com"));
        assert_ne!(a, address("jane@example.com"));
        let t = text("550 5.1.1 <john.smith@example.com>: User unknown; from=<a@example.org>");
        assert!(
            !t.contains("john.smith") && t.contains("@example.com>") && t.contains("@example.org>")
        );
        assert_eq!(address(""), "");
    }

    #[test]
    fn the_token_is_documented_xxh3() {
        // Fixed for good: reports of every build and version must agree.
        assert_eq!(token("john"), "ua3bc48a6");
        assert_eq!(
            token("John"),
            format!(
                "u{:08x}",
                xxhash_rust::xxh3::xxh3_64_with_seed(b"john", 0x626f_756e_6365_6c67) as u32
            )
        );
    }

    #[test]
    fn quoted_local_parts_are_redacted() {
        for (raw, secret, kept) in [
            (
                "NOQUEUE: reject: RCPT from x[192.0.2.1]: 504 5.5.2 <john>: Recipient address rejected: need fully-qualified address; to=<john>",
                "john",
                "need fully-qualified address",
            ),
            ("550 5.1.1 unknown user: \"ghost\"", "ghost", "unknown user: \"u"),
            ("550 Mailbox \"Ghost.Writer\" does not exist", "Ghost.Writer", "does not exist"),
            ("550 5.1.1 ghost... User unknown", "ghost", "... User unknown"),
        ] {
            let t = text(raw);
            assert!(!t.contains(secret), "{t}");
            assert!(t.contains(kept), "{t}");
        }
        // HELO names, protocol words and tokens stay.
        assert!(text("to=<john> proto=ESMTP helo=<mail.example.org>")
            .ends_with("helo=<mail.example.org>"));
        assert_eq!(
            text("expected <CR><LF>.<CR><LF>"),
            "expected <CR><LF>.<CR><LF>"
        );
        let once = text("<john>");
        assert_eq!(text(&once), once);
    }
}
