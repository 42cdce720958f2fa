//! A line rule of the shape `HEAD(?P<text>.*?)(?:TAIL)?$` read in two scans.
//!
//! Postfix's reject lines end in a reply text that may itself hold `; `, and
//! then in an optional `; from=<…> to=<…> proto=… helo=<…>`: no regex of that
//! shape is one-pass, so the regex engine reads the whole line with its
//! bounded backtracker, which marks every (state, byte) pair it visits and
//! costs several times a one-pass scan. Read in two scans, the head (up to
//! the text) is one-pass, and the tail is searched for from the head's end:
//! its leftmost match that reaches the end of the line is where the lazy text
//! stops, as in the whole regex; without one the text runs to the end.
//! qmail-send's delivery lines (a text, then an optional last word) have the
//! shape too.
//!
//! The split is exact only because nothing after the head can fail: a lazy
//! `.*?` then an optional tail then `$` matches any rest of a line without a
//! newline, so the whole regex always keeps the head's first reading. A line
//! holding a newline (none of the line readers makes one) is read by the whole
//! regex. The rule's text stays the one regex a pattern file states; this is
//! only how it is run.

use super::compile_bytes;
use super::BytesRegex;
use regex::bytes::CaptureLocations;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Where a group of the whole regex is read from in the split form.
#[derive(Debug, Clone, Copy)]
enum Part {
    Head(usize),
    Text,
    Tail(usize),
}

/// The two regexes a split rule runs, and where each group of the whole
/// regex comes from.
#[derive(Debug)]
pub(crate) struct Split {
    head: BytesRegex,
    tail: BytesRegex,
    /// Indexed by the whole regex's group index; `[0]` is the whole match.
    parts: Vec<Part>,
}

/// Capture slots of a line rule, reused from line to line.
#[derive(Debug)]
pub struct Slots {
    whole: CaptureLocations,
    split: Option<SplitSlots>,
}

#[derive(Debug)]
struct SplitSlots {
    head: CaptureLocations,
    tail: CaptureLocations,
    /// The spans of the last line read in two scans, by whole-regex group.
    spans: Vec<Option<(usize, usize)>>,
    /// Whether the last line was read in two scans (else `whole` holds it).
    used: bool,
}

impl Slots {
    pub(crate) fn new(whole: &BytesRegex, split: Option<&Split>) -> Slots {
        Slots {
            whole: whole.capture_locations(),
            split: split.map(|s| SplitSlots {
                head: s.head.capture_locations(),
                tail: s.tail.capture_locations(),
                spans: vec![None; s.parts.len()],
                used: false,
            }),
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

/// Reads `hay` with `whole`, or in two scans with `split`; true on a match.
pub(crate) fn read(
    whole: &BytesRegex,
    split: Option<&Split>,
    slots: &mut Slots,
    hay: &[u8],
) -> bool {
    let (Some(sp), Some(ss)) = (split, slots.split.as_mut()) else {
        return whole.captures_read(&mut slots.whole, hay).is_some();
    };
    ss.used = false;
    let Some(m) = sp.head.captures_read(&mut ss.head, hay) else {
        return false;
    };
    let end = m.end();
    if memchr::memchr(b'\n', &hay[end..]).is_some() {
        return whole.captures_read(&mut slots.whole, hay).is_some();
    }
    let tail = sp
        .tail
        .captures_read_at(&mut ss.tail, hay, end)
        .map(|t| t.start());
    let text_end = tail.unwrap_or(hay.len());
    for (span, part) in ss.spans.iter_mut().zip(&sp.parts) {
        *span = match *part {
            Part::Head(0) => Some((m.start(), hay.len())),
            Part::Head(g) => ss.head.get(g),
            Part::Text => Some((end, text_end)),
            Part::Tail(g) => tail.and_then(|_| ss.tail.get(g)),
        };
    }
    ss.used = true;
    true
}

/// The split form of `re`, when it has the shape `HEAD(?P<text>.*?)(?:TAIL)?$`
/// (the text lazy and last but for an optional tail and the end of the line).
pub(crate) fn split(re: &str) -> Option<Split> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(re)
        .ok()?;
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let [.., text, tail, end] = parts.as_slice() else {
        return None;
    };
    let k = parts.len() - 3;
    if !matches!(end.kind(), HirKind::Look(Look::End)) || !is_lazy_text(text) {
        return None;
    }
    let HirKind::Repetition(opt) = tail.kind() else {
        return None;
    };
    if (opt.min, opt.max, opt.greedy) != (0, Some(1), true) {
        return None;
    }
    let head = Hir::concat(parts[..k].to_vec());
    let tail = Hir::concat(vec![(*opt.sub).clone(), end.clone()]);
    let head_re = compile_bytes(&head.to_string()).ok()?;
    let tail_re = compile_bytes(&tail.to_string()).ok()?;
    let whole = compile_bytes(re).ok()?;
    // Groups are numbered by their opening parenthesis: the head's first,
    // then the text, then the tail's.
    let h = head_re.captures_len() - 1;
    let t = tail_re.captures_len() - 1;
    if whole.captures_len() != h + t + 2 {
        return None;
    }
    let parts = (0..whole.captures_len())
        .map(|i| match i {
            0 => Part::Head(0),
            i if i <= h => Part::Head(i),
            i if i == h + 1 => Part::Text,
            i => Part::Tail(i - h - 1),
        })
        .collect();
    Some(Split {
        head: head_re,
        tail: tail_re,
        parts,
    })
}

/// `(?P<text>.*?)`: the `text` group around a lazy run of any byte but `\n`.
fn is_lazy_text(h: &Hir) -> bool {
    let HirKind::Capture(c) = h.kind() else {
        return false;
    };
    if c.name.as_deref() != Some("text") {
        return false;
    }
    let HirKind::Repetition(r) = c.sub.kind() else {
        return false;
    };
    if (r.min, r.max, r.greedy) != (0, None, false) {
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

    const REJECT: &str = r"^(?:(?:NOQUEUE|(?P<queue_id>[0-9A-Za-z]{5,})): )?reject: (?P<stage>[A-Z]+)(?: from (?P<client>[^\s\[]*\[[^\]]*\]))?: (?P<text>.*?)(?:; (?:from=<(?P<sender>[^>]*)>,? ?)?(?:to=<(?P<rcpt>[^>]*)>,? ?)?(?:helo=<?(?P<helo>[^>]*)>?)?)?$";

    type Spans = Vec<Option<(usize, usize)>>;

    /// The spans of every group, read by the whole regex and in two scans.
    fn both(re: &str, line: &str) -> (Spans, Spans) {
        let whole = compile_bytes(re).expect("compiles");
        let sp = split(re).expect("splits");
        let mut plain = Slots::new(&whole, None);
        let mut two = Slots::new(&whole, Some(&sp));
        let a = read(&whole, None, &mut plain, line.as_bytes());
        let b = read(&whole, Some(&sp), &mut two, line.as_bytes());
        assert_eq!(a, b, "{line}");
        let n = whole.captures_len();
        (
            (0..n).map(|i| plain.get(i)).collect(),
            (0..n).map(|i| two.get(i)).collect(),
        )
    }

    #[test]
    fn the_reject_and_qmail_delivery_rules_are_read_in_two_scans() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-ins load");
        let split: Vec<&str> = ps
            .mtas
            .iter()
            .flat_map(|m| &m.rules)
            .filter(|r| r.regex.is_split())
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            split,
            [
                "qmail.send.delivery",
                "postfix.smtpd.reject.noqueue",
                "postfix.smtpd.reject",
                "postfix.smtpd.reject_warning"
            ]
        );
    }

    #[test]
    fn only_the_lazy_text_shape_splits() {
        assert!(split(REJECT).is_some());
        assert!(split(r"^a: (?P<text>.*)$").is_none(), "greedy text");
        assert!(
            split(r"^a: (?P<text>.*?)(?:; b)$").is_none(),
            "tail required"
        );
        assert!(
            split(r"^a: (?P<msg>.*?)(?:; b)?$").is_none(),
            "not the text"
        );
        assert!(
            split(r"^a: (?P<text>[^;]*?)(?:; b)?$").is_none(),
            "not any byte"
        );
        assert!(split(r"^a: (?P<text>.*?)(?:; b)?").is_none(), "no end");
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

    proptest::proptest! {
        /// Lines made of the pieces the tail is built from, in any order.
        #[test]
        fn any_line_reads_the_same(pieces in proptest::collection::vec(0usize..12, 0..24)) {
            const BITS: [&str; 12] = [
                "; ", "from=<", "to=<", "helo=", "<", ">", ",", " ", "a@b", ";", "\n", "x",
            ];
            let mut line = String::from("NOQUEUE: reject: RCPT from h[192.0.2.1]: 550 ");
            for p in pieces {
                line.push_str(BITS[p]);
            }
            let (a, b) = both(REJECT, &line);
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
