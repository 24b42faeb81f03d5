//! The request schemas of `infra/openapi.yaml` against the validation the handlers run, so a
//! client that checks a request against the document before sending it is not refused for
//! its format: for tricky values of every field (blank, control characters, lengths at the
//! limit, look-alike ids, addresses, numbers and URLs), a body the document accepts is one the
//! API's reader accepts. Known good bodies must pass both, so the document is not stricter
//! than it should be where it matters. The organisation number's check digit (MOD11) is
//! deliberately left to the API.

use bookinglink::booking::BookingInput;
use bookinglink::domain::access::{NewInvitation, token_from_json};
use bookinglink::domain::companies::NewCompany;
use bookinglink::domain::locations::{LocationEdit, NewLocation};
use integration_tests::openapi_document;
use serde_json::{Map, Value, json};
use vendor_sandbox as sb;

/// A handler's reader of a request body: `Err` with the problem's code and field errors.
type Reader<'a> = dyn Fn(&Map<String, Value>) -> Result<(), String> + 'a;

/// The compiled schema of `components/schemas/<name>`.
fn schema(name: &str) -> jsonschema::Validator {
    let mut root = openapi_document().clone();
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

/// Strings that sit at the edges of the text rules.
fn texts() -> Vec<String> {
    let mut values: Vec<String> = [
        "",
        " ",
        "   ",
        "\t",
        "\n",
        "a\n",
        "a\tb",
        "\u{7f}",
        "a\u{85}b",
        "\u{a0}",
        ".",
        "..",
        " . ",
        "a",
        " a ",
        "Fysio Sentrum AS",
        "Grünerløkka",
        "Æ Ø Å",
        "😀",
        "a\u{2028}b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in [
        19, 20, 21, 99, 100, 101, 119, 120, 121, 199, 200, 201, 253, 254, 255, 511, 512, 513,
    ] {
        values.push("x".repeat(n));
        values.push(format!(" {} ", "y".repeat(n)));
        values.push("ø".repeat(n));
    }
    values
}

fn emails() -> Vec<String> {
    [
        "ola@fysio.no",
        "Ola.Nordmann@Fysio-Demo.NO",
        "bjørn@fysio.no",
        "post@sub.domain.no",
        " post@fysio.no ",
        "a@b.c",
        "a@b.12",
        "a@b.c1",
        "a@1b.no",
        "a@-b.no",
        "a@b-.no",
        "a@b..no",
        "a@.no",
        "a@no",
        "@fysio.no",
        "ola@",
        ".ola@fysio.no",
        "ola.@fysio.no",
        "o..la@fysio.no",
        "o la@fysio.no",
        "\"ola\"@fysio.no",
        "ola@fysio.no.",
        "ola@fys_io.no",
        "ola@@fysio.no",
        "a@b@fysio.no",
        "!#$%&'*+-/=?^_`{|}~@fysio.no",
        "ola@[127.0.0.1]",
        "ola(x)@fysio.no",
        "ola@fysio.no\n",
        "ola\u{85}@fysio.no",
        "ola@xn--fysio-9xa.no",
        &format!("{}@fysio.no", "a".repeat(64)),
        &format!("{}@fysio.no", "a".repeat(65)),
        &format!("a@{}.no", "b".repeat(63)),
        &format!("a@{}.no", "b".repeat(64)),
        &format!("{}@{}.no", "a".repeat(60), "b".repeat(190)),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn phones() -> Vec<String> {
    [
        "+47 22 00 00 01",
        "22000000",
        "2200000",
        "+4722000",
        "123456789012345",
        "1234567890123456",
        " 22 00 00 00 ",
        "22-00-00-00",
        "(+47) 22000000",
        "+ 47 22 00 00 00",
        "47+22000000",
        "٢٢٠٠٠٠٠٠",
        "22 00\t00 00",
        "",
        " ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn ids() -> Vec<String> {
    let mut values = texts();
    values.extend(
        [
            "00000000-0000-4000-8000-000000000001",
            "3F2A9C1E-8B7D-4E21-9A0F-5C6D7E8F9A0B",
            " 3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b ",
            "3f2a9c1e8b7d4e219a0f5c6d7e8f9a0b",
            "{3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b}",
            "3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0",
            "3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0g",
            "urn:uuid:3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b",
            "12345",
            "../x",
            "a/b",
            "%2e%2e",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    values
}

fn urls() -> Vec<String> {
    [
        "https://extensor.no/booking/klinikk",
        "https://booking.extensor.no/klinikk?x=1#top",
        "https://EXTENSOR.NO/",
        "https://extensor.no",
        " https://extensor.no/x ",
        "http://extensor.no/x",
        "https://extensor.no.evil.no/x",
        "https://evilextensor.no/x",
        "https://extensor.no:8443/x",
        "https://user@extensor.no/x",
        "https://extensor.no./x",
        "https://-a.extensor.no/x",
        "https://127.0.0.1/x",
        "https://extensor.no/a b",
        "https://extensor.no/\u{7f}",
        "ftp://extensor.no/x",
        "extensor.no/x",
        "",
        " ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// For every value of `values` put at `field` (a JSON pointer into `base`): a body the schema
/// accepts is accepted by `read`. Returns how many the schema accepted.
fn holds(name: &str, base: &Value, field: &str, values: &[String], read: &Reader) -> usize {
    let validator = schema(name);
    assert!(validator.is_valid(base), "{name}: the base body {base}");
    read(&object(base.clone())).unwrap_or_else(|e| panic!("{name}: the base body {base}: {e}"));
    let mut accepted = 0;
    for value in values {
        let mut body = base.clone();
        *body
            .pointer_mut(field)
            .expect("the field is in the base body") = json!(value);
        if validator.is_valid(&body) {
            accepted += 1;
            if let Err(problem) = read(&object(body.clone())) {
                panic!(
                    "{name}: the document accepts {field} = {value:?}, the API refuses it: {problem}"
                );
            }
        }
    }
    accepted
}

fn problem(p: bookinglink::problem::Problem) -> String {
    format!(
        "{} {:?}",
        p.code,
        p.errors
            .iter()
            .map(|e| (&e.field, e.code))
            .collect::<Vec<_>>()
    )
}

#[test]
fn a_location_the_document_accepts_is_one_the_api_accepts() {
    let read = |b: &Map<String, Value>| NewLocation::from_json(b).map(|_| ()).map_err(problem);
    let base = integration_tests::majorstuen();
    assert!(holds("NewLocation", &base, "/name", &texts(), &read) > 10);
    assert!(holds("NewLocation", &base, "/address/street", &texts(), &read) > 10);
    assert!(holds("NewLocation", &base, "/address/city", &texts(), &read) > 10);
    let codes: Vec<String> = ["0364", "364", "03640", " 0364", "abcd", "٠٣٦٤"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        holds("NewLocation", &base, "/address/postal_code", &codes, &read),
        1
    );
    assert!(holds("NewLocation", &base, "/phone", &phones(), &read) >= 5);
    assert!(holds("NewLocation", &base, "/email", &emails(), &read) >= 8);
}

#[test]
fn a_location_change_the_document_accepts_is_one_the_api_accepts() {
    let read = |b: &Map<String, Value>| {
        LocationEdit::from_json(b, None)
            .map(|_| ())
            .map_err(problem)
    };
    let base = json!({"name": "Majorstuen", "version": 3});
    assert!(holds("LocationPatch", &base, "/name", &texts(), &read) > 10);
    let base = json!({"phone": "+47 22 00 00 01", "version": 3});
    assert!(holds("LocationPatch", &base, "/phone", &phones(), &read) >= 5);
    let base = json!({"email": "post@fysio.no", "version": 3});
    assert!(holds("LocationPatch", &base, "/email", &emails(), &read) >= 8);
    let patch = schema("LocationPatch");
    // Nothing to change is refused by both (422 `no_changes`).
    for body in [
        json!({"version": 3}),
        json!({"name": null, "offline": null, "version": 3}),
        json!({}),
    ] {
        assert!(!patch.is_valid(&body), "{body}");
        let refused = LocationEdit::from_json(&object(body.clone()), Some(3))
            .map(|_| ())
            .unwrap_err();
        let codes: Vec<_> = refused.errors.iter().map(|e| e.code).collect();
        assert_eq!((refused.status, codes), (422, vec!["no_changes"]), "{body}");
    }
    assert!(patch.is_valid(&json!({"offline": false, "version": 3})));
    // `integer` in JSON Schema takes 3.0 too, and so does the API.
    let whole = json!({"offline": false, "version": 3.0});
    assert!(patch.is_valid(&whole));
    assert!(LocationEdit::from_json(&object(whole), None).is_ok());
}

#[test]
fn a_company_the_document_accepts_is_one_the_api_accepts() {
    let read = |b: &Map<String, Value>| match NewCompany::from_json(b) {
        Ok(_) => Ok(()),
        // The check digit is the API's alone.
        Err(p)
            if p.errors
                .iter()
                .all(|e| e.code == "invalid_org_number_checksum") =>
        {
            Ok(())
        }
        Err(p) => Err(problem(p)),
    };
    let base =
        json!({"name": "Fysio AS", "org_number": "923609016", "invoice_email": "faktura@fysio.no"});
    assert!(holds("NewCompany", &base, "/name", &texts(), &read) > 10);
    assert!(holds("NewCompany", &base, "/invoice_email", &emails(), &read) >= 8);
    let numbers: Vec<String> = [
        "923609016",
        "923 609 016",
        " 923609016 ",
        "9 2 3 6 0 9 0 1 6",
        "92360901",
        "9236090160",
        "923-609-016",
        "92360901x",
        "923609017",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert!(holds("NewCompany", &base, "/org_number", &numbers, &read) >= 4);
}

#[test]
fn an_invitation_and_its_acceptance_the_document_accepts_are_accepted() {
    let read = |b: &Map<String, Value>| NewInvitation::from_json(b).map(|_| ()).map_err(problem);
    let base = json!({"email": "ny@fysio.no", "language": "en"});
    assert!(holds("NewInvitation", &base, "/email", &emails(), &read) >= 8);
    let read = |b: &Map<String, Value>| token_from_json(b).map(|_| ()).map_err(problem);
    let base = json!({"token": "3q2-7wAAAAC_c2FuZGJveC10b2tlbi1leGFtcGxlLTA"});
    let mut tokens = texts();
    tokens.push("x".repeat(128));
    tokens.push("x".repeat(129));
    assert!(holds("AcceptInvitationInput", &base, "/token", &tokens, &read) > 10);
}

/// Each booking system's fields, as the catalog rules them: for every value at every field, a
/// body the document accepts passes the catalog's validation, for both routes.
#[test]
fn booking_details_the_document_accepts_pass_the_catalog() {
    let bases = [
        json!({"system": "physica", "external_id": "12345", "external_department_id": "7", "api_key": "k", "booking_url": null}),
        json!({"system": "psykbase", "external_id": "12345", "external_department_id": "", "api_key": "k", "booking_url": null}),
        json!({"system": "hano", "external_id": "klinikk-1", "external_department_id": null, "api_key": "k", "booking_url": null}),
        json!({"system": "konfidens", "external_id": "klinikk-1", "external_department_id": " ", "api_key": "k", "booking_url": ""}),
        json!({"system": "pasientsky", "external_id": sb::PASIENTSKY_CLINIC_OK, "external_department_id": sb::PASIENTSKY_DEPT_OK, "api_key": sb::KEY_OK, "booking_url": null}),
        json!({"system": "easypractice", "external_id": null, "external_department_id": null, "api_key": "token", "booking_url": null}),
        json!({"system": "extensor", "external_id": null, "external_department_id": null, "api_key": null, "booking_url": "https://booking.extensor.no/klinikk"}),
    ];
    for (name, with_version) in [("BookingTestInput", false), ("BookingSaveInput", true)] {
        let read = |b: &Map<String, Value>| {
            let read = if with_version {
                BookingInput::for_save(b, None)
            } else {
                BookingInput::for_check(b)
            };
            read.map(|_| ()).map_err(problem)
        };
        for base in &bases {
            let mut base = base.clone();
            if with_version {
                base["version"] = json!(2);
            }
            let system = base["system"].as_str().unwrap().to_string();
            let fields: [(&str, Vec<String>); 4] = [
                ("/external_id", ids()),
                ("/external_department_id", ids()),
                ("/api_key", texts()),
                ("/booking_url", urls()),
            ];
            for (field, values) in fields {
                let accepted = holds(name, &base, field, &values, &read);
                assert!(accepted >= 1, "{name} {system}{field}: nothing accepted");
            }
        }
    }
}
