//! Demo data for local runs: one administrator with two companies and a few locations, under
//! fixed ids so that the sample events in `events/` and the README's examples work as written.

use bookinglink::clock::Timestamp;
use bookinglink::model::{Address, Company, Location, Membership};
use bookinglink::store::{Store, StoreError};

pub const ADMIN_SUB: &str = "demo-admin";
pub const ADMIN_EMAIL: &str = "admin@fysio-demo.no";
pub const ADMIN_NAME: &str = "Demo Administrator";
pub const COMPANY_1: &str = "c0000000-0000-4000-8000-000000000001";
pub const COMPANY_2: &str = "c0000000-0000-4000-8000-000000000002";
pub const LOCATION_1: &str = "10000000-0000-4000-8000-000000000001";

/// Writes the demo data; running it again changes nothing.
pub async fn seed(store: &dyn Store, now: Timestamp) -> Result<(), StoreError> {
    let companies = [
        (
            COMPANY_1,
            "Fysio Demo AS",
            "923609016",
            Some("faktura@fysio-demo.no"),
        ),
        (COMPANY_2, "Psykologene Demo AS", "974760673", None),
    ];
    for (id, name, org, invoice) in companies {
        let company = Company {
            id: id.into(),
            name: name.into(),
            org_number: org.into(),
            invoice_email: invoice.map(str::to_string),
            created_at: now,
            created_by: ADMIN_SUB.into(),
        };
        let admin = Membership {
            user_sub: ADMIN_SUB.into(),
            company_id: id.into(),
            email: Some(ADMIN_EMAIL.into()),
            name: Some(ADMIN_NAME.into()),
            created_at: now,
        };
        match store.create_company(&company, &admin).await {
            Ok(()) | Err(StoreError::OrgNumberTaken | StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    let locations = [
        (
            COMPANY_1,
            LOCATION_1,
            "Majorstuen",
            "Kirkeveien 64",
            "0364",
            "Oslo",
            "+47 22 00 00 01",
        ),
        (
            COMPANY_1,
            "10000000-0000-4000-8000-000000000002",
            "Grünerløkka",
            "Thorvald Meyers gate 30",
            "0555",
            "Oslo",
            "+47 22 00 00 02",
        ),
        (
            COMPANY_1,
            "10000000-0000-4000-8000-000000000003",
            "Bergen sentrum",
            "Torgallmenningen 8",
            "5014",
            "Bergen",
            "+47 55 00 00 03",
        ),
        (
            COMPANY_2,
            "20000000-0000-4000-8000-000000000001",
            "Trondheim",
            "Munkegata 10",
            "7011",
            "Trondheim",
            "+47 73 00 00 01",
        ),
    ];
    for (company_id, id, name, street, postal_code, city, phone) in locations {
        let location = Location {
            company_id: company_id.into(),
            id: id.into(),
            name: name.into(),
            address: Address {
                street: street.into(),
                postal_code: postal_code.into(),
                city: city.into(),
            },
            phone: phone.into(),
            email: format!("{}@fysio-demo.no", postal_code),
            offline: false,
            booking: None,
            details_requests: Vec::new(),
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: ADMIN_SUB.into(),
        };
        match store.create_location(&location).await {
            Ok(()) | Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
