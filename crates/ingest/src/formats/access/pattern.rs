//! Compiles a Tomcat `AccessLogValve` `pattern` string into the list of steps the line
//! scanner walks: one step per `%` code, each carrying the literal text that follows it.

use super::datefmt::DateFormat;
use super::{DurationUnit, PatternError};
use memchr::memmem;

/// The `common` alias, as Tomcat expands it.
pub const COMMON: &str = "%h %l %u %t \"%r\" %s %b";
/// The `combined` alias, as Tomcat expands it.
pub const COMBINED: &str = "%h %l %u %t \"%r\" %s %b \"%{Referer}i\" \"%{User-Agent}i\"";

/// How a time field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// `[dd/MMM/yyyy:HH:mm:ss Z]`, brackets included.
    Clf,
    /// Seconds since the epoch (`%{sec}t`).
    EpochSec,
    /// Milliseconds since the epoch (`%{msec}t`).
    EpochMs,
    /// A `SimpleDateFormat` string; the step's `date` holds it.
    Custom,
}

/// What a field means to confwatch. Codes that carry nothing the event model keeps are
/// `Opaque`: they must still be skipped correctly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Code {
    Time(TimeKind),
    /// `%h`: remote host (address, or name with `enableLookups`).
    RemoteHost,
    /// `%a`: remote IP address.
    RemoteAddr,
    /// `%u`: authenticated user.
    User,
    /// `%{X-AUSERNAME}o`: Confluence's user name header.
    AUsername,
    /// `%I`: worker thread.
    Thread,
    /// `%r`: first request line.
    Request,
    /// `%m`
    Method,
    /// `%U`: path without query.
    UrlPath,
    /// `%q`: query string including `?`.
    Query,
    /// `%s`
    Status,
    /// `%b` (`-` for zero) or `%B`.
    Bytes,
    /// `%D`, `%T`, `%{xxx}T`: the value times this factor is milliseconds.
    Duration(f64),
    /// `%S`, `%{X-ASESSIONID}o`, `%{JSESSIONID}c`.
    Session,
    /// `%{Referer}i`
    Referer,
    /// `%{User-Agent}i`
    UserAgent,
    /// `%{X-Forwarded-For}i`: a `, `-separated chain.
    ForwardedFor,
    /// Anything else: one token (or one quoted string).
    Opaque,
}

impl Code {
    /// True when the value delimits itself, so no literal is needed after it.
    fn self_delimiting(self) -> bool {
        matches!(self, Code::Time(TimeKind::Clf | TimeKind::Custom))
    }

    /// True when this code may be written directly before `next`: `%U%q` is the usual way
    /// to log path and query, and a path ends where the query's `?` begins.
    fn may_precede(self, next: Code) -> bool {
        self.self_delimiting() || (self == Code::UrlPath && next == Code::Query)
    }
}

/// One `%` code of the pattern and the literal text written after it.
#[derive(Debug, Clone)]
pub struct Step {
    pub code: Code,
    /// The `%` code as written, for error messages.
    pub label: Box<str>,
    /// The value is inside `"…"` (Tomcat then escapes `"` as `\"`).
    pub quoted: bool,
    /// Literal text after the field; empty only for the last field or after a
    /// self-delimiting one.
    pub after: Box<str>,
    /// Finder for `after`, built once.
    pub finder: memmem::Finder<'static>,
    /// `after` is the very end of the pattern.
    pub after_is_end: bool,
    /// The date format of a `TimeKind::Custom` field.
    pub date: Option<DateFormat>,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Literal text before the first field.
    pub lead: Box<str>,
    pub steps: Vec<Step>,
}

enum Elem {
    Lit(String),
    Field(Code, String, Option<DateFormat>),
}

/// Expands Tomcat's `common`/`combined` aliases.
pub fn expand_alias(pattern: &str) -> &str {
    match pattern.trim() {
        "common" => COMMON,
        "combined" => COMBINED,
        _ => pattern,
    }
}

fn header_code(name: &str, kind: char) -> Code {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    match kind {
        'i' if is("Referer") => Code::Referer,
        'i' if is("User-Agent") => Code::UserAgent,
        'i' if is("X-Forwarded-For") => Code::ForwardedFor,
        'o' if is("X-AUSERNAME") => Code::AUsername,
        'o' if is("X-ASESSIONID") => Code::Session,
        'c' if is("JSESSIONID") => Code::Session,
        _ => Code::Opaque,
    }
}

fn time_code(fmt: &str) -> Result<(Code, Option<DateFormat>), PatternError> {
    // Tomcat accepts a `begin:`/`end:` prefix (request start or end); both are the same
    // instant for our purposes, within the request's duration.
    let f = fmt
        .strip_prefix("begin:")
        .or_else(|| fmt.strip_prefix("end:"))
        .unwrap_or(fmt);
    match f {
        "" | "begin" | "end" => Ok((Code::Time(TimeKind::Clf), None)),
        "sec" => Ok((Code::Time(TimeKind::EpochSec), None)),
        "msec" => Ok((Code::Time(TimeKind::EpochMs), None)),
        // Only the millisecond part of the time: not an instant on its own.
        "msec_frac" => Ok((Code::Opaque, None)),
        _ => Ok((Code::Time(TimeKind::Custom), Some(DateFormat::compile(f)?))),
    }
}

fn elapsed_code(arg: &str) -> Code {
    // Tomcat 10.1+: `%{ms}T`, `%{us}T`, `%{fractional}T`; anything else means seconds.
    match arg {
        "ms" => Code::Duration(1.0),
        "us" => Code::Duration(0.001),
        _ => Code::Duration(1000.0),
    }
}

fn single_code(c: char, unit: DurationUnit) -> Code {
    match c {
        'a' => Code::RemoteAddr,
        'b' | 'B' => Code::Bytes,
        'h' => Code::RemoteHost,
        'm' => Code::Method,
        'q' => Code::Query,
        'r' => Code::Request,
        's' => Code::Status,
        'S' => Code::Session,
        't' => Code::Time(TimeKind::Clf),
        'u' => Code::User,
        'U' => Code::UrlPath,
        'I' => Code::Thread,
        'D' => Code::Duration(match unit {
            DurationUnit::Millis => 1.0,
            DurationUnit::Micros => 0.001,
        }),
        'T' => Code::Duration(1000.0),
        // %A %H %l %p %v %F %X and codes unknown to this version: skipped as one token.
        _ => Code::Opaque,
    }
}

fn tokenize(pattern: &str, unit: DurationUnit) -> Result<Vec<Elem>, PatternError> {
    let mut out: Vec<Elem> = Vec::new();
    let mut lit = String::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        let Some((start, next)) = chars.next() else {
            // A trailing lone `%` is written as is.
            lit.push('%');
            break;
        };
        let (code, label, date) = if next == '{' {
            let arg_start = start + 1;
            let mut arg_end = None;
            for (i, ch) in chars.by_ref() {
                if ch == '}' {
                    arg_end = Some(i);
                    break;
                }
            }
            let end = arg_end.ok_or_else(|| {
                PatternError::Invalid(format!("unterminated `%{{` at byte {}", start - 1))
            })?;
            let arg = pattern.get(arg_start..end).unwrap_or("");
            let Some((_, kind)) = chars.next() else {
                return Err(PatternError::Invalid(format!(
                    "`%{{{arg}}}` has no type letter"
                )));
            };
            let (code, date) = match kind {
                'i' | 'o' | 'c' => (header_code(arg, kind), None),
                't' => time_code(arg)?,
                'T' => (elapsed_code(arg), None),
                // %{xxx}r, %{xxx}s, %{xxx}p, %{xxx}L and unknown types: opaque.
                _ => (Code::Opaque, None),
            };
            (code, format!("%{{{arg}}}{kind}"), date)
        } else {
            (single_code(next, unit), format!("%{next}"), None)
        };
        if !lit.is_empty() {
            out.push(Elem::Lit(std::mem::take(&mut lit)));
        }
        out.push(Elem::Field(code, label, date));
    }
    if !lit.is_empty() {
        out.push(Elem::Lit(lit));
    }
    Ok(out)
}

/// Compiles `pattern` (aliases already expanded).
pub fn compile(pattern: &str, unit: DurationUnit) -> Result<Compiled, PatternError> {
    let elems = tokenize(pattern, unit)?;
    let mut lead = String::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut prev_lit_quote = false;
    let n = elems.len();
    for (i, e) in elems.iter().enumerate() {
        match e {
            Elem::Lit(s) => {
                if steps.is_empty() {
                    lead.push_str(s);
                }
                prev_lit_quote = s.ends_with('"');
            }
            Elem::Field(code, label, date) => {
                let (after, after_is_end) = match elems.get(i + 1) {
                    Some(Elem::Lit(s)) => (s.clone(), i + 2 == n),
                    Some(Elem::Field(next_code, next, _)) => {
                        if !code.may_precede(*next_code) {
                            return Err(PatternError::Adjacent(label.clone(), next.clone()));
                        }
                        (String::new(), false)
                    }
                    None => (String::new(), true),
                };
                let quoted = prev_lit_quote && after.starts_with('"');
                let finder = memmem::Finder::new(after.as_bytes()).into_owned();
                steps.push(Step {
                    code: *code,
                    label: label.clone().into_boxed_str(),
                    quoted,
                    after: after.into_boxed_str(),
                    finder,
                    after_is_end,
                    date: date.clone(),
                });
                prev_lit_quote = false;
            }
        }
    }
    if !steps.iter().any(|s| matches!(s.code, Code::Time(_))) {
        return Err(PatternError::NoTimestamp);
    }
    Ok(Compiled {
        lead: lead.into_boxed_str(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installer_pattern_compiles_to_ten_steps() {
        let c = compile(super::super::PRESETS[0].1, DurationUnit::Millis).unwrap();
        assert_eq!(c.lead.as_ref(), "");
        assert_eq!(c.steps.len(), 10);
        assert_eq!(c.steps[0].code, Code::Time(TimeKind::Clf));
        assert_eq!(c.steps[1].code, Code::AUsername);
        assert_eq!(c.steps[6].code, Code::Duration(1.0));
        assert_eq!(c.steps[6].after.as_ref(), "ms ");
        assert_eq!(c.steps[9].code, Code::UserAgent);
        assert!(c.steps[9].after.is_empty() && c.steps[9].after_is_end);
        assert!(c.steps.iter().all(|s| !s.quoted));
    }

    #[test]
    fn docker_pattern_marks_quoted_fields() {
        let c = compile(super::super::PRESETS[2].1, DurationUnit::Micros).unwrap();
        let quoted: Vec<&str> = c
            .steps
            .iter()
            .filter(|s| s.quoted)
            .map(|s| &*s.label)
            .collect();
        assert_eq!(quoted, ["%r", "%{User-Agent}i"]);
        assert_eq!(c.steps[6].code, Code::Duration(0.001));
        let last = c.steps.last().unwrap();
        assert_eq!(last.after.as_ref(), "\"");
        assert!(last.after_is_end);
    }

    #[test]
    fn rejects_bad_patterns() {
        assert_eq!(
            compile("%h %s", DurationUnit::Millis).unwrap_err(),
            PatternError::NoTimestamp
        );
        assert!(matches!(
            compile("%t %h%s", DurationUnit::Millis).unwrap_err(),
            PatternError::Adjacent(a, b) if a == "%h" && b == "%s"
        ));
        assert!(matches!(
            compile("%{EEE yyyy-MM-dd}t %h", DurationUnit::Millis).unwrap_err(),
            PatternError::UnsupportedTimeFormat(f) if f == "EEE yyyy-MM-dd"
        ));
        assert!(matches!(
            compile("%t %{Referer", DurationUnit::Millis),
            Err(PatternError::Invalid(_))
        ));
    }

    #[test]
    fn time_prefixes_and_opaque_codes() {
        let c = compile(
            "%{begin:}t %{end:msec}t %{foo}L %Z %{x}r %%",
            DurationUnit::Millis,
        )
        .unwrap();
        assert_eq!(c.steps[0].code, Code::Time(TimeKind::Clf));
        assert_eq!(c.steps[1].code, Code::Time(TimeKind::EpochMs));
        assert!(c.steps[2..].iter().all(|s| s.code == Code::Opaque));
        // `%t` delimits itself, so a field may follow it directly.
        assert!(compile("%t%h", DurationUnit::Millis).is_ok());
        assert!(compile("%t \"%m %U%q %H\"", DurationUnit::Millis).is_ok());
    }
}
