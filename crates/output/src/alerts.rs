//! Writers for alerts (being built).
