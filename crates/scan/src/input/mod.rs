//! Inputs: files, folders and stdin ([`files`]); Confluence XML exports, zipped or unzipped
//! ([`export`]); attachment text extraction ([`attach`]).

pub mod attach;
pub mod export;
pub mod files;
