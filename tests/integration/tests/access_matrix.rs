//! Who may do what: every route of the route table × {no token, a stranger, an administrator of
//! another company, an administrator of the company, a platform operator}, each cell with its
//! expected status, against the real handlers and the emulator. Each cell starts from the same
//! fresh world, so a change one cell makes never decides another's answer. Every cell also
//! checks the audit trail: a change that succeeded wrote exactly one entry, anything else none,
//! and no entry holds a key or an invitation token.

mod common;

use std::sync::Arc;

use bookinglink::booking::attempts::{Attempt, AttemptStore, ReserveOutcome, Tally};
use bookinglink::routes::ROUTES;
use common::{NOW, Stack};
use integration_tests::Identity;
use integration_tests::demo::{company_with_admin, invitation_with_token, join};
use serde_json::{Value, json};

const KEY: &str = "sandbox-key-ok";
const TOKEN: &str = "matrix-invitation-token-000000000000000001";

struct World {
    stack: Stack,
    company: String,
    location: String,
    invitation: String,
}

async fn world() -> World {
    let stack = Stack::new().await;
    let store = stack.store.as_ref();
    let company = company_with_admin(
        store,
        "admin",
        "admin@example.no",
        "Fysio AS",
        "923609016",
        NOW,
    )
    .await
    .unwrap()
    .id;
    join(store, &company, "per", "per@example.no", NOW)
        .await
        .unwrap();
    company_with_admin(
        store,
        "other",
        "other@example.no",
        "Psykologene AS",
        "974760673",
        NOW,
    )
    .await
    .unwrap();
    let created = stack
        .call(
            "POST",
            &format!("/v1/companies/{company}/locations"),
            &Identity::jwt("admin"),
            Some(&json!({
                "name": "Majorstuen",
                "address": {"street": "Kirkeveien 64", "postal_code": "0364", "city": "Oslo"},
                "phone": "+47 22 00 00 00",
                "email": "post@fysio.no"
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    let location = created.body["id"].as_str().unwrap().to_string();
    let invitation = invitation_with_token(store, &company, "stranger@example.no", TOKEN, NOW)
        .await
        .unwrap()
        .id;
    // Five failed checks: the user `locked` is locked out.
    for n in 0..5 {
        let attempt = Attempt {
            id: format!("attempt-{n}"),
            sub: "locked".into(),
            location_id: location.clone(),
            target: format!("pasientsky#clinic-{n}"),
        };
        let ReserveOutcome::Taken(reservation) = store
            .reserve(Tally::Administrator("locked"), &attempt, NOW)
            .await
            .unwrap()
        else {
            panic!("a free attempt slot");
        };
        store
            .mark_failed(Tally::Administrator("locked"), &reservation, NOW + 3_600)
            .await
            .unwrap();
    }
    World {
        stack,
        company,
        location,
        invitation,
    }
}

fn identities() -> [(&'static str, Identity); 5] {
    [
        ("no token", Identity::Anonymous),
        ("stranger", Identity::jwt("stranger")),
        ("administrator of another company", Identity::jwt("other")),
        ("administrator", Identity::jwt("admin")),
        ("operator", Identity::operator("drift")),
    ]
}

struct Row {
    method: &'static str,
    template: &'static str,
    path: fn(&World) -> String,
    body: Option<Value>,
    /// A change: on success it writes one audit entry.
    changes: bool,
    /// The status for no token, stranger, administrator of another company, administrator,
    /// operator.
    expected: [u16; 5],
}

fn booking(version: Option<u64>) -> Value {
    let mut body = json!({
        "system": "pasientsky",
        "external_id": "00000000-0000-4000-8000-000000000001",
        "external_department_id": "00000000-0000-4000-8000-0000000000d1",
        "api_key": KEY,
    });
    if let Some(v) = version {
        body["version"] = json!(v);
    }
    body
}

fn rows() -> Vec<Row> {
    let location = |w: &World| format!("/v1/companies/{}/locations/{}", w.company, w.location);
    vec![
        Row {
            method: "GET",
            template: "/v1/companies",
            path: |_| "/v1/companies".into(),
            body: None,
            changes: false,
            expected: [401, 200, 200, 200, 200],
        },
        Row {
            method: "POST",
            template: "/v1/companies",
            path: |_| "/v1/companies".into(),
            body: Some(json!({"name": "Ny AS", "org_number": "982463718"})),
            changes: true,
            expected: [401, 403, 403, 403, 201],
        },
        Row {
            method: "GET",
            template: "/v1/companies/{companyId}/locations",
            path: |w| format!("/v1/companies/{}/locations", w.company),
            body: None,
            changes: false,
            expected: [401, 404, 404, 200, 404],
        },
        Row {
            method: "POST",
            template: "/v1/companies/{companyId}/locations",
            path: |w| format!("/v1/companies/{}/locations", w.company),
            body: Some(json!({
                "name": "Ny",
                "address": {"street": "Gate 1", "postal_code": "0364", "city": "Oslo"},
                "phone": "+47 22 00 00 01",
                "email": "ny@fysio.no"
            })),
            changes: true,
            expected: [401, 404, 404, 201, 404],
        },
        Row {
            method: "GET",
            template: "/v1/companies/{companyId}/locations/{locationId}",
            path: location,
            body: None,
            changes: false,
            expected: [401, 404, 404, 200, 404],
        },
        Row {
            method: "PATCH",
            template: "/v1/companies/{companyId}/locations/{locationId}",
            path: location,
            body: Some(json!({"offline": true, "version": 1})),
            changes: true,
            expected: [401, 404, 404, 200, 404],
        },
        Row {
            method: "GET",
            template: "/v1/booking-systems",
            path: |_| "/v1/booking-systems".into(),
            body: None,
            changes: false,
            // Public reference data (behind API Gateway a token is still required).
            expected: [200, 200, 200, 200, 200],
        },
        Row {
            method: "GET",
            template: "/v1/companies/{companyId}/locations/{locationId}/booking/request-details",
            path: |w| {
                format!(
                    "/v1/companies/{}/locations/{}/booking/request-details?system=hano",
                    w.company, w.location
                )
            },
            body: None,
            changes: false,
            expected: [401, 404, 404, 200, 404],
        },
        Row {
            method: "POST",
            template: "/v1/companies/{companyId}/locations/{locationId}/booking/request-details",
            path: |w| {
                format!(
                    "/v1/companies/{}/locations/{}/booking/request-details",
                    w.company, w.location
                )
            },
            body: Some(json!({"system": "hano"})),
            changes: true,
            expected: [401, 404, 404, 202, 404],
        },
        Row {
            method: "POST",
            template: "/v1/companies/{companyId}/locations/{locationId}/booking/test",
            path: |w| {
                format!(
                    "/v1/companies/{}/locations/{}/booking/test",
                    w.company, w.location
                )
            },
            body: Some(booking(None)),
            changes: false,
            expected: [401, 404, 404, 200, 404],
        },
        Row {
            method: "POST",
            template: "/v1/companies/{companyId}/locations/{locationId}/booking/save",
            path: |w| {
                format!(
                    "/v1/companies/{}/locations/{}/booking/save",
                    w.company, w.location
                )
            },
            body: Some(booking(Some(1))),
            changes: true,
            expected: [401, 404, 404, 200, 404],
        },
        Row {
            method: "GET",
            template: "/v1/me",
            path: |_| "/v1/me".into(),
            body: None,
            changes: false,
            expected: [401, 200, 200, 200, 200],
        },
        Row {
            method: "POST",
            template: "/v1/companies/{companyId}/invitations",
            path: |w| format!("/v1/companies/{}/invitations", w.company),
            body: Some(json!({"email": "ny@example.no"})),
            changes: true,
            expected: [401, 404, 404, 201, 201],
        },
        Row {
            method: "DELETE",
            template: "/v1/companies/{companyId}/invitations/{invitationId}",
            path: |w| format!("/v1/companies/{}/invitations/{}", w.company, w.invitation),
            body: None,
            changes: true,
            expected: [401, 404, 404, 204, 204],
        },
        Row {
            method: "POST",
            template: "/v1/invitations/{invitationId}/accept",
            path: |w| format!("/v1/invitations/{}/accept", w.invitation),
            body: Some(json!({"token": TOKEN})),
            changes: true,
            // The invitation went to the stranger's address: nobody else may take it.
            expected: [401, 200, 403, 403, 403],
        },
        Row {
            method: "GET",
            template: "/v1/companies/{companyId}/administrators",
            path: |w| format!("/v1/companies/{}/administrators", w.company),
            body: None,
            changes: false,
            expected: [401, 404, 404, 200, 200],
        },
        Row {
            method: "DELETE",
            template: "/v1/companies/{companyId}/administrators/{userId}",
            path: |w| format!("/v1/companies/{}/administrators/per", w.company),
            body: None,
            changes: true,
            expected: [401, 404, 404, 204, 204],
        },
        Row {
            method: "DELETE",
            template: "/v1/administrators/{userId}/lockout",
            path: |_| "/v1/administrators/locked/lockout".into(),
            body: None,
            changes: true,
            expected: [401, 403, 403, 403, 204],
        },
        Row {
            method: "GET",
            template: "/v1/companies/{companyId}/audit",
            path: |w| format!("/v1/companies/{}/audit", w.company),
            body: None,
            changes: false,
            expected: [401, 404, 404, 200, 200],
        },
    ]
}

#[test]
fn the_matrix_has_a_row_for_every_route() {
    let rows = rows();
    for route in ROUTES {
        assert!(
            rows.iter()
                .any(|r| r.method == route.method && r.template == route.path),
            "{} {} has no row in the access matrix",
            route.method,
            route.path
        );
    }
    assert_eq!(rows.len(), ROUTES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_every_kind_of_caller_as_expected() {
    let rows = Arc::new(rows());
    let mut failures = Vec::new();
    // A cell that changes something gets a world of its own; every other cell (reads, and
    // refusals, which must change nothing) shares one, one cell after the other, so each
    // cell's audit entries are its own.
    let mut tasks = tokio::task::JoinSet::new();
    let shared = Arc::new(world().await);
    for row in 0..rows.len() {
        for who in 0..identities().len() {
            let r = &rows[row];
            if r.changes && (200..300).contains(&r.expected[who]) {
                let rows = rows.clone();
                tasks.spawn(async move { cell(&world().await, &rows[row], who).await });
            } else if let Err(failure) = cell(&shared, r, who).await {
                failures.push(failure);
            }
        }
    }
    while let Some(result) = tasks.join_next().await {
        if let Err(failure) = result.expect("a cell panicked") {
            failures.push(failure);
        }
    }
    failures.sort();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

async fn cell(world: &World, row: &Row, who: usize) -> Result<(), String> {
    let (name, identity) = &identities()[who];
    let before = world.stack.audit_items().await.len();
    let path = (row.path)(world);
    let answer = world
        .stack
        .call(row.method, &path, identity, row.body.as_ref())
        .await;
    let what = format!("{} {} as {name}", row.method, row.template);
    let expected = row.expected[who];
    if answer.status != expected {
        return Err(format!(
            "{what}: {} instead of {expected}: {}",
            answer.status, answer.raw
        ));
    }
    if answer.status >= 400 && answer.content_type() != "application/problem+json" {
        return Err(format!("{what}: a refusal that is not problem+json"));
    }
    let entries = world.stack.audit_items().await;
    let written = entries.len() - before;
    let should = usize::from(row.changes && (200..300).contains(&answer.status));
    if written != should {
        return Err(format!(
            "{what}: {written} audit entries written, not {should}"
        ));
    }
    for (raw, _) in &entries {
        if raw.contains(KEY) || raw.contains(TOKEN) || raw.contains("join-token") {
            return Err(format!("{what}: a secret in the audit entry {raw}"));
        }
    }
    if written == 1 {
        let newest = entries
            .iter()
            .map(|(_, e)| e)
            .max_by_key(|e| e.id.clone())
            .unwrap();
        if Some(newest.actor_sub.as_str()) != identity.sub() || newest.request_id.is_none() {
            return Err(format!(
                "{what}: the entry does not say who and which request: {newest:?}"
            ));
        }
    }
    Ok(())
}
