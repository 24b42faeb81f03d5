//! What the administrator entered for a system, and how it is checked against the system's
//! fields before any network call: required, length, no control characters, the field's
//! format, and for a URL the outbound guard itself, so the form refuses what the adapter's
//! client would.

use super::{BookingSystem, FieldFormat, FieldId, FieldSpec};
use crate::api_key::ApiKey;
use crate::i18n::{Lang, Text};
use crate::vendors::outbound::check_outbound_url;
use serde::Serialize;
use serde_json::{Value, json};

/// What the administrator entered. Values are trimmed by [`validate`] and by the adapters, so
/// a value pasted with surrounding spaces is accepted; [`BookingDetails::trimmed`] gives the form
/// to store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookingDetails {
    pub external_id: Option<String>,
    pub external_department_id: Option<String>,
    pub api_key: Option<ApiKey>,
    pub booking_url: Option<String>,
}

fn trimmed_opt(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl BookingDetails {
    /// Trims every value and turns blank ones into `None`.
    pub fn trimmed(&self) -> BookingDetails {
        BookingDetails {
            external_id: trimmed_opt(&self.external_id).map(str::to_owned),
            external_department_id: trimmed_opt(&self.external_department_id).map(str::to_owned),
            api_key: self
                .api_key
                .as_ref()
                .map(|k| k.expose().trim())
                .filter(|k| !k.is_empty())
                .map(ApiKey::new),
            booking_url: trimmed_opt(&self.booking_url).map(str::to_owned),
        }
    }

    /// The trimmed, non-blank value of a field. The key is returned exposed: only the adapters
    /// and the validator call this for `ApiKey`.
    pub fn value(&self, field: FieldId) -> Option<&str> {
        match field {
            FieldId::ExternalId => trimmed_opt(&self.external_id),
            FieldId::ExternalDepartmentId => trimmed_opt(&self.external_department_id),
            FieldId::ApiKey => self
                .api_key
                .as_ref()
                .map(|k| k.expose().trim())
                .filter(|k| !k.is_empty()),
            FieldId::BookingUrl => trimmed_opt(&self.booking_url),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    pub field: FieldId,
    /// Stable: `required`, `not_used_by_system`, `invalid_uuid`, `invalid_url`,
    /// `https_required`, `host_not_allowed`, `ip_literal_not_allowed`, `userinfo_not_allowed`,
    /// `port_not_allowed`, `too_long`, `control_characters`, `invalid_value`.
    pub code: &'static str,
    pub message: Text,
}

impl FieldIssue {
    pub fn to_json(&self, lang: Lang) -> Value {
        json!({ "field": self.field, "code": self.code, "message": self.message.get(lang) })
    }
}

/// Checks the entered values against the system's field schema. No network.
///
/// `stored_key_available`: an API key is already stored for this location (the form shows it
/// masked and sends none back). Then a missing `api_key` is not reported as `required`; the
/// caller uses the stored key for the connection check.
///
/// Issues come in the order of the system's fields, then fields the system does not use.
pub fn validate(
    system: &BookingSystem,
    details: &BookingDetails,
    stored_key_available: bool,
) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for spec in system.fields {
        match details.value(spec.id) {
            None => {
                let key_stored = spec.id == FieldId::ApiKey && stored_key_available;
                if spec.required && !key_stored {
                    issues.push(issue(spec, "required"));
                }
            }
            Some(value) => {
                if let Some(code) = check_value(system, spec, value) {
                    issues.push(issue(spec, code));
                }
            }
        }
    }
    for field in FieldId::ALL {
        if !system.uses(field) && details.value(field).is_some() {
            issues.push(FieldIssue {
                field,
                code: "not_used_by_system",
                message: Text::owned(
                    format!("{} bruker ikke dette feltet. La det stå tomt.", system.name),
                    format!("{} does not use this field. Leave it empty.", system.name),
                ),
            });
        }
    }
    issues
}

/// The first problem with a non-blank, trimmed value, as a stable code.
fn check_value(system: &BookingSystem, spec: &FieldSpec, value: &str) -> Option<&'static str> {
    if value.chars().count() > spec.max_len {
        return Some("too_long");
    }
    if value.chars().any(char::is_control) {
        return Some("control_characters");
    }
    match spec.format {
        FieldFormat::Uuid if !is_hyphenated_uuid(value) => Some("invalid_uuid"),
        FieldFormat::HttpsUrl => check_outbound_url(system.allowed_hosts, value).err(),
        // Ids become URL path segments; `.` and `..` (even percent-encoded) would climb the path.
        FieldFormat::Text if value.chars().all(|c| c == '.') => Some("invalid_value"),
        _ => None,
    }
}

/// Only the canonical hyphenated form: vendors print it that way, and `uuid`'s parser would
/// also take braced, URN and hyphen-less forms that the vendor would not recognise.
fn is_hyphenated_uuid(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn issue(spec: &FieldSpec, code: &'static str) -> FieldIssue {
    let (nb, en) = (&spec.label.nb, &spec.label.en);
    let max = spec.max_len;
    let (nb, en) = match code {
        "required" => (format!("Fyll inn {nb}."), format!("Enter the {en}.")),
        "too_long" => (
            format!("{nb} kan ha høyst {max} tegn."),
            format!("The {en} can have at most {max} characters."),
        ),
        "control_characters" => (
            format!("{nb} inneholder usynlige tegn. Lim inn verdien på nytt."),
            format!("The {en} contains invisible characters. Paste the value again."),
        ),
        "invalid_uuid" => (
            format!("{nb} må være en UUID, f.eks. 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b."),
            format!("The {en} must be a UUID, e.g. 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b."),
        ),
        "invalid_value" => (
            format!("{nb} har en ugyldig verdi. Sjekk den mot det leverandøren oppga."),
            format!("The {en} has an invalid value. Check it against what the vendor gave you."),
        ),
        "https_required" => (
            format!("{nb} må begynne med https://."),
            format!("The {en} must start with https://."),
        ),
        "host_not_allowed"
        | "ip_literal_not_allowed"
        | "userinfo_not_allowed"
        | "port_not_allowed" => (
            format!(
                "{nb} må være en adresse på leverandørens eget domene, uten brukernavn eller portnummer."
            ),
            format!(
                "The {en} must be an address on the vendor's own domain, without user name or port number."
            ),
        ),
        _ => (
            format!("{nb} er ikke en gyldig adresse."),
            format!("The {en} is not a valid address."),
        ),
    };
    FieldIssue {
        field: spec.id,
        code,
        message: Text::owned(nb, en),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::sys;

    fn codes(issues: &[FieldIssue]) -> Vec<(FieldId, &'static str)> {
        issues.iter().map(|i| (i.field, i.code)).collect()
    }

    /// What a check (no stored key to fall back on) refuses, field by field.
    fn issues(system: &BookingSystem, details: &BookingDetails) -> Vec<(FieldId, &'static str)> {
        codes(&validate(system, details, false))
    }

    /// A clinic id and a key, as most systems ask for.
    fn clinic_with_key(external_id: &str) -> BookingDetails {
        BookingDetails {
            external_id: Some(external_id.into()),
            api_key: Some(ApiKey::new("k")),
            ..Default::default()
        }
    }

    #[test]
    fn required_fields_and_stored_key() {
        let empty = BookingDetails::default();
        assert_eq!(
            issues(sys("pasientsky"), &empty),
            [
                (FieldId::ExternalId, "required"),
                (FieldId::ExternalDepartmentId, "required"),
                (FieldId::ApiKey, "required"),
            ]
        );
        assert_eq!(
            codes(&validate(sys("pasientsky"), &empty, true)),
            [
                (FieldId::ExternalId, "required"),
                (FieldId::ExternalDepartmentId, "required"),
            ]
        );
        // Optional department: absent is fine.
        assert!(issues(sys("physica"), &clinic_with_key(" 42 ")).is_empty());
        let blank = BookingDetails {
            api_key: Some(ApiKey::new("   ")),
            ..Default::default()
        };
        assert_eq!(
            issues(sys("easypractice"), &blank),
            [(FieldId::ApiKey, "required")]
        );
    }

    #[test]
    fn formats_lengths_and_unused_fields() {
        let details = BookingDetails {
            external_id: Some("not-a-uuid".into()),
            external_department_id: Some("a\u{0}b".into()),
            api_key: Some(ApiKey::new("x".repeat(513))),
            booking_url: Some("https://booking.extensor.no/x".into()),
        };
        assert_eq!(
            issues(sys("pasientsky"), &details),
            [
                (FieldId::ExternalId, "invalid_uuid"),
                (FieldId::ExternalDepartmentId, "control_characters"),
                (FieldId::ApiKey, "too_long"),
                (FieldId::BookingUrl, "not_used_by_system"),
            ]
        );
        for uuid in [
            "{3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b}",
            "3f2a9c1e8b7d4e219a0f5c6d7e8f9a0b",
            "urn:uuid:3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b",
            "3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0g",
        ] {
            assert!(!is_hyphenated_uuid(uuid), "{uuid}");
        }
        assert!(is_hyphenated_uuid("3F2A9C1E-8B7D-4E21-9A0F-5C6D7E8F9A0B"));
        assert_eq!(
            issues(sys("hano"), &clinic_with_key("..")),
            [(FieldId::ExternalId, "invalid_value")]
        );
    }

    #[test]
    fn booking_url_bypasses_are_refused() {
        let extensor = sys("extensor");
        let cases = [
            ("http://booking.extensor.no/k", "https_required"),
            ("ftp://booking.extensor.no/k", "invalid_url"),
            ("booking.extensor.no/k", "invalid_url"),
            ("https://127.0.0.1/k", "ip_literal_not_allowed"),
            ("https://2130706433/k", "ip_literal_not_allowed"),
            ("https://0x7f000001/k", "ip_literal_not_allowed"),
            ("https://0x7f.1/k", "ip_literal_not_allowed"),
            ("https://017700000001/k", "ip_literal_not_allowed"),
            (
                "https://169.254.169.254/latest/meta-data",
                "ip_literal_not_allowed",
            ),
            ("https://[::1]/k", "ip_literal_not_allowed"),
            ("https://[::ffff:127.0.0.1]/k", "ip_literal_not_allowed"),
            ("https://[fe80::1]/k", "ip_literal_not_allowed"),
            (
                "https://user:pw@booking.extensor.no/k",
                "userinfo_not_allowed",
            ),
            (
                "https://booking.extensor.no@evil.com/k",
                "userinfo_not_allowed",
            ),
            ("https://booking.extensor.no:8443/k", "port_not_allowed"),
            ("https://extensor.no.evil.com/k", "host_not_allowed"),
            ("https://evilextensor.no/k", "host_not_allowed"),
            ("https://booking.extensor.no./k", "host_not_allowed"),
            ("https://.extensor.no/k", "host_not_allowed"),
            (
                "https://evil.com\\@booking.extensor.no/k",
                "host_not_allowed",
            ),
            ("https://evil.com#@booking.extensor.no", "host_not_allowed"),
            (
                "https://booking%2eextensor.no.evil.com/k",
                "host_not_allowed",
            ),
            ("https://localhost/k", "host_not_allowed"),
        ];
        for (url, code) in cases {
            assert_eq!(
                check_outbound_url(extensor.allowed_hosts, url).err(),
                Some(code),
                "{url}"
            );
            let details = BookingDetails {
                booking_url: Some(url.into()),
                ..Default::default()
            };
            assert_eq!(
                issues(extensor, &details),
                [(FieldId::BookingUrl, code)],
                "{url}"
            );
        }
        for ok in [
            "https://booking.extensor.no/klinikk/1",
            "https://extensor.no/k",
            "https://A.B.Extensor.NO:443/k?x=1",
        ] {
            assert!(
                check_outbound_url(extensor.allowed_hosts, ok).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn pasientsky_department_is_a_uuid() {
        let pasientsky = sys("pasientsky");
        assert_eq!(
            pasientsky
                .field(FieldId::ExternalDepartmentId)
                .unwrap()
                .format,
            FieldFormat::Uuid
        );
        let details = |department: &str| BookingDetails {
            external_id: Some("3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b".into()),
            external_department_id: Some(department.into()),
            api_key: Some(ApiKey::new("k")),
            booking_url: None,
        };
        assert_eq!(
            issues(pasientsky, &details("avdeling-1")),
            [(FieldId::ExternalDepartmentId, "invalid_uuid")]
        );
        assert!(
            validate(
                pasientsky,
                &details("5C6D7E8F-9A0B-4E21-9A0F-3F2A9C1E8B7D"),
                false
            )
            .is_empty()
        );
        // Other systems keep free-form department ids.
        let physica = BookingDetails {
            external_id: Some("42".into()),
            ..details("avdeling-1")
        };
        assert!(validate(sys("physica"), &physica, false).is_empty());
    }
}
