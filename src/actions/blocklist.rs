//! The `--emit-blocklist` file, which a firewall may act on: [`entries`]
//! takes the addresses from harvest findings (never a network of
//! [`never_blocked`](crate::net::never_blocked) or `--trusted`), and
//! [`write()`] writes one line per address, each after a `#` comment saying
//! which finding put it there; log text in comments is escaped and kept on
//! one line, so no log line can add an address of its choosing.

use crate::findings::Finding;
use crate::net::ip;
use crate::patterns::PatternSet;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::IpAddr;

/// The addresses harvest findings put on the blocklist, each with the
/// reason of the first finding that named it, in address order.
pub fn entries(ps: &PatternSet, findings: &[Finding]) -> Vec<(IpAddr, String)> {
    let harvest = ps
        .finding_kind(crate::findings::detectors::HARVEST)
        .map(|(k, _)| k);
    let mut out: BTreeMap<IpAddr, String> = BTreeMap::new();
    for f in findings.iter().filter(|f| Some(f.kind.as_str()) == harvest) {
        let list = f
            .evidence
            .get("blocklist")
            .as_array()
            .cloned()
            .unwrap_or_default();
        for a in list.iter().filter_map(|v| v.as_str()).filter_map(ip) {
            out.entry(a).or_insert_with(|| f.message().into_owned());
        }
    }
    out.into_iter().collect()
}

/// Writes the blocklist: a header, then per address a comment line and the address.
pub fn write(w: &mut dyn Write, entries: &[(IpAddr, String)]) -> io::Result<()> {
    writeln!(
        w,
        "# bouncelog blocklist: clients with evidence of directory harvesting (many distinct"
    )?;
    writeln!(
        w,
        "# unknown recipients, few or none valid); loopback, private and --trusted networks excluded."
    )?;
    for (a, why) in entries {
        let why: String = crate::report::sanitize::terminal(why)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(w, "# {a}: {why}")?;
        writeln!(w, "{a}")?;
    }
    Ok(())
}
