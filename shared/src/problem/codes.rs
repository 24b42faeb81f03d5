//! Every stable problem code with its HTTP status and wording. Nothing outside this file
//! chooses a status: use cases and handlers call these constructors.

use serde_json::{Value, json};

use super::{FieldError, Problem};
use crate::clock::{self, Timestamp};
use crate::i18n::Text;
use crate::messages as msg;

impl Problem {
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

    pub fn invalid_parameter(field: &str, message: Text) -> Self {
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

    /// 429 with `Retry-After` (whole seconds, at least one) and `retry_at`, the same instant.
    fn rate_limited(
        code: &'static str,
        title: Text,
        detail: Text,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Self {
        Problem::new(429, code, title, detail)
            .with_header("retry-after", (retry_at - now).max(1).to_string())
            .with_extension("retry_at", json!(clock::rfc3339(retry_at)))
    }

    /// Failed checks fill one of the lockout's tallies until `retry_at`; `lock_scope` says whose.
    pub fn too_many_attempts(
        detail: Text,
        lock_scope: Value,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Self {
        Problem::rate_limited(
            "too_many_attempts",
            msg::TOO_MANY_ATTEMPTS,
            detail,
            retry_at,
            now,
        )
        .with_extension("attempts_remaining", json!(0))
        .with_extension("lock_scope", lock_scope)
    }

    /// Other checks still running hold every place in the lockout until `retry_at` at the latest.
    pub fn checks_in_progress(retry_at: Timestamp, now: Timestamp) -> Self {
        Problem::rate_limited(
            "checks_in_progress",
            msg::TOO_MANY_ATTEMPTS,
            msg::CHECKS_IN_PROGRESS,
            retry_at,
            now,
        )
        .with_extension("attempts_remaining", json!(0))
    }

    /// The details-request mails for a location are used up until `retry_at`.
    pub fn details_request_limit(detail: Text, retry_at: Timestamp, now: Timestamp) -> Self {
        Problem::rate_limited(
            "details_request_limit",
            msg::TOO_MANY_REQUESTS,
            detail,
            retry_at,
            now,
        )
    }

    /// An invitation was sent again `limit` times today; the next is possible at `retry_at`.
    pub fn invitation_resend_limit(limit: u32, retry_at: Timestamp, now: Timestamp) -> Self {
        Problem::rate_limited(
            "invitation_resend_limit",
            msg::TOO_MANY_REQUESTS,
            msg::invitation_resend_limit_detail(limit),
            retry_at,
            now,
        )
    }

    /// "Test og lagre" whose check did not pass: `steps` in Norwegian and English, `outcome`
    /// the kind of failure (`status` stays the HTTP status, RFC 9457).
    pub fn connection_test_failed(
        detail: Text,
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

    /// The company has as many locations as it may have.
    pub fn too_many_locations(limit: u32) -> Self {
        Problem::new(
            409,
            "too_many_locations",
            msg::CONFLICT,
            msg::too_many_locations_detail(limit),
        )
        .with_errors(vec![FieldError::new(
            "companyId",
            "too_many_locations",
            msg::too_many_locations_field(limit),
        )])
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
