//! # confwatch-scan: find what attackers mine Confluence for
//!
//! Scans Confluence content for credentials and sensitive material (ATT&CK T1213.001):
//! storage-format pages (files, folders, stdin), space/site XML exports (zip or folder,
//! every historical version, comments, blog posts, attachments).
//!
//! Pipeline: [`extract`] turns storage format into text with a map back to the source;
//! [`rules`] loads the TOML rules (embedded from `rules/secrets/`); [`engine`] matches
//! them (keyword prefilter, `regex::bytes` with Unicode off, checksums, entropy, allowlists);
//! [`scanner`] locates hits and classifies pages ([`classify`]); [`collect`] dedupes by
//! fingerprint and builds per-space profiles; [`input`] reads files and exports.

pub mod classify;
pub mod collect;
pub mod engine;
pub mod error;
pub mod extract;
pub mod filters;
pub mod input;
pub mod rules;
pub mod scanner;
pub mod state;
pub mod text;
pub mod validate;

pub use collect::{Collector, IgnoreList, Report};
pub use error::ScanError;
pub use rules::RuleSet;
pub use scanner::{BodyFormat, DocResult, Document, ScanOptions, Scanner};
