//! [`Finding`]: one conclusion drawn from the evidence (kind, subject,
//! message, the numbers behind it, hints). A leaf, so that the summary can
//! carry the findings computed for a report without importing the detectors.
//!
//! Compact, since a large log gives tens of thousands of typo findings: the
//! numbers behind a typo are a small struct ([`TypoEvidence`]), written as
//! the same JSON object the other findings build with `json!` (a JSON map per
//! finding cost about 700 bytes), and the hints of a kind are shared.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// One finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// `typo`, `harvest`, `domain_failure`, `blocklisted`.
    pub kind: String,
    /// What it is about (an address, a client, a domain).
    pub subject: String,
    /// One sentence for people.
    pub message: String,
    /// The numbers behind it.
    pub evidence: Evidence,
    /// What to do (shared by the findings of a kind when they are the same).
    #[serde(serialize_with = "hints_out", deserialize_with = "hints_in")]
    pub hints: Arc<[String]>,
}

fn hints_out<S: Serializer>(h: &Arc<[String]>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(h.iter())
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
    /// The JSON object, built only if someone indexes it.
    json: OnceLock<Value>,
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
            json: OnceLock::new(),
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

    fn to_value(&self) -> Value {
        let mut m = serde_json::Map::with_capacity(4);
        m.insert("failures".into(), self.failures.into());
        m.insert(
            "causes".into(),
            self.causes
                .iter()
                .map(|c| Value::from(c.as_str()))
                .collect(),
        );
        m.insert("suggestion".into(), self.suggestion().into());
        m.insert("because".into(), self.because().into());
        m.into()
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

impl std::ops::Index<&str> for Evidence {
    type Output = Value;
    fn index(&self, k: &str) -> &Value {
        match self {
            Evidence::Json(v) => &v[k],
            Evidence::Typo(t) => &t.json.get_or_init(|| t.to_value())[k],
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
        let causes: Arc<[String]> = vec!["unknown_user".to_string(), "x.y".to_string()].into();
        let t = Evidence::from(TypoEvidence::new(
            3,
            causes,
            "john@example.com",
            "delivered 2 times",
        ));
        let v = serde_json::json!({"failures": 3, "causes": ["unknown_user", "x.y"],
            "suggestion": "john@example.com", "because": "delivered 2 times"});
        assert_eq!(
            serde_json::to_string_pretty(&t).expect("json"),
            serde_json::to_string_pretty(&v).expect("json")
        );
        assert_eq!(t["suggestion"], "john@example.com");
        assert_eq!(t["because"], "delivered 2 times");
        assert_eq!(t, Evidence::from(v.clone()));
        let back: Evidence = serde_json::from_value(v).expect("read back");
        assert_eq!(back, t);
    }
}
