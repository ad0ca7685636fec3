//! Audit formats, one JSON record each: Data Center audit file and REST, Cloud audit,
//! organization audit, Guard Detect alerts.
//!
//! This module owns recognising a single record ([`detect_record`]) and turning it into an
//! [`Event`](confwatch_event::Event) with an [`AuditDetail`](confwatch_event::AuditDetail)
//! ([`parse_record`]). Reading the container (JSON lines, arrays, envelopes) happens in the
//! caller, which uses [`envelope_key`] to recognise wrappers. The key → action tables live in
//! [`mapping`]. Parsers never panic: a record of the wrong shape or without a timestamp is a
//! [`ParseError::Shape`](super::ParseError::Shape), an unreadable timestamp a
//! [`ParseError::BadTimestamp`](super::ParseError::BadTimestamp).

mod cloud;
mod common;
mod dc;
mod guard;
pub mod mapping;
mod org;
#[cfg(test)]
mod tests;

use super::{LineOutcome, ParseCtx};
use confwatch_event::SourceFormat;
use serde_json::Value;

/// Which audit format a single JSON record is, from its keys; `None` for anything else
/// (including JSON from other products and the JSON formats' envelopes).
pub fn detect_record(v: &Value) -> Option<SourceFormat> {
    let o = v.as_object()?;
    if o.get("auditType").is_some_and(Value::is_object) {
        return Some(SourceFormat::DcAuditFile);
    }
    if o.get("type")
        .is_some_and(|t| t.get("actionI18nKey").is_some() || t.get("categoryI18nKey").is_some())
    {
        return Some(SourceFormat::DcAuditRest);
    }
    if o.contains_key("creationDate") && o.contains_key("summary") {
        return Some(SourceFormat::CloudAudit);
    }
    if o.get("attributes").is_some_and(|a| {
        a.get("action").is_some_and(Value::is_string)
            && (a.get("time").is_some() || a.get("actor").is_some())
    }) {
        return Some(SourceFormat::OrgAudit);
    }
    if guard::looks_like(o) {
        return Some(SourceFormat::GuardAlert);
    }
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

/// Turns one record of `format` into an event. Formats that are not audit formats (the text
/// log formats) give a `Shape` error rather than a panic.
pub fn parse_record(format: SourceFormat, v: &Value, ctx: &mut ParseCtx) -> LineOutcome {
    match format {
        SourceFormat::DcAuditFile | SourceFormat::DcAuditRest => dc::parse(format, v, ctx),
        SourceFormat::CloudAudit => cloud::parse(v, ctx),
        SourceFormat::OrgAudit => org::parse(v, ctx),
        SourceFormat::GuardAlert => guard::parse(v, ctx),
        SourceFormat::TomcatAccess | SourceFormat::AccessLogFilter | SourceFormat::SecurityLog => {
            common::shape(format, "not a JSON audit format")
        }
    }
}
