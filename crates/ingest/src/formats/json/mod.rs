//! Audit formats, one JSON record each: Data Center audit file and REST, Cloud audit,
//! organization audit, Guard Detect alerts. (Stub: being implemented.)

use super::{LineOutcome, ParseCtx};
use confwatch_event::SourceFormat;
use serde_json::Value;

/// Which audit format a single JSON record is, from its keys.
pub fn detect_record(_v: &Value) -> Option<SourceFormat> {
    None
}

/// For a JSON object that wraps records (`{"entities":[…]}`, `{"results":[…]}`,
/// `{"data":[…]}`): the format and the key that holds the array.
pub fn envelope_key(key: &str) -> Option<SourceFormat> {
    match key {
        "entities" => Some(SourceFormat::DcAuditRest),
        "results" => Some(SourceFormat::CloudAudit),
        "data" => Some(SourceFormat::OrgAudit),
        _ => None,
    }
}

/// Turns one record of `format` into an event.
pub fn parse_record(_format: SourceFormat, _v: &Value, _ctx: &mut ParseCtx) -> LineOutcome {
    LineOutcome::Skip
}
