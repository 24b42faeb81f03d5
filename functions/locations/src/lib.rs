//! The `locations` function: companies the caller administers and their locations, and the
//! catalog of booking systems. Also API Gateway's `$default` route, so unknown paths and
//! methods get a problem+json 404/405 rather than a bare gateway error.

use std::sync::Arc;

use bookinglink::clock::Clock;
use bookinglink::domain::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, companies, locations};
use bookinglink::http::{self, Incoming, Reply};
use bookinglink::problem::Problem;
use bookinglink::routes::RouteId;
use bookinglink::store::Store;
use bookinglink::wiring::Wiring;
use lambda_http::{Body, Request, Response};

pub const FUNCTION: &str = "locations";

pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub dev_identity_headers: bool,
    pub max_locations_per_company: u32,
}

impl App {
    /// `TABLE_NAME` is required; `MAX_LOCATIONS_PER_COMPANY` defaults to 200.
    pub async fn from_env() -> Result<Self, String> {
        let env = Wiring::from_env()?;
        let max_locations_per_company = bookinglink::runtime::limit_env(
            "MAX_LOCATIONS_PER_COMPANY",
            locations::DEFAULT_MAX_PER_COMPANY,
        )?;
        Ok(App {
            store: env.store()?,
            clock: env.clock(),
            dev_identity_headers: env.dev_identity_headers(),
            max_locations_per_company,
        })
    }
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    http::serve(req, app.dev_identity_headers, app, route).await
}

async fn route(app: &App, req: &Incoming) -> Result<Reply, Problem> {
    let matched = req.route_of(FUNCTION)?;
    // The catalog is public reference data; everything else needs to know who is asking.
    if matched.route.id == RouteId::ListBookingSystems {
        return Ok(Reply::ok(bookinglink::catalog::catalog_json(req.lang)));
    }
    let caller = req.caller()?;
    let store = app.store.as_ref();
    let clock = app.clock.as_ref();
    let company_id = matched.param("companyId");
    let location_id = matched.param("locationId");
    match matched.route.id {
        RouteId::ListCompanies => {
            let limit = req.limit(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
            let query = req.search_query(companies::MAX_QUERY_CHARS)?;
            let page = companies::list(
                store,
                caller,
                query.as_deref(),
                req.cursor()?.as_deref(),
                limit,
            )
            .await?;
            Ok(Reply::page(page, |c| c.to_json()))
        }
        RouteId::CreateCompany => {
            // Who may register is decided before the body is read: a refusal says nothing
            // about what the body would have been worth.
            bookinglink::domain::require_operator(caller)?;
            let new = companies::NewCompany::from_json(&req.json_object()?)?;
            let company = companies::create(store, clock, caller, new).await?;
            Ok(Reply::created(
                company.to_json(),
                format!("/v1/companies/{}", company.id),
            ))
        }
        RouteId::ListLocations => {
            let limit = req.limit(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
            let page =
                locations::list(store, caller, company_id, req.cursor()?.as_deref(), limit).await?;
            Ok(Reply::page(page, |l| l.to_summary_json()))
        }
        RouteId::CreateLocation => {
            let new = locations::NewLocation::from_json(&req.json_object()?)?;
            let location = locations::create(
                store,
                clock,
                caller,
                company_id,
                new,
                app.max_locations_per_company,
            )
            .await?;
            let path = format!("/v1/companies/{company_id}/locations/{}", location.id);
            Ok(with_etag(
                Reply::created(location.to_json(), path),
                location.version,
            ))
        }
        RouteId::GetLocation => {
            let location = locations::get(store, caller, company_id, location_id).await?;
            Ok(with_etag(Reply::ok(location.to_json()), location.version))
        }
        RouteId::UpdateLocation => {
            let edit =
                locations::LocationEdit::from_json(&req.json_object()?, req.if_match_version()?)?;
            let location =
                locations::update(store, clock, caller, company_id, location_id, edit).await?;
            Ok(with_etag(Reply::ok(location.to_json()), location.version))
        }
        // Served by other functions; the check above already refused them.
        _ => Err(Problem::route_not_found()),
    }
}

fn with_etag(reply: Reply, version: u64) -> Reply {
    reply.with_header("etag", format!("\"{version}\""))
}
