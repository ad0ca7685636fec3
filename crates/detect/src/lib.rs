//! # confwatch-detect: Sigma detection over confwatch events
pub mod view;
