//! `atlassian-confluence.log` (AccessLogFilter lines) and `atlassian-confluence-security.log`
//! (DefaultLoginManager lines). (Stub: being implemented.)

use super::{LineOutcome, LineParser, ParseCtx};
use chrono::FixedOffset;

pub struct Log4jParser {
    #[allow(dead_code)]
    offset: FixedOffset,
}

impl Log4jParser {
    /// `offset`: the server's UTC offset, because log4j writes local time without a zone.
    pub fn new(offset: FixedOffset) -> Log4jParser {
        Log4jParser { offset }
    }
}

/// True when a line starts like a log4j record (`2022-07-12 01:08:59,489 `).
pub fn looks_like_log4j(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 24 && b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':' && b[19] == b','
}

impl LineParser for Log4jParser {
    fn parse_line(&self, _line: &str, _ctx: &mut ParseCtx) -> LineOutcome {
        LineOutcome::Skip
    }
}
