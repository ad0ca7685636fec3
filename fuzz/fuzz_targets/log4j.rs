//! Fuzz target: arbitrary bytes (decoded lossily as UTF-8, split into lines) → the log4j
//! parser under a few server offsets. Checks that no line panics and that events only come
//! out as `AccessLogFilter` or `SecurityLog`.
#![no_main]

use confwatch_event::SourceFormat;
use confwatch_ingest::formats::log4j::{Log4jParser, looks_like_log4j};
use confwatch_ingest::formats::{LineOutcome, LineParser, ParseCtx};
use confwatch_ingest::time::parse_offset;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Offsets picked by the first input byte, so the fuzzer also explores time-zone handling.
const OFFSETS: [&str; 5] = ["Z", "+1100", "-0530", "+2359", "-2359"];

fuzz_target!(|data: &[u8]| {
    let (pick, rest) = match data.split_first() {
        Some((b, rest)) => (usize::from(*b) % OFFSETS.len(), rest),
        None => (0, data),
    };
    let Some(offset) = OFFSETS.get(pick).and_then(|o| parse_offset(o)) else {
        return;
    };
    let parser = Log4jParser::new(offset);
    let text = String::from_utf8_lossy(rest);
    let mut ctx = ParseCtx::new(Arc::from("fuzz"));
    for (i, line) in text.split('\n').enumerate() {
        ctx.set_line(i as u64 + 1);
        let starts_like = looks_like_log4j(line);
        match parser.parse_line(line, &mut ctx) {
            LineOutcome::Event(ev) => {
                assert!(starts_like, "events only from timestamped lines");
                assert!(matches!(
                    ev.format,
                    SourceFormat::AccessLogFilter | SourceFormat::SecurityLog
                ));
                assert_eq!(
                    ev.timestamp.offset().local_minus_utc(),
                    offset.local_minus_utc()
                );
            }
            LineOutcome::Error(_) => assert!(starts_like, "errors only for timestamped lines"),
            LineOutcome::Skip => {}
        }
    }
});
