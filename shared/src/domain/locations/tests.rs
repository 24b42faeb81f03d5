use super::*;
use crate::clock::ManualClock;
use crate::domain::fixtures::{company_administered_by, new_location};
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

/// Ola's company with one location, Majorstuen, created at 10 s.
struct Majorstuen {
    store: MemoryStore,
    clock: ManualClock,
    company: String,
    location: Location,
}

async fn majorstuen() -> Majorstuen {
    let store = MemoryStore::new();
    let clock = ManualClock::at(10);
    let company = company_administered_by(&store, "ola", "923609016").await;
    let location = create(
        &store,
        &clock,
        &caller("ola"),
        &company,
        new_location("Majorstuen"),
    )
    .await
    .unwrap();
    Majorstuen {
        store,
        clock,
        company,
        location,
    }
}

impl Majorstuen {
    async fn update(&self, who: &Caller, edit: LocationEdit) -> Result<Location, Problem> {
        update(
            &self.store,
            &self.clock,
            who,
            &self.company,
            &self.location.id,
            edit,
        )
        .await
    }

    async fn get(&self, who: &Caller) -> Result<Location, Problem> {
        get(&self.store, who, &self.company, &self.location.id).await
    }
}

fn take_offline(expected_version: u64) -> LocationEdit {
    LocationEdit {
        expected_version,
        patch: LocationPatch {
            offline: Some(true),
            ..Default::default()
        },
    }
}

fn rename(expected_version: u64, name: &str) -> LocationEdit {
    LocationEdit {
        expected_version,
        patch: LocationPatch {
            name: Some(name.into()),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn each_change_writes_one_audit_entry_and_a_refusal_none() {
    let w = majorstuen().await;
    let ola = caller("ola");
    w.update(&ola, take_offline(1)).await.unwrap();
    w.update(&ola, rename(2, "Ny")).await.unwrap();
    // Refused: stale version, and an outsider.
    w.update(&ola, take_offline(1)).await.unwrap_err();
    w.update(&caller("kari"), take_offline(1))
        .await
        .unwrap_err();
    let entries = w.store.audit_entries();
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
    assert!(
        entries[1..]
            .iter()
            .all(|e| e.actor_sub == "ola"
                && e.location_id.as_deref() == Some(w.location.id.as_str()))
    );
    assert_eq!(entries[3].details["fields"], json!(["name"]));
}

#[tokio::test]
async fn only_administrators_see_and_change_locations() {
    let w = majorstuen().await;

    let outsider = caller("kari");
    let expect_404 = |r: Result<_, Problem>| assert_eq!(r.map(|_| ()).unwrap_err().status, 404);
    expect_404(
        list(&w.store, &outsider, &w.company, None, 10)
            .await
            .map(|_| ()),
    );
    expect_404(w.get(&outsider).await.map(|_| ()));
    expect_404(
        create(&w.store, &w.clock, &outsider, &w.company, new_location("X"))
            .await
            .map(|_| ()),
    );
    expect_404(w.update(&outsider, take_offline(1)).await.map(|_| ()));
    assert!(!w.get(&caller("ola")).await.unwrap().offline);
}

#[tokio::test]
async fn a_stale_version_changes_nothing() {
    let w = majorstuen().await;
    let ola = caller("ola");
    w.clock.advance(5);
    let updated = w.update(&ola, rename(1, "Ny")).await.unwrap();
    assert_eq!(
        (updated.version, updated.name.as_str(), updated.updated_at),
        (2, "Ny", 15)
    );
    let err = w.update(&ola, rename(1, "Gammel")).await.unwrap_err();
    assert_eq!((err.status, err.code), (409, "version_conflict"));
    assert_eq!(err.extensions["current_version"], 2);
    assert_eq!(w.get(&ola).await.unwrap().name, "Ny");
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
