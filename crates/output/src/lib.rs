//! # confwatch-output: sinks
//!
//! Writers that take alerts, findings and events and know nothing of where they came from:
//! terminal tables, JSON lines, CSV (guarded against formula injection), Elastic Common
//! Schema, SARIF. Every writer redacts secrets by default and treats every log-derived string
//! as attacker-controlled.

pub mod alerts;
pub mod csv_guard;
pub mod findings;
pub mod sarif;
pub mod text;
