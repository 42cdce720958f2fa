//! A strict parser of the Prometheus text exposition format (0.0.4), the
//! check of `--format prometheus` that runs where promtool is not installed.

use std::collections::{BTreeMap, BTreeSet};

/// One sample of the exposition format.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition: HELP and TYPE of each family, and the samples.
#[derive(Debug, Default)]
pub struct Exposition {
    pub help: BTreeMap<String, String>,
    pub types: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    pub fn of(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    pub fn value(&self, name: &str) -> Option<f64> {
        match self.of(name).as_slice() {
            [s] if s.labels.is_empty() => Some(s.value),
            [] => None,
            other => panic!("{name}: expected one unlabelled sample, got {other:?}"),
        }
    }

    pub fn sum(&self, name: &str, label: &str, want: &str) -> f64 {
        self.of(name)
            .iter()
            .filter(|s| s.labels.get(label).map(String::as_str) == Some(want))
            .map(|s| s.value)
            .sum()
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut cs = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    cs.next().is_some_and(ok_first)
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses `name{labels} value`, label values with the format's three escapes.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value: {line}"))?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(r) = rest.strip_prefix('{') {
        let mut chars = r.char_indices().peekable();
        let end;
        loop {
            // A label name up to '=', or the closing brace.
            let start = match chars.peek() {
                Some((_, '}')) => {
                    end = chars.next().map(|(i, _)| i + 1);
                    break;
                }
                Some((i, _)) => *i,
                None => return Err(format!("unclosed labels: {line}")),
            };
            let eq = r[start..]
                .find('=')
                .ok_or_else(|| format!("label without '=': {line}"))?;
            let lname = &r[start..start + eq];
            if !is_name(lname, false) || lname.starts_with("__") {
                return Err(format!("bad label name {lname:?}"));
            }
            while chars.peek().is_some_and(|(i, _)| *i <= start + eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label value not quoted: {line}"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?} in {line}")),
                    },
                    Some((_, '"')) => break,
                    Some((_, '\n')) | None => return Err(format!("unterminated value: {line}")),
                    Some((_, c)) => value.push(c),
                }
            }
            if labels.insert(lname.to_string(), value).is_some() {
                return Err(format!("label {lname} twice: {line}"));
            }
            match chars.peek() {
                Some((_, ',')) => {
                    chars.next();
                }
                Some((_, '}')) => {}
                _ => return Err(format!("expected ',' or '}}': {line}")),
            }
        }
        rest = &r[end.ok_or("no closing brace")?..];
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value: {line}"))?;
    if value.contains(' ') {
        return Err(format!("a timestamp or junk after the value: {line}"));
    }
    let value: f64 = value
        .parse()
        .map_err(|_| format!("bad value {value:?} in {line}"))?;
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Parses a whole exposition strictly: every line ends with a line feed,
/// each family has HELP then TYPE before its samples, a family's samples are
/// contiguous, and no series (name and labels) appears twice.
pub fn parse_exposition(text: &str) -> Result<Exposition, String> {
    if !text.ends_with('\n') {
        return Err("the last line has no line feed".into());
    }
    let mut e = Exposition::default();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series = BTreeSet::new();
    for line in text.lines() {
        let family = if let Some(r) = line.strip_prefix("# HELP ") {
            let (name, help) = r.split_once(' ').ok_or("HELP without text")?;
            if e.help.insert(name.into(), help.into()).is_some() {
                return Err(format!("HELP twice for {name}"));
            }
            name.to_string()
        } else if let Some(r) = line.strip_prefix("# TYPE ") {
            let (name, ty) = r.split_once(' ').ok_or("TYPE without type")?;
            if !e.help.contains_key(name) {
                return Err(format!("TYPE before HELP for {name}"));
            }
            if e.types.insert(name.into(), ty.into()).is_some() {
                return Err(format!("TYPE twice for {name}"));
            }
            name.to_string()
        } else if line.starts_with('#') || line.is_empty() {
            return Err(format!("unexpected line {line:?}"));
        } else {
            let s = parse_sample(line)?;
            if !e.types.contains_key(&s.name) {
                return Err(format!("sample before TYPE: {line}"));
            }
            if !series.insert((s.name.clone(), s.labels.clone())) {
                return Err(format!("series twice: {line}"));
            }
            let name = s.name.clone();
            e.samples.push(s);
            name
        };
        if current.as_deref() != Some(family.as_str()) {
            if let Some(c) = current.take() {
                done.insert(c);
            }
            if done.contains(&family) {
                return Err(format!("family {family} is split"));
            }
            current = Some(family);
        }
    }
    Ok(e)
}
