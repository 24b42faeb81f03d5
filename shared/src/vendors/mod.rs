//! Vendor adapters (issue 3).
