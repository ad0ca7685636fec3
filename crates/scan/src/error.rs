//! Typed errors of the scan library.

use std::path::PathBuf;

/// Everything that can stop a scan (as opposed to a document that merely fails to parse,
/// which is reported as a warning and skipped).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("rule file {file}: {message}")]
    RuleFile { file: String, message: String },
    #[error("rule {rule}: invalid regex: {message}")]
    RuleRegex { rule: String, message: String },
    #[error("rule {rule}: {message}")]
    RuleExample { rule: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid zip archive: {message}")]
    Zip { path: PathBuf, message: String },
    #[error("{path}: XML error at byte {position}: {message}")]
    Xml {
        path: PathBuf,
        position: u64,
        message: String,
    },
    #[error("ignore file {path} line {line}: {message}")]
    IgnoreFile {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Config(String),
    #[error(
        "authentication failed ({status}) at {url}: check CONFWATCH_EMAIL/CONFWATCH_API_TOKEN (Cloud) or CONFWATCH_PAT (Data Center); the token may have expired"
    )]
    Auth { url: String, status: u16 },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
}
