//! Line rules whose text runs to the end of the line, read without scanning
//! the text: the head (everything before the text) is matched alone, and
//! where the text ends is then known or found by a second, short scan.
//!
//! Three shapes (`$` is the end of the line):
//! - `HEAD(?P<text>.*)$`: the text is the rest of the line;
//! - `HEAD(?:LIT(?P<text>.*))?$`, LIT a literal (`(?:: (?P<text>.*))?$`):
//!   the rest is empty (no text) or LIT then the text; any other rest is left
//!   to the whole regex;
//! - `HEAD(?P<text>.*?)(?:TAIL)?$`: the text stops at the tail's leftmost
//!   match that reaches the end, as the lazy text does in the whole regex, or
//!   runs to the end. Postfix's reject lines are of this shape: their reply
//!   text may hold `; ` before the `; from=<…> to=<…>` tail, so no regex of
//!   them is one-pass, and the whole regex would be read by the bounded
//!   backtracker, which marks every (state, byte) pair it visits.
//!
//! The head alone matches as the whole regex would only because what follows
//! it cannot fail (a rest of the line without a newline always fits `.*`, a
//! lazy text with an optional tail, or is checked against LIT): the whole
//! regex keeps the head's first reading, which is the one the head alone
//! finds. A line holding a newline (no line reader makes one) and a rest the
//! second shape does not fit are read by the whole regex. The rule's regex
//! stays the one a pattern file states; this is only how it is run.

use super::compile_bytes;
use super::BytesRegex;
use regex::bytes::CaptureLocations;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

/// Where a group of the whole regex is read from in the split form.
#[derive(Debug, Clone, Copy)]
enum Part {
    Head(usize),
    Text,
    Tail(usize),
}

/// What follows the head.
#[derive(Debug)]
enum Rest {
    /// `(?P<text>.*)$`.
    All,
    /// `(?:LIT(?P<text>.*))?$`.
    Prefixed(Box<[u8]>),
    /// `(?P<text>.*?)(?:TAIL)?$`: the tail regex, `TAIL$`.
    LazyTail(BytesRegex),
}

/// The regexes a split rule runs, and where each group of the whole regex
/// comes from.
#[derive(Debug)]
pub(crate) struct Split {
    head: BytesRegex,
    rest: Rest,
    /// Indexed by the whole regex's group index; `[0]` is the whole match.
    parts: Vec<Part>,
    /// Lines whose head matched (counted up to [`TRIAL`]), and of them those
    /// the whole regex had to read after all (a rest the second shape does
    /// not fit); shared by the threads.
    heads: AtomicU32,
    fallbacks: AtomicU32,
    /// Set when too many lines fell back: this rule's head alone stops short
    /// (it ends in a lazy repetition, say), so reading it first only adds work.
    off: AtomicBool,
}

/// Capture slots of a line rule, reused from line to line.
#[derive(Debug)]
pub struct Slots {
    whole: CaptureLocations,
    split: Option<SplitSlots>,
}

/// Lines read with a rule's whole regex before its split form is built and
/// used: building it costs about what a few hundred lines save, so a small
/// log never builds it.
pub(crate) const WARM: u32 = 256;

#[derive(Debug)]
struct SplitSlots {
    head: CaptureLocations,
    tail: Option<CaptureLocations>,
    /// The spans of the last line read split, by whole-regex group.
    spans: Vec<Option<(usize, usize)>>,
    /// Whether the last line was read split (else `whole` holds it).
    used: bool,
}

/// Lines read split before [`SplitSlots::off`] is decided.
const TRIAL: u32 = 64;

impl SplitSlots {
    fn new(s: &Split) -> SplitSlots {
        SplitSlots {
            head: s.head.capture_locations(),
            tail: match &s.rest {
                Rest::LazyTail(t) => Some(t.capture_locations()),
                Rest::All | Rest::Prefixed(_) => None,
            },
            spans: vec![None; s.parts.len()],
            used: false,
        }
    }
}

impl Slots {
    pub(crate) fn new(whole: &BytesRegex) -> Slots {
        Slots {
            whole: whole.capture_locations(),
            split: None,
        }
    }

    /// The span of group `i` of the whole regex in the last line read.
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        match &self.split {
            Some(s) if s.used => s.spans.get(i).copied().flatten(),
            _ => self.whole.get(i),
        }
    }
}

/// Reads `hay` with `whole`, or split with `split`; true on a match.
pub(crate) fn read(
    whole: &BytesRegex,
    split: Option<&Split>,
    slots: &mut Slots,
    hay: &[u8],
) -> bool {
    let Some(sp) = split else {
        return whole.captures_read(&mut slots.whole, hay).is_some();
    };
    let ss = slots.split.get_or_insert_with(|| SplitSlots::new(sp));
    ss.used = false;
    if sp.off.load(Relaxed) {
        return whole.captures_read(&mut slots.whole, hay).is_some();
    }
    let Some(m) = sp.head.captures_read(&mut ss.head, hay) else {
        return false;
    };
    if sp.heads.load(Relaxed) < TRIAL && sp.heads.fetch_add(1, Relaxed) + 1 == TRIAL {
        // More than one line in four falling back: the whole regex alone is cheaper.
        sp.off
            .store(sp.fallbacks.load(Relaxed) * 4 > TRIAL, Relaxed);
    }
    let end = m.end();
    let rest = &hay[end..];
    if memchr::memchr(b'\n', rest).is_some() {
        return whole.captures_read(&mut slots.whole, hay).is_some();
    }
    // The text's span, and where the tail's groups are (if read).
    let (text, tail) = match &sp.rest {
        Rest::All => (Some((end, hay.len())), None),
        Rest::Prefixed(lit) if rest.starts_with(lit) => (Some((end + lit.len(), hay.len())), None),
        Rest::Prefixed(_) if rest.is_empty() => (None, None),
        Rest::Prefixed(_) => {
            sp.fallbacks.fetch_add(1, Relaxed);
            return whole.captures_read(&mut slots.whole, hay).is_some();
        }
        Rest::LazyTail(t) => {
            let Some(locs) = ss.tail.as_mut() else {
                return whole.captures_read(&mut slots.whole, hay).is_some();
            };
            let at = t.captures_read_at(locs, hay, end).map(|t| t.start());
            (Some((end, at.unwrap_or(hay.len()))), at.map(|_| &*locs))
        }
    };
    for (span, part) in ss.spans.iter_mut().zip(&sp.parts) {
        *span = match *part {
            Part::Head(0) => Some((m.start(), hay.len())),
            Part::Head(g) => ss.head.get(g),
            Part::Text => text,
            Part::Tail(g) => tail.and_then(|t| t.get(g)),
        };
    }
    ss.used = true;
    true
}

/// The split form of `re`, when it has one of the three shapes.
pub(crate) fn split(re: &str) -> Option<Split> {
    let hir = super::parse_bytes(re)?;
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let (end, before) = parts.split_last()?;
    if !matches!(end.kind(), HirKind::Look(Look::End)) {
        return None;
    }
    let (last, head) = before.split_last()?;
    let (head, rest) = if is_text(last, true) {
        (head, Rest::All)
    } else if let Some(lit) = prefixed_text(last) {
        (head, Rest::Prefixed(lit))
    } else {
        let (text, head) = head.split_last()?;
        let HirKind::Repetition(opt) = last.kind() else {
            return None;
        };
        if !is_text(text, false) || (opt.min, opt.max, opt.greedy) != (0, Some(1), true) {
            return None;
        }
        let tail = Hir::concat(vec![(*opt.sub).clone(), end.clone()]);
        (head, Rest::LazyTail(compile_bytes(&tail.to_string()).ok()?))
    };
    let head = Hir::concat(head.to_vec());
    // Groups are numbered by their opening parenthesis: the head's first,
    // then the text, then the tail's.
    let h = head.properties().explicit_captures_len();
    let t = match &rest {
        Rest::LazyTail(tail) => tail.captures_len() - 1,
        Rest::All | Rest::Prefixed(_) => 0,
    };
    let all = hir.properties().explicit_captures_len() + 1;
    if all != h + t + 2 {
        return None;
    }
    let head = compile_bytes(&head.to_string()).ok()?;
    let parts = (0..all)
        .map(|i| match i {
            0 => Part::Head(0),
            i if i <= h => Part::Head(i),
            i if i == h + 1 => Part::Text,
            i => Part::Tail(i - h - 1),
        })
        .collect();
    Some(Split {
        head,
        rest,
        parts,
        heads: AtomicU32::new(0),
        fallbacks: AtomicU32::new(0),
        off: AtomicBool::new(false),
    })
}

/// `(?:LIT(?P<text>.*))?`: the literal, when `h` is that.
fn prefixed_text(h: &Hir) -> Option<Box<[u8]>> {
    let HirKind::Repetition(opt) = h.kind() else {
        return None;
    };
    if (opt.min, opt.max, opt.greedy) != (0, Some(1), true) {
        return None;
    }
    let HirKind::Concat(inner) = opt.sub.kind() else {
        return None;
    };
    let [lit, text] = inner.as_slice() else {
        return None;
    };
    let HirKind::Literal(l) = lit.kind() else {
        return None;
    };
    is_text(text, true).then(|| l.0.clone())
}

/// `(?P<text>.*)` (greedy) or `(?P<text>.*?)` (lazy): the `text` group around
/// a run of any byte but `\n`.
fn is_text(h: &Hir, greedy: bool) -> bool {
    let HirKind::Capture(c) = h.kind() else {
        return false;
    };
    if c.name.as_deref() != Some("text") {
        return false;
    }
    let HirKind::Repetition(r) = c.sub.kind() else {
        return false;
    };
    if (r.min, r.max, r.greedy) != (0, None, greedy) {
        return false;
    }
    let HirKind::Class(Class::Bytes(b)) = r.sub.kind() else {
        return false;
    };
    let ranges: Vec<(u8, u8)> = b.ranges().iter().map(|r| (r.start(), r.end())).collect();
    ranges == [(0, b'\n' - 1), (b'\n' + 1, 0xFF)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const DELIVERY: &str = r"^(?P<queue_id>[0-9A-F]{5,}): to=<(?P<rcpt>[^>]*)>, status=(?P<status>\w+)(?: (?P<text>.*))?$";

    const REJECT: &str = r"^(?:(?:NOQUEUE|(?P<queue_id>[0-9A-Za-z]{5,})): )?reject: (?P<stage>[A-Z]+)(?: from (?P<client>[^\s\[]*\[[^\]]*\]))?: (?P<text>.*?)(?:; (?:from=<(?P<sender>[^>]*)>,? ?)?(?:to=<(?P<rcpt>[^>]*)>,? ?)?(?:helo=<?(?P<helo>[^>]*)>?)?)?$";

    type Spans = Vec<Option<(usize, usize)>>;

    /// The spans of every group, read by the whole regex and in two scans.
    fn both(re: &str, line: &str) -> (Spans, Spans) {
        let whole = compile_bytes(re).expect("compiles");
        let sp = split(re).expect("splits");
        let mut plain = Slots::new(&whole);
        let mut two = Slots::new(&whole);
        let a = read(&whole, None, &mut plain, line.as_bytes());
        let b = read(&whole, Some(&sp), &mut two, line.as_bytes());
        assert_eq!(a, b, "{line}");
        let n = whole.captures_len();
        (
            (0..n).map(|i| plain.get(i)).collect(),
            (0..n).map(|i| two.get(i)).collect(),
        )
    }

    /// The rules of the built-in sets that are read split, and on every line
    /// of the test logs (whether it matches or not) the same spans as their
    /// whole regexes give.
    #[test]
    fn built_in_rules_read_the_test_logs_split_as_whole() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins load");
        let split: Vec<&str> = ps
            .mtas
            .iter()
            .flat_map(|m| &m.rules)
            .filter(|r| r.regex.split_form().is_some())
            .map(|r| r.id.as_str())
            .collect();
        for id in [
            "postfix.smtpd.reject.noqueue",
            "postfix.smtpd.reject",
            "postfix.delivery",
            "exim.reject",
            "exim.delivery.remote_host",
            "qmail.send.delivery",
        ] {
            assert!(split.contains(&id), "{id} in {split:?}");
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut matched = 0;
        for sub in ["postfix", "exim", "qmail", "lineforms"] {
            let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
                .expect("testdata")
                .map(|e| e.expect("entry").path())
                .collect();
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).expect("read");
                for line in bytes.split(|&b| b == b'\n') {
                    for m in &ps.mtas {
                        let msg = crate::inspect::check::rule_text(m, line);
                        for r in &m.rules {
                            let Some(sp) = r.regex.split_form() else {
                                continue;
                            };
                            let mut plain = Slots::new(&r.regex);
                            let mut two = Slots::new(&r.regex);
                            let a = read(&r.regex, None, &mut plain, msg);
                            let b = read(&r.regex, Some(sp), &mut two, msg);
                            assert_eq!(a, b, "{}: {}", r.id, String::from_utf8_lossy(line));
                            matched += usize::from(a);
                            for g in 0..r.regex.captures_len() {
                                assert_eq!(
                                    plain.get(g),
                                    two.get(g),
                                    "{} group {g}: {}",
                                    r.id,
                                    String::from_utf8_lossy(line)
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(matched > 200, "{matched}");
    }

    #[test]
    fn a_head_that_stops_short_is_left_after_a_trial() {
        // The head alone takes no ` \w+` (lazy), so the rest never starts with ": ".
        let re = r"^a(?: \w+)*?(?:: (?P<text>.*))?$";
        let whole = compile_bytes(re).expect("compiles");
        let sp = split(re).expect("splits");
        let mut slots = Slots::new(&whole);
        for _ in 0..TRIAL + 2 {
            assert!(read(&whole, Some(&sp), &mut slots, b"a b c: text"));
            assert_eq!(slots.get(1), Some((7, 11)));
        }
        assert!(sp.off.load(Relaxed));
        let sp = split(re).expect("splits");
        let mut slots = Slots::new(&whole);
        for _ in 0..TRIAL + 2 {
            assert!(read(&whole, Some(&sp), &mut slots, b"a: text"));
        }
        assert!(!sp.off.load(Relaxed) && slots.split.as_ref().is_some_and(|s| s.used));
    }

    #[test]
    fn only_the_three_shapes_split() {
        for (re, splits, what) in [
            (REJECT, true, "the reject shape"),
            (DELIVERY, true, "the delivery shape"),
            (r"^a: (?P<text>.*)$", true, "greedy text"),
            (r"^a: (?P<text>.*?)(?:; b)$", false, "tail required"),
            (r"^a: (?P<msg>.*?)(?:; b)?$", false, "not the text"),
            (r"^a: (?P<text>[^;]*?)(?:; b)?$", false, "not any byte"),
            (r"^a: (?P<text>.*?)(?:; b)?", false, "no end"),
            (r"^a(?:: (?P<text>.*))$", true, "a plain group is no group"),
            (
                r"^a(?:: (?P<text>.*)|x)?$",
                false,
                "not a literal then the text",
            ),
            (r"^a(: (?P<text>.*))?$", false, "a group around"),
            (r"^a: (?P<text>.*) x$", false, "text not last"),
        ] {
            assert_eq!(split(re).is_some(), splits, "{what}: {re}");
        }
    }

    #[test]
    fn two_scans_capture_what_the_whole_regex_does() {
        for line in [
            "NOQUEUE: reject: RCPT from a.example[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<s@example.org> to=<r@example.com> helo=<a.example>",
            "NOQUEUE: reject: RCPT from a.example[192.0.2.1]: 550 5.1.1 <r@example.com>: Recipient address rejected: User unknown; from=<s@example.org> to=<r@example.com>",
            "ABCDE12345: reject: DATA from a.example[192.0.2.1]: 550 no tail here",
            "reject: CONNECT: 421 a; b; c",
            "NOQUEUE: reject: RCPT: 450 x; helo=<a>b",
            "NOQUEUE: reject: RCPT: 450 x; from=<>; from=<s@example.org>",
            "NOQUEUE: reject: RCPT: 450 text ends in a semicolon;",
            "NOQUEUE: reject: RCPT: ",
            "NOQUEUE: reject: RCPT: 450 \u{00e9}t\u{00e9}; to=<\u{00e9}@example.com>",
            "not a reject line",
            "NOQUEUE: reject: RCPT: 450 two\nlines; to=<r@example.com>",
        ] {
            let (a, b) = both(REJECT, line);
            assert_eq!(a, b, "{line}");
        }
    }

    /// `start` followed by the pieces `bits[i]` for each `i` of `pieces`.
    fn line_of(start: &str, bits: &[&str], pieces: &[usize]) -> String {
        pieces.iter().fold(start.to_string(), |l, &p| l + bits[p])
    }

    proptest::proptest! {
        /// Lines made of the pieces the tail is built from, in any order.
        #[test]
        fn any_line_reads_the_same(pieces in proptest::collection::vec(0usize..12, 0..24)) {
            const BITS: [&str; 12] = [
                "; ", "from=<", "to=<", "helo=", "<", ">", ",", " ", "a@b", ";", "\n", "x",
            ];
            let line = line_of("NOQUEUE: reject: RCPT from h[192.0.2.1]: 550 ", &BITS, &pieces);
            let (a, b) = both(REJECT, &line);
            proptest::prop_assert_eq!(a, b, "{}", line);
        }

        /// Delivery lines with any status word and rest.
        #[test]
        fn any_delivery_line_reads_the_same(pieces in proptest::collection::vec(0usize..8, 0..16)) {
            const BITS: [&str; 8] = [" ", "(", ")", "word", "x", "-", "\n", "\u{e9}"];
            let line = line_of("4E74613FE76: to=<a@example.net>, status=", &BITS, &pieces);
            let (a, b) = both(DELIVERY, &line);
            proptest::prop_assert_eq!(a, b, "{}", line);
        }
    }

    #[test]
    fn the_tail_is_left_alone_when_absent() {
        let line = "NOQUEUE: reject: RCPT: 550 no tail";
        let (_, b) = both(REJECT, line);
        let whole = compile_bytes(REJECT).expect("compiles");
        let text = whole
            .capture_names()
            .position(|n| n == Some("text"))
            .expect("text group");
        let start = line.find("550").expect("text");
        assert_eq!(b[text], Some((start, line.len())));
        let rcpt = whole
            .capture_names()
            .position(|n| n == Some("rcpt"))
            .expect("rcpt group");
        assert_eq!(b[rcpt], None);
    }
}
