//! Every text of the API layer that a person reads, in Norwegian (bokmål) and English, kept in
//! one place so wording is reviewed together. Vendor- and catalog-specific texts live with the
//! catalog.

use crate::i18n::Text;

pub const PROBLEM_TYPE_BASE: &str = "https://bookinglink.no/problems/";

pub const UNAUTHENTICATED: Text = Text::new("Ikke innlogget", "Not signed in");
pub const UNAUTHENTICATED_DETAIL: Text = Text::new(
    "Vi vet ikke hvem du er. Logg inn på nytt og prøv igjen.",
    "We could not tell who you are. Sign in again and retry.",
);
pub const NOT_FOUND: Text = Text::new("Finnes ikke", "Not found");
pub const NOT_FOUND_DETAIL: Text = Text::new(
    "Vi fant ikke det du spurte etter, eller du har ikke tilgang til det. Sjekk at du har valgt riktig firma og lokasjon.",
    "We could not find what you asked for, or you do not have access to it. Check that you picked the right company and location.",
);
pub const ROUTE_NOT_FOUND: Text = Text::new("Ukjent adresse", "Unknown address");
pub const ROUTE_NOT_FOUND_DETAIL: Text = Text::new(
    "Denne adressen finnes ikke i API-et. Sjekk stavemåten og versjonen (/v1/).",
    "This address does not exist in the API. Check the spelling and the version (/v1/).",
);
pub const METHOD_NOT_ALLOWED: Text = Text::new("Metoden er ikke tillatt", "Method not allowed");

pub fn method_not_allowed_detail(allow: &str) -> Text {
    Text::owned(
        format!("Denne adressen støtter bare: {allow}."),
        format!("This address only supports: {allow}."),
    )
}

pub const BAD_REQUEST: Text = Text::new("Ugyldig forespørsel", "Bad request");
pub const INVALID_UTF8_DETAIL: Text = Text::new(
    "Innholdet er ikke gyldig UTF-8-tekst.",
    "The body is not valid UTF-8 text.",
);

pub fn malformed_json_detail(line: usize, column: usize) -> Text {
    Text::owned(
        format!("Innholdet er ikke gyldig JSON (linje {line}, kolonne {column})."),
        format!("The body is not valid JSON (line {line}, column {column})."),
    )
}

pub const BODY_NOT_OBJECT_DETAIL: Text = Text::new(
    "Innholdet må være et JSON-objekt, for eksempel {\"name\": \"...\"}.",
    "The body must be a JSON object, for example {\"name\": \"...\"}.",
);
pub const BODY_REQUIRED_DETAIL: Text = Text::new(
    "Forespørselen mangler innhold. Send et JSON-objekt.",
    "The request has no body. Send a JSON object.",
);
pub const UNKNOWN_FIELDS_DETAIL: Text = Text::new(
    "Forespørselen har felt vi ikke kjenner. Fjern dem og prøv igjen.",
    "The request has fields we do not know. Remove them and retry.",
);
pub const UNKNOWN_FIELD: Text = Text::new("Ukjent felt.", "Unknown field.");
pub const PAYLOAD_TOO_LARGE: Text = Text::new("For stor forespørsel", "Request too large");

pub fn payload_too_large_detail(limit: usize) -> Text {
    let kib = limit / 1024;
    Text::owned(
        format!("Innholdet kan være på høyst {kib} KiB."),
        format!("The body may be at most {kib} KiB."),
    )
}

pub const UNSUPPORTED_MEDIA_TYPE: Text = Text::new("Ukjent innholdstype", "Unsupported media type");
pub const UNSUPPORTED_MEDIA_TYPE_DETAIL: Text = Text::new(
    "Send innholdet som JSON med Content-Type: application/json.",
    "Send the body as JSON with Content-Type: application/json.",
);
pub const VALIDATION_FAILED: Text = Text::new("Ugyldige verdier", "Invalid values");
pub const VALIDATION_FAILED_DETAIL: Text = Text::new(
    "Noen felt må rettes. Se listen over feil.",
    "Some fields need correcting. See the list of errors.",
);
pub const CONFLICT: Text = Text::new("Konflikt", "Conflict");
pub const ORG_NUMBER_TAKEN_DETAIL: Text = Text::new(
    "Et firma med dette organisasjonsnummeret er allerede registrert. Be en administrator for firmaet om å gi deg tilgang.",
    "A company with this organisation number is already registered. Ask one of its administrators to give you access.",
);
pub const ORG_NUMBER_TAKEN_FIELD: Text = Text::new(
    "Organisasjonsnummeret er allerede registrert.",
    "The organisation number is already registered.",
);
pub const VERSION_CONFLICT_DETAIL: Text = Text::new(
    "Lokasjonen er endret av noen andre siden du åpnet den. Last inn siden på nytt, se over endringene og lagre igjen.",
    "The location was changed by someone else since you opened it. Reload the page, review the changes and save again.",
);
pub const PRECONDITION_REQUIRED: Text = Text::new("Versjon mangler", "Version required");
pub const VERSION_REQUIRED_DETAIL: Text = Text::new(
    "Send versjonen du endrer (feltet version eller If-Match), så ingen endringer overskrives.",
    "Send the version you are editing (the version field or If-Match), so no change is overwritten.",
);
pub const VERSION_REQUIRED_FIELD: Text = Text::new(
    "Oppgi versjonen av lokasjonen du endrer.",
    "Give the version of the location you are editing.",
);
pub const INTERNAL: Text = Text::new("Noe gikk galt", "Something went wrong");
pub const INTERNAL_DETAIL: Text = Text::new(
    "Noe gikk galt hos oss. Ingenting er endret. Prøv igjen om litt.",
    "Something went wrong on our side. Nothing was changed. Try again shortly.",
);
pub const UNAVAILABLE: Text = Text::new("Midlertidig utilgjengelig", "Temporarily unavailable");
pub const UNAVAILABLE_DETAIL: Text = Text::new(
    "Tjenesten er midlertidig opptatt. Ingenting er endret. Prøv igjen om noen sekunder.",
    "The service is temporarily busy. Nothing was changed. Try again in a few seconds.",
);

// Field-level messages.

pub const REQUIRED: Text = Text::new("Feltet må fylles ut.", "This field is required.");
pub const NOT_A_STRING: Text = Text::new("Må være tekst.", "Must be text.");
pub const NOT_A_BOOLEAN: Text = Text::new("Må være true eller false.", "Must be true or false.");
pub const NOT_AN_OBJECT: Text = Text::new("Må være et objekt.", "Must be an object.");
pub const NOT_A_VERSION: Text = Text::new(
    "Må være et positivt heltall.",
    "Must be a positive whole number.",
);
pub const EMPTY: Text = Text::new("Kan ikke være tomt.", "Cannot be empty.");
pub const CONTROL_CHARACTERS: Text = Text::new(
    "Inneholder ugyldige tegn (for eksempel linjeskift eller tabulator).",
    "Contains invalid characters (such as line breaks or tabs).",
);

pub fn too_long(max: usize) -> Text {
    Text::owned(
        format!("Kan være på høyst {max} tegn."),
        format!("May be at most {max} characters."),
    )
}

pub const INVALID_EMAIL: Text = Text::new(
    "Ugyldig e-postadresse. Skriv den på formen navn@domene.no.",
    "Invalid e-mail address. Write it as name@domain.com.",
);
pub const INVALID_POSTAL_CODE: Text = Text::new(
    "Postnummeret må være fire sifre, for eksempel 0364.",
    "The postal code must be four digits, for example 0364.",
);
pub const INVALID_ORG_NUMBER_FORMAT: Text = Text::new(
    "Organisasjonsnummeret må være ni sifre, for eksempel 923 609 016.",
    "The organisation number must be nine digits, for example 923 609 016.",
);
pub const INVALID_ORG_NUMBER_CHECKSUM: Text = Text::new(
    "Organisasjonsnummeret finnes ikke (kontrollsifferet stemmer ikke). Sjekk at du har skrevet det riktig.",
    "This organisation number does not exist (its check digit is wrong). Check that you typed it correctly.",
);
pub const INVALID_PHONE: Text = Text::new(
    "Ugyldig telefonnummer. Bruk 8 sifre, eventuelt med landskode, for eksempel +47 22 00 00 00.",
    "Invalid phone number. Use 8 digits, optionally with a country code, for example +47 22 00 00 00.",
);
pub const INVALID_CURSOR: Text = Text::new(
    "Ugyldig sidemarkør. Start listen fra begynnelsen igjen.",
    "Invalid page cursor. Start the list from the beginning again.",
);

pub fn invalid_limit(max: u32) -> Text {
    Text::owned(
        format!("Antall per side må være et heltall fra 1 til {max}."),
        format!("The page size must be a whole number from 1 to {max}."),
    )
}

pub const INVALID_IF_MATCH: Text = Text::new(
    "If-Match må være versjonen du fikk i ETag, for eksempel \"3\".",
    "If-Match must be the version you got in ETag, for example \"3\".",
);
pub const VERSION_MISMATCH: Text = Text::new(
    "Versjonen i If-Match og i feltet version er ulike. Send bare én.",
    "The version in If-Match and in the version field differ. Send only one.",
);
pub const NO_CHANGES: Text = Text::new(
    "Send minst ett felt som skal endres.",
    "Send at least one field to change.",
);

// "Forespør detaljer" (request-details).

pub const UNKNOWN_BOOKING_SYSTEM: Text = Text::new(
    "Ukjent bookingsystem. Velg et av systemene i listen.",
    "Unknown booking system. Pick one of the systems in the list.",
);
pub const TOO_MANY_REQUESTS: Text = Text::new("For mange forespørsler", "Too many requests");

/// `when_nb`/`when_en`: the Oslo date and time the next send is allowed.
pub fn details_sender_limit_detail(limit: u32, when_nb: &str, when_en: &str) -> Text {
    Text::owned(
        format!(
            "Du har allerede sendt {limit} forespørsler om detaljer det siste døgnet, fra alle lokasjonene dine til sammen. Du kan sende en ny fra {when_nb}. Til da kan du kopiere teksten og sende den fra din egen e-post."
        ),
        format!(
            "You have already sent {limit} requests for details in the last 24 hours, from all your locations together. You can send another from {when_en}. Until then, you can copy the text and send it from your own e-mail."
        ),
    )
}

pub fn details_send_limit_detail(
    system_name: &str,
    limit: u32,
    when_nb: &str,
    when_en: &str,
) -> Text {
    Text::owned(
        format!(
            "Det er allerede sendt {limit} forespørsler til {system_name} for denne lokasjonen det siste døgnet. Du kan sende en ny fra {when_nb}."
        ),
        format!(
            "{limit} requests have already been sent to {system_name} for this location in the last 24 hours. You can send another from {when_en}."
        ),
    )
}

pub const ADMIN_EMAIL_MISSING_DETAIL: Text = Text::new(
    "Vi har ingen e-postadresse for deg, så leverandøren kan ikke svare deg. Legg til e-postadressen i profilen din og logg inn på nytt, eller kopier teksten og send den selv.",
    "We have no e-mail address for you, so the vendor could not reply to you. Add your e-mail address to your profile and sign in again, or copy the text and send it yourself.",
);
pub const MAIL_NOT_SENT: Text = Text::new("E-posten ble ikke sendt", "The e-mail was not sent");
pub const MAIL_REJECTED_DETAIL: Text = Text::new(
    "E-posttjenesten avviste forespørselen, så den er ikke sendt og teller ikke med. Kopier teksten og send den fra din egen e-post, og gi oss gjerne beskjed.",
    "The e-mail service rejected the request, so it was not sent and does not count. Copy the text and send it from your own e-mail, and please let us know.",
);
pub const MAIL_FAILED_DETAIL: Text = Text::new(
    "Vi fikk ikke sendt forespørselen. Den er ikke sendt og teller ikke med. Prøv igjen om litt, eller kopier teksten og send den selv.",
    "We could not send the request. It was not sent and does not count. Try again shortly, or copy the text and send it yourself.",
);
pub const MAIL_THROTTLED_DETAIL: Text = Text::new(
    "E-posttjenesten er travel akkurat nå. Forespørselen er ikke sendt og teller ikke med. Prøv igjen om et minutt.",
    "The e-mail service is busy right now. The request was not sent and does not count. Try again in a minute.",
);
pub const MAIL_UNAVAILABLE_DETAIL: Text = Text::new(
    "Utsending av e-post er midlertidig slått av. Forespørselen er ikke sendt og teller ikke med. Kopier teksten og send den selv, eller prøv igjen senere.",
    "Sending e-mail is temporarily switched off. The request was not sent and does not count. Copy the text and send it yourself, or try again later.",
);

// Booking connection: "Test kobling" and "Test og lagre".

pub const SUCCESS: Text = Text::new("Suksess", "Success");
pub const CHECK_FAILED: Text = Text::new(
    "Koblingen virker ikke ennå. Se stegene under.",
    "The connection does not work yet. See the steps below.",
);
pub const CONNECTION_TEST_FAILED: Text = Text::new("Testen feilet", "The test failed");
pub const UNKNOWN_SYSTEM: Text = Text::new(
    "Velg et bookingsystem fra listen.",
    "Pick a booking system from the list.",
);
pub const API_KEY_REQUIRED: Text = Text::new(
    "Lim inn API-nøkkelen leverandøren sendte deg.",
    "Paste the API key the vendor sent you.",
);
pub const STORED_KEY_NOT_REUSABLE: Text = Text::new(
    "Du har byttet system eller adresse, så den lagrede API-nøkkelen kan ikke brukes her. Lim inn nøkkelen på nytt.",
    "You changed the system or address, so the stored API key cannot be used here. Paste the key again.",
);
pub const TOO_MANY_ATTEMPTS: Text = Text::new("For mange forsøk", "Too many attempts");

pub fn too_many_attempts(oslo_time: &str, utc: &str) -> Text {
    Text::owned(
        format!(
            "Du har hatt fem mislykkede tester på under en time. Av sikkerhetshensyn kan du prøve igjen kl. {oslo_time}. Sjekk opplysningene fra leverandøren før du prøver igjen."
        ),
        format!(
            "You have had five failed tests within an hour. For security you can try again at {utc}. Check the details from the vendor before you retry."
        ),
    )
}

pub fn location_locked(oslo_time: &str, utc: &str) -> Text {
    Text::owned(
        format!(
            "Det har vært for mange mislykkede tester på denne lokasjonen den siste timen. Av sikkerhetshensyn kan ingen teste den igjen før kl. {oslo_time}. Sjekk opplysningene fra leverandøren før dere prøver igjen."
        ),
        format!(
            "There have been too many failed tests on this location within the last hour. For security nobody can test it again before {utc}. Check the details from the vendor before you retry."
        ),
    )
}

pub fn stored_key_deleted(oslo_when: &str, utc: &str) -> Text {
    Text::owned(
        format!(
            "Det valgte systemet bruker ingen API-nøkkel, så den lagrede nøkkelen er fjernet. Den slettes for godt {oslo_when} og kan gjenopprettes av plattformens drift frem til da."
        ),
        format!(
            "The chosen system uses no API key, so the stored key has been removed. It is deleted for good at {utc} and can be restored by the platform's operators until then."
        ),
    )
}

pub const CHECKS_IN_PROGRESS: Text = Text::new(
    "Du har flere tester som pågår. Vent noen sekunder og prøv igjen.",
    "You have several tests running. Wait a few seconds and try again.",
);

// Revalidation notices (Norwegian: they go to the clinic's administrators).

pub fn connection_broken_mail(location: &str, system: &str, failed_step: &str) -> (String, String) {
    (
        format!("Bookingkoblingen for {location} virker ikke lenger"),
        format!(
            "Hei!\n\n\
             Da vi sjekket koblingen mellom lokasjonen {location} og {system} i natt, feilet den:\n\n\
             {failed_step}\n\n\
             Så lenge koblingen ikke virker, kan forsikringsselskapene ikke booke time hos dere på nett.\n\n\
             Slik retter du det: logg inn i Bookinglink, velg firmaet og lokasjonen {location}, trykk «Endre», \
             kontroller opplysningene fra {system} og trykk «Test kobling». Når testen viser «Suksess», trykker du «Test og lagre».\n\n\
             Vi sier fra igjen når koblingen virker.\n\n\
             Hilsen Bookinglink\n"
        ),
    )
}

pub fn connection_recovered_mail(location: &str, system: &str) -> (String, String) {
    (
        format!("Bookingkoblingen for {location} virker igjen"),
        format!(
            "Hei!\n\n\
             Koblingen mellom lokasjonen {location} og {system} virker igjen. \
             Forsikringsselskapene kan booke time hos dere på nett som før.\n\n\
             Hilsen Bookinglink\n"
        ),
    )
}

// Who administers which company: operators, invitations, administrators.

pub const FORBIDDEN: Text = Text::new("Ikke tillatt", "Not allowed");
pub const OPERATOR_ONLY_DETAIL: Text = Text::new(
    "Bare plattformens driftsansvarlige kan gjøre dette. Ta kontakt med Bookinglink hvis firmaet ditt mangler eller trenger en ny administrator.",
    "Only the platform's operators can do this. Contact Bookinglink if your company is missing or needs a new administrator.",
);
pub const LAST_ADMINISTRATOR_DETAIL: Text = Text::new(
    "Dette er firmaets eneste administrator. Inviter en ny administrator og la vedkommende godta invitasjonen før du fjerner denne.",
    "This is the company's only administrator. Invite a new administrator and let them accept before you remove this one.",
);
pub const CHANGED_MEANWHILE_DETAIL: Text = Text::new(
    "Noen andre endret dette samtidig. Last inn siden på nytt og prøv igjen.",
    "Someone else changed this at the same time. Reload the page and try again.",
);
pub const ALREADY_ADMINISTRATOR_DETAIL: Text = Text::new(
    "Denne e-postadressen tilhører allerede en administrator av firmaet.",
    "This e-mail address already belongs to an administrator of the company.",
);
pub const ALREADY_ADMINISTRATOR_FIELD: Text =
    Text::new("Er allerede administrator.", "Is already an administrator.");

pub fn too_many_locations_detail(limit: u32) -> Text {
    Text::owned(
        format!(
            "Firmaet har allerede {limit} lokasjoner, så mange som det kan ha. Bruk en av de eksisterende lokasjonene, eller kontakt Bookinglink hvis firmaet trenger flere."
        ),
        format!(
            "The company already has {limit} locations, as many as it can have. Use one of the existing locations, or contact Bookinglink if the company needs more."
        ),
    )
}

pub fn too_many_locations_field(limit: u32) -> Text {
    Text::owned(
        format!("Firmaet har nådd grensen på {limit} lokasjoner."),
        format!("The company has reached its limit of {limit} locations."),
    )
}

pub fn too_many_invitations_detail(limit: usize) -> Text {
    Text::owned(
        format!(
            "Firmaet har allerede {limit} ubesvarte invitasjoner. Trekk tilbake noen av dem før du inviterer flere."
        ),
        format!(
            "The company already has {limit} unanswered invitations. Revoke some of them before you invite more."
        ),
    )
}

pub fn invitation_resend_limit_detail(limit: u32) -> Text {
    Text::owned(
        format!(
            "Invitasjonen til denne adressen er allerede sendt {limit} ganger i dag. Du kan sende den igjen i morgen."
        ),
        format!(
            "The invitation to this address has already been sent {limit} times today. You can send it again tomorrow."
        ),
    )
}

pub const UNKNOWN_LANGUAGE: Text = Text::new(
    "Språket må være nb (norsk) eller en (engelsk).",
    "The language must be nb (Norwegian) or en (English).",
);
pub const INVITATION_FORBIDDEN: Text = Text::new(
    "Invitasjonen gjelder ikke deg",
    "This invitation is not for you",
);
pub const INVITATION_TOKEN_INVALID_DETAIL: Text = Text::new(
    "Lenken i invitasjonen er ikke gyldig. Bruk den nyeste invitasjonen du har fått på e-post, eller be om en ny.",
    "The link in the invitation is not valid. Use the latest invitation you received by e-mail, or ask for a new one.",
);
pub const EMAIL_NOT_VERIFIED_DETAIL: Text = Text::new(
    "Vi vet ikke sikkert hvilken e-postadresse du har. Bekreft e-postadressen din hos innloggingstjenesten, logg inn på nytt og prøv igjen.",
    "We cannot be sure of your e-mail address. Verify your e-mail address with the sign-in service, sign in again and retry.",
);
pub const INVITATION_EMAIL_MISMATCH_DETAIL: Text = Text::new(
    "Invitasjonen ble sendt til en annen e-postadresse enn den du er logget inn med. Logg inn med adressen invitasjonen gikk til.",
    "The invitation was sent to another e-mail address than the one you are signed in with. Sign in with the address the invitation went to.",
);
pub const INVITATION_GONE: Text = Text::new(
    "Invitasjonen gjelder ikke lenger",
    "The invitation is no longer valid",
);
pub const INVITATION_EXPIRED_DETAIL: Text = Text::new(
    "Invitasjonen er utløpt. Be en administrator for firmaet om å sende den på nytt.",
    "The invitation has expired. Ask one of the company's administrators to send it again.",
);
pub const INVITATION_REVOKED_DETAIL: Text = Text::new(
    "Invitasjonen er trukket tilbake. Be en administrator for firmaet om en ny hvis du skal ha tilgang.",
    "The invitation was revoked. Ask one of the company's administrators for a new one if you should have access.",
);
pub const INVITATION_USED_DETAIL: Text = Text::new(
    "Invitasjonen er allerede brukt.",
    "The invitation has already been used.",
);
pub const NO_LOCKOUT_DETAIL: Text = Text::new(
    "Denne brukeren er ikke sperret.",
    "This user is not locked out.",
);

/// The invitation mail: (subject, body). `link` carries the invitation's id and token.
pub fn invitation_mail(
    lang: crate::i18n::Lang,
    company: &str,
    inviter: &str,
    link: &str,
    valid_until_oslo: &str,
) -> (String, String) {
    match lang {
        crate::i18n::Lang::Nb => (
            format!("Du er invitert som administrator for {company} i Bookinglink"),
            format!(
                "Hei!\n\n\
                 {inviter} har invitert deg til å administrere {company} i Bookinglink, der firmaets \
                 lokasjoner kobles til journal- og bookingsystemet så forsikringsselskapene kan booke time på nett.\n\n\
                 Åpne lenken og logg inn med denne e-postadressen for å godta invitasjonen:\n\n\
                 {link}\n\n\
                 Invitasjonen gjelder til {valid_until_oslo}. Lenken er personlig: ikke del den med andre.\n\n\
                 Hvis du ikke venter denne invitasjonen, kan du se bort fra den.\n\n\
                 Hilsen Bookinglink\n"
            ),
        ),
        crate::i18n::Lang::En => (
            format!("You are invited to administer {company} in Bookinglink"),
            format!(
                "Hello,\n\n\
                 {inviter} has invited you to administer {company} in Bookinglink, where the company's \
                 locations are connected to their journal and booking system so that insurers can book treatment online.\n\n\
                 Open the link and sign in with this e-mail address to accept the invitation:\n\n\
                 {link}\n\n\
                 The invitation is valid until {valid_until_oslo} (Oslo time). The link is personal: do not share it.\n\n\
                 If you did not expect this invitation, you can ignore it.\n\n\
                 Regards, Bookinglink\n"
            ),
        ),
    }
}

pub fn invalid_search_query(max: usize) -> Text {
    Text::owned(
        format!("Søket kan være på høyst {max} tegn, uten linjeskift."),
        format!("The search may be at most {max} characters, without line breaks."),
    )
}
