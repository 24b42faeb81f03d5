//! The catalog of booking systems (issue 3).
