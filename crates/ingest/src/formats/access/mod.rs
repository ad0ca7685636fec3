//! Tomcat `AccessLogValve` access logs, driven by the valve's `pattern` string.
//! (Stub: being implemented.)

use super::{LineOutcome, LineParser, ParseCtx};

/// How `%D` is written: milliseconds up to Tomcat 9, microseconds from Tomcat 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DurationUnit {
    #[default]
    Millis,
    Micros,
}

#[derive(Debug, Clone, Default)]
pub struct AccessLogOptions {
    pub duration_unit: DurationUnit,
}

/// Errors in an access-log pattern or `server.xml`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    #[error("{0}")]
    Invalid(String),
}

/// Named patterns confwatch knows without configuration, tried in order when sniffing.
pub const PRESETS: &[(&str, &str)] = &[
    ("installer", "%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i"),
    ("xff", "%t %{X-Forwarded-For}i %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i"),
    ("docker", "%h %{X-AUSERNAME}o %t \"%r\" %s %b %D %U %I \"%{User-Agent}i\""),
];

pub struct AccessLogParser {
    pattern: String,
}

impl AccessLogParser {
    pub fn new(pattern: &str, _opts: AccessLogOptions) -> Result<AccessLogParser, PatternError> {
        Ok(AccessLogParser { pattern: pattern.to_string() })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl LineParser for AccessLogParser {
    fn parse_line(&self, _line: &str, _ctx: &mut ParseCtx) -> LineOutcome {
        LineOutcome::Skip
    }
}

/// The `pattern` of every `AccessLogValve` in a Tomcat `server.xml`.
pub fn patterns_from_server_xml(_xml: &str) -> Result<Vec<String>, PatternError> {
    Ok(Vec::new())
}
