//! Timestamp parsing for every source format. Hand-written for the hot formats (the access
//! log's `%t` and log4j's `%d`) because chrono's format-string parser is several times slower
//! and these run once per line.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

fn month_from_abbrev(m: &[u8]) -> Option<u32> {
    if m.len() != 3 {
        return None;
    }
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    Some(match &lower {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// Parses a numeric UTC offset: `+1100`, `-0530`, `+11:00`, `Z`.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let b = s.as_bytes();
    if b == b"Z" || b == b"z" {
        return FixedOffset::east_opt(0);
    }
    if b.len() < 5 {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hh, mm) = match b.len() {
        5 => (digits(&b[1..3])?, digits(&b[3..5])?),
        6 if b[3] == b':' => (digits(&b[1..3])?, digits(&b[4..6])?),
        _ => return None,
    };
    if hh > 23 || mm > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hh as i32 * 3600 + mm as i32 * 60))
}

/// A calendar date and wall-clock time as read from a log, before the offset is applied.
struct Civil {
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    milli: u32,
}

fn build(c: Civil, off: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let date = NaiveDate::from_ymd_opt(c.y, c.mo, c.d)?;
    let naive = date.and_hms_milli_opt(c.h, c.mi, c.s, c.milli)?;
    off.from_local_datetime(&naive).single()
}

/// Parses Tomcat's `%t` body: `18/Dec/2020:12:57:26 +1100` (brackets already removed).
/// Also accepts the optional millisecond form `18/Dec/2020:12:57:26.123 +1100`.
pub fn parse_clf(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    // dd/MMM/yyyy:HH:mm:ss
    if b.len() < 26
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
    {
        return None;
    }
    let d = digits(&b[0..2])?;
    let mo = month_from_abbrev(&b[3..6])?;
    let y = digits(&b[7..11])? as i32;
    let h = digits(&b[12..14])?;
    let mi = digits(&b[15..17])?;
    let sec = digits(&b[18..20])?;
    let mut rest = &s[20..];
    let mut milli = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac.find(' ')?;
        let f = &frac.as_bytes()[..end];
        if f.is_empty() || f.len() > 9 {
            return None;
        }
        let v = digits(f)?;
        milli = match f.len() {
            1 => v * 100,
            2 => v * 10,
            3 => v,
            n => v / 10u32.pow(n as u32 - 3),
        };
        rest = &frac[end..];
    }
    let off = parse_offset(rest.strip_prefix(' ')?)?;
    build(
        Civil {
            y,
            mo,
            d,
            h,
            mi,
            s: sec,
            milli,
        },
        off,
    )
}

/// Parses log4j's default `%d`: `2022-07-12 01:08:59,489` (comma or dot before millis),
/// interpreted in `offset` because log4j writes server-local time without a zone.
pub fn parse_log4j(s: &str, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    if b.len() != 23
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
        || !(b[19] == b',' || b[19] == b'.')
    {
        return None;
    }
    let civil = Civil {
        y: digits(&b[0..4])? as i32,
        mo: digits(&b[5..7])?,
        d: digits(&b[8..10])?,
        h: digits(&b[11..13])?,
        mi: digits(&b[14..16])?,
        s: digits(&b[17..19])?,
        milli: digits(&b[20..23])?,
    };
    build(civil, offset)
}

/// Parses an RFC 3339 / ISO 8601 instant (`2021-11-23T00:44:36.398Z`, `…+02:00`).
pub fn parse_rfc3339(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok().or_else(|| {
        // Some exporters omit the zone; such times are UTC by Atlassian's convention.
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| Utc.from_utc_datetime(&n).fixed_offset())
    })
}

/// An instant from Unix epoch milliseconds, in UTC.
pub fn from_epoch_ms(ms: i64) -> Option<DateTime<FixedOffset>> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.fixed_offset())
}

/// An instant from Unix epoch seconds and nanoseconds, in UTC.
pub fn from_epoch_parts(secs: i64, nanos: u32) -> Option<DateTime<FixedOffset>> {
    DateTime::<Utc>::from_timestamp(secs, nanos).map(|t| t.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_keeps_offset_and_converts_to_utc() {
        let t = parse_clf("18/Dec/2020:12:57:26 +1100").expect("parse");
        assert_eq!(t.offset().local_minus_utc(), 11 * 3600);
        assert_eq!(t.to_rfc3339(), "2020-12-18T12:57:26+11:00");
        assert_eq!(
            t.with_timezone(&Utc).to_rfc3339(),
            "2020-12-18T01:57:26+00:00"
        );
    }

    #[test]
    fn clf_rejects_garbage() {
        for bad in [
            "",
            "18/Dec/2020:12:57:26",
            "18/Dek/2020:12:57:26 +1100",
            "32/Dec/2020:12:57:26 +1100",
            "18/Dec/2020:25:57:26 +1100",
            "18/Dec/2020:12:57:26 +2500",
            "18/Dec/2020:12:57:26 1100x",
        ] {
            assert!(parse_clf(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn clf_with_millis() {
        let t = parse_clf("18/Dec/2020:12:57:26.250 -0500").expect("parse");
        assert_eq!(t.timestamp_subsec_millis(), 250);
        assert_eq!(t.offset().local_minus_utc(), -5 * 3600);
    }

    #[test]
    fn log4j_in_given_offset() {
        let utc = FixedOffset::east_opt(0).expect("utc");
        let t = parse_log4j("2022-07-12 01:08:59,489", utc).expect("parse");
        assert_eq!(t.to_rfc3339(), "2022-07-12T01:08:59.489+00:00");
        assert!(parse_log4j("2022-07-12 01:08:59", utc).is_none());
    }

    #[test]
    fn offsets() {
        assert_eq!(
            parse_offset("+11:00").map(|o| o.local_minus_utc()),
            Some(39600)
        );
        assert_eq!(
            parse_offset("-0530").map(|o| o.local_minus_utc()),
            Some(-19800)
        );
        assert_eq!(parse_offset("Z").map(|o| o.local_minus_utc()), Some(0));
        assert!(parse_offset("+2400").is_none());
    }

    #[test]
    fn rfc3339_and_epochs() {
        let t = parse_rfc3339("2021-11-23T00:44:36.398Z").expect("parse");
        assert_eq!(t.timestamp_millis(), 1_637_628_276_398);
        assert_eq!(
            from_epoch_ms(1_637_073_322_812).map(|t| t.timestamp_millis()),
            Some(1_637_073_322_812)
        );
        assert_eq!(
            from_epoch_parts(1_637_625_013, 842_000_000).map(|t| t.timestamp_millis()),
            Some(1_637_625_013_842)
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use chrono::{Datelike, Timelike};
    use proptest::prelude::*;

    prop_compose! {
        /// A valid instant (years 1000-9999, whole milliseconds) and a whole-minute offset
        /// within ±23:59, the range `%z` can express.
        fn arb_clf_time()(
            secs in -30_610_224_000i64..253_402_214_400,
            millis in 0u32..1000,
            off_min in -(23 * 60 + 59)..=(23 * 60 + 59),
        ) -> DateTime<FixedOffset> {
            let off = FixedOffset::east_opt(off_min * 60).unwrap();
            let utc = DateTime::<Utc>::from_timestamp(secs, millis * 1_000_000).unwrap();
            utc.with_timezone(&off)
        }
    }

    proptest! {
        #[test]
        fn clf_round_trips_instant_and_offset(t in arb_clf_time()) {
            prop_assume!((1000..=9999).contains(&t.year()));
            let whole = t.with_nanosecond(0).unwrap();
            let text = whole.format("%d/%b/%Y:%H:%M:%S %z").to_string();
            let back = parse_clf(&text).unwrap();
            prop_assert_eq!(back, whole);
            prop_assert_eq!(back.offset(), whole.offset());

            let text = t.format("%d/%b/%Y:%H:%M:%S%.3f %z").to_string();
            let back = parse_clf(&text).unwrap();
            prop_assert_eq!(back, t);
            prop_assert_eq!(back.offset().local_minus_utc(), t.offset().local_minus_utc());
        }

        #[test]
        fn clf_never_panics(s in "\\PC{0,40}") {
            let _ = parse_clf(&s);
            let _ = parse_offset(&s);
        }

        #[test]
        fn clf_never_panics_on_near_misses(s in "[0-9]{1,2}/[A-Za-z]{3}/[0-9]{1,5}:[0-9:. ]{0,14}[-+Z]?[0-9:]{0,6}") {
            let _ = parse_clf(&s);
        }
    }
}
