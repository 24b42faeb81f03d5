//! What the administrator reads for each step of a report, in either language: what happened
//! and what to do, naming the system and its support contact where the vendor is the one to
//! ask. Rendered when a report is shown, never stored.

use super::{CheckCode, CheckStep, StepId};
use crate::catalog::{Adapter, BookingSystem, FieldId};
use crate::i18n::Lang;

/// How a system's rejections are worded, where its vendor's answers call for it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wording {
    /// EG documents no error answers: a wrong key and an unknown clinic may come back as
    /// either, so the messages for both name both values.
    KeyAndClinicTogether,
    /// The key is a personal access token from the vendor's "API" app.
    PersonalToken,
    Plain,
}

fn wording(adapter: Adapter) -> Wording {
    match adapter {
        Adapter::Pasientsky => Wording::KeyAndClinicTogether,
        Adapter::EasyPractice => Wording::PersonalToken,
        Adapter::Physica
        | Adapter::Psykbase
        | Adapter::Extensor
        | Adapter::Hano
        | Adapter::Konfidens => Wording::Plain,
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
        let wording = wording(system.adapter);
        let pair_unconfirmed = wording == Wording::KeyAndClinicTogether;
        let token = wording == Wording::PersonalToken;
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
            ApiKeyRejected if token && nb => format!(
                "{s} avviste tokenet: det er feil, eller det er slettet eller trukket tilbake. Sjekk at hele tokenet er limt inn, eller lag et nytt i innstillingene til appen «API» i {s} (med tilgangen calendars-read)."
            ),
            ApiKeyRejected if token => format!(
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

#[cfg(test)]
mod tests {
    use super::super::StepStatus;
    use super::super::tests::{ALL, pasientsky};
    use super::*;
    use crate::catalog;

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
