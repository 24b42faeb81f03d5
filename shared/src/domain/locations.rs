use serde_json::{Map, Value, json};

use crate::clock::{Clock, Timestamp};
use crate::identity::Caller;
use crate::messages as msg;
use crate::model::{Address, Location, Page};
use crate::problem::{FieldError, Problem};
use crate::store::{LocationCreation, LocationPatch, LocationWrite, PageRequest, Store};
use crate::validate::{self, ObjectReader};

use super::{audit_entry, authorize};

impl LocationPatch {
    /// The names of the fields this patch changes, for the audit trail.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("address", self.address.is_some()),
            ("phone", self.phone.is_some()),
            ("email", self.email.is_some()),
            ("offline", self.offline.is_some()),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name)
        .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLocation {
    pub name: String,
    pub address: Address,
    pub phone: String,
    pub email: String,
}

impl NewLocation {
    /// The location as it is first stored: version 1, online, no booking system yet.
    pub fn into_location(
        self,
        company_id: &str,
        id: String,
        created_by: &str,
        now: Timestamp,
    ) -> Location {
        Location {
            company_id: company_id.to_string(),
            id,
            name: self.name,
            address: self.address,
            phone: self.phone,
            email: self.email,
            offline: false,
            booking: None,
            details_requests: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: created_by.to_string(),
        }
    }
}

const ADDRESS_FIELDS: &[&str] = &["street", "postal_code", "city"];

fn read_address(r: &mut ObjectReader<'_>) -> Option<Address> {
    let street = r.text("street", true, validate::STREET);
    let postal_code = r.text("postal_code", true, validate::POSTAL_CODE);
    let city = r.text("city", true, validate::CITY);
    Some(Address {
        street: street?,
        postal_code: postal_code?,
        city: city?,
    })
}

impl NewLocation {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, Problem> {
        let mut r = ObjectReader::new(body, &["name", "address", "phone", "email"])?;
        let name = r.text("name", true, validate::NAME);
        let address = r.object("address", true, ADDRESS_FIELDS, read_address)?;
        let phone = r.text("phone", true, validate::PHONE);
        let email = r.text("email", true, validate::EMAIL);
        r.finish()?;
        match (name, address, phone, email) {
            (Some(name), Some(address), Some(phone), Some(email)) => Ok(NewLocation {
                name,
                address,
                phone,
                email,
            }),
            _ => Err(Problem::internal().caused_by("a required field passed validation unread")),
        }
    }
}

/// A PATCH body: the changes and the version they were made against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationEdit {
    pub expected_version: u64,
    pub patch: LocationPatch,
}

impl LocationEdit {
    /// `if_match` is the version from the `If-Match` header; the body may carry it instead as
    /// `version`. One of them is required so that no one overwrites a change they did not see.
    pub fn from_json(body: &Map<String, Value>, if_match: Option<u64>) -> Result<Self, Problem> {
        let mut r = ObjectReader::new(
            body,
            &["name", "address", "phone", "email", "offline", "version"],
        )?;
        let body_version = r.version("version");
        let patch = LocationPatch {
            name: r.text("name", false, validate::NAME),
            address: r.object("address", false, ADDRESS_FIELDS, read_address)?,
            phone: r.text("phone", false, validate::PHONE),
            email: r.text("email", false, validate::EMAIL),
            offline: r.boolean("offline", false),
        };
        r.finish()?;
        let expected_version = match (body_version, if_match) {
            (Some(a), Some(b)) if a != b => {
                return Err(Problem::validation(vec![FieldError::new(
                    "version",
                    "version_mismatch",
                    msg::VERSION_MISMATCH,
                )]));
            }
            (Some(v), _) | (None, Some(v)) => v,
            (None, None) => return Err(Problem::version_required()),
        };
        if patch.is_empty() {
            return Err(Problem::validation(vec![FieldError::new(
                "",
                "no_changes",
                msg::NO_CHANGES,
            )]));
        }
        Ok(LocationEdit {
            expected_version,
            patch,
        })
    }
}

/// Like [`get`]: the membership and the page are read at the same time (one round trip), and
/// the page is dropped unseen unless the caller administers the company.
pub async fn list(
    store: &dyn Store,
    caller: &Caller,
    company_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<Location>, Problem> {
    let (membership, page) = tokio::join!(
        authorize(store, caller, company_id),
        store.locations_of(company_id, PageRequest { after, limit })
    );
    membership?;
    Ok(page?)
}

/// Locations a company may have unless `MAX_LOCATIONS_PER_COMPANY` says otherwise.
pub const DEFAULT_MAX_PER_COMPANY: u32 = 200;

/// Creates a location, one of at most `max_per_company` of its company (409 beyond).
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &Caller,
    company_id: &str,
    new: NewLocation,
    max_per_company: u32,
) -> Result<Location, Problem> {
    authorize(store, caller, company_id).await?;
    let now = clock.now();
    let location = new.into_location(company_id, super::new_id(), &caller.sub, now);
    let audit = audit_entry(
        caller,
        Some(company_id),
        "location_created",
        Some(&location.id),
        json!({"name": location.name}),
        now,
    );
    store
        .create_location(LocationCreation {
            location: &location,
            max_per_company,
            audit: &audit,
        })
        .await?;
    tracing::info!(company_id, location_id = %location.id, "location created");
    Ok(location)
}

/// Reads the membership and the location at the same time: the answer waits for one round
/// trip, and a location of a company the caller does not administer is still a 404.
pub async fn get(
    store: &dyn Store,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
) -> Result<Location, Problem> {
    let (membership, location) = tokio::join!(
        authorize(store, caller, company_id),
        store.location(company_id, location_id)
    );
    membership?;
    location?.ok_or_else(Problem::not_found)
}

pub async fn update(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &Caller,
    company_id: &str,
    location_id: &str,
    edit: LocationEdit,
) -> Result<Location, Problem> {
    authorize(store, caller, company_id).await?;
    let now = clock.now();
    let fields = edit.patch.fields();
    // Taking a location offline (or back online) is told apart: it decides whether insurers
    // can book there.
    let (action, details) = match edit.patch.offline {
        Some(offline) if fields == ["offline"] => ("offline_changed", json!({"offline": offline})),
        offline => (
            "location_edited",
            json!({"fields": fields, "offline": offline}),
        ),
    };
    let audit = audit_entry(
        caller,
        Some(company_id),
        action,
        Some(location_id),
        details,
        now,
    );
    let location = store
        .update_location(
            LocationWrite {
                company_id,
                location_id,
                expected_version: edit.expected_version,
                now,
                by: &caller.sub,
                audit: &audit,
            },
            &edit.patch,
        )
        .await?;
    tracing::info!(
        company_id,
        location_id,
        version = location.version,
        "location updated"
    );
    Ok(location)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod limit_tests;
