//! "Forespør detaljer": the pre-written request a clinic sends its booking-system
//! vendor for the connection details, shown to copy ([`preview`]) or sent for them through
//! the configured mailer ([`send`]), within the limits of [`send`]'s module.

use serde_json::{Map, Value, json};

use crate::catalog::{self, BookingSystem, RequestContext};
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::messages as msg;
use crate::model::{Company, Location, Membership};
use crate::problem::{FieldError, Problem};
use crate::store::Store;
use crate::validate::{self, ObjectReader};

use super::authorize;

mod send;

pub use send::{
    Allowance, DEFAULT_SENDS_PER_ADMINISTRATOR, LimitScope, SENDS_PER_LOCATION, SendLimits,
    SentRequest, Services, WINDOW_SECONDS, send,
};

/// The system named by `?system=` or the body's `system`: 422 naming `system` when missing or
/// not in the catalog.
pub fn system_from_query(raw: Option<&str>) -> Result<&'static BookingSystem, Problem> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Err(Problem::validation(vec![FieldError::new(
            "system",
            "required",
            msg::REQUIRED,
        )])),
        Some(id) => catalog::system(id).ok_or_else(unknown_system),
    }
}

pub fn system_from_json(body: &Map<String, Value>) -> Result<&'static BookingSystem, Problem> {
    let mut r = ObjectReader::new(body, &["system"])?;
    let id = r.text("system", true, validate::SHORT_CODE);
    r.finish()?;
    system_from_query(id.as_deref())
}

fn unknown_system() -> Problem {
    Problem::validation(vec![FieldError::new(
        "system",
        "unknown_system",
        msg::UNKNOWN_BOOKING_SYSTEM,
    )])
}

/// The request as the administrator sees it and the vendor receives it.
#[derive(Clone, Debug)]
pub struct PreparedRequest {
    pub system: &'static BookingSystem,
    pub to: String,
    pub phone: Option<String>,
    /// The administrator, whom the vendor should answer; empty if we know no address.
    pub admin_email: Option<String>,
    pub subject: String,
    pub body: String,
}

impl PreparedRequest {
    pub fn to_json(&self) -> Value {
        json!({
            "system": self.system.id,
            "system_name": self.system.name,
            "vendor": self.system.vendor,
            "to": self.to,
            "phone": self.phone,
            "cc": self.admin_email,
            "reply_to": self.admin_email,
            "subject": self.subject,
            "body": self.body,
        })
    }
}

/// The administrator as the request names them. The address is the one stored on the
/// membership (invited and verified when they joined), never the token's claim: the vendor
/// answers there with the clinic's connection details. The name may come from the token.
fn admin_of(caller: &Caller, membership: &Membership) -> (Option<String>, Option<String>) {
    let email = membership.email.clone();
    let name = caller.name.clone().or_else(|| membership.name.clone());
    (name, email)
}

fn address_line(location: &Location) -> String {
    let a = &location.address;
    format!("{}, {} {}", a.street, a.postal_code, a.city)
}

fn prepare(
    system: &'static BookingSystem,
    lang: Lang,
    company: &Company,
    location: &Location,
    admin_name: Option<&str>,
    admin_email: Option<&str>,
) -> PreparedRequest {
    let ctx = RequestContext {
        company_name: company.name.clone(),
        org_number: company.org_number.clone(),
        location_name: location.name.clone(),
        location_address: address_line(location),
        admin_name: admin_name.or(admin_email).unwrap_or_default().to_string(),
        admin_email: admin_email.unwrap_or_default().to_string(),
    };
    let (subject, body) = catalog::request_text(system, lang, &ctx);
    PreparedRequest {
        system,
        to: system.contact.email.to_string(),
        phone: system.contact.phone.map(str::to_string),
        admin_email: admin_email.map(str::to_string),
        subject,
        body,
    }
}

/// Authorizes and reads what the request is filled with, in one round trip.
async fn load(
    store: &dyn Store,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
) -> Result<(Membership, Company, Location), Problem> {
    let (membership, company, location) = tokio::join!(
        authorize(store, caller, company_id),
        store.company(company_id),
        store.location(company_id, location_id)
    );
    let membership = membership?;
    let company = company?.ok_or_else(Problem::not_found)?;
    let location = location?.ok_or_else(Problem::not_found)?;
    Ok((membership, company, location))
}

/// The request as it would be sent, and what the caller may still send.
#[derive(Clone, Debug)]
pub struct Preview {
    pub request: PreparedRequest,
    pub allowance: Allowance,
}

impl Preview {
    pub fn to_json(&self) -> Value {
        let mut body = self.request.to_json();
        self.allowance.write_to(&mut body);
        body
    }
}

pub async fn preview(
    services: Services<'_>,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    system: &'static BookingSystem,
    lang: Lang,
) -> Result<Preview, Problem> {
    let now = services.clock.now();
    let (loaded, allowance) = tokio::join!(
        load(services.store, caller, company_id, location_id),
        send::allowance_of(
            services.store,
            services.limits,
            caller,
            location_id,
            system,
            now
        )
    );
    let (membership, company, location) = loaded?;
    let (name, email) = admin_of(caller, &membership);
    Ok(Preview {
        request: prepare(
            system,
            lang,
            &company,
            &location,
            name.as_deref(),
            email.as_deref(),
        ),
        allowance: allowance?,
    })
}

#[cfg(test)]
mod tests;
