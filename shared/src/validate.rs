//! Reading and validating JSON request bodies. The body is parsed into a JSON value first so
//! that every problem is reported at once and in our words: unknown fields (400), then each
//! field's type and format (422), each with the field's path.

use serde_json::{Map, Value};

use crate::i18n::Text;
use crate::messages as msg;
use crate::problem::{FieldError, Problem};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Turns raw body bytes into a JSON object, or the 400/413 problem that describes why not.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Problem::payload_too_large(MAX_BODY_BYTES));
    }
    let text = std::str::from_utf8(body).map_err(|_| Problem::invalid_utf8())?;
    if text.trim().is_empty() {
        return Err(Problem::body_required());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Problem::body_not_object()),
        Err(e) => Err(Problem::malformed_json(e.line(), e.column())),
    }
}

/// A field's format: the value (trimmed, within its length) normalised, or the error code and
/// message that say why it has the wrong format.
type Format = fn(&str) -> Result<String, (&'static str, Text)>;

/// Rules for one text field: its length, and the format it must have, if any.
#[derive(Clone, Copy, Debug)]
pub struct TextRule {
    pub max_chars: usize,
    format: Option<Format>,
}

impl TextRule {
    /// Any text of at most `max_chars` characters.
    pub const fn plain(max_chars: usize) -> TextRule {
        TextRule {
            max_chars,
            format: None,
        }
    }

    const fn formatted(max_chars: usize, format: Format) -> TextRule {
        TextRule {
            max_chars,
            format: Some(format),
        }
    }
}

pub const NAME: TextRule = TextRule::plain(120);
pub const STREET: TextRule = TextRule::plain(200);
pub const CITY: TextRule = TextRule::plain(100);
pub const EMAIL: TextRule = TextRule::formatted(254, email);
pub const PHONE: TextRule = TextRule::formatted(30, phone);
pub const SHORT_CODE: TextRule = TextRule::plain(20);
pub const ORG_NUMBER: TextRule = TextRule::formatted(SHORT_CODE.max_chars, org_number);
pub const POSTAL_CODE: TextRule = TextRule::formatted(SHORT_CODE.max_chars, postal_code);

/// Reads typed fields out of a JSON object, collecting every field error instead of stopping
/// at the first. Call [`ObjectReader::finish`] to get the 422 problem if any field was wrong.
pub struct ObjectReader<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
    pub errors: Vec<FieldError>,
}

impl<'a> ObjectReader<'a> {
    /// Fails with 400 naming every key that is not in `allowed`.
    pub fn new(object: &'a Map<String, Value>, allowed: &[&str]) -> Result<Self, Problem> {
        Self::nested(object, allowed, "")
    }

    fn nested(
        object: &'a Map<String, Value>,
        allowed: &[&str],
        prefix: &str,
    ) -> Result<Self, Problem> {
        let unknown: Vec<String> = object
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| format!("{prefix}{k}"))
            .collect();
        if !unknown.is_empty() {
            return Err(Problem::unknown_fields(unknown));
        }
        Ok(ObjectReader {
            object,
            prefix: prefix.to_string(),
            errors: Vec::new(),
        })
    }

    fn path(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    fn error(&mut self, key: &str, code: &'static str, message: Text) {
        let field = self.path(key);
        self.errors.push(FieldError::new(field, code, message));
    }

    pub fn has(&self, key: &str) -> bool {
        self.object.contains_key(key)
    }

    /// A text value, trimmed and in the rule's format. `None` when absent or wrong (the error
    /// is recorded).
    pub fn text(&mut self, key: &str, required: bool, rule: TextRule) -> Option<String> {
        match self.object.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.error(key, "required", msg::REQUIRED);
                }
                None
            }
            Some(Value::String(s)) => match check_text(s, rule) {
                Ok(v) => Some(v),
                Err((code, message)) => {
                    self.error(key, code, message);
                    None
                }
            },
            Some(_) => {
                self.error(key, "wrong_type", msg::NOT_A_STRING);
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, required: bool) -> Option<bool> {
        match self.object.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.error(key, "required", msg::REQUIRED);
                }
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(key, "wrong_type", msg::NOT_A_BOOLEAN);
                None
            }
        }
    }

    pub fn version(&mut self, key: &str) -> Option<u64> {
        match self.object.get(key) {
            None | Some(Value::Null) => None,
            // JSON does not tell 3 from 3.0 (nor does JSON Schema's `integer`): a whole number
            // written with a fraction is that number.
            Some(v) => match v.as_u64().or_else(|| whole_number(v)).filter(|n| *n >= 1) {
                Some(n) => Some(n),
                None => {
                    self.error(key, "wrong_type", msg::NOT_A_VERSION);
                    None
                }
            },
        }
    }

    /// A nested object, read with its own reader. Unknown keys inside it are a 400 like at the
    /// top level; field errors inside it are folded into this reader's errors.
    pub fn object<T>(
        &mut self,
        key: &str,
        required: bool,
        allowed: &[&str],
        read: impl FnOnce(&mut ObjectReader<'_>) -> Option<T>,
    ) -> Result<Option<T>, Problem> {
        match self.object.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.error(key, "required", msg::REQUIRED);
                }
                Ok(None)
            }
            Some(Value::Object(inner)) => {
                let prefix = format!("{}.", self.path(key));
                let mut reader = ObjectReader::nested(inner, allowed, &prefix)?;
                let value = read(&mut reader);
                let failed = !reader.errors.is_empty();
                self.errors.append(&mut reader.errors);
                Ok(if failed { None } else { value })
            }
            Some(_) => {
                self.error(key, "wrong_type", msg::NOT_AN_OBJECT);
                Ok(None)
            }
        }
    }

    pub fn finish(self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.errors))
        }
    }
}

/// A non-negative whole number written with a fraction (`3.0`), up to 2^53 where every whole
/// number is exact.
fn whole_number(value: &Value) -> Option<u64> {
    let f = value.as_f64()?;
    (f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f)).then_some(f as u64)
}

fn check_text(raw: &str, rule: TextRule) -> Result<String, (&'static str, Text)> {
    if raw.chars().any(char::is_control) {
        return Err(("control_characters", msg::CONTROL_CHARACTERS));
    }
    let value = raw.trim();
    if value.is_empty() {
        return Err(("empty", msg::EMPTY));
    }
    if value.chars().count() > rule.max_chars {
        return Err(("too_long", msg::too_long(rule.max_chars)));
    }
    match rule.format {
        Some(format) => format(value),
        None => Ok(value.to_string()),
    }
}

/// Norwegian organisation number: nine digits whose last is a MOD11 check digit (weights
/// 3,2,7,6,5,4,3,2). Spaces are accepted as typed ("923 609 016") and removed.
fn org_number(raw: &str) -> Result<String, (&'static str, Text)> {
    let digits: String = raw.chars().filter(|c| *c != ' ').collect();
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(("invalid_org_number", msg::INVALID_ORG_NUMBER_FORMAT));
    }
    if !mod11_valid(&digits) {
        return Err((
            "invalid_org_number_checksum",
            msg::INVALID_ORG_NUMBER_CHECKSUM,
        ));
    }
    Ok(digits)
}

fn mod11_valid(digits: &str) -> bool {
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == d[8]
}

fn postal_code(raw: &str) -> Result<String, (&'static str, Text)> {
    if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err(("invalid_postal_code", msg::INVALID_POSTAL_CODE))
    }
}

/// A pragmatic address check: one `@`, a plausible local part, and a domain of at least two
/// labels made of letters, digits and hyphens. Stored lower-cased in the domain only.
fn email(raw: &str) -> Result<String, (&'static str, Text)> {
    let invalid = || ("invalid_email", msg::INVALID_EMAIL);
    let (local, domain) = raw.rsplit_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
    if local_ok && domain_ok {
        Ok(format!("{local}@{}", domain.to_lowercase()))
    } else {
        Err(invalid())
    }
}

/// Phone numbers as people type them: digits with optional spaces and a leading `+`
/// country code; 8 to 15 digits.
fn phone(raw: &str) -> Result<String, (&'static str, Text)> {
    let compact: String = raw.chars().filter(|c| *c != ' ').collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Err(("invalid_phone", msg::INVALID_PHONE))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_version_is_a_positive_whole_number_however_it_is_written() {
        let read = |v: serde_json::Value| {
            let body = serde_json::json!({ "version": v });
            let mut r = super::ObjectReader::new(body.as_object().unwrap(), &["version"]).unwrap();
            let version = r.version("version");
            (version, r.errors.len())
        };
        assert_eq!(read(serde_json::json!(3)), (Some(3), 0));
        assert_eq!(read(serde_json::json!(3.0)), (Some(3), 0));
        assert_eq!(read(serde_json::json!(3.5)), (None, 1));
        assert_eq!(read(serde_json::json!(0)), (None, 1));
        assert_eq!(read(serde_json::json!(0.0)), (None, 1));
        assert_eq!(read(serde_json::json!(-2.0)), (None, 1));
        assert_eq!(read(serde_json::json!(1e300)), (None, 1));
        assert_eq!(read(serde_json::json!("3")), (None, 1));
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn org_numbers_need_nine_digits_and_a_valid_check_digit() {
        assert_eq!(org_number("923609016").unwrap(), "923609016");
        assert_eq!(org_number("923 609 016").unwrap(), "923609016");
        assert_eq!(
            org_number("923609017").unwrap_err().0,
            "invalid_org_number_checksum"
        );
        assert_eq!(org_number("92360901").unwrap_err().0, "invalid_org_number");
        assert_eq!(
            org_number("9236090161").unwrap_err().0,
            "invalid_org_number"
        );
        assert_eq!(org_number("92360901a").unwrap_err().0, "invalid_org_number");
        assert_eq!(
            org_number("９２３６０９０１６").unwrap_err().0,
            "invalid_org_number"
        );
    }

    #[test]
    fn org_numbers_whose_check_digit_would_be_ten_do_not_exist() {
        // 1,0,0,0,0,0,0,0 with weight 3 sums to 3; 11 - 3 = 8 is fine. Find a prefix giving 10:
        // sum mod 11 == 1 → 11 - 1 = 10. Weights 3,2,...: digits 0,0,0,0,0,0,0,6 → 12 mod 11 = 1.
        for last in 0..=9 {
            assert!(org_number(&format!("00000006{last}")).is_err());
        }
    }

    #[test]
    fn postal_codes_are_four_ascii_digits() {
        assert!(postal_code("0364").is_ok());
        assert!(postal_code("9990").is_ok());
        assert!(postal_code("364").is_err());
        assert!(postal_code("03640").is_err());
        assert!(postal_code("03a4").is_err());
        assert!(postal_code("٠٣٦٤").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("Ola.Nordmann@Klinikk.NO").unwrap(),
            "Ola.Nordmann@klinikk.no"
        );
        assert!(email("post@fysio-sentrum.no").is_ok());
        assert!(email("ærlig@bøler.no").is_ok());
        for bad in [
            "",
            "a",
            "a@",
            "@b.no",
            "a@b",
            "a@b.",
            "a b@c.no",
            "a@@b.no",
            "a@-b.no",
            ".a@b.no",
            "a..b@c.no",
            "a@b.1",
        ] {
            assert!(email(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+47  22 00 00 00").unwrap(), "+47 22 00 00 00");
        assert!(phone("22000000").is_ok());
        assert!(phone("2200").is_err());
        assert!(phone("22-00-00-00").is_err());
    }

    #[test]
    fn body_parsing_distinguishes_each_kind_of_bad_input() {
        assert_eq!(parse_object(b"{\"a\":").unwrap_err().code, "malformed_json");
        assert_eq!(parse_object(b"[1]").unwrap_err().code, "body_not_object");
        assert_eq!(parse_object(b"\"x\"").unwrap_err().code, "body_not_object");
        assert_eq!(
            parse_object(&[0xff, 0xfe]).unwrap_err().code,
            "invalid_utf8"
        );
        assert_eq!(parse_object(b"  ").unwrap_err().code, "body_required");
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_object(&big).unwrap_err().status, 413);
        assert!(parse_object(b"{}").unwrap().is_empty());
    }

    #[test]
    fn reader_reports_unknown_fields_by_name() {
        let body = json!({"name": "x", "nmae": "y", "extra": 1});
        let err = ObjectReader::new(body.as_object().unwrap(), &["name"])
            .err()
            .unwrap();
        assert_eq!(err.status, 400);
        let mut fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["extra", "nmae"]);
    }

    #[test]
    fn reader_collects_every_field_error() {
        let body = json!({
            "name": "",
            "phone": 12,
            "email": "nope",
            "address": {"street": "Gate 1\n", "postal_code": "12", "city": "x".repeat(101)}
        });
        let mut r = ObjectReader::new(
            body.as_object().unwrap(),
            &["name", "phone", "email", "address"],
        )
        .unwrap();
        r.text("name", true, NAME);
        r.text("phone", true, PHONE);
        r.text("email", true, EMAIL);
        r.object("address", true, &["street", "postal_code", "city"], |a| {
            a.text("street", true, STREET);
            a.text("postal_code", true, POSTAL_CODE);
            a.text("city", true, CITY);
            None::<()>
        })
        .unwrap();
        let problem = r.finish().unwrap_err();
        assert_eq!(problem.status, 422);
        assert_eq!(
            crate::domain::fixtures::field_codes(&problem),
            [
                ("name", "empty"),
                ("phone", "wrong_type"),
                ("email", "invalid_email"),
                ("address.street", "control_characters"),
                ("address.postal_code", "invalid_postal_code"),
                ("address.city", "too_long"),
            ]
        );
    }

    #[test]
    fn unknown_fields_inside_nested_objects_are_named_with_their_path() {
        let body = json!({"address": {"street": "a", "zip": "0364"}});
        let mut r = ObjectReader::new(body.as_object().unwrap(), &["address"]).unwrap();
        let err = r
            .object("address", true, &["street"], |_| Some(()))
            .unwrap_err();
        assert_eq!(err.errors[0].field, "address.zip");
    }
}
