use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::identity::Caller;
use crate::messages as msg;
use crate::model::{Address, Location, Page};
use crate::problem::{FieldError, Problem};
use crate::store::{LocationPatch, Store};
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

const ADDRESS_FIELDS: &[&str] = &["street", "postal_code", "city"];

fn read_address(r: &mut ObjectReader<'_>) -> Option<Address> {
    let street = r.text("street", true, validate::STREET);
    let postal_code = r.text_with(
        "postal_code",
        true,
        validate::SHORT_CODE,
        validate::postal_code,
    );
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
        let phone = r.text_with("phone", true, validate::PHONE, validate::phone);
        let email = r.text_with("email", true, validate::EMAIL, validate::email);
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
            phone: r.text_with("phone", false, validate::PHONE, validate::phone),
            email: r.text_with("email", false, validate::EMAIL, validate::email),
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
        store.locations_of(company_id, after, limit)
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
    let location = Location {
        company_id: company_id.to_string(),
        id: super::new_id(),
        name: new.name,
        address: new.address,
        phone: new.phone,
        email: new.email,
        offline: false,
        booking: None,
        details_requests: Vec::new(),
        version: 1,
        created_at: now,
        updated_at: now,
        updated_by: caller.sub.clone(),
    };
    let audit = audit_entry(
        caller,
        Some(company_id),
        "location_created",
        Some(&location.id),
        json!({"name": location.name}),
        now,
    );
    store
        .create_location(&location, &audit, max_per_company)
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
            company_id,
            location_id,
            edit.expected_version,
            &edit.patch,
            now,
            &caller.sub,
            &audit,
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
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::companies::{self, NewCompany};
    use crate::store::memory::MemoryStore;
    use serde_json::json;

    fn caller(sub: &str) -> Caller {
        Caller::new(sub)
    }

    /// Within the default limit; the limit itself is tested in `location_limit_tests.rs`.
    async fn create(
        store: &MemoryStore,
        clock: &ManualClock,
        who: &Caller,
        company_id: &str,
        new: NewLocation,
    ) -> Result<Location, Problem> {
        super::create(store, clock, who, company_id, new, DEFAULT_MAX_PER_COMPANY).await
    }

    fn new_location(name: &str) -> NewLocation {
        NewLocation::from_json(
            json!({
                "name": name,
                "address": {"street": "Kirkeveien 64", "postal_code": "0364", "city": "Oslo"},
                "phone": "+47 22 00 00 00",
                "email": "post@klinikk.no"
            })
            .as_object()
            .unwrap(),
        )
        .unwrap()
    }

    async fn company_of(store: &MemoryStore, sub: &str) -> String {
        let new = NewCompany {
            name: "Fysio AS".into(),
            org_number: "923609016".into(),
            invoice_email: None,
        };
        let operator = Caller {
            operator: true,
            ..Caller::new("drift")
        };
        let id = companies::create(store, &ManualClock::at(0), &operator, new)
            .await
            .unwrap()
            .id;
        store.add_membership(crate::model::Membership {
            user_sub: sub.into(),
            company_id: id.clone(),
            email: Some(format!("{sub}@klinikk.no")),
            name: None,
            created_at: 0,
            invited_by: None,
        });
        id
    }

    #[tokio::test]
    async fn each_change_writes_one_audit_entry_and_a_refusal_none() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(10);
        let company = company_of(&store, "ola").await;
        let ola = caller("ola");
        let location = create(&store, &clock, &ola, &company, new_location("Majorstuen"))
            .await
            .unwrap();
        let offline = LocationEdit {
            expected_version: 1,
            patch: LocationPatch {
                offline: Some(true),
                ..Default::default()
            },
        };
        update(
            &store,
            &clock,
            &ola,
            &company,
            &location.id,
            offline.clone(),
        )
        .await
        .unwrap();
        let rename = LocationEdit {
            expected_version: 2,
            patch: LocationPatch {
                name: Some("Ny".into()),
                ..Default::default()
            },
        };
        update(&store, &clock, &ola, &company, &location.id, rename)
            .await
            .unwrap();
        // Refused: stale version, and an outsider.
        update(
            &store,
            &clock,
            &ola,
            &company,
            &location.id,
            offline.clone(),
        )
        .await
        .unwrap_err();
        update(
            &store,
            &clock,
            &caller("kari"),
            &company,
            &location.id,
            offline,
        )
        .await
        .unwrap_err();
        let entries = store.audit_entries();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "company_created",
                "location_created",
                "offline_changed",
                "location_edited"
            ]
        );
        assert!(entries[1..].iter().all(
            |e| e.actor_sub == "ola" && e.location_id.as_deref() == Some(location.id.as_str())
        ));
        assert_eq!(entries[3].details["fields"], json!(["name"]));
    }

    #[tokio::test]
    async fn only_administrators_see_and_change_locations() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(10);
        let company = company_of(&store, "ola").await;
        let location = create(
            &store,
            &clock,
            &caller("ola"),
            &company,
            new_location("Majorstuen"),
        )
        .await
        .unwrap();

        let outsider = caller("kari");
        let expect_404 = |r: Result<_, Problem>| assert_eq!(r.map(|_| ()).unwrap_err().status, 404);
        expect_404(
            list(&store, &outsider, &company, None, 10)
                .await
                .map(|_| ()),
        );
        expect_404(
            get(&store, &outsider, &company, &location.id)
                .await
                .map(|_| ()),
        );
        expect_404(
            create(&store, &clock, &outsider, &company, new_location("X"))
                .await
                .map(|_| ()),
        );
        let edit = LocationEdit {
            expected_version: 1,
            patch: LocationPatch {
                offline: Some(true),
                ..Default::default()
            },
        };
        expect_404(
            update(
                &store,
                &clock,
                &outsider,
                &company,
                &location.id,
                edit.clone(),
            )
            .await
            .map(|_| ()),
        );
        assert!(
            !get(&store, &caller("ola"), &company, &location.id)
                .await
                .unwrap()
                .offline
        );
    }

    #[tokio::test]
    async fn a_stale_version_changes_nothing() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(10);
        let company = company_of(&store, "ola").await;
        let ola = caller("ola");
        let location = create(&store, &clock, &ola, &company, new_location("Majorstuen"))
            .await
            .unwrap();
        let edit = |v, name: &str| LocationEdit {
            expected_version: v,
            patch: LocationPatch {
                name: Some(name.into()),
                ..Default::default()
            },
        };
        clock.advance(5);
        let updated = update(&store, &clock, &ola, &company, &location.id, edit(1, "Ny"))
            .await
            .unwrap();
        assert_eq!(
            (updated.version, updated.name.as_str(), updated.updated_at),
            (2, "Ny", 15)
        );
        let err = update(
            &store,
            &clock,
            &ola,
            &company,
            &location.id,
            edit(1, "Gammel"),
        )
        .await
        .unwrap_err();
        assert_eq!((err.status, err.code), (409, "version_conflict"));
        assert_eq!(err.extensions["current_version"], 2);
        assert_eq!(
            get(&store, &ola, &company, &location.id)
                .await
                .unwrap()
                .name,
            "Ny"
        );
    }

    #[test]
    fn an_edit_needs_a_version_and_a_change() {
        let body = json!({"offline": true});
        let obj = body.as_object().unwrap();
        assert_eq!(LocationEdit::from_json(obj, None).unwrap_err().status, 428);
        assert_eq!(
            LocationEdit::from_json(obj, Some(3))
                .unwrap()
                .expected_version,
            3
        );
        let both = json!({"offline": true, "version": 2});
        let err = LocationEdit::from_json(both.as_object().unwrap(), Some(3)).unwrap_err();
        assert_eq!(err.errors[0].code, "version_mismatch");
        let empty = json!({"version": 2});
        assert_eq!(
            LocationEdit::from_json(empty.as_object().unwrap(), None)
                .unwrap_err()
                .errors[0]
                .code,
            "no_changes"
        );
        let wrong = json!({"version": "2", "offline": "yes"});
        let err = LocationEdit::from_json(wrong.as_object().unwrap(), None).unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["version", "offline"]);
    }
}

#[cfg(test)]
#[path = "location_limit_tests.rs"]
mod limit_tests;
