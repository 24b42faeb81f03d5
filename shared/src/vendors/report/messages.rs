//! What the administrator reads for each step of a report, in either language: what happened
//! and what to do, naming the system and its support contact where the vendor is the one to
//! ask. One text per code (and wording), with `{placeholders}` filled in when a report is
//! shown, never stored.

use super::{CheckCode, CheckStep, StepId};
use crate::catalog::{Adapter, BookingSystem, FieldId, fill};
use crate::i18n::{Lang, Text};

/// How a system's rejections are worded, where its vendor's answers call for it.
#[derive(Clone, Copy)]
enum Wording {
    /// EG Pasientsky. EG documents no error answers: a wrong key and an unknown clinic may
    /// come back as either, so the messages for both name both values. Its calendars are
    /// opened for online booking per appointment type («Kan bestilles online»), so the
    /// calendar advice names that marking.
    Eg,
    /// The key is a personal access token from the vendor's "API" app.
    PersonalToken,
    Plain,
}

fn wording(adapter: Adapter) -> Wording {
    match adapter {
        Adapter::Pasientsky => Wording::Eg,
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
        let label = |id| system.field(id).map(|f| f.label.get(lang));
        let lookup = |name: &str| -> Option<String> {
            Some(match name {
                "system" => system.name.to_owned(),
                "vendor" => system.vendor.to_owned(),
                "contact" => contact(system, lang),
                "field" => self.field.and_then(label).map_or_else(
                    || lang.pick("feltet", "the field").to_owned(),
                    str::to_owned,
                ),
                "external_id" => label(FieldId::ExternalId).unwrap_or_default().to_owned(),
                "hosts" => system.allowed_hosts.join(", "),
                _ => return None,
            })
        };
        fill(self.text(system).get(lang), &lookup)
    }

    /// The text for this step's code, in the wording its system's vendor calls for.
    fn text(&self, system: &BookingSystem) -> Text {
        let wording = wording(system.adapter);
        let url = self.field == Some(FieldId::BookingUrl);
        use CheckCode::*;
        match self.code {
            Ok => match self.step {
                StepId::VendorReachable => Text::new("{system} svarte.", "{system} answered."),
                StepId::KeyAccepted => Text::new(
                    "{system} godtok API-nøkkelen.",
                    "{system} accepted the API key.",
                ),
                StepId::ClinicFound if system.uses(FieldId::BookingUrl) => Text::new(
                    "Bookingsiden finnes hos {system}.",
                    "The booking page exists at {system}.",
                ),
                StepId::ClinicFound => {
                    Text::new("{system} fant klinikken.", "{system} found the clinic.")
                }
                StepId::DepartmentFound => Text::new(
                    "{system} fant avdelingen.",
                    "{system} found the department.",
                ),
                StepId::OnlineBookingOpen => Text::new(
                    "Minst én kalender er åpen for nettbooking i {system}.",
                    "At least one calendar is open for online booking in {system}.",
                ),
            },
            NotChecked => Text::new(
                "Ikke sjekket, fordi et tidligere steg feilet.",
                "Not checked, because an earlier step failed.",
            ),
            NotVerifiable if self.step == StepId::OnlineBookingOpen => Text::new(
                "Kan ikke sjekkes: {system} har ikke et åpent API, så vi kan ikke se om kalenderen er åpen for nettbooking. {system} bekrefter oppsettet før integrasjonen slås på; kontakt {system} ({contact}) ved spørsmål.",
                "Cannot be checked: {system} has no public API, so we cannot see whether the calendar is open for online booking. {system} confirms the set-up before the integration is switched on; contact {system} ({contact}) with questions.",
            ),
            NotVerifiable => Text::new(
                "Kunne ikke sjekkes, fordi {system} ikke viste noen kalender.",
                "Could not be checked, because {system} showed no calendar.",
            ),
            VendorNotConfigured => Text::new(
                "Koblingen til {system} er ikke satt opp hos oss ennå. Detaljene er lagret; prøv igjen senere.",
                "The connection to {system} is not set up on our side yet. The details are saved; try again later.",
            ),
            VendorUnreachable => Text::new(
                "Vi fikk ikke kontakt med {system}. Prøv igjen om litt. Hvis det vedvarer, kontakt {system} ({contact}).",
                "We could not reach {system}. Try again in a moment. If it persists, contact {system} ({contact}).",
            ),
            VendorTimeout => Text::new(
                "{system} svarte ikke i tide. Prøv igjen om litt. Hvis det vedvarer, kontakt {system} ({contact}).",
                "{system} did not answer in time. Try again in a moment. If it persists, contact {system} ({contact}).",
            ),
            VendorError => Text::new(
                "{system} svarte med en feil på sin side. Prøv igjen senere. Hvis det vedvarer, kontakt {system} ({contact}).",
                "{system} answered with an error on its side. Try again later. If it persists, contact {system} ({contact}).",
            ),
            VendorBadResponse => Text::new(
                "{system} svarte, men ikke slik vi forventet. Prøv igjen senere. Hvis det vedvarer, kontakt {system} ({contact}).",
                "{system} answered, but not as expected. Try again later. If it persists, contact {system} ({contact}).",
            ),
            RedirectRefused => Text::new(
                "{system} svarte med en videresending til en annen adresse. Av sikkerhetshensyn følger vi ikke videresendinger. Kontakt {system} ({contact}).",
                "{system} answered with a redirect to another address. For security we do not follow redirects. Contact {system} ({contact}).",
            ),
            ResponseTooLarge => Text::new(
                "{system} sendte et større svar enn vi tar imot. Kontakt {system} ({contact}).",
                "{system} sent a larger answer than we accept. Contact {system} ({contact}).",
            ),
            ApiKeyRejected => match wording {
                Wording::Eg => Text::new(
                    "{system} godtok ikke API-nøkkelen for klinikken med denne {external_id}. Sjekk at begge er nøyaktig det {vendor} sendte for denne klinikken, og at hele nøkkelen er limt inn uten mellomrom eller linjeskift. Stemmer de, kontakt {system} ({contact}).",
                    "{system} did not accept the API key for the clinic with this {external_id}. Check that both are exactly what {vendor} sent for this clinic, and that the whole key was pasted without spaces or line breaks. If they are right, contact {system} ({contact}).",
                ),
                Wording::PersonalToken => Text::new(
                    "{system} avviste tokenet: det er feil, eller det er slettet eller trukket tilbake. Sjekk at hele tokenet er limt inn, eller lag et nytt i innstillingene til appen «API» i {system} (med tilgangen calendars-read).",
                    "{system} rejected the token: it is wrong, or it was deleted or revoked. Check that the whole token was pasted, or create a new one in the settings of the \"API\" app in {system} (with the scope calendars-read).",
                ),
                Wording::Plain => Text::new(
                    "{system} avviste API-nøkkelen. Sjekk at hele nøkkelen fra e-posten fra {vendor} er limt inn, uten mellomrom eller linjeskift. Stemmer den, kontakt {system} ({contact}).",
                    "{system} rejected the API key. Check that the whole key from {vendor}'s e-mail was pasted, without spaces or line breaks. If it is right, contact {system} ({contact}).",
                ),
            },
            ClinicNotFound if url => Text::new(
                "{system} kjenner ikke igjen {field}. Sjekk at du har limt inn hele adressen {system} oppga, eller kontakt {system} ({contact}).",
                "{system} does not recognise the {field}. Check that you pasted the whole address {system} gave you, or contact {system} ({contact}).",
            ),
            ClinicNotFound => match wording {
                Wording::Eg => Text::new(
                    "{system} fant ingen klinikk med denne {external_id} som API-nøkkelen gir tilgang til. Sjekk at begge er nøyaktig det {vendor} sendte for denne klinikken. Stemmer de, kontakt {system} ({contact}).",
                    "{system} found no clinic with this {external_id} that the API key gives access to. Check that both are exactly what {vendor} sent for this clinic. If they are right, contact {system} ({contact}).",
                ),
                Wording::PersonalToken | Wording::Plain => Text::new(
                    "{system} fant ingen klinikk med denne {field}. Sjekk verdien mot det {system} oppga, eller kontakt {system} ({contact}).",
                    "{system} found no clinic with this {field}. Check the value against what {system} gave you, or contact {system} ({contact}).",
                ),
            },
            DepartmentNotFound => Text::new(
                "{system} fant ingen kalender som hører til avdelingen med denne {field}. Sjekk ID-en, og at avdelingens kalendere er åpne for nettbooking. Kontakt {system} ({contact}) ved behov.",
                "{system} found no calendar belonging to the department with this {field}. Check the ID, and that the department's calendars are open for online booking. Contact {system} ({contact}) if needed.",
            ),
            BookingPageNotFound => Text::new(
                "Det finnes ingen side på denne {field} hos {system}. Sjekk at du har limt inn hele adressen {system} oppga, eller kontakt {system} ({contact}).",
                "There is no page at this {field} at {system}. Check that you pasted the whole address {system} gave you, or contact {system} ({contact}).",
            ),
            KeyLacksCalendarAccess => Text::new(
                "{system} godtok tokenet, men det har ikke tilgang til kalenderne. Lag et nytt personlig tilgangstoken i innstillingene til appen «API» i {system} med tilgangen calendars-read (tilgangene til et token kan ikke endres etterpå), og lim det inn her.",
                "{system} accepted the token, but it has no access to the calendars. Create a new personal access token in the settings of the \"API\" app in {system} with the scope calendars-read (a token's scopes cannot be changed later), and paste it here.",
            ),
            NoOnlineBookingCalendar => match wording {
                Wording::Eg => Text::new(
                    "Ingen kalender er åpen for nettbooking i {system}. Sjekk i {system} at behandleren eier kalenderen, at kalenderen er åpen for nettbooking, og at timetypene er merket «Kan bestilles online». Prøv så igjen. Kontakt {system} ({contact}) ved behov.",
                    "No calendar is open for online booking in {system}. Check in {system} that the therapist owns the calendar, that the calendar is open for online booking, and that the appointment types are marked \"Kan bestilles online\" (bookable online). Then try again. Contact {system} ({contact}) if needed.",
                ),
                Wording::PersonalToken | Wording::Plain => Text::new(
                    "Ingen kalender er åpen for nettbooking i {system}. Åpne minst én behandlers kalender for nettbooking (behandleren må eie kalenderen), og prøv igjen. Kontakt {system} ({contact}) ved behov.",
                    "No calendar is open for online booking in {system}. Open at least one therapist's calendar for online booking (the therapist must own the calendar), then try again. Contact {system} ({contact}) if needed.",
                ),
            },
            Required => Text::new(
                "Fyll inn {field}, og prøv igjen.",
                "Enter the {field}, then try again.",
            ),
            InvalidDetails => Text::new(
                "{field} har feil format. Rett det, og prøv igjen.",
                "The {field} has the wrong format. Fix it, then try again.",
            ),
            HttpsRequired => Text::new(
                "{field} må begynne med https://.",
                "The {field} must start with https://.",
            ),
            HostNotAllowed => Text::new(
                "{field} må være en adresse på {system} sitt eget domene ({hosts}), uten brukernavn, IP-adresse eller portnummer.",
                "The {field} must be an address on {system}'s own domain ({hosts}), without user name, IP address or port number.",
            ),
            AddressNotAllowed => Text::new(
                "Adressen i {field} peker til et nettverk vi ikke kobler oss til. Sjekk adressen, eller kontakt {system} ({contact}).",
                "The address in the {field} points to a network we do not connect to. Check the address, or contact {system} ({contact}).",
            ),
            Unknown => Text::new("Ukjent resultat. Prøv igjen.", "Unknown result. Try again."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::StepStatus;
    use super::super::tests::ALL;
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
            let nb = s.message(catalog::sys("pasientsky"), Lang::Nb);
            let en = s.message(catalog::sys("pasientsky"), Lang::En);
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
            none.message(catalog::sys("pasientsky"), Lang::Nb)
                .contains("«Kan bestilles online»")
        );
        assert!(
            none.message(catalog::sys("pasientsky"), Lang::En)
                .contains("Kan bestilles online")
        );
    }

    #[test]
    fn easypractice_tells_a_missing_scope_from_a_wrong_token() {
        let ep = catalog::sys("easypractice");
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
        let nb = step.message(catalog::sys("pasientsky"), Lang::Nb);
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
        let en = step.message(catalog::sys("pasientsky"), Lang::En);
        assert!(
            en.starts_with("EG Pasientsky did not accept the API key for the clinic"),
            "{en}"
        );
        let hano = step.message(catalog::sys("hano"), Lang::Nb);
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
                    assert!(!nb.contains('{') && !en.contains('{'), "{nb} / {en}");
                }
            }
        }
    }
}
