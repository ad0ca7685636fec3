//! Query-string and path-segment helpers for the URL classifier: parameter lookup without
//! allocation, safe percent-decoding, saturating number parsing, `expand=` body detection
//! and extraction of the quoted search terms from CQL.

use percent_encoding::percent_decode_str;

/// The raw (still encoded) value of the first `key=` parameter; `Some("")` for `key` or `key=`.
pub(super) fn param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    params(query, key).next()
}

/// Every raw value of `key` (e.g. `selectedPageVersions=1&selectedPageVersions=2`).
pub(super) fn params<'a, 'k>(query: &'a str, key: &'k str) -> impl Iterator<Item = &'a str> + 'k
where
    'a: 'k,
{
    query.split('&').filter_map(move |kv| {
        // HTML-escaped links (`&amp;pageId=`) are sometimes logged verbatim.
        let kv = kv.strip_prefix("amp;").unwrap_or(kv);
        // Most pairs differ from the key in their first byte: that check avoids a `memcmp`
        // call per pair.
        if let (Some(a), Some(b)) = (kv.as_bytes().first(), key.as_bytes().first())
            && a != b
        {
            return None;
        }
        // Keys hold no `=`, so `kv` names `key` exactly when it is `key` or `key=…`; this
        // skips looking for the `=` in every pair.
        let rest = kv.strip_prefix(key)?;
        if rest.is_empty() {
            Some("")
        } else {
            rest.strip_prefix('=')
        }
    })
}

/// Whether the query names `key` at all (any value).
pub(super) fn has_param(query: &str, key: &str) -> bool {
    param(query, key).is_some()
}

/// Decodes a query-string value: `+` is a space, `%XX` is a byte, invalid UTF-8 is replaced.
pub(super) fn decode_form(raw: &str) -> String {
    if raw.contains('+') {
        percent_decode_str(&raw.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    } else {
        percent_decode_str(raw).decode_utf8_lossy().into_owned()
    }
}

/// Decodes a path segment (`%XX` only; a `+` in an attachment name is a literal plus).
pub(super) fn decode_path(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Like [`decode_form`] but `None` when the decoded value is empty or blank.
pub(super) fn decode_form_nonempty(raw: &str) -> Option<String> {
    let s = decode_form(raw);
    (!s.trim().is_empty()).then_some(s)
}

/// A decimal id (`pageId=123`): ASCII digits only, must fit in u64; anything else is ignored.
pub(super) fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A decimal count that saturates instead of failing (`limit=99999999999` → `u32::MAX`).
pub(super) fn parse_u32_saturating(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u32, |acc, b| {
        acc.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    }))
}

/// A decimal offset that saturates instead of failing.
pub(super) fn parse_u64_saturating(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// True when any `expand=` value asks for a content body (`body`, `body.storage`,
/// `body.view`, … or nested like `children.page.body.view`).
pub(super) fn expand_has_body(query: &str) -> bool {
    params(query, "expand").any(|raw| {
        // `%2C` separators and `%2E` dots are common in scripted clients.
        let v = decode_form(raw);
        v.split(',').any(|item| {
            let item = item.trim();
            item == "body"
                || item.starts_with("body.")
                || item.ends_with(".body")
                || item.contains(".body.")
        })
    })
}

/// The search text of a CQL query: the quoted operands of `text ~`, `siteSearch ~` and
/// `title ~` joined by a space, or the whole (trimmed) CQL when it has none.
pub(super) fn cql_search_text(cql: &str) -> Option<String> {
    let mut terms: Vec<&str> = Vec::new();
    let mut rest = cql;
    while let Some(tilde) = rest.find('~') {
        let (before, after) = (
            rest.get(..tilde).unwrap_or(""),
            rest.get(tilde + 1..).unwrap_or(""),
        );
        let field = before
            .trim_end()
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        let wanted = ["text", "siteSearch", "title"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(field));
        let operand = after.trim_start();
        let mut consumed = after;
        if let Some(q) = operand.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let body = operand.get(1..).unwrap_or("");
            let end = closing_quote(body, q);
            let term = body.get(..end).unwrap_or(body);
            if wanted && !term.trim().is_empty() {
                terms.push(term.trim());
            }
            consumed = body.get(end..).unwrap_or("");
        }
        rest = consumed;
    }
    if terms.is_empty() {
        let whole = cql.trim();
        (!whole.is_empty()).then(|| whole.to_owned())
    } else {
        Some(terms.join(" "))
    }
}

/// Byte offset of the first `quote` in `s` not preceded by a backslash (or `s.len()`).
fn closing_quote(s: &str, quote: char) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return i;
        }
    }
    s.len()
}

/// True when `s` ends with `suffix`, ignoring ASCII case.
pub(super) fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn params_find_values_and_amp_escapes() {
        let q = "a=1&amp;pageId=77&x&selectedPageVersions=1&selectedPageVersions=2";
        assert_eq!(param(q, "pageId"), Some("77"));
        assert_eq!(param(q, "x"), Some(""));
        assert_eq!(param(q, "missing"), None);
        let v: Vec<_> = params(q, "selectedPageVersions").collect();
        assert_eq!(v, ["1", "2"]);
    }

    #[test]
    fn decoding_is_lossy_and_plus_aware() {
        assert_eq!(decode_form("pass%20word+x"), "pass word x");
        assert_eq!(decode_path("a+b%20c"), "a+b c");
        assert_eq!(decode_form("%FF%"), "\u{FFFD}%");
        assert_eq!(decode_form_nonempty("+"), None);
    }

    #[test]
    fn numbers_are_strict_or_saturating() {
        assert_eq!(parse_id("123"), Some(123));
        assert_eq!(parse_id("+1"), None);
        assert_eq!(parse_id("99999999999999999999999"), None);
        assert_eq!(parse_u32_saturating("99999999999"), Some(u32::MAX));
        assert_eq!(parse_u32_saturating("-1"), None);
        assert_eq!(parse_u64_saturating("000200"), Some(200));
    }

    #[test]
    fn expand_body_detection() {
        assert!(expand_has_body("expand=body.storage,version"));
        assert!(expand_has_body("expand=version%2Cbody.export_view"));
        assert!(expand_has_body("expand=children.page.body.view"));
        assert!(expand_has_body("expand=body"));
        assert!(!expand_has_body("expand=version,space,history"));
        assert!(!expand_has_body("expand=bodyguard"));
        assert!(!expand_has_body("limit=5"));
    }

    #[test]
    fn cql_terms() {
        assert_eq!(
            cql_search_text("siteSearch ~ \"password\"").as_deref(),
            Some("password")
        );
        assert_eq!(
            cql_search_text("type=page and text~'aws keys' and title ~ \"vpn\"").as_deref(),
            Some("aws keys vpn")
        );
        assert_eq!(
            cql_search_text("space = HR and type = page").as_deref(),
            Some("space = HR and type = page")
        );
        assert_eq!(
            cql_search_text("label ~ \"x\"").as_deref(),
            Some("label ~ \"x\"")
        );
        assert_eq!(
            cql_search_text("text ~ \"unterminated").as_deref(),
            Some("unterminated")
        );
        assert_eq!(cql_search_text("  ").as_deref(), None);
    }
}
