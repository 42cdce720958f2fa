//! An MTA's own line prefix (`[native]` of its pattern file: Exim's
//! `2025-03-10 09:14:07 [pid] `, qmail's TAI64N label, tai64nlocal time or
//! splogger seconds): matched on every line of a native log, so this keeps,
//! per regex, a one-pass regex per stamp form when the whole is not
//! one-pass (built once, shared by the threads), and per thread its capture
//! slots and the last time decoded (lines of one second share it). The time
//! itself is decoded by `stamp`.

use super::stamp::{native_time, Zone};
use crate::patterns::Native;
use chrono::{DateTime, FixedOffset};
use std::sync::{Arc, Mutex, PoisonError};

/// What is kept of one native prefix regex on a thread: its plan (shared by
/// the threads), its capture slots and the last time it decoded.
struct PrefixSlot {
    /// The regex's address and source (a pattern set reloaded in tests may
    /// put another regex at the same address).
    key: (usize, String),
    plan: Arc<Plan>,
    locs: regex::bytes::CaptureLocations,
    /// The capture slots of each of `plan.forms`.
    form_locs: Vec<regex::bytes::CaptureLocations>,
    /// The zone, the time groups' bytes of the last time decoded, and it:
    /// lines of one second (or one label) share it.
    last: Option<(u64, Vec<u8>, Option<DateTime<FixedOffset>>)>,
    /// Scratch space for the time groups' bytes of the current line.
    key_bytes: Vec<u8>,
}

/// How one native prefix regex is read, worked out once per process (the
/// first thread that meets it builds it, the others share it).
struct Plan {
    /// Groups `tai64n`, `epoch`, `time`, `tz`.
    groups: [Option<usize>; 4],
    /// Bytes a match can span, when every match starts at the start of the
    /// line and the regex looks at no other position (no `$`, no `\b`): then
    /// searching only that much of the line finds the same match, and the
    /// regex engine's work no longer grows with the line.
    window: Option<usize>,
    /// A prefix that is a choice of stamp forms (`^(?:A|B|C) …`) and not
    /// one-pass as a whole, as one one-pass regex per form, tried in order
    /// (see [`split_forms`]); empty when the regex is used as it is.
    forms: Vec<Form>,
}

/// One stamp form of a split prefix regex: the regex and the indexes of its
/// time groups.
struct Form {
    regex: regex::bytes::Regex,
    groups: [Option<usize>; 4],
    /// The bytes a match can start with (`None`: any, or an empty match).
    first: Option<Box<[bool; 256]>>,
}

/// The bytes a match of `hir` can start with, from its prefix literals
/// (`None` when they are not a finite set of non-empty literals).
fn first_bytes(hir: &regex_syntax::hir::Hir) -> Option<Box<[bool; 256]>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let lits = seq.literals()?;
    let mut first = Box::new([false; 256]);
    for l in lits {
        first[usize::from(*l.as_bytes().first()?)] = true;
    }
    (!lits.is_empty()).then_some(first)
}

/// The indexes of the groups `tai64n`, `epoch`, `time`, `tz` of `re`.
fn time_groups(re: &regex::bytes::Regex) -> [Option<usize>; 4] {
    let group = |name: &str| re.capture_names().position(|c| c == Some(name));
    [group("tai64n"), group("epoch"), group("time"), group("tz")]
}

/// The plans made so far, by regex address and source.
type Plans = Vec<((usize, String), Arc<Plan>)>;

static PLANS: Mutex<Plans> = Mutex::new(Vec::new());

impl Plan {
    fn new(n: &Native) -> Plan {
        Plan {
            groups: time_groups(&n.regex),
            window: prefix_window(n.regex.as_str()),
            forms: split_forms(n.regex.as_str())
                .into_iter()
                .map(|(regex, first)| Form {
                    groups: time_groups(&regex),
                    regex,
                    first,
                })
                .collect(),
        }
    }

    /// The plan of `n`, made now if no thread has made it yet.
    fn of(n: &Native, key: &(usize, String)) -> Arc<Plan> {
        // A panic while the lock was held leaves at most a plan missing.
        let mut plans = PLANS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, p)) = plans.iter().find(|(k, _)| k == key) {
            return p.clone();
        }
        // A pattern set reloaded many times (tests) must not grow this
        // without bound.
        if plans.len() >= 16 {
            plans.clear();
        }
        let plan = Arc::new(Plan::new(n));
        plans.push((key.clone(), plan.clone()));
        plan
    }
}

impl PrefixSlot {
    fn new(n: &Native, key: (usize, String)) -> PrefixSlot {
        let plan = Plan::of(n, &key);
        PrefixSlot {
            key,
            locs: n.regex.capture_locations(),
            form_locs: plan
                .forms
                .iter()
                .map(|f| f.regex.capture_locations())
                .collect(),
            plan,
            last: None,
            key_bytes: Vec::new(),
        }
    }
}

/// `^(?:A|B|C)rest` as `^(?:A)rest`, `^(?:B)rest`, `^(?:C)rest`, when the
/// whole is not a one-pass regex and each of those is: tried in order, the
/// first that matches gives the match and captures the whole would give
/// (leftmost-first: an anchored regex takes its first alternative that can
/// match), each scanned once instead of by the backtracking engine. qmail's
/// prefix (a TAI64N label, a tai64nlocal time or splogger's epoch seconds,
/// the last two both starting with digits) is such a choice. Empty when the
/// regex has no such form.
fn split_forms(re: &str) -> Vec<(regex::bytes::Regex, Option<Box<[bool; 256]>>)> {
    use regex_syntax::hir::{Hir, HirKind, Look};
    if crate::patterns::prefilter::one_pass(re).is_ok() {
        return Vec::new();
    }
    let Some(hir) = crate::patterns::parse_bytes(re) else {
        return Vec::new();
    };
    let HirKind::Concat(parts) = hir.kind() else {
        return Vec::new();
    };
    let (Some(start), Some(choice)) = (parts.first(), parts.get(1)) else {
        return Vec::new();
    };
    let (HirKind::Look(Look::Start), HirKind::Alternation(alts)) = (start.kind(), choice.kind())
    else {
        return Vec::new();
    };
    let mut forms = Vec::new();
    for alt in alts {
        let mut whole = vec![start.clone(), alt.clone()];
        whole.extend(parts[2..].iter().cloned());
        let form = Hir::concat(whole);
        let src = form.to_string();
        if crate::patterns::prefilter::one_pass(&src).is_err() {
            return Vec::new();
        }
        match regex::bytes::RegexBuilder::new(&src).unicode(false).build() {
            Ok(r) => forms.push((r, first_bytes(&form))),
            Err(_) => return Vec::new(),
        }
    }
    forms
}

/// The most bytes a match of `re` can span when every match starts at the
/// start of the haystack and `^` is its only look-around (see
/// [`Plan::window`]); `None` otherwise.
fn prefix_window(re: &str) -> Option<usize> {
    use regex_syntax::hir::{Look, LookSet};
    let hir = crate::patterns::parse_bytes(re)?;
    let p = hir.properties();
    let only_start = LookSet::singleton(Look::Start);
    (p.look_set_prefix().contains(Look::Start) && p.look_set().subtract(only_start).is_empty())
        .then(|| p.maximum_len())
        .flatten()
}

thread_local! {
    /// The native prefix regexes seen on this thread, reused from line to
    /// line: the prefix is tried on every line of a native log.
    static PREFIX_SLOTS: std::cell::RefCell<Vec<PrefixSlot>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An MTA's own line prefix at the start of `line`: its time and where the
/// rest begins; `None` when the prefix does not match or has no time. A time
/// without an offset is read in `zone`.
pub fn native_prefix(
    n: &Native,
    line: &[u8],
    zone: &Zone,
) -> Option<(DateTime<FixedOffset>, usize)> {
    let addr = std::ptr::from_ref(&n.regex) as usize;
    PREFIX_SLOTS.with_borrow_mut(|slots| {
        let i = match slots
            .iter()
            .position(|s| s.key.0 == addr && s.key.1 == n.regex.as_str())
        {
            Some(i) => i,
            None => {
                // A handful of native MTAs; a pattern set reloaded many times
                // (tests) must not grow this without bound.
                if slots.len() >= 16 {
                    slots.clear();
                }
                slots.push(PrefixSlot::new(n, (addr, n.regex.as_str().to_string())));
                slots.len() - 1
            }
        };
        let slot = &mut slots[i];
        let plan = &*slot.plan;
        let hay = match plan.window {
            Some(w) if w < line.len() => &line[..w],
            _ => line,
        };
        // The regex whose captures are read, and its group of each name.
        let (m, regex, locs, groups) = if plan.forms.is_empty() {
            let m = n.regex.captures_read(&mut slot.locs, hay)?;
            (m, &*n.regex, &slot.locs, plan.groups)
        } else {
            let mut found = None;
            let mut checked = false;
            for (i, (f, locs)) in plan.forms.iter().zip(&mut slot.form_locs).enumerate() {
                if let Some(first) = &f.first {
                    if !hay.first().is_some_and(|&b| first[usize::from(b)]) {
                        continue;
                    }
                }
                // A line that reaches a later form is most often not this
                // MTA's at all: the whole regex's capture-free search says so
                // for a fraction of the forms' cost.
                if i > 0 && !checked {
                    if !n.regex.is_match(hay) {
                        break;
                    }
                    checked = true;
                }
                if let Some(m) = f.regex.captures_read(locs, hay) {
                    found = Some((m, &f.regex, &*locs, f.groups));
                    break;
                }
            }
            found?
        };
        let span = |g: Option<usize>| g.and_then(|g| locs.get(g)).map(|(a, b)| &line[a..b]);
        // The time groups' bytes, each marked present or not: equal bytes
        // decode to the same time.
        let key = &mut slot.key_bytes;
        key.clear();
        for g in groups {
            match span(g) {
                Some(b) => {
                    key.push(1);
                    key.extend_from_slice(&(b.len() as u32).to_le_bytes());
                    key.extend_from_slice(b);
                }
                None => key.push(0),
            }
        }
        let time = match &mut slot.last {
            Some((z, k, t)) if *z == zone.id && k == key => *t,
            last => {
                let group = |name: &str| {
                    let g = regex.capture_names().position(|c| c == Some(name));
                    span(g)
                };
                let t = native_time(group, &n.time_format, zone);
                match last {
                    Some((z, k, old)) => {
                        *z = zone.id;
                        k.clone_from(key);
                        *old = t;
                    }
                    None => *last = Some((zone.id, key.clone(), t)),
                }
                t
            }
        };
        Some((time?, m.end()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in prefixes give, by their forms and with the last time
    /// kept, the match and time of the whole regex.
    #[test]
    fn prefixes_read_by_forms_agree_with_the_whole_regex() {
        let ps = crate::patterns::PatternSet::load(None).expect("built-in patterns");
        let zone = Zone::named("Europe/Paris").expect("zone");
        let lines = [
            "@4000000067ceaa24000f4240 delivery 5: success: x",
            "@4000000067ceaa24000f4240 delivery 6: success: y",
            "2003-09-27 11:22:07.070367500 delivery 3714: failure: x",
            "1063526289.744259 delivery 251: success: x",
            "2025-03-10 09:14:07 1trZD6-0007Ll-2T <= a@example.org",
            "2025-03-10 09:14:07.123 +0100 [4242] H=x [192.0.2.1]",
            "2025-13-10 09:14:07 1trZD6-0007Ll-2T Completed",
            "@4000000067ceaa24000f424 short label",
            "garbage line",
            "",
        ];
        let mut split = 0;
        for m in &ps.mtas {
            let Some(n) = &m.native else { continue };
            split += usize::from(!split_forms(n.regex.as_str()).is_empty());
            for l in lines {
                let want = n.regex.captures(l.as_bytes()).and_then(|c| {
                    let t = super::super::stamp::native_stamp(&c, &n.time_format, &zone)?;
                    Some((t, c.get(0)?.end()))
                });
                for _ in 0..2 {
                    assert_eq!(native_prefix(n, l.as_bytes(), &zone), want, "{l}");
                }
            }
        }
        assert!(split >= 1, "no built-in prefix is read by its forms");
    }

    #[test]
    fn windows_only_for_start_anchored_bounded_regexes() {
        assert_eq!(prefix_window("^(?:a|bc) "), Some(3));
        assert_eq!(prefix_window("^a+ "), None);
        assert_eq!(prefix_window("^ab$"), None);
        assert_eq!(prefix_window(r"^ab\b"), None);
        assert_eq!(prefix_window("ab"), None);
    }

    #[test]
    fn forms_only_when_each_is_one_pass() {
        let forms = split_forms(r"^(?:@(?P<a>\d{4}-)|(?P<b>\d{9}\.)|(?P<c>\d{4}x)) ");
        assert_eq!(forms.len(), 3);
        // Each form knows the bytes its matches start with.
        let starts = |i: usize, b: u8| forms[i].1.as_ref().is_some_and(|f| f[usize::from(b)]);
        assert!(starts(0, b'@') && !starts(0, b'1'));
        assert!(starts(1, b'1') && !starts(1, b'@'));
        // Already one-pass, or no choice at the start.
        assert!(split_forms(r"^(?:@(?P<a>\d+)|(?P<b>x\d+)) ").is_empty());
        assert!(split_forms(r"^\d+ (?:a|b)").is_empty());
    }
}
