//! A wrapper for API keys. It has no `Serialize`, and `Debug`/`Display` print a placeholder,
//! so a key cannot reach a response body, a log line or a DynamoDB item by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        ApiKey(value.into())
    }

    /// The only way to read the key: call sites that send it to a vendor or to Secrets Manager
    /// are easy to find by this name.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Whether two secrets are equal, in a time that depends on their length only, so a caller
/// cannot learn a stored key or token byte by byte from how fast it is refused.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_key() {
        let key = ApiKey::new("sk-live-123456");
        assert!(!format!("{key:?}").contains("123456"));
        assert!(!format!("{key}").contains("123456"));
        assert_eq!(key.expose(), "sk-live-123456");
    }

    #[test]
    fn comparing_secrets_needs_equal_length_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
