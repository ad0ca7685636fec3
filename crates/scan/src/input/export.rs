//! Confluence XML exports (being built).
