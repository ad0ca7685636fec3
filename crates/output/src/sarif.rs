//! Writers for sarif (being built).
