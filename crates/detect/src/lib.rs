//! # confwatch-detect: Sigma detection over confwatch events
//!
//! Owns the hunt: the Sigma field mapping over [`confwatch_event::Event`] ([`view`]), rule
//! loading with the embedded built-in pack ([`rules`]), the streaming [`hunt::Hunter`]
//! that runs rsigma (detections and correlations in event time) and turns firings into
//! explained, merged [`confwatch_event::alert::Alert`]s, the `--config` model
//! ([`config`]) and the rule self-tests ([`testing`]).
//!
//! Entry points for callers:
//! - [`hunt::hunt`]`(events, &cfg, opts, &rules) -> Result<HuntReport, DetectError>`
//! - [`hunt::Hunter`]: `new`, `process(&Event)`, `finish() -> HuntReport`

pub mod config;
pub mod error;
pub mod hunt;
pub mod ldap;
mod native;
pub mod rules;
pub mod sensitivity;
pub mod summary;
pub mod testing;
pub mod view;

pub use config::{HuntConfig, PrivilegeSource, PrivilegedAccounts};
pub use error::DetectError;
pub use hunt::{HuntOptions, HuntReport, HuntStats, Hunter, Matched, Matcher, hunt};
pub use rules::{LoadError, RuleInfo, RuleSet};
