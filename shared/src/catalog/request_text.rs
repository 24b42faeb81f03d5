//! The "Forespør detaljer" request: the e-mail to a system's support contact asking for the
//! details a location needs, filled from our own records only.

use super::BookingSystem;
use crate::i18n::{Lang, Text};

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

/// Puts each `{name}` of `template` in what `lookup` gives for it, in one pass, so that a value
/// is never expanded again; a name `lookup` does not know stays as it is. The request's text
/// and the reports' messages are filled this way.
pub(crate) fn fill(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FieldId, sys};

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
}
