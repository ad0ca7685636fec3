//! The subset of Java `SimpleDateFormat` that `%{format}t` patterns use for numeric
//! timestamps: `yyyy yy MM MMM dd HH mm ss SSS Z X XX XXX`, literal punctuation and
//! `'quoted text'`. A formatted time is parsed straight off the line, so it may contain
//! spaces; the parser reports how many bytes it used.

use super::PatternError;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(Box<str>),
    Year(usize),
    Month(usize),
    Day(usize),
    Hour(usize),
    Minute(usize),
    Second(usize),
    Millis(usize),
    /// `Z`: `+hhmm`.
    ZoneRfc,
    /// `X`, `XX`, `XXX`: `Z` or `+hh`, `+hhmm`, `+hh:mm`.
    ZoneIso(usize),
}

/// A compiled date format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    toks: Vec<Tok>,
}

fn unsupported(fmt: &str) -> PatternError {
    PatternError::UnsupportedTimeFormat(fmt.to_string())
}

impl DateFormat {
    /// Compiles `fmt`; letters outside the supported subset (day names, AM/PM, 12-hour
    /// clock, zone names) are refused because their text cannot be read back reliably.
    pub fn compile(fmt: &str) -> Result<DateFormat, PatternError> {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut chars = fmt.chars().peekable();
        let mut has_year = false;
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    lit.push('\'');
                    continue;
                }
                let mut closed = false;
                for q in chars.by_ref() {
                    if q == '\'' {
                        closed = true;
                        break;
                    }
                    lit.push(q);
                }
                if !closed {
                    return Err(unsupported(fmt));
                }
                continue;
            }
            if !c.is_ascii_alphabetic() {
                lit.push(c);
                continue;
            }
            let mut n = 1;
            while chars.peek() == Some(&c) {
                chars.next();
                n += 1;
            }
            let tok = match c {
                'y' => {
                    has_year = true;
                    Tok::Year(n)
                }
                'M' if n <= 3 => Tok::Month(n),
                'd' if n <= 2 => Tok::Day(n),
                'H' if n <= 2 => Tok::Hour(n),
                'm' if n <= 2 => Tok::Minute(n),
                's' if n <= 2 => Tok::Second(n),
                'S' if n <= 9 => Tok::Millis(n),
                'Z' => Tok::ZoneRfc,
                'X' if n <= 3 => Tok::ZoneIso(n),
                _ => return Err(unsupported(fmt)),
            };
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(&mut lit).into_boxed_str()));
            }
            toks.push(tok);
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit.into_boxed_str()));
        }
        if !has_year {
            return Err(unsupported(fmt));
        }
        Ok(DateFormat { toks })
    }

    /// Parses a time at the start of `s`: the instant (UTC when the format has no zone)
    /// and the number of bytes read.
    pub fn parse_prefix(&self, s: &str) -> Option<(DateTime<FixedOffset>, usize)> {
        let b = s.as_bytes();
        let mut i = 0;
        let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut nanos) = (1970, 1, 1, 0, 0, 0, 0);
        let mut off = FixedOffset::east_opt(0)?;
        // Reads `min..=max` digits at `i`.
        let num = |i: &mut usize, min: usize, max: usize| -> Option<(u32, usize)> {
            let start = *i;
            let mut v: u32 = 0;
            while *i - start < max && b.get(*i).is_some_and(u8::is_ascii_digit) {
                v = v * 10 + u32::from(*b.get(*i)? - b'0');
                *i += 1;
            }
            (*i - start >= min).then_some((v, *i - start))
        };
        for tok in &self.toks {
            match tok {
                Tok::Lit(l) => {
                    if !b.get(i..)?.starts_with(l.as_bytes()) {
                        return None;
                    }
                    i += l.len();
                }
                Tok::Year(2) => y = 2000 + i32::try_from(num(&mut i, 2, 2)?.0).ok()?,
                Tok::Year(n) => y = i32::try_from(num(&mut i, (*n).min(4), 4)?.0).ok()?,
                Tok::Month(3) => {
                    let m = s.get(i..i + 3)?;
                    mo = [
                        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                        "nov", "dec",
                    ]
                    .iter()
                    .position(|x| x.eq_ignore_ascii_case(m))
                    .and_then(|p| u32::try_from(p + 1).ok())?;
                    i += 3;
                }
                Tok::Month(n) => mo = num(&mut i, *n, 2)?.0,
                Tok::Day(n) => d = num(&mut i, *n, 2)?.0,
                Tok::Hour(n) => h = num(&mut i, *n, 2)?.0,
                Tok::Minute(n) => mi = num(&mut i, *n, 2)?.0,
                Tok::Second(n) => sec = num(&mut i, *n, 2)?.0,
                Tok::Millis(n) => {
                    // `S` is milliseconds whatever the width: `S` writes up to three digits,
                    // `SSSSSS` zero-pads them to six.
                    let (v, _) = num(&mut i, *n, (*n).max(3))?;
                    if v > 999 {
                        return None;
                    }
                    nanos = v * 1_000_000;
                }
                Tok::ZoneRfc | Tok::ZoneIso(_) => {
                    if matches!(tok, Tok::ZoneIso(_)) && b.get(i) == Some(&b'Z') {
                        i += 1;
                        continue;
                    }
                    let sign: i32 = match b.get(i)? {
                        b'+' => 1,
                        b'-' => -1,
                        _ => return None,
                    };
                    i += 1;
                    let hh = num(&mut i, 2, 2)?.0;
                    let mm = match tok {
                        Tok::ZoneIso(1) => 0,
                        Tok::ZoneIso(3) => {
                            if b.get(i) != Some(&b':') {
                                return None;
                            }
                            i += 1;
                            num(&mut i, 2, 2)?.0
                        }
                        _ => num(&mut i, 2, 2)?.0,
                    };
                    if hh > 23 || mm > 59 {
                        return None;
                    }
                    off = FixedOffset::east_opt(sign * i32::try_from(hh * 3600 + mm * 60).ok()?)?;
                }
            }
        }
        let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_nano_opt(h, mi, sec, nanos)?;
        Some((off.from_local_datetime(&naive).single()?, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips_with_offset(
            secs in 0i64..4_102_444_800,
            millis in 0u32..1000,
            off_min in -(14 * 60)..=(14 * 60),
        ) {
            let off = FixedOffset::east_opt(off_min * 60).unwrap();
            let t = DateTime::from_timestamp(secs, millis * 1_000_000).unwrap().with_timezone(&off);
            let iso = DateFormat::compile("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap();
            let text = t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
            prop_assert_eq!(iso.parse_prefix(&text), Some((t, text.len())));
            let clfish = DateFormat::compile("dd/MMM/yyyy:HH:mm:ss Z").unwrap();
            let whole = t.with_timezone(&off) - chrono::Duration::milliseconds(i64::from(millis));
            let text = whole.format("%d/%b/%Y:%H:%M:%S %z").to_string();
            prop_assert_eq!(clfish.parse_prefix(&text), Some((whole, text.len())));
        }

        #[test]
        fn never_panics(fmt in "[yMdHmsSZX' :./T-]{0,24}", s in "[0-9A-Za-z+: .-]{0,40}") {
            if let Ok(f) = DateFormat::compile(&fmt) {
                let _ = f.parse_prefix(&s);
            }
        }
    }

    #[test]
    fn iso_like_formats() {
        let f = DateFormat::compile("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap();
        let (t, n) = f
            .parse_prefix("2021-06-17T12:57:26.250+02:00 rest")
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2021-06-17T12:57:26.250+02:00");
        assert_eq!(n, 29);
        let (t, _) = f.parse_prefix("2021-06-17T12:57:26.250Z").unwrap();
        assert_eq!(t.offset().local_minus_utc(), 0);

        let f = DateFormat::compile("dd MMM yyyy HH:mm:ss Z").unwrap();
        let (t, n) = f.parse_prefix("18 Dec 2020 12:57:26 +1100").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-12-18T12:57:26+11:00");
        assert_eq!(n, 26);

        // No zone: read as UTC.
        let f = DateFormat::compile("yyyy-MM-dd HH:mm:ss").unwrap();
        assert_eq!(
            f.parse_prefix("2020-12-18 01:57:26")
                .unwrap()
                .0
                .to_rfc3339(),
            "2020-12-18T01:57:26+00:00"
        );
        assert!(f.parse_prefix("2020-13-18 01:57:26").is_none());
        assert!(f.parse_prefix("2020-12-18").is_none());
    }

    #[test]
    fn refuses_what_cannot_be_read_back() {
        for bad in [
            "EEE, dd MMM yyyy",
            "hh:mm a yyyy",
            "yyyy zzz",
            "HH:mm:ss",
            "yyyy 'open",
        ] {
            assert!(DateFormat::compile(bad).is_err(), "{bad}");
        }
    }
}
