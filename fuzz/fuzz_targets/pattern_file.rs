//! Any text as a user pattern file next to the built-ins.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = bouncelog::patterns::builtin_sources();
    sources.push(bouncelog::patterns::SourceFile { name: "fuzz.toml".into(), text: text.to_string() });
    let _ = bouncelog::patterns::PatternSet::from_sources(&sources);
});
