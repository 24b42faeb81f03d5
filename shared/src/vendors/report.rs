//! The result of a connection check: an ordered list of steps with stable codes. Messages are
//! not stored; they are rendered from (system, step, code, field) in the reader's language, so a
//! report kept in DynamoDB can be shown again later in either language.
//!
//! Steps (in this order): `vendor_reachable`, `key_accepted`, `clinic_found`,
//! `department_found`, `online_booking_open`. A step that does not apply to a system is
//! omitted, not skipped (Extensor has no key; EasyPractice's token is the clinic and its public
//! API says nothing about online-booking calendars; Physica/Psykbase check a department only
//! when one was entered). After a failed step every later step is `skipped` with
//! `not_checked`.
//!
//! A step the vendor's answer cannot settle is `not_verifiable` (status and code): Extensor has
//! no API, so its calendars can never be seen (the check still succeeds); EG Pasientsky answering
//! with no calendar at all leaves `department_found` unverifiable and fails
//! `online_booking_open` (a set-up problem, not a wrong department).
//!
//! Input that fails validation or the outbound-URL guard fails the first step: nothing was
//! sent to the vendor.
//!
//! Which failures count toward the lockout is decided in one place, [`outcome_of`], and
//! documented as a table in docs/vendor-contracts.md (a test compares the two row by row).

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
    /// Nothing the vendor answers can settle this step; it neither passes nor fails the check.
    NotVerifiable,
}

/// Stable codes, stored and sent to the frontend as snake_case strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    Ok,
    /// Skipped because an earlier step failed.
    NotChecked,
    /// The vendor's answer gives nothing to check this step against (status `not_verifiable`).
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
    /// The booking URL's page does not exist (404/410).
    BookingPageNotFound,
    // Set-up at the clinic.
    NoOnlineBookingCalendar,
    /// A real key without access to the calendars (EasyPractice: a token without the scope
    /// `calendars-read`).
    KeyLacksCalendarAccess,
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

impl CheckCode {
    /// Every code, in declaration order (a new code goes here and into [`outcome_of`]).
    pub const ALL: [CheckCode; 22] = {
        use CheckCode::*;
        [
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
            BookingPageNotFound,
            NoOnlineBookingCalendar,
            KeyLacksCalendarAccess,
            Required,
            InvalidDetails,
            HttpsRequired,
            HostNotAllowed,
            AddressNotAllowed,
            Unknown,
        ]
    };
}

/// What kind of result a check had; only [`CheckOutcome::Rejected`] counts toward the lockout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Success,
    /// The vendor rejected the key, clinic, department or booking page — what guessing looks
    /// like, so it counts toward the lockout.
    Rejected,
    /// Refused before anything was sent (missing or malformed value, a URL off the vendor's
    /// host, not https, or resolving to an address we do not connect to). The HTTP layer
    /// refuses these with a 422 first; a check meets them only for stored details. Does not
    /// count: the vendor was never asked.
    InputRefused,
    /// The vendor could not give a usable answer. Not the administrator's fault; does not count.
    Unavailable,
    /// The details are right but the clinic's set-up is not finished (no calendar open for
    /// online booking, a token without calendar access). Does not count.
    SetupIncomplete,
}

impl CheckOutcome {
    pub fn counts_toward_lockout(self) -> bool {
        self == CheckOutcome::Rejected
    }
}

/// The table "failure reason → outcome" (docs/vendor-contracts.md, "Which failures count
/// toward the lockout"): the one place that decides whether a failed check counts.
pub const fn outcome_of(code: CheckCode) -> CheckOutcome {
    use CheckCode::*;
    use CheckOutcome as O;
    match code {
        ApiKeyRejected => O::Rejected,
        ClinicNotFound => O::Rejected,
        DepartmentNotFound => O::Rejected,
        BookingPageNotFound => O::Rejected,
        Required => O::InputRefused,
        InvalidDetails => O::InputRefused,
        HttpsRequired => O::InputRefused,
        HostNotAllowed => O::InputRefused,
        AddressNotAllowed => O::InputRefused,
        NoOnlineBookingCalendar => O::SetupIncomplete,
        KeyLacksCalendarAccess => O::SetupIncomplete,
        VendorNotConfigured => O::Unavailable,
        VendorUnreachable => O::Unavailable,
        VendorTimeout => O::Unavailable,
        VendorError => O::Unavailable,
        VendorBadResponse => O::Unavailable,
        RedirectRefused => O::Unavailable,
        ResponseTooLarge => O::Unavailable,
        // Not failure reasons; a step failed with one of these was written by mistake or by a
        // newer version, and is never held against the administrator.
        Ok => O::Unavailable,
        NotChecked => O::Unavailable,
        NotVerifiable => O::Unavailable,
        Unknown => O::Unavailable,
    }
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
    /// True when no step failed or was left unchecked, and at least one passed: every step is
    /// ok, or cannot be verified for this system at all.
    pub fn succeeded(&self) -> bool {
        self.steps.iter().any(|s| s.status == StepStatus::Ok)
            && self
                .steps
                .iter()
                .all(|s| matches!(s.status, StepStatus::Ok | StepStatus::NotVerifiable))
    }

    pub fn failed_step(&self) -> Option<&CheckStep> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }

    pub fn outcome(&self) -> CheckOutcome {
        match self.failed_step() {
            None if self.succeeded() => CheckOutcome::Success,
            None => CheckOutcome::Unavailable,
            Some(step) => outcome_of(step.code),
        }
    }

    /// Whether this check counts toward the lockout on repeated failed checks.
    pub fn counts_toward_lockout(&self) -> bool {
        self.outcome().counts_toward_lockout()
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
        // EG documents no error answers: a wrong key and an unknown clinic may come back as
        // either, so its messages name both values.
        let pair_unconfirmed = system.id == "pasientsky";
        let ext_id = system
            .field(FieldId::ExternalId)
            .map(|f| f.label.get(lang))
            .unwrap_or_default();
        use CheckCode::*;
        match self.code {
            Ok if self.step == StepId::ClinicFound && system.uses(FieldId::BookingUrl) => {
                if nb {
                    format!("Bookingsiden finnes hos {s}.")
                } else {
                    format!("The booking page exists at {s}.")
                }
            }
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
            NotVerifiable if self.step == StepId::OnlineBookingOpen && nb => format!(
                "Kan ikke sjekkes: {s} har ikke et åpent API, så vi kan ikke se om kalenderen er åpen for nettbooking. {s} bekrefter oppsettet før integrasjonen slås på; kontakt {s} ({c}) ved spørsmål."
            ),
            NotVerifiable if self.step == StepId::OnlineBookingOpen => format!(
                "Cannot be checked: {s} has no public API, so we cannot see whether the calendar is open for online booking. {s} confirms the set-up before the integration is switched on; contact {s} ({c}) with questions."
            ),
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
            ApiKeyRejected if pair_unconfirmed && nb => format!(
                "{s} godtok ikke API-nøkkelen for klinikken med denne {ext_id}. Sjekk at begge er nøyaktig det {v} sendte for denne klinikken, og at hele nøkkelen er limt inn uten mellomrom eller linjeskift. Stemmer de, kontakt {s} ({c}).",
                v = system.vendor
            ),
            ApiKeyRejected if pair_unconfirmed => format!(
                "{s} did not accept the API key for the clinic with this {ext_id}. Check that both are exactly what {v} sent for this clinic, and that the whole key was pasted without spaces or line breaks. If they are right, contact {s} ({c}).",
                v = system.vendor
            ),
            ApiKeyRejected if system.id == "easypractice" && nb => format!(
                "{s} avviste tokenet: det er feil, eller det er slettet eller trukket tilbake. Sjekk at hele tokenet er limt inn, eller lag et nytt i innstillingene til appen «API» i {s} (med tilgangen calendars-read)."
            ),
            ApiKeyRejected if system.id == "easypractice" => format!(
                "{s} rejected the token: it is wrong, or it was deleted or revoked. Check that the whole token was pasted, or create a new one in the settings of the \"API\" app in {s} (with the scope calendars-read)."
            ),
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
            ClinicNotFound if pair_unconfirmed && nb => format!(
                "{s} fant ingen klinikk med denne {ext_id} som API-nøkkelen gir tilgang til. Sjekk at begge er nøyaktig det {v} sendte for denne klinikken. Stemmer de, kontakt {s} ({c}).",
                v = system.vendor
            ),
            ClinicNotFound if pair_unconfirmed => format!(
                "{s} found no clinic with this {ext_id} that the API key gives access to. Check that both are exactly what {v} sent for this clinic. If they are right, contact {s} ({c}).",
                v = system.vendor
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
            BookingPageNotFound if nb => format!(
                "Det finnes ingen side på denne {label} hos {s}. Sjekk at du har limt inn hele adressen {s} oppga, eller kontakt {s} ({c})."
            ),
            BookingPageNotFound => format!(
                "There is no page at this {label} at {s}. Check that you pasted the whole address {s} gave you, or contact {s} ({c})."
            ),
            KeyLacksCalendarAccess if nb => format!(
                "{s} godtok tokenet, men det har ikke tilgang til kalenderne. Lag et nytt personlig tilgangstoken i innstillingene til appen «API» i {s} med tilgangen calendars-read (tilgangene til et token kan ikke endres etterpå), og lim det inn her."
            ),
            KeyLacksCalendarAccess => format!(
                "{s} accepted the token, but it has no access to the calendars. Create a new personal access token in the settings of the \"API\" app in {s} with the scope calendars-read (a token's scopes cannot be changed later), and paste it here."
            ),
            NoOnlineBookingCalendar if pair_unconfirmed && nb => format!(
                "Ingen kalender er åpen for nettbooking i {s}. Sjekk i {s} at behandleren eier kalenderen, at kalenderen er åpen for nettbooking, og at timetypene er merket «Kan bestilles online». Prøv så igjen. Kontakt {s} ({c}) ved behov."
            ),
            NoOnlineBookingCalendar if pair_unconfirmed => format!(
                "No calendar is open for online booking in {s}. Check in {s} that the therapist owns the calendar, that the calendar is open for online booking, and that the appointment types are marked \"Kan bestilles online\" (bookable online). Then try again. Contact {s} ({c}) if needed."
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

    /// Marks a step the vendor's answer cannot settle.
    pub(crate) fn not_verifiable(&mut self, step: StepId) {
        if let Some(s) = self.get(step) {
            s.status = StepStatus::NotVerifiable;
            s.code = CheckCode::NotVerifiable;
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
            (CheckCode::BookingPageNotFound, CheckOutcome::Rejected),
            (CheckCode::HostNotAllowed, CheckOutcome::InputRefused),
            (CheckCode::VendorTimeout, CheckOutcome::Unavailable),
            (CheckCode::VendorError, CheckOutcome::Unavailable),
            (CheckCode::RedirectRefused, CheckOutcome::Unavailable),
            (CheckCode::ResponseTooLarge, CheckOutcome::Unavailable),
            (CheckCode::VendorBadResponse, CheckOutcome::Unavailable),
            (
                CheckCode::NoOnlineBookingCalendar,
                CheckOutcome::SetupIncomplete,
            ),
            (
                CheckCode::KeyLacksCalendarAccess,
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
    fn a_step_that_cannot_be_verified_does_not_stop_a_success() {
        let extensor = catalog::system("extensor").unwrap();
        let steps = [
            StepId::VendorReachable,
            StepId::ClinicFound,
            StepId::OnlineBookingOpen,
        ];
        let mut plan = Plan::new(extensor, &steps);
        plan.ok(StepId::VendorReachable);
        plan.ok(StepId::ClinicFound);
        plan.not_verifiable(StepId::OnlineBookingOpen);
        let report = plan.finish();
        assert!(report.succeeded());
        assert_eq!(report.outcome(), CheckOutcome::Success);
        assert!(!report.counts_toward_lockout());
        let json = report.to_json(Lang::En);
        assert_eq!(json["steps"][2]["status"], "not_verifiable");
        assert_eq!(json["steps"][2]["code"], "not_verifiable");
        let en = json["steps"][2]["message"].as_str().unwrap();
        assert!(en.contains("Extensor 05 has no public API"), "{en}");
        let nb = report.to_json(Lang::Nb)["steps"][2]["message"].clone();
        assert!(
            nb.as_str().unwrap().contains("har ikke et åpent API"),
            "{nb}"
        );
        assert_eq!(
            report.to_json(Lang::Nb)["steps"][1]["message"],
            "Bookingsiden finnes hos Extensor 05."
        );
        // Unverifiable alone is not a success, nor is a step left unchecked.
        let mut plan = Plan::new(extensor, &steps[2..]);
        plan.not_verifiable(StepId::OnlineBookingOpen);
        assert!(!plan.finish().succeeded());
        let mut plan = Plan::new(extensor, &steps);
        plan.ok(StepId::VendorReachable);
        plan.not_verifiable(StepId::OnlineBookingOpen);
        let report = plan.finish();
        assert!(!report.succeeded());
        assert_eq!(report.outcome(), CheckOutcome::Unavailable);
    }

    /// The table in docs/vendor-contracts.md, "Which failures count toward the lockout", is
    /// what [`outcome_of`] does: same codes, same outcome, same answer to "counts", row by row.
    #[test]
    fn the_documented_lockout_table_is_the_code() {
        let section = catalog::contracts_doc_section("Which failures count toward the lockout");
        let mut documented = Vec::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let ticked = |cell: &str| cell.split('`').nth(1).unwrap_or_default().to_owned();
            let code: CheckCode = serde_json::from_value(Value::String(ticked(cells[0]))).unwrap();
            assert!(
                code != CheckCode::Unknown || ticked(cells[0]) == "unknown",
                "{line}: not a code"
            );
            let outcome = outcome_of(code);
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                ticked(cells[1]),
                "{line}"
            );
            let counts = match cells[2] {
                "yes" => true,
                "no" => false,
                other => panic!("{line}: {other:?} is neither yes nor no"),
            };
            assert_eq!(outcome.counts_toward_lockout(), counts, "{line}");
            // Through a whole report, as the booking routes see it.
            let report = Plan::new(pasientsky(), &ALL).fail(StepId::KeyAccepted, code, None);
            assert_eq!(report.counts_toward_lockout(), counts, "{line}");
            assert!(!documented.contains(&code), "{line} twice");
            documented.push(code);
        }
        use CheckCode::*;
        let not_failures = [Ok, NotChecked, NotVerifiable];
        for code in CheckCode::ALL {
            assert_eq!(
                documented.contains(&code),
                !not_failures.contains(&code),
                "{code:?}: every failure code has a row, and only those"
            );
        }
        let counted: Vec<_> = documented
            .iter()
            .filter(|c| outcome_of(**c).counts_toward_lockout())
            .collect();
        assert_eq!(
            counted,
            [
                &ApiKeyRejected,
                &ClinicNotFound,
                &DepartmentNotFound,
                &BookingPageNotFound
            ]
        );
    }

    #[test]
    fn pasientsky_messages_stay_right_whichever_error_eg_sends() {
        let step = |step, code, field| CheckStep {
            step,
            status: StepStatus::Failed,
            code,
            field: Some(field),
        };
        let key = step(
            StepId::KeyAccepted,
            CheckCode::ApiKeyRejected,
            FieldId::ApiKey,
        );
        let clinic = step(
            StepId::ClinicFound,
            CheckCode::ClinicNotFound,
            FieldId::ExternalId,
        );
        for s in [&key, &clinic] {
            let nb = s.message(pasientsky(), Lang::Nb);
            let en = s.message(pasientsky(), Lang::En);
            for (text, names) in [
                (&nb, ["API-nøkkel", "Ekstern ID"]),
                (&en, ["API key", "External ID"]),
            ] {
                for name in names {
                    assert!(text.contains(name), "{text}");
                }
            }
        }
        let none = CheckStep {
            step: StepId::OnlineBookingOpen,
            status: StepStatus::Failed,
            code: CheckCode::NoOnlineBookingCalendar,
            field: None,
        };
        assert!(
            none.message(pasientsky(), Lang::Nb)
                .contains("«Kan bestilles online»")
        );
        assert!(
            none.message(pasientsky(), Lang::En)
                .contains("Kan bestilles online")
        );
    }

    #[test]
    fn easypractice_tells_a_missing_scope_from_a_wrong_token() {
        let ep = catalog::system("easypractice").unwrap();
        let step = |code| CheckStep {
            step: StepId::KeyAccepted,
            status: StepStatus::Failed,
            code,
            field: Some(FieldId::ApiKey),
        };
        let scope = step(CheckCode::KeyLacksCalendarAccess);
        let nb = scope.message(ep, Lang::Nb);
        assert!(
            nb.contains("calendars-read") && nb.contains("«API»"),
            "{nb}"
        );
        let en = scope.message(ep, Lang::En);
        assert!(en.contains("no access to the calendars") && en.contains("calendars-read"));
        let wrong = step(CheckCode::ApiKeyRejected).message(ep, Lang::En);
        assert!(
            wrong.contains("wrong, or it was deleted or revoked"),
            "{wrong}"
        );
        assert_ne!(wrong, en);
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
            nb.starts_with(
                "EG Pasientsky godtok ikke API-nøkkelen for klinikken med denne Ekstern ID."
            ),
            "{nb}"
        );
        assert!(nb.contains("nøyaktig det EG Norge sendte"), "{nb}");
        assert!(
            nb.contains("support@patientsky.com, tlf. +47 21 93 19 00"),
            "{nb}"
        );
        let en = step.message(pasientsky(), Lang::En);
        assert!(
            en.starts_with("EG Pasientsky did not accept the API key for the clinic"),
            "{en}"
        );
        let hano = step.message(catalog::system("hano").unwrap(), Lang::Nb);
        assert!(hano.starts_with("HANO avviste API-nøkkelen."), "{hano}");
        assert!(
            hano.contains("hele nøkkelen fra e-posten fra HANO AS"),
            "{hano}"
        );
        assert!(
            en.contains("support@patientsky.com, phone +47 21 93 19 00"),
            "{en}"
        );
    }

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for system in catalog::systems() {
            for code in CheckCode::ALL {
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
