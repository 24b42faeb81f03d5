//! Use cases. Each takes the small traits it needs and returns a domain value or the
//! [`Problem`] to answer with; handlers only parse, call and map.

use crate::identity::Caller;
use crate::model::Membership;
use crate::problem::Problem;
use crate::store::{CompanyStore, StoreError};

pub mod companies;
pub mod locations;
pub mod request_details;

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::OrgNumberTaken => Problem::org_number_taken(),
            StoreError::NotFound => Problem::not_found(),
            StoreError::VersionConflict { current } => Problem::version_conflict(current),
            StoreError::Throttled => {
                tracing::warn!("store throttled the request");
                Problem::service_unavailable()
            }
            StoreError::AlreadyExists | StoreError::Backend(_) => {
                tracing::error!(error = %err, "store failure");
                Problem::internal()
            }
        }
    }
}

/// The caller's membership of a company, or 404: a company the caller does not administer
/// looks exactly like one that does not exist.
pub async fn authorize(
    store: &dyn CompanyStore,
    caller: &Caller,
    company_id: &str,
) -> Result<Membership, Problem> {
    store
        .membership(&caller.sub, company_id)
        .await?
        .ok_or_else(Problem::not_found)
}

/// A new, time-ordered id, so lists come back in creation order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 100;
