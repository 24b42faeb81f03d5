use super::*;
use crate::clock::ManualClock;
use crate::domain::companies::{self, NewCompany};
use crate::store::memory::MemoryStore;
use serde_json::json;

fn caller(sub: &str) -> Caller {
    Caller::new(sub)
}

/// Within the default limit; the limit itself is tested in `limit_tests.rs`.
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
