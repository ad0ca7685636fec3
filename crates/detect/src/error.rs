//! Typed errors of rule loading, configuration and hunting.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DetectError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config {path}: {reason}")]
    Config { path: String, reason: String },
    #[error("rule set could not be compiled: {0}")]
    Compile(String),
    #[error("LDAP: {0}")]
    Ldap(String),
    #[error("invalid rule test file {path}: {reason}")]
    TestFile { path: String, reason: String },
}
