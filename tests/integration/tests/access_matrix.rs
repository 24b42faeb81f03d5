//! Who may do what: every route of the route table × {no token, a stranger, an administrator of
//! another company, an administrator of the company, a platform operator}, each cell with its
//! expected status, against the real handlers and the emulator. Each cell starts from the same
//! fresh world, so a change one cell makes never decides another's answer. Every cell also
//! checks the audit trail: a change that succeeded wrote exactly one entry, anything else none,
//! and no entry holds a key or an invitation token.

mod common;

use std::sync::Arc;

use bookinglink::booking::attempts::{Attempt, AttemptStore, Held, ReserveOutcome, Tally};
use bookinglink::routes::{ROUTES, Route, RouteId};
use common::{NOW, Stack};
use integration_tests::demo::{company_with_admin, invitation_with_token, join};
use integration_tests::{Identity, pasientsky};
use serde_json::{Value, json};

const KEY: &str = vendor_sandbox::KEY_OK;
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
    let company = stack.company().await;
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
    let location = stack.location(&company).await;
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
            .mark_failed(
                Tally::Administrator("locked"),
                Held::Reservation(&reservation),
                NOW + 3_600,
            )
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
    route: RouteId,
    body: Option<Value>,
    /// The `{userId}` the path names.
    user: &'static str,
    query: &'static str,
    /// A change: on success it writes one audit entry.
    changes: bool,
    /// The status for no token, stranger, administrator of another company, administrator,
    /// operator.
    expected: [u16; 5],
}

/// A request that changes nothing.
fn read(route: RouteId, expected: [u16; 5]) -> Row {
    Row {
        route,
        body: None,
        user: "",
        query: "",
        changes: false,
        expected,
    }
}

/// A request that, when it succeeds, changes something and writes one audit entry.
fn change(route: RouteId, expected: [u16; 5]) -> Row {
    Row {
        changes: true,
        ..read(route, expected)
    }
}

impl Row {
    fn body(self, body: Value) -> Row {
        Row {
            body: Some(body),
            ..self
        }
    }

    fn user(self, user: &'static str) -> Row {
        Row { user, ..self }
    }

    fn query(self, query: &'static str) -> Row {
        Row { query, ..self }
    }

    fn route(&self) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.id == self.route)
            .expect("every RouteId is in ROUTES")
    }

    /// The route's path with the world's ids.
    fn path(&self, w: &World) -> String {
        let path = self
            .route()
            .path
            .replace("{companyId}", &w.company)
            .replace("{locationId}", &w.location)
            .replace("{invitationId}", &w.invitation)
            .replace("{userId}", self.user);
        format!("{path}{}", self.query)
    }
}

fn booking(version: Option<u64>) -> Value {
    let mut body = pasientsky(KEY);
    if let Some(v) = version {
        body["version"] = json!(v);
    }
    body
}

fn rows() -> Vec<Row> {
    let location = json!({
        "name": "Ny",
        "address": {"street": "Gate 1", "postal_code": "0364", "city": "Oslo"},
        "phone": "+47 22 00 00 01",
        "email": "ny@fysio.no"
    });
    vec![
        read(RouteId::ListCompanies, [401, 200, 200, 200, 200]),
        change(RouteId::CreateCompany, [401, 403, 403, 403, 201])
            .body(json!({"name": "Ny AS", "org_number": "982463718"})),
        read(RouteId::ListLocations, [401, 404, 404, 200, 404]),
        change(RouteId::CreateLocation, [401, 404, 404, 201, 404]).body(location),
        read(RouteId::GetLocation, [401, 404, 404, 200, 404]),
        change(RouteId::UpdateLocation, [401, 404, 404, 200, 404])
            .body(json!({"offline": true, "version": 1})),
        // Public reference data (behind API Gateway a token is still required).
        read(RouteId::ListBookingSystems, [200, 200, 200, 200, 200]),
        read(RouteId::GetDetailsRequest, [401, 404, 404, 200, 404]).query("?system=hano"),
        change(RouteId::SendDetailsRequest, [401, 404, 404, 202, 404])
            .body(json!({"system": "hano"})),
        read(RouteId::TestConnection, [401, 404, 404, 200, 404]).body(booking(None)),
        change(RouteId::SaveBooking, [401, 404, 404, 200, 404]).body(booking(Some(1))),
        read(RouteId::Me, [401, 200, 200, 200, 200]),
        change(RouteId::CreateInvitation, [401, 404, 404, 201, 201])
            .body(json!({"email": "ny@example.no"})),
        change(RouteId::RevokeInvitation, [401, 404, 404, 204, 204]),
        // The invitation went to the stranger's address: nobody else may take it.
        change(RouteId::AcceptInvitation, [401, 200, 403, 403, 403]).body(json!({"token": TOKEN})),
        read(RouteId::ListAdministrators, [401, 404, 404, 200, 200]),
        change(RouteId::RemoveAdministrator, [401, 404, 404, 204, 204]).user("per"),
        change(RouteId::LiftLockout, [401, 403, 403, 403, 204]).user("locked"),
        read(RouteId::ListAudit, [401, 404, 404, 200, 200]),
    ]
}

#[test]
fn the_matrix_has_a_row_for_every_route() {
    let rows = rows();
    for route in ROUTES {
        assert!(
            rows.iter().any(|r| r.route == route.id),
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
    let route = row.route();
    let answer = world
        .stack
        .call(route.method, &row.path(world), identity, row.body.as_ref())
        .await;
    let what = format!("{} {} as {name}", route.method, route.path);
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
