//! The cap on locations per company.

use serde_json::json;

use super::*;
use crate::clock::ManualClock;
use crate::domain::companies::{self, NewCompany};
use crate::i18n::Lang;
use crate::store::LocationStore;
use crate::store::memory::MemoryStore;

fn new_location(name: &str) -> NewLocation {
    let body = json!({
        "name": name,
        "address": {"street": "Kirkeveien 64", "postal_code": "0364", "city": "Oslo"},
        "phone": "+47 22 00 00 01",
        "email": "post@klinikk.no"
    });
    NewLocation::from_json(body.as_object().unwrap()).unwrap()
}

async fn company_of(store: &MemoryStore, sub: &str, org_number: &str) -> String {
    let operator = Caller {
        operator: true,
        ..Caller::new("drift")
    };
    let new = NewCompany {
        name: "Fysio AS".into(),
        org_number: org_number.into(),
        invoice_email: None,
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
async fn a_company_gets_no_more_locations_than_its_limit() {
    let store = MemoryStore::new();
    let clock = ManualClock::at(10);
    let company = company_of(&store, "ola", "923609016").await;
    let other = company_of(&store, "ola", "986753043").await;
    let ola = Caller::new("ola");
    for n in 0..3 {
        create(
            &store,
            &clock,
            &ola,
            &company,
            new_location(&format!("L{n}")),
            3,
        )
        .await
        .unwrap();
    }
    let audit_before = store.audit_entries().len();
    let err = create(&store, &clock, &ola, &company, new_location("L3"), 3)
        .await
        .unwrap_err();
    assert_eq!((err.status, err.code), (409, "too_many_locations"));
    assert_eq!(err.errors[0].field, "companyId");
    assert_eq!(err.errors[0].code, "too_many_locations");
    assert!(
        err.detail.nb.contains("allerede 3 lokasjoner"),
        "{}",
        err.detail.nb
    );
    assert!(
        err.detail.en.contains("already has 3 locations"),
        "{}",
        err.detail.en
    );
    let body = err.to_json(Lang::En);
    assert_eq!(body["errors"][0]["field"], "companyId");
    // Nothing was written for the refused one.
    assert_eq!(store.audit_entries().len(), audit_before);
    let page = store.locations_of(&company, None, 100).await.unwrap();
    assert_eq!(page.items.len(), 3);
    // The limit is per company.
    create(&store, &clock, &ola, &other, new_location("Nord"), 3)
        .await
        .unwrap();
    // A higher setting lets the same company grow.
    create(&store, &clock, &ola, &company, new_location("L3"), 4)
        .await
        .unwrap();
}
