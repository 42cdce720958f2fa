//! [`Finding`]: one conclusion drawn from the evidence (kind, subject,
//! message, the numbers behind it, hints). A leaf, so that the summary can
//! carry the findings computed for a report without importing the detectors.

use serde::Serialize;
use serde_json::Value;

/// One finding.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Finding {
    /// `typo`, `harvest`, `domain_failure`, `blocklisted`.
    pub kind: String,
    /// What it is about (an address, a client, a domain).
    pub subject: String,
    /// One sentence for people.
    pub message: String,
    /// The numbers behind it.
    pub evidence: Value,
    /// What to do.
    pub hints: Vec<String>,
}
