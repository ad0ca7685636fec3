//! The finding model: what content scanning (and later permission audit) reports. (Owned by the scan work.)
