//! The `admins` function: who administers which company. Invitations (sent through SES),
//! accepting them, a company's administrators, the caller's own view (`GET /v1/me`), lifting a
//! lockout and the audit trail. Companies and locations stay with `locations`, which needs no
//! mail service.

use std::sync::Arc;

use bookinglink::clock::Clock;
use bookinglink::domain::access::{self, Services};
use bookinglink::domain::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use bookinglink::http::{self, Incoming, Reply};
use bookinglink::mail::Mailer;
use bookinglink::problem::Problem;
use bookinglink::routes::RouteId;
use bookinglink::store::{AdminStore, LockoutStore};
use bookinglink::wiring::Wiring;
use lambda_http::{Body, Request, Response};

pub const FUNCTION: &str = "admins";

pub struct App {
    pub store: Arc<dyn AdminStore>,
    pub lockouts: Arc<dyn LockoutStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    /// Where invitation links point: the admin app (`ADMIN_APP_URL`).
    pub admin_app_url: String,
    pub dev_identity_headers: bool,
}

impl App {
    /// `TABLE_NAME`, `MAIL_SENDER` (a verified SES identity) and `ADMIN_APP_URL` are required;
    /// `SES_CONFIGURATION_SET` is optional. Only invitations send mail; the first one builds
    /// the SES client.
    pub async fn from_env() -> Result<Self, String> {
        let env = Wiring::from_env()?;
        let store = env.store()?;
        Ok(App {
            store: store.clone(),
            lockouts: store,
            mailer: env.mailer()?,
            clock: env.clock(),
            admin_app_url: env.required("ADMIN_APP_URL")?,
            dev_identity_headers: env.dev_identity_headers(),
        })
    }

    fn services(&self) -> Services<'_> {
        Services {
            store: self.store.as_ref(),
            lockouts: self.lockouts.as_ref(),
            mailer: self.mailer.as_ref(),
            clock: self.clock.as_ref(),
            admin_app_url: &self.admin_app_url,
        }
    }
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    http::serve(req, app.dev_identity_headers, app, route).await
}

async fn route(app: &App, req: &Incoming) -> Result<Reply, Problem> {
    let matched = req.route_of(FUNCTION)?;
    let caller = req.caller()?;
    let svc = app.services();
    let company_id = matched.param("companyId");
    match matched.route.id {
        RouteId::Me => Ok(Reply::ok(access::me(svc, caller).await?.to_json())),
        RouteId::CreateInvitation => {
            let new = access::NewInvitation::from_json(&req.json_object()?)?;
            let invited = access::invite(svc, caller, company_id, new).await?;
            let body = invited.invitation.to_json();
            if invited.resent {
                Ok(Reply::ok(body))
            } else {
                let path = format!(
                    "/v1/companies/{company_id}/invitations/{}",
                    invited.invitation.id
                );
                Ok(Reply::created(body, path))
            }
        }
        RouteId::RevokeInvitation => {
            access::revoke(svc, caller, company_id, matched.param("invitationId")).await?;
            Ok(Reply::no_content())
        }
        RouteId::AcceptInvitation => {
            let token = access::token_from_json(&req.json_object()?)?;
            let accepted =
                access::accept(svc, caller, matched.param("invitationId"), &token).await?;
            Ok(Reply::ok(accepted.to_json()))
        }
        RouteId::ListAdministrators => Ok(Reply::ok(
            access::administrators(svc, caller, company_id)
                .await?
                .to_json(),
        )),
        RouteId::RemoveAdministrator => {
            access::remove_administrator(svc, caller, company_id, matched.param("userId")).await?;
            Ok(Reply::no_content())
        }
        RouteId::LiftLockout => {
            access::lift_lockout(svc, caller, matched.param("userId")).await?;
            Ok(Reply::no_content())
        }
        RouteId::ListAudit => {
            let limit = req.limit(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
            let page =
                access::audit(svc, caller, company_id, req.cursor()?.as_deref(), limit).await?;
            Ok(Reply::page(page, |e| e.to_json()))
        }
        _ => Err(Problem::route_not_found()),
    }
}
