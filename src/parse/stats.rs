//! Line counts of a run ([`LineStats`]): what the parser saw of every line
//! read, kept beside the failures in the summary.

use serde::Serialize;

/// Line counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LineStats {
    /// Every line read.
    pub total: u64,
    /// Lines from a known MTA's programs.
    pub recognised: u64,
    /// Lines whose format is not known (not syslog, binary junk).
    pub unrecognised: u64,
    /// Syslog lines from programs no pattern set covers (dovecot, amavis …).
    pub other_programs: u64,
    /// Empty lines.
    pub blank: u64,
    /// MTA lines matched by a line rule.
    pub matched: u64,
    /// Matched lines with invalid UTF-8 (replaced by U+FFFD in output).
    pub invalid_utf8: u64,
}

impl LineStats {
    /// Adds another's counts.
    pub fn merge(&mut self, o: &LineStats) {
        self.total += o.total;
        self.recognised += o.recognised;
        self.unrecognised += o.unrecognised;
        self.other_programs += o.other_programs;
        self.blank += o.blank;
        self.matched += o.matched;
        self.invalid_utf8 += o.invalid_utf8;
    }
}
