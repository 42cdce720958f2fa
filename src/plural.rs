//! Counted nouns in English: "1 minute", "2 minutes". Shared by the
//! findings, which write sentences, and the reports.

/// `one` for a count of 1, else `many`.
pub fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}
