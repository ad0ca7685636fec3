//! Inputs: files, folders and stdin ([`files`]); Confluence XML exports, zipped or unzipped
//! ([`export`]); attachment text extraction ([`attach`]); live REST API scanning ([`rest`],
//! cargo feature `rest`, on by default).

pub mod attach;
pub mod export;
pub mod files;
#[cfg(feature = "rest")]
pub mod rest;
