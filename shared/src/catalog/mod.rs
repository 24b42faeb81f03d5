//! The catalog of booking systems: which journal systems a location can be connected to,
//! which fields each one needs, and who supports it. The data itself is in [`systems`]
//! (`systems.rs`); how the entered values are checked before any network call is
//! [`validation`] (with the functions that check connections, feature `vendors`); the text of
//! the "Forespør detaljer" request sent to the vendor is [`request_text`].
//!
//! Pure data and pure functions: no I/O. The vendor adapters (`crate::vendors`) read the same
//! entries, so a field or host that is not in the catalog cannot be used by an adapter either.

mod request_text;
mod systems;
#[cfg(feature = "vendors")]
mod validation;

#[cfg(feature = "vendors")]
pub(crate) use request_text::fill;
pub use request_text::{REQUEST_BODY, REQUEST_SUBJECT, RequestContext, request_text};
#[cfg(feature = "vendors")]
pub use validation::{BookingDetails, FieldIssue, validate};

use crate::i18n::{Lang, Text};
use serde::Serialize;
use serde_json::{Value, json};

/// The four things an administrator can enter for a location's booking integration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldId {
    ExternalId,
    ExternalDepartmentId,
    ApiKey,
    BookingUrl,
}

impl FieldId {
    pub const ALL: [FieldId; 4] = [
        FieldId::ExternalId,
        FieldId::ExternalDepartmentId,
        FieldId::ApiKey,
        FieldId::BookingUrl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FieldId::ExternalId => "external_id",
            FieldId::ExternalDepartmentId => "external_department_id",
            FieldId::ApiKey => "api_key",
            FieldId::BookingUrl => "booking_url",
        }
    }
}

/// How a field's value must look. Serialized for the frontend (`"uuid"`, `"text"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldFormat {
    /// Hyphenated UUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (any case).
    Uuid,
    /// An identifier as the vendor writes it: printable, no control characters.
    Text,
    /// A secret string; never echoed back.
    Secret,
    /// An `https` URL whose host is on the system's `allowed_hosts`, default port, no user info,
    /// no IP literal (the outbound guard, `crate::vendors::outbound`).
    HttpsUrl,
}

#[derive(Clone, Debug)]
pub struct FieldSpec {
    pub id: FieldId,
    pub required: bool,
    pub label: Text,
    pub help: Text,
    pub format: FieldFormat,
    pub secret: bool,
    pub max_len: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub email: &'static str,
    pub phone: Option<&'static str>,
}

/// Whether the API an adapter speaks is the vendor's published one, or a contract Bookinglink
/// wrote (docs/vendor-contracts.md) that the vendor has not confirmed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Public,
    Unconfirmed,
}

/// Which adapter in `crate::vendors` checks a system. Every system names its own; code that
/// behaves differently per system matches on this exhaustively, so a new system is a new
/// variant, one catalog entry and one adapter module, and the compiler names every other place
/// that must decide about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Adapter {
    Physica,
    Psykbase,
    EasyPractice,
    Pasientsky,
    Extensor,
    Hano,
    Konfidens,
}

#[derive(Debug)]
pub struct BookingSystem {
    /// Stable id stored with a location (`pasientsky`, ...).
    pub id: &'static str,
    pub adapter: Adapter,
    pub name: &'static str,
    pub vendor: &'static str,
    pub contract: ContractStatus,
    pub contact: Contact,
    pub fields: &'static [FieldSpec],
    /// Hosts the adapter may call. `"a.b"` matches exactly; `"*.a.b"` matches any name ending in
    /// `.a.b` (never `a.b` itself, never `xa.b`). For Extensor these are also the hosts a booking
    /// URL may point at.
    pub allowed_hosts: &'static [&'static str],
    /// The hosts above are a guess, not a vendor's word: an environment may replace them
    /// (`VENDOR_ALLOWED_HOSTS_<SYSTEM>`, see `crate::vendors`). Never for a system whose URL
    /// the administrator types.
    pub allowed_hosts_configurable: bool,
    /// The vendor's production API base, where one is known publicly. `None` means it must be
    /// configured per environment before the adapter can run.
    pub default_base_url: Option<&'static str>,
    /// Inserted as `{system_note}` into the "Forespør detaljer" text: what the vendor should do.
    pub request_note: Text,
}

impl BookingSystem {
    pub fn field(&self, id: FieldId) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn uses(&self, id: FieldId) -> bool {
        self.field(id).is_some()
    }
}

/// Every system, ordered by display name (the order of the frontend's "Velg..." list).
pub fn systems() -> &'static [BookingSystem] {
    &systems::SYSTEMS
}

pub fn system(id: &str) -> Option<&'static BookingSystem> {
    systems::SYSTEMS.iter().find(|s| s.id == id)
}

// ---------------------------------------------------------------------------------------------
// JSON for `GET /v1/booking-systems`

/// `{"systems": [...]}` in [`systems`] order; every text in the requested language.
pub fn catalog_json(lang: Lang) -> Value {
    let systems: Vec<Value> = systems()
        .iter()
        .map(|s| {
            let fields: Vec<Value> = s
                .fields
                .iter()
                .map(|f| {
                    let mut field = json!({
                        "id": f.id,
                        "label": f.label.get(lang),
                        "help": f.help.get(lang),
                        "required": f.required,
                        "secret": f.secret,
                        "format": f.format,
                        "max_length": f.max_len,
                    });
                    if f.format == FieldFormat::HttpsUrl {
                        field["allowed_hosts"] = json!(s.allowed_hosts);
                    }
                    field
                })
                .collect();
            json!({
                "id": s.id,
                "name": s.name,
                "vendor": s.vendor,
                "contract": s.contract,
                "contact": s.contact,
                "fields": fields,
            })
        })
        .collect();
    json!({ "systems": systems })
}

/// docs/vendor-contracts.md, which the tests that keep the code and that document in step read.
#[cfg(test)]
pub(crate) fn contracts_doc() -> &'static str {
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/vendor-contracts.md"
    ))
}

/// A `## heading` section of docs/vendor-contracts.md, up to the next `## ` heading: the
/// tests that keep the code and that document in step read it.
#[cfg(test)]
pub(crate) fn contracts_doc_section(heading: &str) -> &'static str {
    contracts_doc()
        .split(&format!("## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("docs/vendor-contracts.md has no section {heading:?}"))
        .split("\n## ")
        .next()
        .unwrap_or_default()
}

/// A system the tests know is in the catalog.
#[cfg(test)]
pub(crate) fn sys(id: &str) -> &'static BookingSystem {
    system(id).unwrap_or_else(|| panic!("{id} is not in the catalog"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_is_complete_in_both_languages() {
        let ids: Vec<_> = systems().iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "physica",
                "psykbase",
                "easypractice",
                "pasientsky",
                "extensor",
                "hano",
                "konfidens"
            ]
        );
        let names: Vec<_> = systems().iter().map(|s| s.name.to_lowercase()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "the Velg... list is ordered by name");
        let ctx = RequestContext {
            company_name: "Fysio AS".into(),
            org_number: "123456785".into(),
            location_name: "Sentrum".into(),
            location_address: "Storgata 1, 0155 Oslo".into(),
            admin_name: "Kari Nordmann".into(),
            admin_email: "kari@example.no".into(),
        };
        for s in systems() {
            assert!(s.contact.email.contains('@'), "{}", s.id);
            assert!(!s.fields.is_empty(), "{}", s.id);
            assert!(s.fields.iter().any(|f| f.required), "{}", s.id);
            assert!(!s.allowed_hosts.is_empty(), "{}", s.id);
            assert!(!s.request_note.nb.is_empty() && !s.request_note.en.is_empty());
            for f in s.fields {
                for t in [&f.label, &f.help] {
                    assert!(!t.nb.is_empty() && !t.en.is_empty(), "{} {:?}", s.id, f.id);
                    assert_ne!(t.nb, t.en, "{} {:?}", s.id, f.id);
                }
                assert_eq!(f.secret, f.id == FieldId::ApiKey);
                assert_eq!(s.fields.iter().filter(|g| g.id == f.id).count(), 1);
            }
            assert_eq!(
                s.uses(FieldId::BookingUrl),
                s.id == "extensor",
                "only Extensor uses a booking URL"
            );
            for lang in [Lang::Nb, Lang::En] {
                let (subject, body) = request_text(s, lang, &ctx);
                assert!(!subject.contains('{') && !body.contains('{'), "{body}");
                assert!(subject.contains("Fysio AS") && subject.contains("Sentrum"));
                for needle in [s.name, "123456785", "Storgata 1", "kari@example.no"] {
                    assert!(body.contains(needle), "{} {lang:?}: {needle}", s.id);
                }
                for f in s.fields {
                    assert!(body.contains(f.label.get(lang)), "{} {:?}", s.id, f.id);
                }
                assert!(body.contains(s.request_note.get(lang)));
            }
        }
        assert_eq!(
            sys("pasientsky").field(FieldId::ExternalId).unwrap().format,
            FieldFormat::Uuid
        );
    }

    /// docs/vendor-contracts.md has one table per system under "Per system: what is public,
    /// what is ours, what the vendor must confirm"; its "Contract" row is the catalog's.
    #[test]
    fn the_contract_field_follows_the_documented_tables() {
        let section = contracts_doc_section(
            "Per system: what is public, what is ours, what the vendor must confirm",
        );
        let tables: Vec<&str> = section.split("\n### ").skip(1).collect();
        assert_eq!(tables.len(), systems().len(), "one table per system");
        for s in systems() {
            let heading = format!("{} (`{}`)", s.name, s.id);
            let table = tables
                .iter()
                .find(|t| t.starts_with(&heading))
                .unwrap_or_else(|| panic!("no table headed {heading}"));
            let row = |name: &str| -> &str {
                table
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("| {name} | ")))
                    .unwrap_or_else(|| panic!("{}: no row {name}", s.id))
                    .trim_end_matches(" |")
            };
            let contract = serde_json::to_value(s.contract).unwrap();
            assert_eq!(
                row("Contract"),
                format!("`{}`", contract.as_str().unwrap()),
                "{}",
                s.id
            );
            for name in ["Public", "Ours", "Vendor must confirm"] {
                assert!(row(name).len() > 20, "{}: row {name} is empty", s.id);
            }
            if s.contract == ContractStatus::Public {
                assert!(
                    row("Public").contains("https://"),
                    "{}: a public source's URL",
                    s.id
                );
            }
        }
        // The overview table at the top says the same.
        for s in systems() {
            let prefix = format!("| {} (`{}`) | ", s.name, s.id);
            let line = contracts_doc()
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no overview row for {}", s.id));
            let contract = serde_json::to_value(s.contract).unwrap();
            assert!(
                line[prefix.len()..].starts_with(&format!("{} |", contract.as_str().unwrap())),
                "{line}"
            );
        }
    }

    #[test]
    fn catalog_json_follows_the_language() {
        let nb = catalog_json(Lang::Nb);
        let en = catalog_json(Lang::En);
        let pasientsky = &nb["systems"][3];
        assert_eq!(pasientsky["id"], "pasientsky");
        assert_eq!(pasientsky["contract"], "public");
        assert_eq!(pasientsky["contact"]["email"], "support@patientsky.com");
        assert_eq!(pasientsky["fields"][0]["id"], "external_id");
        assert_eq!(pasientsky["fields"][0]["format"], "uuid");
        assert_eq!(pasientsky["fields"][0]["label"], "Ekstern ID");
        assert_eq!(pasientsky["fields"][2]["secret"], true);
        assert_eq!(pasientsky["fields"][2]["label"], "API-nøkkel");
        assert_eq!(en["systems"][3]["fields"][2]["label"], "API key");
        let extensor = &en["systems"][4];
        assert_eq!(extensor["contract"], "unconfirmed");
        assert_eq!(extensor["fields"][0]["format"], "https_url");
        assert_eq!(extensor["fields"][0]["allowed_hosts"][1], "*.extensor.no");
        assert_eq!(nb["systems"].as_array().unwrap().len(), 7);
    }
}
