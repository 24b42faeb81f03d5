//! The HTTP side of the two booking functions, which differ only in the route they serve:
//! parse, identify, call [`super::test_connection`] or [`super::test_and_save`], and answer —
//! with `attempts_remaining` on every answer, errors included.

use lambda_http::{Body, Request, Response};

use super::{BookingDeps, BookingInput};
use crate::http::{Incoming, Reply, respond};
use crate::problem::Problem;
use crate::routes::{self, Matched, RouteId};

/// A booking function: the dependencies and the development identity switch, built once per
/// cold start. `test-connection` and `test-and-save` are both this `App`, each serving its
/// one route.
pub struct BookingApp {
    pub deps: BookingDeps,
    pub dev_identity_headers: bool,
}

impl BookingApp {
    /// `TABLE_NAME` is required; the vendors' settings and `SECRET_NAME_PREFIX` are optional
    /// (see [`BookingDeps::from_wiring`]).
    #[cfg(all(feature = "dynamodb", feature = "secretsmanager"))]
    pub async fn from_env() -> Result<Self, String> {
        let env = crate::wiring::Wiring::from_env()?;
        Ok(BookingApp {
            deps: BookingDeps::from_wiring(&env)?,
            dev_identity_headers: env.dev_identity_headers(),
        })
    }

    /// Answers a request for `serves` (`TestConnection` or `SaveBooking`).
    pub async fn handle(&self, serves: RouteId, req: Request) -> Response<Body> {
        let deps = &self.deps;
        let incoming = Incoming::new(req, self.dev_identity_headers);
        let matched = routes::resolve(&incoming.method, &incoming.path);
        // Only a route that matched names a location whose tally also counts.
        let location_id = matched
            .as_ref()
            .ok()
            .map(|m| m.param("locationId").to_string())
            .filter(|id| !id.is_empty());
        let result = match route(deps, serves, matched, &incoming).await {
            Err(problem) if problem.status != 401 => Err(super::check::with_attempts_remaining(
                deps,
                incoming.caller.as_ref(),
                location_id.as_deref(),
                problem,
            )
            .await),
            other => other,
        };
        respond(result, incoming.lang)
    }
}

async fn route(
    deps: &BookingDeps,
    serves: RouteId,
    matched: Result<Matched, Problem>,
    req: &Incoming,
) -> Result<Reply, Problem> {
    let matched = matched?;
    if matched.route.id != serves {
        return Err(Problem::route_not_found());
    }
    let caller = req.caller()?;
    let (company_id, location_id) = (matched.param("companyId"), matched.param("locationId"));
    if serves == RouteId::SaveBooking {
        let input = BookingInput::for_save(&req.json_object()?, req.if_match_version()?)?;
        let saved = super::test_and_save(deps, caller, company_id, location_id, input).await?;
        let etag = format!("\"{}\"", saved.location.version);
        Ok(Reply::ok(saved.to_json(req.lang)).with_header("etag", etag))
    } else {
        let input = BookingInput::for_check(&req.json_object()?)?;
        let tested = super::test_connection(deps, caller, company_id, location_id, input).await?;
        Ok(Reply::ok(tested.to_json(req.lang)))
    }
}
