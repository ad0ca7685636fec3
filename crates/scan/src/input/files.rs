//! Files, folders and stdin (being built).
