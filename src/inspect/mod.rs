//! Looking at the pattern sets from above the parser: [`check`] runs every
//! sample through the real parser and classifier, [`explain`] says what a
//! single reply or line means.

pub mod check;
pub mod explain;
