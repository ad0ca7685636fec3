//! Fuzzes the Tomcat access-log parser: every preset pattern and the `combined` alias must
//! turn any bytes into an event, a skip or an error, never a panic. The first line of the
//! input is also tried as a pattern, and the whole input as a `server.xml`.
#![no_main]
use confwatch_ingest::formats::access::{
    AccessLogOptions, AccessLogParser, DurationUnit, PRESETS, patterns_from_server_xml,
};
use confwatch_ingest::formats::{LineParser, ParseCtx};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut ctx = ParseCtx::new(Arc::from("fuzz.log"));
    let patterns = PRESETS.iter().map(|(_, p)| *p).chain(["combined"]);
    for (i, pattern) in patterns.enumerate() {
        let unit = if i % 2 == 0 {
            DurationUnit::Millis
        } else {
            DurationUnit::Micros
        };
        let Ok(parser) = AccessLogParser::new(
            pattern,
            AccessLogOptions {
                duration_unit: unit,
            },
        ) else {
            continue;
        };
        for line in text.lines() {
            let _ = parser.parse_line(line, &mut ctx);
            let _ = parser.matches_line(line);
        }
    }
    if let Some((pattern, rest)) = text.split_once('\n')
        && let Ok(parser) = AccessLogParser::new(pattern, AccessLogOptions::default())
    {
        for line in rest.lines() {
            let _ = parser.parse_line(line, &mut ctx);
        }
    }
    let _ = patterns_from_server_xml(&text);
});
