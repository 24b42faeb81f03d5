//! What the domain's tests build their worlds from: the operator, a company the operator
//! registered, an administrator's membership, a location's input.

use serde_json::json;

use crate::clock::{Clock, ManualClock};
use crate::domain::companies::{self, NewCompany};
use crate::domain::locations::NewLocation;
use crate::i18n::Lang;
use crate::identity::Caller;
use crate::model::Membership;
use crate::problem::Problem;
use crate::store::memory::MemoryStore;

pub fn operator() -> Caller {
    Caller {
        operator: true,
        ..Caller::new("drift")
    }
}

/// A company registered by the operator, with no administrator yet.
pub async fn company(
    store: &MemoryStore,
    clock: &dyn Clock,
    name: &str,
    org_number: &str,
) -> String {
    let new = NewCompany {
        name: name.into(),
        org_number: org_number.into(),
        invoice_email: None,
    };
    companies::create(store, clock, &operator(), new)
        .await
        .unwrap()
        .id
}

/// "Fysio AS", registered at time 0, with `sub` as its administrator.
pub async fn company_administered_by(store: &MemoryStore, sub: &str, org_number: &str) -> String {
    let id = company(store, &ManualClock::at(0), "Fysio AS", org_number).await;
    store.add_membership(membership(sub, &id));
    id
}

/// `sub` administers `company_id` at `sub@klinikk.no`, invited by nobody.
pub fn membership(sub: &str, company_id: &str) -> Membership {
    Membership {
        user_sub: sub.into(),
        company_id: company_id.into(),
        email: Some(format!("{sub}@klinikk.no")),
        name: None,
        created_at: 0,
        invited_by: None,
    }
}

/// A location called `name` at Kirkeveien 64 in Oslo.
pub fn new_location(name: &str) -> NewLocation {
    let body = json!({
        "name": name,
        "address": {"street": "Kirkeveien 64", "postal_code": "0364", "city": "Oslo"},
        "phone": "+47 22 00 00 00",
        "email": "post@klinikk.no"
    });
    NewLocation::from_json(body.as_object().unwrap()).unwrap()
}

/// Each field error's field and code, in order.
pub fn field_codes(err: &Problem) -> Vec<(&str, &'static str)> {
    err.errors
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect()
}

/// The problem's detail, in `lang`, says `part`.
#[track_caller]
pub fn assert_detail_says(err: &Problem, lang: Lang, part: &str) {
    let detail = err.detail.get(lang);
    assert!(detail.contains(part), "{detail}");
}
