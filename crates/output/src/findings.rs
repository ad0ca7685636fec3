//! Writers for findings (being built).
