//! # confwatch-behaviour: user-behaviour analytics
//!
//! Owns what fixed-threshold rules cannot do: learning what is normal per user and per peer
//! group, and judging each user's hour and day against it.
//!
//! - [`engine::BehaviourEngine`]: one pass over events in event-time order; learns and
//!   detects without looking ahead (a closed day is judged against baselines built from
//!   earlier days only, then folded in) and raises explained anomaly [`Alert`]s.
//! - [`peers::Peers`]: peer groups from a directory CSV or from co-access of spaces.
//! - [`routine::suppress_routine`]: routine suppression of rule alerts and the allowlist.
//! - [`risk::score`]: rule and anomaly alerts combined into a 0–100 risk per user,
//!   grouped by episode and decayed over days.
//! - [`store::Store`]: baselines and routine memory in SQLite between runs.
//! - [`stats`]: robust statistics (quantiles, median, MAD, decay) over bounded history.
//!
//! Callers run it next to the rule hunter:
//! `engine.observe(&ev)` for each event; then
//! `suppress_routine(rule_alerts, &mut history.with_activity(engine.state()))`, then
//! `engine.finish()`.
//!
//! [`Alert`]: confwatch_event::alert::Alert

pub mod engine;
pub mod peers;
pub mod risk;
pub mod routine;
pub mod stats;
pub mod store;

pub use engine::{BehaviourConfig, BehaviourEngine, BehaviourReport, EngineState};
pub use peers::Peers;
pub use risk::UserRisk;
pub use routine::{RoutineHistory, suppress_routine};
pub use store::Store;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum BehaviourError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a usable peer directory: {reason}")]
    Peers { path: String, reason: String },
}
