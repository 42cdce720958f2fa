//! Escapes text from logs before it reaches a terminal, a mail body or a
//! spreadsheet. Addresses, HELO names and reply texts are chosen by whoever
//! connects to port 25, so control characters (C0, DEL, C1 — ANSI escapes
//! among them), bidi overrides and invisible characters are shown as escapes.
//! JSON output does not use this: serde_json escapes controls itself.

use std::borrow::Cow;
use std::fmt::Write;

fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// `s` with every dangerous character replaced by a visible escape
/// (`\x1b`, `\u{202e}`); unchanged text is not copied.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if dangerous(c) {
            let n = c as u32;
            if n < 0x80 {
                let _ = write!(out, "\\x{n:02x}");
            } else {
                let _ = write!(out, "\\u{{{n:x}}}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(terminal("plain@example.com"), "plain@example.com");
        assert_eq!(terminal("<\x1b]0;pwned\x07@x>"), "<\\x1b]0;pwned\\x07@x>");
        assert_eq!(
            terminal("a\u{202e}b\u{0085}c\0"),
            "a\\u{202e}b\\u{85}c\\x00"
        );
        assert_eq!(terminal("tab\there"), "tab\\x09here");
    }
}
