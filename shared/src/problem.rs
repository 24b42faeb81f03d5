//! Errors as `application/problem+json` (RFC 9457). Every error the API returns is a
//! [`Problem`]: an HTTP status, a stable machine code, a title and detail a person can act on
//! (Norwegian by default, English on request) and, for input errors, the fields at fault.

use serde_json::{Map, Value, json};

use crate::i18n::{Lang, Text};
use crate::messages as msg;

/// A message in both languages whose text is built at run time (it may name a field or a limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Localized {
    pub nb: String,
    pub en: String,
}

impl Localized {
    pub fn new(nb: impl Into<String>, en: impl Into<String>) -> Self {
        Localized {
            nb: nb.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nb => &self.nb,
            Lang::En => &self.en,
        }
    }
}

impl From<Text> for Localized {
    fn from(text: Text) -> Self {
        Localized::new(text.nb, text.en)
    }
}

/// One field at fault. `field` is a JSON pointer-like dotted path (`address.postal_code`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: Localized,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<Localized>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub status: u16,
    pub code: &'static str,
    pub title: Localized,
    pub detail: Localized,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem object (for example the current `version` on a conflict).
    pub extensions: Map<String, Value>,
    /// Extra members that hold text a person reads: (name, Norwegian, English).
    pub localized_extensions: Vec<(String, Value, Value)>,
    /// Extra response headers (`Allow`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(status: u16, code: &'static str, title: Text, detail: impl Into<Localized>) -> Self {
        Problem {
            status,
            code,
            title: title.into(),
            detail: detail.into(),
            errors: Vec::new(),
            extensions: Map::new(),
            localized_extensions: Vec::new(),
            headers: Vec::new(),
        }
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

    // The constructors below are the one place each stable code gets its status and wording.

    pub fn unauthenticated() -> Self {
        Problem::new(
            401,
            "unauthenticated",
            msg::UNAUTHENTICATED,
            msg::UNAUTHENTICATED_DETAIL,
        )
    }

    /// Used both for what does not exist and for what the caller may not see, so the two
    /// cannot be told apart.
    pub fn not_found() -> Self {
        Problem::new(404, "not_found", msg::NOT_FOUND, msg::NOT_FOUND_DETAIL)
    }

    pub fn route_not_found() -> Self {
        Problem::new(
            404,
            "route_not_found",
            msg::ROUTE_NOT_FOUND,
            msg::ROUTE_NOT_FOUND_DETAIL,
        )
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        Problem::new(
            405,
            "method_not_allowed",
            msg::METHOD_NOT_ALLOWED,
            msg::method_not_allowed_detail(&allow),
        )
        .with_header("allow", allow)
    }

    pub fn invalid_utf8() -> Self {
        Problem::new(
            400,
            "invalid_utf8",
            msg::BAD_REQUEST,
            msg::INVALID_UTF8_DETAIL,
        )
    }

    pub fn malformed_json(line: usize, column: usize) -> Self {
        Problem::new(
            400,
            "malformed_json",
            msg::BAD_REQUEST,
            msg::malformed_json_detail(line, column),
        )
    }

    pub fn body_not_object() -> Self {
        Problem::new(
            400,
            "body_not_object",
            msg::BAD_REQUEST,
            msg::BODY_NOT_OBJECT_DETAIL,
        )
    }

    pub fn body_required() -> Self {
        Problem::new(
            400,
            "body_required",
            msg::BAD_REQUEST,
            msg::BODY_REQUIRED_DETAIL,
        )
    }

    pub fn unknown_fields(fields: Vec<String>) -> Self {
        let errors = fields
            .into_iter()
            .map(|f| FieldError::new(f, "unknown_field", msg::UNKNOWN_FIELD))
            .collect();
        Problem::new(
            400,
            "unknown_fields",
            msg::BAD_REQUEST,
            msg::UNKNOWN_FIELDS_DETAIL,
        )
        .with_errors(errors)
    }

    pub fn invalid_parameter(field: &str, message: impl Into<Localized>) -> Self {
        let message = message.into();
        Problem::new(400, "invalid_parameter", msg::BAD_REQUEST, message.clone())
            .with_errors(vec![FieldError::new(field, "invalid", message)])
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Problem::new(
            413,
            "payload_too_large",
            msg::PAYLOAD_TOO_LARGE,
            msg::payload_too_large_detail(limit),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Problem::new(
            415,
            "unsupported_media_type",
            msg::UNSUPPORTED_MEDIA_TYPE,
            msg::UNSUPPORTED_MEDIA_TYPE_DETAIL,
        )
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        Problem::new(
            422,
            "validation_failed",
            msg::VALIDATION_FAILED,
            msg::VALIDATION_FAILED_DETAIL,
        )
        .with_errors(errors)
    }

    pub fn org_number_taken() -> Self {
        Problem::new(
            409,
            "org_number_taken",
            msg::CONFLICT,
            msg::ORG_NUMBER_TAKEN_DETAIL,
        )
        .with_errors(vec![FieldError::new(
            "org_number",
            "already_registered",
            msg::ORG_NUMBER_TAKEN_FIELD,
        )])
    }

    pub fn version_conflict(current: u64) -> Self {
        Problem::new(
            409,
            "version_conflict",
            msg::CONFLICT,
            msg::VERSION_CONFLICT_DETAIL,
        )
        .with_extension("current_version", json!(current))
    }

    pub fn version_required() -> Self {
        Problem::new(
            428,
            "version_required",
            msg::PRECONDITION_REQUIRED,
            msg::VERSION_REQUIRED_DETAIL,
        )
        .with_errors(vec![FieldError::new(
            "version",
            "required",
            msg::VERSION_REQUIRED_FIELD,
        )])
    }

    /// A dependency (DynamoDB, Secrets Manager) failed. The cause goes to the log, not the caller.
    pub fn internal() -> Self {
        Problem::new(500, "internal_error", msg::INTERNAL, msg::INTERNAL_DETAIL)
    }

    pub fn service_unavailable() -> Self {
        Problem::new(
            503,
            "service_unavailable",
            msg::UNAVAILABLE,
            msg::UNAVAILABLE_DETAIL,
        )
        .with_header("retry-after", "5")
    }

    /// `retry_after`: seconds until the next attempt is allowed; `retry_at` the same instant.
    pub fn too_many_requests(
        code: &'static str,
        detail: Localized,
        retry_after: i64,
        retry_at: crate::clock::Timestamp,
    ) -> Self {
        Problem::new(429, code, msg::TOO_MANY_REQUESTS, detail)
            .with_header("retry-after", retry_after.max(1).to_string())
            .with_extension("retry_at", json!(crate::clock::rfc3339(retry_at)))
    }

    /// "Test og lagre" whose check did not pass: `steps` in Norwegian and English, `outcome`
    /// the kind of failure (`status` stays the HTTP status, RFC 9457).
    pub fn connection_test_failed(
        detail: Localized,
        steps: (Value, Value),
        outcome: Value,
        attempts_remaining: u32,
    ) -> Self {
        Problem::new(
            422,
            "connection_test_failed",
            msg::CONNECTION_TEST_FAILED,
            detail,
        )
        .with_localized_extension("steps", steps.0, steps.1)
        .with_extension("outcome", outcome)
        .with_extension("attempts_remaining", json!(attempts_remaining))
    }

    pub fn operator_only() -> Self {
        Problem::new(
            403,
            "operator_only",
            msg::FORBIDDEN,
            msg::OPERATOR_ONLY_DETAIL,
        )
    }

    pub fn last_administrator() -> Self {
        Problem::new(
            409,
            "last_administrator",
            msg::CONFLICT,
            msg::LAST_ADMINISTRATOR_DETAIL,
        )
    }

    /// A conditional write lost a race with another change of the same item.
    pub fn changed_meanwhile() -> Self {
        Problem::new(
            409,
            "changed_meanwhile",
            msg::CONFLICT,
            msg::CHANGED_MEANWHILE_DETAIL,
        )
    }

    pub fn already_administrator() -> Self {
        Problem::new(
            409,
            "already_administrator",
            msg::CONFLICT,
            msg::ALREADY_ADMINISTRATOR_DETAIL,
        )
        .with_errors(vec![FieldError::new(
            "email",
            "already_administrator",
            msg::ALREADY_ADMINISTRATOR_FIELD,
        )])
    }

    pub fn too_many_invitations(limit: usize) -> Self {
        Problem::new(
            409,
            "too_many_invitations",
            msg::CONFLICT,
            msg::too_many_invitations_detail(limit),
        )
    }

    /// 403 for an invitation the caller may not accept: `invitation_token_invalid`,
    /// `email_not_verified` or `invitation_email_mismatch`.
    pub fn invitation_forbidden(code: &'static str) -> Self {
        let detail = match code {
            "email_not_verified" => msg::EMAIL_NOT_VERIFIED_DETAIL,
            "invitation_email_mismatch" => msg::INVITATION_EMAIL_MISMATCH_DETAIL,
            _ => msg::INVITATION_TOKEN_INVALID_DETAIL,
        };
        Problem::new(403, code, msg::INVITATION_FORBIDDEN, detail)
    }

    /// 410 for an invitation that can no longer be accepted: `invitation_expired`,
    /// `invitation_revoked` or `invitation_used`.
    pub fn invitation_gone(code: &'static str) -> Self {
        let detail = match code {
            "invitation_expired" => msg::INVITATION_EXPIRED_DETAIL,
            "invitation_revoked" => msg::INVITATION_REVOKED_DETAIL,
            _ => msg::INVITATION_USED_DETAIL,
        };
        Problem::new(410, code, msg::INVITATION_GONE, detail)
    }

    pub fn no_lockout() -> Self {
        Problem::new(404, "no_lockout", msg::NOT_FOUND, msg::NO_LOCKOUT_DETAIL)
    }

    /// The person has no e-mail address the vendor could answer.
    pub fn admin_email_missing() -> Self {
        Problem::new(
            422,
            "admin_email_missing",
            msg::VALIDATION_FAILED,
            msg::ADMIN_EMAIL_MISSING_DETAIL,
        )
    }

    /// The mail service refused the message: retrying it as is will not help.
    pub fn mail_rejected() -> Self {
        Problem::new(
            502,
            "mail_rejected",
            msg::MAIL_NOT_SENT,
            msg::MAIL_REJECTED_DETAIL,
        )
    }

    pub fn mail_failed() -> Self {
        Problem::new(
            502,
            "mail_failed",
            msg::MAIL_NOT_SENT,
            msg::MAIL_FAILED_DETAIL,
        )
    }

    pub fn mail_throttled() -> Self {
        Problem::new(
            503,
            "mail_throttled",
            msg::MAIL_NOT_SENT,
            msg::MAIL_THROTTLED_DETAIL,
        )
        .with_header("retry-after", "60")
    }

    pub fn mail_unavailable() -> Self {
        Problem::new(
            503,
            "mail_unavailable",
            msg::MAIL_NOT_SENT,
            msg::MAIL_UNAVAILABLE_DETAIL,
        )
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
            Localized::new("fire sifre", "four digits"),
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
