//! Errors as `application/problem+json` (RFC 9457). Every error the API returns is a
//! [`Problem`]: an HTTP status, a stable machine code, a title and detail a person can act on
//! (Norwegian by default, English on request) and, for input errors, the fields at fault.
//!
//! `codes.rs` is the one place each stable code gets its status and wording; `causes.rs` turns
//! the dependencies' errors into problems, keeping a 5xx's cause for the HTTP edge to log once.

use serde_json::{Map, Value, json};

use crate::i18n::{Lang, Text};
use crate::messages as msg;

mod causes;
mod codes;

/// One field at fault. `field` is a JSON pointer-like dotted path (`address.postal_code`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: Text,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: Text) -> Self {
        FieldError {
            field: field.into(),
            code,
            message,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub status: u16,
    pub code: &'static str,
    pub title: Text,
    pub detail: Text,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem object (for example the current `version` on a conflict).
    pub extensions: Map<String, Value>,
    /// Extra members that hold text a person reads: (name, Norwegian, English).
    pub localized_extensions: Vec<(String, Value, Value)>,
    /// Extra response headers (`Allow`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
    /// Why a 5xx happened, for the one log line the HTTP edge writes; never sent.
    pub cause: Option<String>,
}

impl Problem {
    /// Only `codes.rs` picks a status for a code.
    fn new(status: u16, code: &'static str, title: Text, detail: Text) -> Self {
        Problem {
            status,
            code,
            title,
            detail,
            errors: Vec::new(),
            extensions: Map::new(),
            localized_extensions: Vec::new(),
            headers: Vec::new(),
            cause: None,
        }
    }

    /// Records why this 5xx happened (a dependency's error); logged at the edge, never sent.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn with_extension(mut self, key: &str, value: Value) -> Self {
        self.extensions.insert(key.to_string(), value);
        self
    }

    pub fn with_localized_extension(mut self, key: &str, nb: Value, en: Value) -> Self {
        self.localized_extensions.push((key.to_string(), nb, en));
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn to_json(&self, lang: Lang) -> Value {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            json!(format!("{}{}", msg::PROBLEM_TYPE_BASE, self.code)),
        );
        body.insert("title".into(), json!(self.title.get(lang)));
        body.insert("status".into(), json!(self.status));
        body.insert("code".into(), json!(self.code));
        body.insert("detail".into(), json!(self.detail.get(lang)));
        if !self.errors.is_empty() {
            let errors: Vec<Value> = self
                .errors
                .iter()
                .map(|e| json!({"field": e.field, "code": e.code, "message": e.message.get(lang)}))
                .collect();
            body.insert("errors".into(), Value::Array(errors));
        }
        for (key, value) in &self.extensions {
            body.insert(key.clone(), value.clone());
        }
        for (key, nb, en) in &self.localized_extensions {
            let value = match lang {
                Lang::Nb => nb,
                Lang::En => en,
            };
            body.insert(key.clone(), value.clone());
        }
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc9457_members_in_the_requested_language() {
        let problem = Problem::validation(vec![FieldError::new(
            "address.postal_code",
            "invalid_postal_code",
            Text::new("fire sifre", "four digits"),
        )]);
        let nb = problem.to_json(Lang::Nb);
        assert_eq!(nb["status"], 422);
        assert_eq!(nb["code"], "validation_failed");
        assert_eq!(
            nb["type"],
            "https://bookinglink.no/problems/validation_failed"
        );
        assert_eq!(nb["errors"][0]["field"], "address.postal_code");
        assert_eq!(nb["errors"][0]["message"], "fire sifre");
        let en = problem.to_json(Lang::En);
        assert_eq!(en["errors"][0]["message"], "four digits");
        assert_ne!(nb["title"], en["title"]);
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let problem = Problem::method_not_allowed(&["GET", "POST"]);
        assert_eq!(problem.status, 405);
        assert_eq!(problem.headers, vec![("allow", "GET, POST".to_string())]);
    }
}
