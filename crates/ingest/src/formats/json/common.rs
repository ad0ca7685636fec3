//! Small, panic-free readers shared by the audit-record parsers: typed field access on a
//! `serde_json::Value`, timestamps in the shapes Atlassian uses, client addresses, and the
//! error constructor every parser returns for a record of the wrong shape.

use crate::formats::{LineOutcome, ParseCtx, ParseError};
use crate::time;
use chrono::{DateTime, FixedOffset};
use confwatch_event::{AuditObject, ChangedValue, Event, SourceFormat};
use serde_json::Value;
use std::net::IpAddr;

/// Most entries kept from any one array of a record (objects, changed values, attributes).
/// The container reader already bounds record size; this also bounds the event's size.
pub(super) const MAX_ITEMS: usize = 256;

/// Longest text accepted as a client host name; anything longer is not a host.
const MAX_HOST_LEN: usize = 255;

/// `Error(Shape)` for `format` with `detail`.
pub(super) fn shape(format: SourceFormat, detail: impl Into<String>) -> LineOutcome {
    LineOutcome::Error(shape_err(format, detail))
}

pub(super) fn shape_err(format: SourceFormat, detail: impl Into<String>) -> ParseError {
    ParseError::Shape {
        format: format.id(),
        detail: detail.into(),
    }
}

/// The string at `key`, trimmed, if present, a string, and not empty.
pub(super) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The string at a nested `path`, trimmed and non-empty.
pub(super) fn text_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(*key)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// A scalar rendered as text (strings as is, numbers and booleans printed); `None` for null,
/// arrays and objects, and for empty strings.
pub(super) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `scalar` of the value at `key`.
pub(super) fn scalar_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(scalar)
}

/// The array at `key`, or an empty slice when absent or not an array.
pub(super) fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// True when `key` holds `true` (a JSON boolean, or the strings `"true"`/`"True"`).
pub(super) fn flag(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Epoch milliseconds from a JSON number (integer or float) or a string of digits.
pub(super) fn epoch_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            // Log Analytics `_d` columns are doubles; accept them when they hold an integer-ish,
            // in-range value.
            let f = n.as_f64()?;
            (f.is_finite() && f.abs() < 8.0e15).then(|| f.round() as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Why a timestamp could not be read: absent (a shape problem) or present but unreadable.
pub(super) enum TimeError {
    Missing,
    Bad(String),
}

/// The instant in `v`, which may be an ISO-8601 string, epoch milliseconds, or the DC file's
/// `{epochSecond, nano}` object.
pub(super) fn instant(v: Option<&Value>) -> Result<DateTime<FixedOffset>, TimeError> {
    let Some(v) = v else {
        return Err(TimeError::Missing);
    };
    match v {
        Value::Null => Err(TimeError::Missing),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Err(TimeError::Missing);
            }
            // A string of digits is epoch milliseconds (some exporters quote numbers).
            let parsed = if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<i64>().ok().and_then(time::from_epoch_ms)
            } else {
                time::parse_rfc3339(s)
            };
            parsed.ok_or_else(|| TimeError::Bad(clip(s)))
        }
        Value::Number(_) => epoch_ms(v)
            .and_then(time::from_epoch_ms)
            .ok_or_else(|| TimeError::Bad(v.to_string())),
        Value::Object(_) => {
            let secs = v.get("epochSecond").ok_or(TimeError::Missing)?;
            let secs = secs
                .as_i64()
                .ok_or_else(|| TimeError::Bad(clip(&v.to_string())))?;
            let nanos = match v.get("nano") {
                None | Some(Value::Null) => 0,
                Some(n) => n
                    .as_u64()
                    .filter(|n| *n < 1_000_000_000)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| TimeError::Bad(clip(&v.to_string())))?,
            };
            time::from_epoch_parts(secs, nanos).ok_or_else(|| TimeError::Bad(clip(&v.to_string())))
        }
        _ => Err(TimeError::Bad(clip(&v.to_string()))),
    }
}

/// Turns a `TimeError` into the outcome the parsers return.
pub(super) fn time_error(format: SourceFormat, field: &str, e: TimeError) -> LineOutcome {
    match e {
        TimeError::Missing => shape(format, format!("missing timestamp `{field}`")),
        TimeError::Bad(s) => LineOutcome::Error(ParseError::BadTimestamp(s)),
    }
}

/// At most 80 characters of `s`, for error messages.
pub(super) fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Sets `client_ip` (or `client_host` when it is not an address) from an address as an audit
/// record writes it: `81.2.69.143`, an IPv6 address, `""`, or a comma list whose first entry
/// is the client.
pub(super) fn set_client(ev: &mut Event, raw: &str, ctx: &mut ParseCtx) {
    let first = raw.split(',').next().unwrap_or_default().trim();
    if first.is_empty() {
        return;
    }
    // `[2001:db8::1]` and `[2001:db8::1]:443` forms.
    let bare = match first.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => first,
    };
    match bare.parse::<IpAddr>() {
        Ok(ip) => ev.client_ip = Some(ip),
        Err(_) if first.len() <= MAX_HOST_LEN => ev.client_host = Some(ctx.intern(first)),
        Err(_) => {}
    }
}

/// An `{type|objectType, name, id?}` object as an [`AuditObject`]; `None` when it names
/// nothing.
pub(super) fn audit_object(o: &Value, kind_key: &str) -> Option<AuditObject> {
    let kind = text(o, kind_key).unwrap_or_default();
    let name = text(o, "name").unwrap_or_default();
    let id = scalar_of(o, "id");
    if kind.is_empty() && name.is_empty() && id.is_none() {
        return None;
    }
    Some(AuditObject {
        kind: kind.to_owned(),
        name: name.to_owned(),
        id,
    })
}

/// A changed value from `name_key`/`from_key`/`to_key`; empty strings count as absent.
pub(super) fn changed_value(
    c: &Value,
    name_keys: &[&str],
    from_key: &str,
    to_key: &str,
) -> Option<ChangedValue> {
    let key = name_keys.iter().find_map(|k| text(c, k))?;
    Some(ChangedValue {
        key: key.to_owned(),
        from: scalar_of(c, from_key),
        to: scalar_of(c, to_key),
    })
}

/// A numeric content id (`"98305"`, `12345`) as `u64`.
pub(super) fn numeric_id(s: Option<&str>) -> Option<u64> {
    s.and_then(|s| s.parse::<u64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn instants_in_every_shape() {
        let iso = instant(Some(&json!("2021-11-23T00:44:36.398Z")))
            .ok()
            .map(|t| t.timestamp_millis());
        assert_eq!(iso, Some(1_637_628_276_398));
        let ms = instant(Some(&json!(1_637_073_322_812_i64)))
            .ok()
            .map(|t| t.timestamp_millis());
        assert_eq!(ms, Some(1_637_073_322_812));
        let dbl = instant(Some(&json!(1_700_713_286_385.0_f64)))
            .ok()
            .map(|t| t.timestamp_millis());
        assert_eq!(dbl, Some(1_700_713_286_385));
        let parts = instant(Some(
            &json!({"epochSecond": 1_637_625_013, "nano": 842_000_000}),
        ))
        .ok()
        .map(|t| t.timestamp_millis());
        assert_eq!(parts, Some(1_637_625_013_842));
        assert!(matches!(instant(None), Err(TimeError::Missing)));
        assert!(matches!(
            instant(Some(&json!(null))),
            Err(TimeError::Missing)
        ));
        assert!(matches!(
            instant(Some(&json!("yesterday"))),
            Err(TimeError::Bad(_))
        ));
        assert!(matches!(
            instant(Some(&json!({"epochSecond": 1, "nano": 2_000_000_000_u64}))),
            Err(TimeError::Bad(_))
        ));
        assert!(matches!(
            instant(Some(&json!({"nano": 1}))),
            Err(TimeError::Missing)
        ));
        assert!(matches!(
            instant(Some(&json!(f64::MAX))),
            Err(TimeError::Bad(_))
        ));
        assert!(matches!(instant(Some(&json!([1]))), Err(TimeError::Bad(_))));
    }

    #[test]
    fn client_addresses() {
        let mut ctx = ParseCtx::new(Arc::from("t"));
        let origin = ctx.origin();
        let mk = || {
            Event::new(
                chrono::DateTime::UNIX_EPOCH.fixed_offset(),
                SourceFormat::CloudAudit,
                origin.clone(),
            )
        };
        for (raw, ip, host) in [
            ("81.2.69.143", Some("81.2.69.143"), None),
            ("2001:db8::1", Some("2001:db8::1"), None),
            ("[2001:db8::1]:443", Some("2001:db8::1"), None),
            ("10.0.0.1, 10.0.0.2", Some("10.0.0.1"), None),
            ("", None, None),
            ("proxy.example.com", None, Some("proxy.example.com")),
        ] {
            let mut ev = mk();
            set_client(&mut ev, raw, &mut ctx);
            assert_eq!(ev.client_ip.map(|i| i.to_string()).as_deref(), ip, "{raw}");
            assert_eq!(ev.client_host.as_deref(), host, "{raw}");
        }
    }
}
