//! The catalog of booking systems: which journal systems a location can be connected
//! to, which fields each one needs, how those fields are checked before any network call, who
//! supports the system, and the text of the "Forespør detaljer" request sent to the vendor.
//!
//! Pure data and pure functions: no I/O, always compiled. The vendor adapters
//! (`crate::vendors`, feature `vendors`) read the same entries, so a field or host that is not
//! in the catalog cannot be used by an adapter either.
//!
//! Field choices per system (from the public sources listed in docs/vendor-contracts.md):
//! - `pasientsky`: clinic UUID, department id and API key, all required — the public partner API
//!   is addressed by clinic id, authenticated by key, and its calendars name their department.
//! - `extensor`: only the booking URL (required). The platform's help article says Extensor is
//!   the only system that uses one; the URL identifies the clinic, so no other field is asked for.
//! - `physica`, `psykbase`: clinic id and API key required; a department id is optional, for
//!   clinics with several departments in one ASPIT installation.
//! - `hano`, `konfidens`: clinic id and API key required.
//! - `easypractice`: only the personal access token (required). A token belongs to one
//!   EasyPractice account, which is the clinic, so a separate clinic id would add nothing.

use crate::i18n::{Lang, Text};
use crate::secret::ApiKey;
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
    /// no IP literal. See [`check_outbound_url`].
    HttpsUrl,
}

#[derive(Clone, Copy, Debug)]
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

#[derive(Debug)]
pub struct BookingSystem {
    /// Stable id stored with a location (`pasientsky`, ...).
    pub id: &'static str,
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

    pub fn host_allowed(&self, host: &str) -> bool {
        host_matches(self.allowed_hosts, host)
    }
}

/// Matches an ASCII-lowercased host name against allow-list patterns (see
/// [`BookingSystem::allowed_hosts`]).
pub fn host_matches(patterns: &[&str], host: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(parent) => host
                .strip_suffix(parent)
                .and_then(|label| label.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty()),
            None => host == *pattern,
        })
}

// ---------------------------------------------------------------------------------------------
// Field texts. Labels are the platform's own words; help says where the value is found.

const MAX_ID_LEN: usize = 100;
const MAX_KEY_LEN: usize = 512;
const MAX_URL_LEN: usize = 2048;

const EXTERNAL_ID_LABEL: Text = Text::new("Ekstern ID", "External ID");
const DEPARTMENT_LABEL: Text = Text::new("Ekstern avdeling ID", "External department ID");
const API_KEY_LABEL: Text = Text::new("API-nøkkel", "API key");
const BOOKING_URL_LABEL: Text = Text::new("Booking-URL", "Booking URL");

const fn api_key(help: Text) -> FieldSpec {
    FieldSpec {
        id: FieldId::ApiKey,
        required: true,
        label: API_KEY_LABEL,
        help,
        format: FieldFormat::Secret,
        secret: true,
        max_len: MAX_KEY_LEN,
    }
}

const fn external_id(format: FieldFormat, help: Text) -> FieldSpec {
    FieldSpec {
        id: FieldId::ExternalId,
        required: true,
        label: EXTERNAL_ID_LABEL,
        help,
        format,
        secret: false,
        max_len: MAX_ID_LEN,
    }
}

const fn department(required: bool, format: FieldFormat, help: Text) -> FieldSpec {
    FieldSpec {
        id: FieldId::ExternalDepartmentId,
        required,
        label: DEPARTMENT_LABEL,
        help,
        format,
        secret: false,
        max_len: MAX_ID_LEN,
    }
}

const ASPIT_KEY_HELP: Text = Text::new(
    "API-nøkkelen ASPIT sender når integrasjonen er slått på. Lim inn hele nøkkelen.",
    "The API key ASPIT sends once the integration is turned on. Paste the whole key.",
);

static SYSTEMS: [BookingSystem; 7] = [
    BookingSystem {
        id: "physica",
        name: "ASPIT Physica",
        vendor: "ASPIT AS",
        contract: ContractStatus::Unconfirmed,
        contact: Contact {
            email: "support@aspit.no",
            phone: Some("+47 35 05 79 02"),
        },
        fields: &[
            external_id(
                FieldFormat::Text,
                Text::new(
                    "Klinikkens ID i Physica. ASPIT oppgir den når appene Treatment Series, Contacts and Payers, Online Booking, EHF og DigiCare er slått på.",
                    "The clinic's ID in Physica. ASPIT provides it once the apps Treatment Series, Contacts and Payers, Online Booking, EHF and DigiCare are turned on.",
                ),
            ),
            department(
                false,
                FieldFormat::Text,
                Text::new(
                    "Bare hvis klinikken har flere avdelinger i Physica: avdelingens ID.",
                    "Only if the clinic has several departments in Physica: the department's ID.",
                ),
            ),
            api_key(ASPIT_KEY_HELP),
        ],
        allowed_hosts: &["*.aspit.no"],
        allowed_hosts_configurable: true,
        default_base_url: None,
        request_note: Text::new(
            "Vi ber om at appene Treatment Series, Contacts and Payers, Online Booking og EHF slås på i Physica, og deretter DigiCare, og om klinikkens ID, eventuell avdelings-ID og API-nøkkel.",
            "Please turn on the apps Treatment Series, Contacts and Payers, Online Booking and EHF in Physica, then DigiCare, and send us the clinic ID, the department ID if any, and the API key.",
        ),
    },
    BookingSystem {
        id: "psykbase",
        name: "ASPIT Psykbase",
        vendor: "ASPIT AS",
        contract: ContractStatus::Unconfirmed,
        contact: Contact {
            email: "support@aspit.no",
            phone: Some("+47 35 05 79 02"),
        },
        fields: &[
            external_id(
                FieldFormat::Text,
                Text::new(
                    "Klinikkens ID i Psykbase, slik ASPIT oppgir den.",
                    "The clinic's ID in Psykbase, as given by ASPIT.",
                ),
            ),
            department(
                false,
                FieldFormat::Text,
                Text::new(
                    "Bare hvis klinikken har flere avdelinger i Psykbase: avdelingen som eier kalenderen for denne lokasjonen.",
                    "Only if the clinic has several departments in Psykbase: the department that owns this location's calendar.",
                ),
            ),
            api_key(ASPIT_KEY_HELP),
        ],
        allowed_hosts: &["*.aspit.no"],
        allowed_hosts_configurable: true,
        default_base_url: None,
        request_note: Text::new(
            "Vi ber om at kalenderen for denne lokasjonen gjøres tilgjengelig for plattformen i Psykbase, og om klinikkens ID, eventuell avdelings-ID og API-nøkkel.",
            "Please expose this location's calendar to the platform in Psykbase, and send us the clinic ID, the department ID if any, and the API key.",
        ),
    },
    BookingSystem {
        id: "easypractice",
        name: "EasyPractice",
        vendor: "EasyPractice",
        contract: ContractStatus::Public,
        contact: Contact {
            email: "support@easypractice.net",
            phone: None,
        },
        fields: &[api_key(Text::new(
            "Et personlig tilgangstoken fra innstillingene til appen «API» i EasyPractice (slå på appen først). Tokenet må ha tilgangen calendars-read; tilgangene kan ikke endres etterpå. Lim inn hele tokenet.",
            "A personal access token from the settings of the \"API\" app in EasyPractice (turn the app on first). The token must have the scope calendars-read; scopes cannot be changed later. Paste the whole token.",
        ))],
        allowed_hosts: &["system.easypractice.net", "*.easypractice.net"],
        allowed_hosts_configurable: false,
        default_base_url: Some("https://system.easypractice.net"),
        request_note: Text::new(
            "Vi trenger et personlig tilgangstoken for API-et: slå på appen «API» i EasyPractice, og lag tokenet i appens innstillinger med tilgangen calendars-read.",
            "We need a personal access token for the API: turn on the \"API\" app in EasyPractice, and create the token in the app's settings with the scope calendars-read.",
        ),
    },
    BookingSystem {
        id: "pasientsky",
        name: "EG Pasientsky",
        vendor: "EG Norge",
        contract: ContractStatus::Public,
        contact: Contact {
            email: "support@patientsky.com",
            phone: Some("+47 21 93 19 00"),
        },
        fields: &[
            external_id(
                FieldFormat::Uuid,
                Text::new(
                    "Klinikkens ID i EG Pasientsky, en UUID som 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b.",
                    "The clinic's ID in EG Pasientsky, a UUID such as 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b.",
                ),
            ),
            department(
                true,
                FieldFormat::Uuid,
                Text::new(
                    "ID-en til avdelingen som eier behandlernes kalendere i EG Pasientsky, en UUID som 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b.",
                    "The ID of the department that owns the therapists' calendars in EG Pasientsky, a UUID such as 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b.",
                ),
            ),
            api_key(Text::new(
                "API-nøkkelen for partner-API-et som EG sender på e-post. Lim inn hele nøkkelen.",
                "The partner API key EG sends by e-mail. Paste the whole key.",
            )),
        ],
        allowed_hosts: &["*.pasientsky.no"],
        allowed_hosts_configurable: false,
        default_base_url: Some("https://psno-portal.svc.pasientsky.no/partner-api"),
        request_note: Text::new(
            "Vi ber om klinikk-ID, avdelings-ID og API-nøkkel for partner-API-et. Behandlerne må eie kalenderne sine, kalenderne må være åpne for nettbooking, og timetypene må være merket «Kan bestilles online».",
            "Please send the clinic ID, department ID and partner API key. The therapists must own their calendars, the calendars must be open for online booking, and the appointment types must be marked \"Kan bestilles online\" (bookable online).",
        ),
    },
    BookingSystem {
        id: "extensor",
        name: "Extensor 05",
        vendor: "Extensor AS",
        contract: ContractStatus::Unconfirmed,
        contact: Contact {
            email: "support@extensor.no",
            phone: Some("+47 75 53 33 00"),
        },
        fields: &[FieldSpec {
            id: FieldId::BookingUrl,
            required: true,
            label: BOOKING_URL_LABEL,
            help: Text::new(
                "Klinikkens booking-URL fra Extensor, som begynner med https:// og ligger på extensor.no.",
                "The clinic's booking URL from Extensor, starting with https:// on extensor.no.",
            ),
            format: FieldFormat::HttpsUrl,
            secret: false,
            max_len: MAX_URL_LEN,
        }],
        // Extensor's own domain only; a new Extensor domain needs a code change, on purpose.
        allowed_hosts: &["extensor.no", "*.extensor.no"],
        allowed_hosts_configurable: false,
        default_base_url: None,
        request_note: Text::new(
            "Vi ber om klinikkens booking-URL for nettbooking.",
            "Please send the clinic's booking URL for online booking.",
        ),
    },
    BookingSystem {
        id: "hano",
        name: "HANO",
        vendor: "HANO AS",
        contract: ContractStatus::Unconfirmed,
        contact: Contact {
            email: "support@hano.no",
            phone: Some("+47 66 77 66 73"),
        },
        fields: &[
            external_id(
                FieldFormat::Text,
                Text::new(
                    "Klinikkens ID i HANO, slik HANO oppgir den.",
                    "The clinic's ID in HANO, as given by HANO.",
                ),
            ),
            api_key(Text::new(
                "API-nøkkelen HANO sender når integrasjonen er slått på. Lim inn hele nøkkelen.",
                "The API key HANO sends once the integration is turned on. Paste the whole key.",
            )),
        ],
        allowed_hosts: &["*.hano.no"],
        allowed_hosts_configurable: false,
        default_base_url: None,
        request_note: Text::new(
            "Vi ber om klinikkens ID og en API-nøkkel for nettbooking.",
            "Please send the clinic ID and an API key for online booking.",
        ),
    },
    BookingSystem {
        id: "konfidens",
        name: "Konfidens",
        vendor: "Mindcare AS",
        contract: ContractStatus::Unconfirmed,
        contact: Contact {
            email: "hello@konfidens.com",
            phone: None,
        },
        fields: &[
            external_id(
                FieldFormat::Text,
                Text::new(
                    "Klinikkens ID i Konfidens, slik Konfidens oppgir den.",
                    "The clinic's ID in Konfidens, as given by Konfidens.",
                ),
            ),
            api_key(Text::new(
                "API-nøkkelen Konfidens sender når integrasjonen er slått på. Lim inn hele nøkkelen.",
                "The API key Konfidens sends once the integration is turned on. Paste the whole key.",
            )),
        ],
        allowed_hosts: &["*.konfidens.com"],
        allowed_hosts_configurable: false,
        default_base_url: None,
        request_note: Text::new(
            "Vi ber om klinikkens ID og en API-nøkkel. Bookinger knyttes til en behandlingsserie med forsikringsselskapets saksnummer.",
            "Please send the clinic ID and an API key. Bookings are tied to a treatment series carrying the insurer's case id.",
        ),
    },
];

/// Every system, ordered by display name (the order of the frontend's "Velg..." list).
pub fn systems() -> &'static [BookingSystem] {
    &SYSTEMS
}

pub fn system(id: &str) -> Option<&'static BookingSystem> {
    SYSTEMS.iter().find(|s| s.id == id)
}

// ---------------------------------------------------------------------------------------------
// Validation

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

/// A text in both languages, built at run time (messages that name a field or a system).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnedText {
    pub nb: String,
    pub en: String,
}

impl OwnedText {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nb => &self.nb,
            Lang::En => &self.en,
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
    pub message: OwnedText,
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
                message: OwnedText {
                    nb: format!("{} bruker ikke dette feltet. La det stå tomt.", system.name),
                    en: format!("{} does not use this field. Leave it empty.", system.name),
                },
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

/// The syntactic half of the outbound-URL guard, shared by [`validate`] and the adapters'
/// HTTP client: `https` only, a host name (never an IP literal in any spelling — the WHATWG
/// parser turns `2130706433`, `0x7f.1` and `017700000001` into IPv4 addresses, which are then
/// refused), no user info, the default port, and a host on the allow-list. Names are compared
/// after the parser's lowercasing and IDNA mapping; a trailing dot is refused rather than
/// normalised.
///
/// Returns the parsed URL or a stable code. The DNS half (no private or loopback addresses)
/// runs in the adapters' resolver, on the address actually connected to.
pub fn check_outbound_url(allowed_hosts: &[&str], raw: &str) -> Result<url::Url, &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "invalid_url")?;
    if url.scheme() != "https" {
        return Err(if url.scheme() == "http" {
            "https_required"
        } else {
            "invalid_url"
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("userinfo_not_allowed");
    }
    match url.host() {
        Some(url::Host::Domain(host)) => {
            if url.port().is_some() {
                return Err("port_not_allowed");
            }
            if !host_matches(allowed_hosts, host) {
                return Err("host_not_allowed");
            }
        }
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => return Err("ip_literal_not_allowed"),
        None => return Err("invalid_url"),
    }
    Ok(url)
}

fn issue(spec: &FieldSpec, code: &'static str) -> FieldIssue {
    let (nb, en) = (spec.label.nb, spec.label.en);
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
        message: OwnedText { nb, en },
    }
}

// ---------------------------------------------------------------------------------------------
// "Forespør detaljer"

/// What the request to the vendor is filled with. All values come from our own records.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub company_name: String,
    pub org_number: String,
    pub location_name: String,
    pub location_address: String,
    pub admin_name: String,
    pub admin_email: String,
}

/// Placeholders: `{system_name}`, `{company_name}`, `{org_number}`, `{location_name}`,
/// `{location_address}`, `{admin_name}`, `{admin_email}`.
pub const REQUEST_SUBJECT: Text = Text::new(
    "Forespørsel om nettbooking: {company_name} ({org_number}), {location_name}",
    "Request for online booking: {company_name} ({org_number}), {location_name}",
);

/// Placeholders as [`REQUEST_SUBJECT`] plus `{fields}` (one needed field per line) and
/// `{system_note}` (the system's [`BookingSystem::request_note`]).
pub const REQUEST_BODY: Text = Text::new(
    "Hei,\n\n\
     {company_name} (org.nr. {org_number}) ønsker å ta imot bookinger fra forsikringsselskaper \
     via DigiCare sin nettbooking for lokasjonen {location_name}, {location_address}, \
     som bruker {system_name}.\n\n\
     {system_note}\n\n\
     Vi trenger disse opplysningene:\n{fields}\n\n\
     Send dem til {admin_name} ({admin_email}).\n\n\
     Med vennlig hilsen\n{admin_name}\n{company_name}",
    "Hello,\n\n\
     {company_name} (org. no. {org_number}) wants to receive bookings from insurers through \
     DigiCare's online booking for the location {location_name}, {location_address}, \
     which uses {system_name}.\n\n\
     {system_note}\n\n\
     We need the following details:\n{fields}\n\n\
     Please send them to {admin_name} ({admin_email}).\n\n\
     Kind regards\n{admin_name}\n{company_name}",
);

/// Renders the "Forespør detaljer" e-mail for the system's support contact: `(subject, body)`.
///
/// Placeholders are replaced in one pass, so a value containing `{...}` is never expanded
/// again; line breaks and other control characters in values are replaced by spaces so that a
/// company name cannot add lines (or headers) to the subject.
pub fn request_text(system: &BookingSystem, lang: Lang, ctx: &RequestContext) -> (String, String) {
    let fields = system
        .fields
        .iter()
        .map(|f| {
            let optional = match (f.required, lang) {
                (true, _) => "",
                (false, Lang::Nb) => " (hvis aktuelt)",
                (false, Lang::En) => " (if any)",
            };
            format!("- {}{optional}", f.label.get(lang))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let lookup = |name: &str| -> Option<String> {
        Some(match name {
            "system_name" => system.name.to_owned(),
            "company_name" => one_line(&ctx.company_name),
            "org_number" => one_line(&ctx.org_number),
            "location_name" => one_line(&ctx.location_name),
            "location_address" => one_line(&ctx.location_address),
            "admin_name" => one_line(&ctx.admin_name),
            "admin_email" => one_line(&ctx.admin_email),
            "system_note" => system.request_note.get(lang).to_owned(),
            "fields" => fields.clone(),
            _ => return None,
        })
    };
    (
        fill(REQUEST_SUBJECT.get(lang), &lookup),
        fill(REQUEST_BODY.get(lang), &lookup),
    )
}

fn one_line(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn fill(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after
            .find('}')
            .and_then(|end| Some((end, lookup(&after[..end])?)))
        {
            Some((end, value)) => {
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(id: &str) -> &'static BookingSystem {
        system(id).unwrap()
    }

    fn codes(issues: &[FieldIssue]) -> Vec<(FieldId, &'static str)> {
        issues.iter().map(|i| (i.field, i.code)).collect()
    }

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
                for t in [f.label, f.help] {
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
            if let Some(base) = s.default_base_url {
                let url = check_outbound_url(s.allowed_hosts, base).unwrap();
                assert!(s.host_allowed(url.host_str().unwrap()));
            }
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

    #[test]
    fn request_text_is_norwegian_by_default_and_english_on_request() {
        let ctx = RequestContext {
            company_name: "Hode {admin_email}\r\nBcc: x@evil".into(),
            ..Default::default()
        };
        let (subject, body) = request_text(sys("pasientsky"), Lang::Nb, &ctx);
        assert!(subject.starts_with("Forespørsel om nettbooking"));
        assert!(!subject.contains('\n') && !subject.contains('\r'));
        assert!(
            subject.contains("Hode {admin_email}"),
            "no second expansion"
        );
        assert!(body.contains("- Ekstern avdeling ID\n- API-nøkkel"));
        let (subject, body) = request_text(sys("physica"), Lang::En, &ctx);
        assert!(subject.starts_with("Request for online booking"));
        assert!(body.contains("- External department ID (if any)"));
    }

    #[test]
    fn required_fields_and_stored_key() {
        let empty = BookingDetails::default();
        assert_eq!(
            codes(&validate(sys("pasientsky"), &empty, false)),
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
        let details = BookingDetails {
            external_id: Some(" 42 ".into()),
            api_key: Some(ApiKey::new("k")),
            ..Default::default()
        };
        assert!(validate(sys("physica"), &details, false).is_empty());
        let blank = BookingDetails {
            api_key: Some(ApiKey::new("   ")),
            ..Default::default()
        };
        assert_eq!(
            codes(&validate(sys("easypractice"), &blank, false)),
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
            codes(&validate(sys("pasientsky"), &details, false)),
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
        let dots = BookingDetails {
            external_id: Some("..".into()),
            api_key: Some(ApiKey::new("k")),
            ..Default::default()
        };
        assert_eq!(
            codes(&validate(sys("hano"), &dots, false)),
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
                codes(&validate(extensor, &details, false)),
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
    fn help_and_request_texts_say_what_the_clinic_must_do() {
        let ctx = RequestContext::default();
        let physica = sys("physica");
        let apps = [
            "Treatment Series",
            "Contacts and Payers",
            "Online Booking",
            "EHF",
            "DigiCare",
        ];
        for lang in [Lang::Nb, Lang::En] {
            let help = physica.field(FieldId::ExternalId).unwrap().help.get(lang);
            let (_, body) = request_text(physica, lang, &ctx);
            for app in apps {
                assert!(help.contains(app), "{lang:?} help: {app}");
                assert!(body.contains(app), "{lang:?} request: {app}");
            }
            let easypractice = sys("easypractice");
            let help = easypractice.field(FieldId::ApiKey).unwrap().help.get(lang);
            let (_, body) = request_text(easypractice, lang, &ctx);
            for text in [help, body.as_str()] {
                assert!(text.contains("calendars-read"), "{text}");
                assert!(text.contains("API"), "{text}");
            }
            let (_, body) = request_text(sys("pasientsky"), lang, &ctx);
            assert!(body.contains("Kan bestilles online"), "{body}");
        }
        assert!(
            sys("easypractice")
                .field(FieldId::ApiKey)
                .unwrap()
                .help
                .nb
                .contains("appen «API»")
        );
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
            codes(&validate(pasientsky, &details("avdeling-1"), false)),
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
