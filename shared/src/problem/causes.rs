//! The dependencies' errors as the problems the API answers with. A 5xx keeps its cause
//! ([`Problem::caused_by`]) for the one log line `http::respond` writes; nothing here logs.

use super::Problem;
use crate::mail::MailError;
use crate::store::StoreError;

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::OrgNumberTaken => Problem::org_number_taken(),
            StoreError::NotFound => Problem::not_found(),
            StoreError::VersionConflict { current } => Problem::version_conflict(current),
            StoreError::Throttled => Problem::service_unavailable().caused_by(err),
            StoreError::LastAdministrator => Problem::last_administrator(),
            StoreError::TooManyLocations { limit } => Problem::too_many_locations(limit),
            StoreError::Changed => Problem::changed_meanwhile(),
            StoreError::AlreadyExists | StoreError::Backend(_) => {
                Problem::internal().caused_by(err)
            }
        }
    }
}

#[cfg(feature = "vendors")]
impl From<crate::booking::key_store::KeyStoreError> for Problem {
    fn from(err: crate::booking::key_store::KeyStoreError) -> Self {
        use crate::booking::key_store::KeyStoreError;
        match err {
            KeyStoreError::Throttled => Problem::service_unavailable().caused_by(err),
            KeyStoreError::NotFound | KeyStoreError::Backend(_) => {
                Problem::internal().caused_by(err)
            }
        }
    }
}

impl From<&MailError> for Problem {
    fn from(err: &MailError) -> Self {
        let problem = match err {
            MailError::Rejected(_) => Problem::mail_rejected(),
            MailError::Throttled => Problem::mail_throttled(),
            MailError::Unavailable(_) => Problem::mail_unavailable(),
            MailError::Failed(_) => Problem::mail_failed(),
        };
        problem.caused_by(err)
    }
}
