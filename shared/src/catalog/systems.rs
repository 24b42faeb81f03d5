//! The booking systems themselves: one entry per system, with its fields' texts in both
//! languages, its support contact, the hosts its adapter may call and the note of its
//! "Forespør detaljer" request. Pure data.
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

use super::{Adapter, BookingSystem, Contact, ContractStatus, FieldFormat, FieldId, FieldSpec};
use crate::i18n::Text;

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

// Physica and Psykbase are both ASPIT's: one vendor, one support desk, one key e-mail, and the
// same fields (a clinic id, an optional department id, the key); only their texts differ.
const fn aspit(
    id: &'static str,
    adapter: Adapter,
    name: &'static str,
    fields: &'static [FieldSpec],
    request_note: Text,
) -> BookingSystem {
    BookingSystem {
        id,
        adapter,
        name,
        vendor: "ASPIT AS",
        contract: ContractStatus::Unconfirmed,
        contact: Contact {
            email: "support@aspit.no",
            phone: Some("+47 35 05 79 02"),
        },
        fields,
        allowed_hosts: &["*.aspit.no"],
        allowed_hosts_configurable: true,
        default_base_url: None,
        request_note,
    }
}

const fn aspit_fields(clinic_help: Text, department_help: Text) -> [FieldSpec; 3] {
    [
        external_id(FieldFormat::Text, clinic_help),
        department(false, FieldFormat::Text, department_help),
        api_key(Text::new(
            "API-nøkkelen ASPIT sender når integrasjonen er slått på. Lim inn hele nøkkelen.",
            "The API key ASPIT sends once the integration is turned on. Paste the whole key.",
        )),
    ]
}

static PHYSICA_FIELDS: [FieldSpec; 3] = aspit_fields(
    Text::new(
        "Klinikkens ID i Physica. ASPIT oppgir den når appene Treatment Series, Contacts and Payers, Online Booking, EHF og DigiCare er slått på.",
        "The clinic's ID in Physica. ASPIT provides it once the apps Treatment Series, Contacts and Payers, Online Booking, EHF and DigiCare are turned on.",
    ),
    Text::new(
        "Bare hvis klinikken har flere avdelinger i Physica: avdelingens ID.",
        "Only if the clinic has several departments in Physica: the department's ID.",
    ),
);

static PSYKBASE_FIELDS: [FieldSpec; 3] = aspit_fields(
    Text::new(
        "Klinikkens ID i Psykbase, slik ASPIT oppgir den.",
        "The clinic's ID in Psykbase, as given by ASPIT.",
    ),
    Text::new(
        "Bare hvis klinikken har flere avdelinger i Psykbase: avdelingen som eier kalenderen for denne lokasjonen.",
        "Only if the clinic has several departments in Psykbase: the department that owns this location's calendar.",
    ),
);

pub(super) static SYSTEMS: [BookingSystem; 7] = [
    aspit(
        "physica",
        Adapter::Physica,
        "ASPIT Physica",
        &PHYSICA_FIELDS,
        Text::new(
            "Vi ber om at appene Treatment Series, Contacts and Payers, Online Booking og EHF slås på i Physica, og deretter DigiCare, og om klinikkens ID, eventuell avdelings-ID og API-nøkkel.",
            "Please turn on the apps Treatment Series, Contacts and Payers, Online Booking and EHF in Physica, then DigiCare, and send us the clinic ID, the department ID if any, and the API key.",
        ),
    ),
    aspit(
        "psykbase",
        Adapter::Psykbase,
        "ASPIT Psykbase",
        &PSYKBASE_FIELDS,
        Text::new(
            "Vi ber om at kalenderen for denne lokasjonen gjøres tilgjengelig for plattformen i Psykbase, og om klinikkens ID, eventuell avdelings-ID og API-nøkkel.",
            "Please expose this location's calendar to the platform in Psykbase, and send us the clinic ID, the department ID if any, and the API key.",
        ),
    ),
    BookingSystem {
        id: "easypractice",
        adapter: Adapter::EasyPractice,
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
        adapter: Adapter::Pasientsky,
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
        adapter: Adapter::Extensor,
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
        adapter: Adapter::Hano,
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
        adapter: Adapter::Konfidens,
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
