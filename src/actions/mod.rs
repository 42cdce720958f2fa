//! Outputs that other tools act on: the firewall blocklist ([`blocklist`]),
//! the suppression list for list managers ([`suppress`]) and the exit-status
//! thresholds ([`failon`]). Each errs on the side of doing nothing.

pub mod blocklist;
pub mod failon;
pub mod suppress;
