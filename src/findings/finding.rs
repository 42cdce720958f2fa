//! [`Finding`]: one conclusion drawn from the evidence (kind, subject,
//! message, the numbers behind it, hints). A leaf, so that the summary can
//! carry the findings computed for a report without importing the detectors.
//!
//! Compact, since a large log gives tens of thousands of typo findings: the
//! numbers behind a typo are a small struct ([`TypoEvidence`]), written as
//! the same JSON object the other findings build with `json!` (a JSON map per
//! finding cost about 700 bytes), a typo's sentence is made from them when
//! asked for ([`Finding::message`]) rather than kept, and the hints of a kind
//! are shared.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// One finding.
#[derive(Debug, Clone, Deserialize)]
pub struct Finding {
    /// `typo`, `harvest`, `domain_failure`, `blocklisted`.
    pub kind: String,
    /// What it is about (an address, a client, a domain).
    pub subject: String,
    /// One sentence for people (empty for a typo found in this run: see
    /// [`Finding::message`]).
    message: String,
    /// The numbers behind it.
    pub evidence: Evidence,
    /// What to do (shared by the findings of a kind when they are the same).
    #[serde(deserialize_with = "hints_in")]
    pub hints: Arc<[String]>,
}

impl Finding {
    /// A finding.
    pub fn new(
        kind: &str,
        subject: String,
        message: String,
        evidence: Evidence,
        hints: Arc<[String]>,
    ) -> Self {
        Finding {
            kind: kind.into(),
            subject,
            message,
            evidence,
            hints,
        }
    }

    /// The typo finding of `subject`: its sentence is made from the evidence.
    pub fn typo(kind: &str, subject: String, evidence: TypoEvidence, hints: Arc<[String]>) -> Self {
        Finding::new(kind, subject, String::new(), evidence.into(), hints)
    }

    /// One sentence for people.
    pub fn message(&self) -> Cow<'_, str> {
        match &self.evidence {
            Evidence::Typo(t) if self.message.is_empty() => {
                let n = t.failures;
                Cow::Owned(format!(
                    "{} ({n} {}) → did you mean {} ({})?",
                    self.subject,
                    crate::plural::noun(n, "failure", "failures"),
                    t.suggestion(),
                    t.because()
                ))
            }
            _ => Cow::Borrowed(&self.message),
        }
    }
}

/// Findings are equal when they say the same (a typo read back from a report
/// keeps its sentence; one found in this run makes it).
impl PartialEq for Finding {
    fn eq(&self, o: &Finding) -> bool {
        self.kind == o.kind
            && self.subject == o.subject
            && self.message() == o.message()
            && self.evidence == o.evidence
            && self.hints == o.hints
    }
}

/// Written as the fields were: kind, subject, message, evidence, hints.
impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Finding", 5)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("subject", &self.subject)?;
        st.serialize_field("message", &self.message())?;
        st.serialize_field("evidence", &self.evidence)?;
        st.serialize_field("hints", &*self.hints)?;
        st.end()
    }
}

fn hints_in<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[String]>, D::Error> {
    Vec::<String>::deserialize(d).map(Arc::from)
}

/// The numbers behind a finding: a JSON object, or those of a typo.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// Any JSON value (the findings other than typos, and every finding
    /// read back from a report).
    Json(Box<Value>),
    /// A typo's.
    Typo(Box<TypoEvidence>),
}

/// The evidence of a typo finding: `{"failures", "causes", "suggestion",
/// "because"}` in that order.
#[derive(Debug, Clone)]
pub struct TypoEvidence {
    /// Failures to the address.
    pub failures: u64,
    /// Their causes (sorted; shared by the typos failing for the same ones).
    pub causes: Arc<[String]>,
    /// The suggested address, then why (`text[..split]`, `text[split..]`).
    text: Box<str>,
    split: u32,
}

impl TypoEvidence {
    /// The evidence of a typo of an address failing `failures` times for
    /// `causes`, suggesting `suggestion` because `because`.
    pub fn new(failures: u64, causes: Arc<[String]>, suggestion: &str, because: &str) -> Self {
        let split = u32::try_from(suggestion.len()).unwrap_or(u32::MAX);
        let text = if split as usize == suggestion.len() {
            format!("{suggestion}{because}")
        } else {
            String::new()
        };
        TypoEvidence {
            failures,
            causes,
            text: text.into(),
            split,
        }
    }

    /// The suggested address.
    pub fn suggestion(&self) -> &str {
        self.text.get(..self.split as usize).unwrap_or_default()
    }

    /// Why it is suggested.
    pub fn because(&self) -> &str {
        self.text.get(self.split as usize..).unwrap_or_default()
    }

    /// The same object as a JSON value (what `Serialize` writes).
    fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Serialize for TypoEvidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("failures", &self.failures)?;
        m.serialize_entry("causes", &*self.causes)?;
        m.serialize_entry("suggestion", self.suggestion())?;
        m.serialize_entry("because", self.because())?;
        m.end()
    }
}

impl Evidence {
    /// The evidence as a JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            Evidence::Json(v) => (**v).clone(),
            Evidence::Typo(t) => t.to_value(),
        }
    }

    /// The value of one key (`Null` when absent), as `value[key]` gives.
    pub fn get(&self, k: &str) -> Cow<'_, Value> {
        match self {
            Evidence::Json(v) => Cow::Borrowed(&v[k]),
            Evidence::Typo(t) => Cow::Owned(t.to_value()[k].clone()),
        }
    }
}

impl From<Value> for Evidence {
    fn from(v: Value) -> Self {
        Evidence::Json(Box::new(v))
    }
}

impl From<TypoEvidence> for Evidence {
    fn from(t: TypoEvidence) -> Self {
        Evidence::Typo(Box::new(t))
    }
}

/// Evidence is equal when its JSON is.
impl PartialEq for Evidence {
    fn eq(&self, o: &Evidence) -> bool {
        match (self, o) {
            (Evidence::Json(a), Evidence::Json(b)) => a == b,
            _ => self.to_value() == o.to_value(),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Evidence::Json(v) => v.serialize(s),
            Evidence::Typo(t) => t.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(Evidence::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_evidence_is_written_as_its_json_object() {
        let causes: Arc<[String]> = vec!["cause.one".to_string(), "x.y".to_string()].into();
        let t = Evidence::from(TypoEvidence::new(
            3,
            causes,
            "john@example.com",
            "delivered 2 times",
        ));
        let v = serde_json::json!({"failures": 3, "causes": ["cause.one", "x.y"],
            "suggestion": "john@example.com", "because": "delivered 2 times"});
        assert_eq!(
            serde_json::to_string_pretty(&t).expect("json"),
            serde_json::to_string_pretty(&v).expect("json")
        );
        assert_eq!(*t.get("suggestion"), "john@example.com");
        assert_eq!(*t.get("because"), "delivered 2 times");
        assert_eq!(*t.get("nothing"), Value::Null);
        assert_eq!(t, Evidence::from(v.clone()));
        let back: Evidence = serde_json::from_value(v).expect("read back");
        assert_eq!(back, t);
    }

    #[test]
    fn a_typo_says_its_sentence_as_it_was_kept() {
        let e = TypoEvidence::new(1, Arc::new([]), "ann@example.com", "delivered 3 times");
        let f = Finding::typo("typo", "anm@example.com".into(), e, Arc::new([]));
        let m = "anm@example.com (1 failure) → did you mean ann@example.com (delivered 3 times)?";
        assert_eq!(f.message(), m);
        let v = serde_json::to_value(&f).expect("json");
        assert_eq!(v["message"], m);
        let back: Finding = serde_json::from_value(v).expect("read back");
        assert_eq!(back.message(), m);
        assert_eq!(back, f);
    }
}
