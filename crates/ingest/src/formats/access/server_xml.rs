//! Finds the `pattern` of every `AccessLogValve` in a Tomcat `server.xml`. A small hand
//! scanner: it only needs tags and attributes, skips comments, CDATA, processing
//! instructions and declarations, and decodes XML entities in attribute values.

use super::PatternError;
use std::borrow::Cow;

const ACCESS_LOG_VALVE: &str = "org.apache.catalina.valves.AccessLogValve";
/// Tomcat's documented default when a valve has no `pattern` attribute.
const DEFAULT_PATTERN: &str = "common";

fn xml_err(what: &str, at: usize) -> PatternError {
    PatternError::Xml(format!("{what} at byte {at}"))
}

/// Decodes the five predefined entities and numeric character references. Unknown
/// entities are kept as written.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let tail = rest.get(amp..).unwrap_or("");
        // Entity names are short; a far-away `;` is not ours.
        let semi = tail.get(..tail.len().min(12)).and_then(|t| t.find(';'));
        let decoded = semi.and_then(|semi| {
            let name = tail.get(1..semi)?;
            let ch = match name {
                "quot" => '"',
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse::<u32>().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((ch, semi + 1))
        });
        match decoded {
            Some((ch, used)) => {
                out.push(ch);
                rest = tail.get(used..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Byte offset of `needle` at or after `from`.
fn find_from(hay: &str, from: usize, needle: &str) -> Option<usize> {
    hay.get(from..)?.find(needle).map(|i| i + from)
}

/// Parses the attributes of a start tag beginning at `i` (just after the element name).
/// Returns the attributes and the offset after the tag's `>`.
/// A start tag's attributes as (name, raw value) pairs.
type Attrs<'a> = Vec<(&'a str, &'a str)>;

fn attributes(xml: &str, mut i: usize) -> Result<(Attrs<'_>, usize), PatternError> {
    let b = xml.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        match b.get(i) {
            None => return Err(xml_err("unterminated tag", i)),
            Some(b'>') => return Ok((attrs, i + 1)),
            Some(b'/') if b.get(i + 1) == Some(&b'>') => return Ok((attrs, i + 2)),
            _ => {}
        }
        let name_start = i;
        while b
            .get(i)
            .is_some_and(|&c| c != b'=' && c != b'>' && c != b'/' && !c.is_ascii_whitespace())
        {
            i += 1;
        }
        let name = xml.get(name_start..i).unwrap_or("");
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        if name.is_empty() || b.get(i) != Some(&b'=') {
            return Err(xml_err("attribute without `=value`", i));
        }
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        let quote = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(xml_err("unquoted attribute value", i)),
        };
        let vstart = i + 1;
        let close = memchr::memchr(quote, b.get(vstart..).unwrap_or(&[]))
            .ok_or_else(|| xml_err("unterminated attribute value", vstart))?;
        attrs.push((name, xml.get(vstart..vstart + close).unwrap_or("")));
        i = vstart + close + 1;
    }
}

/// The `pattern` of every `org.apache.catalina.valves.AccessLogValve` in `xml`, entity-decoded,
/// in document order. Valves inside comments are ignored; `ExtendedAccessLogValve` (a W3C
/// format) and other valves are skipped.
pub fn patterns_from_server_xml(xml: &str) -> Result<Vec<String>, PatternError> {
    let b = xml.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(lt) = memchr::memchr(b'<', b.get(i..).unwrap_or(&[])) {
        let at = i + lt;
        let tail = xml.get(at..).unwrap_or("");
        let skip_to = |close: &str, what: &str| {
            find_from(xml, at + 2, close)
                .map(|e| e + close.len())
                .ok_or_else(|| xml_err(what, at))
        };
        if tail.starts_with("<!--") {
            i = skip_to("-->", "unterminated comment")?;
        } else if tail.starts_with("<![CDATA[") {
            i = skip_to("]]>", "unterminated CDATA section")?;
        } else if tail.starts_with("<?") {
            i = skip_to("?>", "unterminated processing instruction")?;
        } else if tail.starts_with("<!") {
            i = skip_to(">", "unterminated declaration")?;
        } else if tail.starts_with("</") {
            i = skip_to(">", "unterminated end tag")?;
        } else {
            let name_start = at + 1;
            let mut j = name_start;
            while b
                .get(j)
                .is_some_and(|&c| c != b'>' && c != b'/' && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            let name = xml.get(name_start..j).unwrap_or("");
            let (attrs, end) = attributes(xml, j)?;
            if name == "Valve" {
                let class = attrs
                    .iter()
                    .find(|(k, _)| *k == "className")
                    .map(|(_, v)| decode_entities(v));
                if class.as_deref().map(str::trim) == Some(ACCESS_LOG_VALVE) {
                    let pattern = attrs
                        .iter()
                        .find(|(k, _)| *k == "pattern")
                        .map(|(_, v)| decode_entities(v));
                    out.push(pattern.map_or_else(|| DEFAULT_PATTERN.to_string(), Cow::into_owned));
                }
            }
            i = end;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&quot;%r&quot; &amp;&lt;&gt;&apos;&#34;&#x41;"),
            "\"%r\" &<>'\"A"
        );
        assert_eq!(decode_entities("a &bogus; & b"), "a &bogus; & b");
        assert!(matches!(decode_entities("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "<Valve className=\"x",
            "<!-- open",
            "<Valve pattern=x>",
            "<Valve a",
        ] {
            assert!(
                matches!(patterns_from_server_xml(bad), Err(PatternError::Xml(_))),
                "{bad}"
            );
        }
    }
}
