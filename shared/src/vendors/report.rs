//! The result of a connection check: an ordered list of steps with stable codes. Messages are
//! not stored; they are rendered from (system, step, code, field) in the reader's language, so a
//! report kept in DynamoDB can be shown again later in either language.
//!
//! Steps (in this order): `vendor_reachable`, `key_accepted`, `clinic_found`,
//! `department_found`, `online_booking_open`. A step that does not apply to a system is
//! omitted, not skipped (Extensor has no key; EasyPractice's token is the clinic and its public
//! API says nothing about online-booking calendars; Physica/Psykbase check a department only
//! when one was entered). After a failed step every later step is `skipped` with
//! `not_checked`. The one skip that can precede a failure: EG Pasientsky answering with no
//! calendar at all leaves `department_found` `skipped`/`not_verifiable` and fails
//! `online_booking_open` (a set-up problem, not a wrong department).
//!
//! Input that fails validation or the outbound-URL guard fails the first step: nothing was
//! sent to the vendor.

use crate::catalog::{self, BookingSystem, FieldId};
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    VendorReachable,
    KeyAccepted,
    ClinicFound,
    DepartmentFound,
    OnlineBookingOpen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    Skipped,
}

/// Stable codes, stored and sent to the frontend as snake_case strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    Ok,
    /// Skipped because an earlier step failed.
    NotChecked,
    /// Skipped because the vendor's answer gave nothing to check it against.
    NotVerifiable,
    // Not the administrator's fault.
    VendorNotConfigured,
    VendorUnreachable,
    VendorTimeout,
    VendorError,
    VendorBadResponse,
    RedirectRefused,
    ResponseTooLarge,
    // The vendor rejected what was entered.
    ApiKeyRejected,
    ClinicNotFound,
    DepartmentNotFound,
    // Set-up at the clinic.
    NoOnlineBookingCalendar,
    // Refused before anything was sent.
    Required,
    InvalidDetails,
    HttpsRequired,
    HostNotAllowed,
    AddressNotAllowed,
    /// A code written by a newer version; keeps old readers working.
    #[serde(other)]
    Unknown,
}

/// How a check counts for the lockout on repeated failed checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Success,
    /// The vendor rejected the key, clinic or department (`api_key_rejected`,
    /// `clinic_not_found`, `department_not_found`) — this is what guessing looks like, so it
    /// counts. Input refused before sending (`required`, `invalid_details`, `https_required`,
    /// `host_not_allowed`, `address_not_allowed`) counts too: the HTTP layer validates first,
    /// so these reach a check only when someone probes the URL guard.
    Rejected,
    /// The vendor could not give a usable answer: `vendor_*`, `redirect_refused`,
    /// `response_too_large`, `vendor_not_configured`. Not the administrator's fault.
    Unavailable,
    /// The details are right but the clinic is not ready: `no_online_booking_calendar`.
    SetupIncomplete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStep {
    pub step: StepId,
    pub status: StepStatus,
    pub code: CheckCode,
    pub field: Option<FieldId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Catalog id of the system checked.
    pub system: String,
    pub steps: Vec<CheckStep>,
}

impl CheckReport {
    /// True only when every applicable step is ok.
    pub fn succeeded(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.status == StepStatus::Ok)
    }

    pub fn failed_step(&self) -> Option<&CheckStep> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }

    pub fn outcome(&self) -> CheckOutcome {
        use CheckCode::*;
        match self.failed_step().map(|s| s.code) {
            None if self.succeeded() => CheckOutcome::Success,
            None => CheckOutcome::Unavailable,
            Some(
                ApiKeyRejected | ClinicNotFound | DepartmentNotFound | Required | InvalidDetails
                | HttpsRequired | HostNotAllowed | AddressNotAllowed,
            ) => CheckOutcome::Rejected,
            Some(NoOnlineBookingCalendar) => CheckOutcome::SetupIncomplete,
            Some(_) => CheckOutcome::Unavailable,
        }
    }

    /// The response body for the check endpoint: codes plus messages in `lang`.
    pub fn to_json(&self, lang: Lang) -> Value {
        let system = catalog::system(&self.system);
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                json!({
                    "step": s.step,
                    "status": s.status,
                    "code": s.code,
                    "field": s.field,
                    "message": system.map(|sys| s.message(sys, lang)).unwrap_or_default(),
                })
            })
            .collect();
        json!({
            "system": self.system,
            "succeeded": self.succeeded(),
            "outcome": self.outcome(),
            "steps": steps,
        })
    }
}

fn contact(system: &BookingSystem, lang: Lang) -> String {
    match (system.contact.phone, lang) {
        (Some(phone), Lang::Nb) => format!("{}, tlf. {phone}", system.contact.email),
        (Some(phone), Lang::En) => format!("{}, phone {phone}", system.contact.email),
        (None, _) => system.contact.email.to_owned(),
    }
}

impl CheckStep {
    /// What the administrator reads for this step: what happened and what to do, naming the
    /// system and its support contact where the vendor is the one to ask.
    pub fn message(&self, system: &BookingSystem, lang: Lang) -> String {
        let s = system.name;
        let c = contact(system, lang);
        let label = self
            .field
            .and_then(|f| system.field(f))
            .map(|f| f.label.get(lang))
            .unwrap_or(match lang {
                Lang::Nb => "feltet",
                Lang::En => "the field",
            });
        let nb = lang == Lang::Nb;
        use CheckCode::*;
        match self.code {
            Ok => match (self.step, nb) {
                (StepId::VendorReachable, true) => format!("{s} svarte."),
                (StepId::VendorReachable, false) => format!("{s} answered."),
                (StepId::KeyAccepted, true) => format!("{s} godtok API-nøkkelen."),
                (StepId::KeyAccepted, false) => format!("{s} accepted the API key."),
                (StepId::ClinicFound, true) => format!("{s} fant klinikken."),
                (StepId::ClinicFound, false) => format!("{s} found the clinic."),
                (StepId::DepartmentFound, true) => format!("{s} fant avdelingen."),
                (StepId::DepartmentFound, false) => format!("{s} found the department."),
                (StepId::OnlineBookingOpen, true) => {
                    format!("Minst én kalender er åpen for nettbooking i {s}.")
                }
                (StepId::OnlineBookingOpen, false) => {
                    format!("At least one calendar is open for online booking in {s}.")
                }
            },
            NotChecked if nb => "Ikke sjekket, fordi et tidligere steg feilet.".into(),
            NotChecked => "Not checked, because an earlier step failed.".into(),
            NotVerifiable if nb => {
                format!("Kunne ikke sjekkes, fordi {s} ikke viste noen kalender.")
            }
            NotVerifiable => format!("Could not be checked, because {s} showed no calendar."),
            VendorNotConfigured if nb => format!(
                "Koblingen til {s} er ikke satt opp hos oss ennå. Detaljene er lagret; prøv igjen senere."
            ),
            VendorNotConfigured => format!(
                "The connection to {s} is not set up on our side yet. The details are saved; try again later."
            ),
            VendorUnreachable if nb => format!(
                "Vi fikk ikke kontakt med {s}. Prøv igjen om litt. Hvis det vedvarer, kontakt {s} ({c})."
            ),
            VendorUnreachable => format!(
                "We could not reach {s}. Try again in a moment. If it persists, contact {s} ({c})."
            ),
            VendorTimeout if nb => format!(
                "{s} svarte ikke i tide. Prøv igjen om litt. Hvis det vedvarer, kontakt {s} ({c})."
            ),
            VendorTimeout => format!(
                "{s} did not answer in time. Try again in a moment. If it persists, contact {s} ({c})."
            ),
            VendorError if nb => format!(
                "{s} svarte med en feil på sin side. Prøv igjen senere. Hvis det vedvarer, kontakt {s} ({c})."
            ),
            VendorError => format!(
                "{s} answered with an error on its side. Try again later. If it persists, contact {s} ({c})."
            ),
            VendorBadResponse if nb => format!(
                "{s} svarte, men ikke slik vi forventet. Prøv igjen senere. Hvis det vedvarer, kontakt {s} ({c})."
            ),
            VendorBadResponse => format!(
                "{s} answered, but not as expected. Try again later. If it persists, contact {s} ({c})."
            ),
            RedirectRefused if nb => format!(
                "{s} svarte med en videresending til en annen adresse. Av sikkerhetshensyn følger vi ikke videresendinger. Kontakt {s} ({c})."
            ),
            RedirectRefused => format!(
                "{s} answered with a redirect to another address. For security we do not follow redirects. Contact {s} ({c})."
            ),
            ResponseTooLarge if nb => {
                format!("{s} sendte et større svar enn vi tar imot. Kontakt {s} ({c}).")
            }
            ResponseTooLarge => {
                format!("{s} sent a larger answer than we accept. Contact {s} ({c}).")
            }
            ApiKeyRejected if nb => format!(
                "{s} avviste API-nøkkelen. Sjekk at hele nøkkelen fra e-posten fra {v} er limt inn, uten mellomrom eller linjeskift. Stemmer den, kontakt {s} ({c}).",
                v = system.vendor
            ),
            ApiKeyRejected => format!(
                "{s} rejected the API key. Check that the whole key from {v}'s e-mail was pasted, without spaces or line breaks. If it is right, contact {s} ({c}).",
                v = system.vendor
            ),
            ClinicNotFound if self.field == Some(FieldId::BookingUrl) && nb => format!(
                "{s} kjenner ikke igjen {label}. Sjekk at du har limt inn hele adressen {s} oppga, eller kontakt {s} ({c})."
            ),
            ClinicNotFound if self.field == Some(FieldId::BookingUrl) => format!(
                "{s} does not recognise the {label}. Check that you pasted the whole address {s} gave you, or contact {s} ({c})."
            ),
            ClinicNotFound if nb => format!(
                "{s} fant ingen klinikk med denne {label}. Sjekk verdien mot det {s} oppga, eller kontakt {s} ({c})."
            ),
            ClinicNotFound => format!(
                "{s} found no clinic with this {label}. Check the value against what {s} gave you, or contact {s} ({c})."
            ),
            DepartmentNotFound if nb => format!(
                "{s} fant ingen kalender som hører til avdelingen med denne {label}. Sjekk ID-en, og at avdelingens kalendere er åpne for nettbooking. Kontakt {s} ({c}) ved behov."
            ),
            DepartmentNotFound => format!(
                "{s} found no calendar belonging to the department with this {label}. Check the ID, and that the department's calendars are open for online booking. Contact {s} ({c}) if needed."
            ),
            NoOnlineBookingCalendar if nb => format!(
                "Ingen kalender er åpen for nettbooking i {s}. Åpne minst én behandlers kalender for nettbooking (behandleren må eie kalenderen), og prøv igjen. Kontakt {s} ({c}) ved behov."
            ),
            NoOnlineBookingCalendar => format!(
                "No calendar is open for online booking in {s}. Open at least one therapist's calendar for online booking (the therapist must own the calendar), then try again. Contact {s} ({c}) if needed."
            ),
            Required if nb => format!("Fyll inn {label}, og prøv igjen."),
            Required => format!("Enter the {label}, then try again."),
            InvalidDetails if nb => format!("{label} har feil format. Rett det, og prøv igjen."),
            InvalidDetails => format!("The {label} has the wrong format. Fix it, then try again."),
            HttpsRequired if nb => format!("{label} må begynne med https://."),
            HttpsRequired => format!("The {label} must start with https://."),
            HostNotAllowed if nb => format!(
                "{label} må være en adresse på {s} sitt eget domene ({h}), uten brukernavn, IP-adresse eller portnummer.",
                h = system.allowed_hosts.join(", ")
            ),
            HostNotAllowed => format!(
                "The {label} must be an address on {s}'s own domain ({h}), without user name, IP address or port number.",
                h = system.allowed_hosts.join(", ")
            ),
            AddressNotAllowed if nb => format!(
                "Adressen i {label} peker til et nettverk vi ikke kobler oss til. Sjekk adressen, eller kontakt {s} ({c})."
            ),
            AddressNotAllowed => format!(
                "The address in the {label} points to a network we do not connect to. Check the address, or contact {s} ({c})."
            ),
            Unknown if nb => "Ukjent resultat. Prøv igjen.".into(),
            Unknown => "Unknown result. Try again.".into(),
        }
    }
}

/// Builds a report: every planned step starts as `skipped`/`not_checked` and is settled in
/// order by the adapter.
pub(crate) struct Plan {
    system: &'static str,
    steps: Vec<CheckStep>,
}

impl Plan {
    pub(crate) fn new(system: &BookingSystem, steps: &[StepId]) -> Plan {
        Plan {
            system: system.id,
            steps: steps
                .iter()
                .map(|&step| CheckStep {
                    step,
                    status: StepStatus::Skipped,
                    code: CheckCode::NotChecked,
                    field: None,
                })
                .collect(),
        }
    }

    fn get(&mut self, step: StepId) -> Option<&mut CheckStep> {
        self.steps.iter_mut().find(|s| s.step == step)
    }

    pub(crate) fn ok(&mut self, step: StepId) {
        if let Some(s) = self.get(step) {
            s.status = StepStatus::Ok;
            s.code = CheckCode::Ok;
        }
    }

    pub(crate) fn skip(&mut self, step: StepId, code: CheckCode) {
        if let Some(s) = self.get(step) {
            s.status = StepStatus::Skipped;
            s.code = code;
        }
    }

    /// Fails `step` (or, if the system does not have it, the first unsettled step) and returns
    /// the report; later steps stay `not_checked`.
    pub(crate) fn fail(
        mut self,
        step: StepId,
        code: CheckCode,
        field: Option<FieldId>,
    ) -> CheckReport {
        let index = self
            .steps
            .iter()
            .position(|s| s.step == step)
            .or_else(|| self.first_unsettled());
        if let Some(i) = index {
            let s = &mut self.steps[i];
            s.status = StepStatus::Failed;
            s.code = code;
            s.field = field;
        }
        self.finish()
    }

    /// Fails the first step not yet settled: for transport problems, which stop whatever the
    /// adapter was about to establish.
    pub(crate) fn fail_next(self, code: CheckCode, field: Option<FieldId>) -> CheckReport {
        let step = self
            .first_unsettled()
            .map(|i| self.steps[i].step)
            .unwrap_or(StepId::VendorReachable);
        self.fail(step, code, field)
    }

    fn first_unsettled(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.status == StepStatus::Skipped && s.code == CheckCode::NotChecked)
    }

    pub(crate) fn finish(self) -> CheckReport {
        CheckReport {
            system: self.system.to_owned(),
            steps: self.steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pasientsky() -> &'static BookingSystem {
        catalog::system("pasientsky").unwrap()
    }

    const ALL: [StepId; 5] = [
        StepId::VendorReachable,
        StepId::KeyAccepted,
        StepId::ClinicFound,
        StepId::DepartmentFound,
        StepId::OnlineBookingOpen,
    ];

    #[test]
    fn outcome_classifies_the_failed_step() {
        let cases = [
            (CheckCode::ApiKeyRejected, CheckOutcome::Rejected),
            (CheckCode::ClinicNotFound, CheckOutcome::Rejected),
            (CheckCode::DepartmentNotFound, CheckOutcome::Rejected),
            (CheckCode::HostNotAllowed, CheckOutcome::Rejected),
            (CheckCode::VendorTimeout, CheckOutcome::Unavailable),
            (CheckCode::VendorError, CheckOutcome::Unavailable),
            (CheckCode::RedirectRefused, CheckOutcome::Unavailable),
            (CheckCode::ResponseTooLarge, CheckOutcome::Unavailable),
            (CheckCode::VendorBadResponse, CheckOutcome::Unavailable),
            (
                CheckCode::NoOnlineBookingCalendar,
                CheckOutcome::SetupIncomplete,
            ),
        ];
        for (code, outcome) in cases {
            let report = Plan::new(pasientsky(), &ALL).fail(StepId::KeyAccepted, code, None);
            assert_eq!(report.outcome(), outcome, "{code:?}");
            assert!(!report.succeeded());
            assert_eq!(
                report.steps[0].code,
                CheckCode::NotChecked,
                "earlier steps untouched"
            );
            assert_eq!(report.steps[2].status, StepStatus::Skipped);
        }
        let mut plan = Plan::new(pasientsky(), &ALL);
        for step in ALL {
            plan.ok(step);
        }
        let report = plan.finish();
        assert!(report.succeeded());
        assert_eq!(report.outcome(), CheckOutcome::Success);
    }

    #[test]
    fn reports_round_trip_through_json_and_tolerate_new_codes() {
        let mut plan = Plan::new(pasientsky(), &ALL);
        plan.ok(StepId::VendorReachable);
        let report = plan.fail(
            StepId::KeyAccepted,
            CheckCode::ApiKeyRejected,
            Some(FieldId::ApiKey),
        );
        let stored = serde_json::to_string(&report).unwrap();
        assert!(
            stored.contains(r#""code":"api_key_rejected","field":"api_key""#),
            "{stored}"
        );
        assert_eq!(
            serde_json::from_str::<CheckReport>(&stored).unwrap(),
            report
        );
        let newer = stored.replace("api_key_rejected", "something_new");
        let read: CheckReport = serde_json::from_str(&newer).unwrap();
        assert_eq!(read.steps[1].code, CheckCode::Unknown);
    }

    #[test]
    fn wrong_key_message_names_system_and_contact_in_both_languages() {
        let step = CheckStep {
            step: StepId::KeyAccepted,
            status: StepStatus::Failed,
            code: CheckCode::ApiKeyRejected,
            field: Some(FieldId::ApiKey),
        };
        let nb = step.message(pasientsky(), Lang::Nb);
        assert!(
            nb.starts_with("EG Pasientsky avviste API-nøkkelen."),
            "{nb}"
        );
        assert!(
            nb.contains("hele nøkkelen fra e-posten fra EG Norge"),
            "{nb}"
        );
        assert!(
            nb.contains("support@patientsky.com, tlf. +47 21 93 19 00"),
            "{nb}"
        );
        let en = step.message(pasientsky(), Lang::En);
        assert!(
            en.starts_with("EG Pasientsky rejected the API key."),
            "{en}"
        );
        assert!(
            en.contains("support@patientsky.com, phone +47 21 93 19 00"),
            "{en}"
        );
    }

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        use CheckCode::*;
        let codes = [
            Ok,
            NotChecked,
            NotVerifiable,
            VendorNotConfigured,
            VendorUnreachable,
            VendorTimeout,
            VendorError,
            VendorBadResponse,
            RedirectRefused,
            ResponseTooLarge,
            ApiKeyRejected,
            ClinicNotFound,
            DepartmentNotFound,
            NoOnlineBookingCalendar,
            Required,
            InvalidDetails,
            HttpsRequired,
            HostNotAllowed,
            AddressNotAllowed,
            Unknown,
        ];
        for system in catalog::systems() {
            for code in codes {
                for step in ALL {
                    let s = CheckStep {
                        step,
                        status: StepStatus::Failed,
                        code,
                        field: Some(system.fields[0].id),
                    };
                    let (nb, en) = (s.message(system, Lang::Nb), s.message(system, Lang::En));
                    assert!(!nb.is_empty() && !en.is_empty());
                    assert_ne!(nb, en, "{code:?}");
                }
            }
        }
    }
}
