//! Fuzzes the URL → action classifier with arbitrary method, URL and status.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (method, url) = text.split_once(' ').unwrap_or(("GET", &text));
    let status = data.first().map(|b| 100 + u16::from(*b) * 2);
    let _ = confwatch_ingest::classify::classify(Some(method), url, status);
});
