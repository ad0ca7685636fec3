//! # confwatch-ingest: Confluence logs in, [`Event`](confwatch_event::Event)s out
//!
//! Owns everything between a path on the command line and a normalised event:
//! finding files (folders, stdin), decompression (gzip, zstd, bzip2), format sniffing,
//! the parsers (`formats`), the URL → action classifier (`classify`), bounded-memory
//! chunked reading with parallel parsing, time-ordered merging of several files, and the
//! per-file statistics that `confwatch events --stats` prints.

pub mod classify;
pub mod formats;
pub mod time;
