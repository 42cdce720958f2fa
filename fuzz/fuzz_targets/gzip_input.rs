//! Any bytes as an input file (gzip by magic, truncated members, junk).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reader: Box<dyn std::io::Read + Send> = Box::new(std::io::Cursor::new(data.to_vec()));
    if let Ok(mut input) = bouncelog::source::from_reader("fuzz", reader, chrono::Local::now()) {
        while input.next_chunk().is_some() {}
        let _ = input.take_error();
    }
});
