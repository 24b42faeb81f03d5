//! What an administrator entered in the booking form, read and validated against the catalog
//! before anything contacts a vendor: a 4xx here costs no attempt.

use serde_json::{Map, Value};

use crate::api_key::ApiKey;
use crate::catalog::{self, BookingDetails, BookingSystem};
use crate::messages as msg;
use crate::problem::{FieldError, Problem};
use crate::validate::{self, ObjectReader};

/// The details an administrator entered in the form.
#[derive(Debug)]
pub struct BookingInput {
    pub system: &'static BookingSystem,
    pub details: BookingDetails,
    /// `None` keeps the location's current setting.
    pub offline: Option<bool>,
    /// The location version a save was edited from; `None` for a check.
    pub version: Option<u64>,
}

/// Which route the form was sent to; only a save names the version it was edited from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Check,
    /// `if_match`: the version from the `If-Match` header, if any.
    Save {
        if_match: Option<u64>,
    },
}

const TEXT_LIMIT: validate::TextRule = validate::TextRule::plain(2_048);

const FIELDS: [&str; 6] = [
    "system",
    "external_id",
    "external_department_id",
    "api_key",
    "booking_url",
    "offline",
];

impl BookingInput {
    /// The body of "Test kobling".
    pub fn for_check(body: &Map<String, Value>) -> Result<Self, Problem> {
        Self::read(body, Purpose::Check)
    }

    /// The body of "Test og lagre", which also names the location's `version` (in the body, in
    /// `If-Match`, or both when they agree).
    pub fn for_save(body: &Map<String, Value>, if_match: Option<u64>) -> Result<Self, Problem> {
        Self::read(body, Purpose::Save { if_match })
    }

    fn read(body: &Map<String, Value>, purpose: Purpose) -> Result<Self, Problem> {
        let mut allowed = FIELDS.to_vec();
        if matches!(purpose, Purpose::Save { .. }) {
            allowed.push("version");
        }
        let mut r = ObjectReader::new(body, &allowed)?;
        let system_id = r.text("system", true, validate::SHORT_CODE);
        // Catalog checks give the field-specific limits; these only bound what is read.
        let mut optional = |field: &str| match body.get(field) {
            Some(Value::String(s)) if s.trim().is_empty() => None,
            _ => r.text(field, false, TEXT_LIMIT),
        };
        let details = BookingDetails {
            external_id: optional("external_id"),
            external_department_id: optional("external_department_id"),
            api_key: optional("api_key").map(ApiKey::new),
            booking_url: optional("booking_url"),
        };
        let offline = r.boolean("offline", false);
        let body_version = match purpose {
            Purpose::Save { .. } => r.version("version"),
            Purpose::Check => None,
        };
        let mut errors = std::mem::take(&mut r.errors);
        let system = match system_id.as_deref() {
            Some(id) => match catalog::system(id) {
                Some(system) => Some(system),
                None => {
                    errors.push(FieldError::new(
                        "system",
                        "unknown_system",
                        msg::UNKNOWN_SYSTEM,
                    ));
                    None
                }
            },
            None => None,
        };
        if let Some(system) = system {
            // A stored key may stand in for a missing one; whether it may is decided once the
            // location is loaded.
            errors.extend(
                catalog::validate(system, &details, true)
                    .into_iter()
                    .map(|issue| FieldError::new(issue.field.name(), issue.code, issue.message)),
            );
        }
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        let version = match purpose {
            Purpose::Check => None,
            Purpose::Save { if_match } => Some(saved_version(body_version, if_match)?),
        };
        Ok(BookingInput {
            system: system.expect("validated above"),
            details: details.trimmed(),
            offline,
            version,
        })
    }
}

/// The version a save was edited from: the body's, `If-Match`'s, or both when they agree.
fn saved_version(body: Option<u64>, if_match: Option<u64>) -> Result<u64, Problem> {
    match (body, if_match) {
        (Some(a), Some(b)) if a != b => Err(Problem::validation(vec![FieldError::new(
            "version",
            "version_mismatch",
            msg::VERSION_MISMATCH,
        )])),
        (v, m) => v.or(m).ok_or_else(Problem::version_required),
    }
}
