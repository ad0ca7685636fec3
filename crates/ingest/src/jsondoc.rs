//! Streaming reader for JSON *documents*: a top-level array of records, an envelope object
//! (`{"entities":[…]}`, `{"results":[…]}`, `{"data":[…]}`) or a single pretty-printed record.
//!
//! Records are handed over one at a time as they are parsed, so memory is bounded by the
//! largest record (itself capped by [`MAX_RECORD`]), not by the document.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

/// The largest single record accepted inside a document.
pub const MAX_RECORD: u64 = 64 << 20;

/// Counts bytes and newlines as serde pulls them, and refuses to read past the record limit.
struct Tracked<R> {
    inner: R,
    state: Rc<Tracker>,
}

#[derive(Default)]
struct Tracker {
    line: Cell<u64>,
    since_record: Cell<u64>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        let nl = memchr::memchr_iter(b'\n', got).count() as u64;
        self.state.line.set(self.state.line.get() + nl);
        let since = self.state.since_record.get() + n as u64;
        self.state.since_record.set(since);
        if since > MAX_RECORD {
            return Err(io::Error::other(format!(
                "a JSON record is larger than the {} MiB limit",
                MAX_RECORD >> 20
            )));
        }
        Ok(n)
    }
}

/// One record of a document: the value, the line it ended on, and the envelope key it was
/// found under (if any).
pub struct Record<'a> {
    pub value: Value,
    pub line: u64,
    pub envelope: Option<&'a str>,
}

/// Receives records in document order. Returning `false` stops reading.
pub type OnRecord<'a> = dyn FnMut(Record<'_>) -> bool + 'a;

/// Streams every record of a JSON document. `is_envelope_key` says which object keys hold
/// record arrays. Returns the number of records seen, or the JSON error with its line.
pub fn stream_document<R: Read>(
    reader: R,
    is_envelope_key: &dyn Fn(&str) -> bool,
    on_record: &mut OnRecord<'_>,
) -> Result<u64, DocError> {
    let state = Rc::new(Tracker {
        line: Cell::new(1),
        since_record: Cell::new(0),
    });
    let tracked = Tracked {
        inner: reader,
        state: Rc::clone(&state),
    };
    let mut de = serde_json::Deserializer::from_reader(tracked);
    let ctx = Ctx {
        state: &state,
        is_envelope_key,
        on_record,
        count: 0,
        stopped: false,
    };
    let cell = std::cell::RefCell::new(ctx);
    let result = (&mut de).deserialize_any(TopVisitor { ctx: &cell });
    let count = cell.borrow().count;
    match result {
        Ok(()) => {
            if !cell.borrow().stopped {
                de.end().map_err(|e| DocError {
                    line: e.line() as u64,
                    message: e.to_string(),
                })?;
            }
            Ok(count)
        }
        Err(e) => Err(DocError {
            line: if e.line() > 0 {
                e.line() as u64
            } else {
                state.line.get()
            },
            message: e.to_string(),
        }),
    }
}

/// A document that could not be read to its end.
#[derive(Debug, Clone, PartialEq)]
pub struct DocError {
    pub line: u64,
    pub message: String,
}

struct Ctx<'a, 'b> {
    state: &'a Tracker,
    is_envelope_key: &'a dyn Fn(&str) -> bool,
    on_record: &'a mut OnRecord<'b>,
    count: u64,
    stopped: bool,
}

impl Ctx<'_, '_> {
    fn emit(&mut self, value: Value, envelope: Option<&str>) {
        if self.stopped {
            return;
        }
        self.count += 1;
        let line = self.state.line.get();
        if !(self.on_record)(Record {
            value,
            line,
            envelope,
        }) {
            self.stopped = true;
        }
        self.state.since_record.set(0);
    }
}

type CtxCell<'a, 'b> = std::cell::RefCell<Ctx<'a, 'b>>;

struct TopVisitor<'c, 'a, 'b> {
    ctx: &'c CtxCell<'a, 'b>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array or object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(RecordSeed {
                ctx: self.ctx,
                envelope: None,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Either an envelope (stream its array) or a single record (collect its keys).
        let mut single = serde_json::Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            let envelope = (self.ctx.borrow().is_envelope_key)(&key);
            if envelope {
                let arr = map.next_value_seed(EnvelopeArraySeed {
                    ctx: self.ctx,
                    key: &key,
                })?;
                match arr {
                    EnvelopeValue::Streamed => streamed = true,
                    EnvelopeValue::Other(v) => {
                        single.insert(key, v);
                    }
                }
            } else if streamed {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v: Value = map.next_value()?;
                single.insert(key, v);
            }
        }
        if !streamed {
            self.ctx.borrow_mut().emit(Value::Object(single), None);
        }
        Ok(())
    }
}

struct RecordSeed<'c, 'a, 'b, 'k> {
    ctx: &'c CtxCell<'a, 'b>,
    envelope: Option<&'k str>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let v = <Value as serde::Deserialize>::deserialize(d)?;
        self.ctx.borrow_mut().emit(v, self.envelope);
        Ok(())
    }
}

enum EnvelopeValue {
    Streamed,
    Other(Value),
}

struct EnvelopeArraySeed<'c, 'a, 'b, 'k> {
    ctx: &'c CtxCell<'a, 'b>,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for EnvelopeArraySeed<'_, '_, '_, '_> {
    type Value = EnvelopeValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EnvelopeValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeArraySeed<'_, '_, '_, '_> {
    type Value = EnvelopeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EnvelopeValue, A::Error> {
        while seq
            .next_element_seed(RecordSeed {
                ctx: self.ctx,
                envelope: Some(self.key),
            })?
            .is_some()
        {}
        Ok(EnvelopeValue::Streamed)
    }

    // Anything else under an envelope-looking key is ordinary data of a single record.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EnvelopeValue, A::Error> {
        let v: Value =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(EnvelopeValue::Other(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::String(v.to_string())))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::String(v)))
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::Bool(v)))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::from(v)))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::from(v)))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::from(v)))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<EnvelopeValue, E> {
        Ok(EnvelopeValue::Other(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (record JSON, line, envelope key) for each record seen.
    type Seen = Vec<(String, u64, Option<String>)>;

    fn run(doc: &str) -> (Result<u64, DocError>, Seen) {
        let mut got = Vec::new();
        let keys = |k: &str| matches!(k, "entities" | "results" | "data");
        let r = stream_document(doc.as_bytes(), &keys, &mut |rec: Record<'_>| {
            got.push((
                rec.value.to_string(),
                rec.line,
                rec.envelope.map(str::to_string),
            ));
            true
        });
        (r, got)
    }

    #[test]
    fn array_of_records() {
        let (r, got) = run("[\n {\"a\": 1},\n {\"a\": 2}\n]\n");
        assert_eq!(r, Ok(2));
        assert_eq!(got[0].0, "{\"a\":1}");
        assert_eq!(got[1].1, 3);
    }

    #[test]
    fn envelope_streams_its_array_and_ignores_paging() {
        let (r, got) =
            run(r#"{"entities":[{"x":1},{"x":2},{"x":3}],"pagingInfo":{"lastPage":true}}"#);
        assert_eq!(r, Ok(3));
        assert!(got.iter().all(|g| g.2.as_deref() == Some("entities")));
    }

    #[test]
    fn empty_envelope_has_no_records() {
        let (r, got) = run(r#"{"results":[],"start":2,"limit":2,"size":37}"#);
        assert_eq!(r, Ok(0));
        assert!(got.is_empty());
    }

    #[test]
    fn single_pretty_record() {
        let (r, got) = run("{\n  \"id\": \"x\",\n  \"attributes\": {\"data\": {\"k\": 1}}\n}\n");
        assert_eq!(r, Ok(1));
        assert!(got[0].0.contains("\"attributes\""));
    }

    #[test]
    fn truncated_document_reports_line_and_keeps_earlier_records() {
        let (r, got) = run("[\n{\"a\":1},\n{\"a\":2},\n{\"a\":");
        assert_eq!(got.len(), 2);
        let e = r.expect_err("must fail");
        assert_eq!(e.line, 4);
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let (r, _) = run("[{\"a\":1}] xyz");
        assert!(r.is_err());
    }
}
