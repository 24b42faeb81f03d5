//! The mail to a company's administrators when a saved connection breaks or recovers.

use super::{RevalidateDeps, SavedConfig};
use crate::catalog::BookingSystem;
use crate::i18n::Lang;
use crate::mail::OutgoingMail;
use crate::messages as msg;
use crate::model::Notice;
use crate::vendors::CheckReport;

/// Mails each of the company's administrators separately, at the address stored on their
/// membership (invited and verified), so no administrator sees another's address. False when
/// there was nobody to tell. An error only when no mail could be sent: the next run retries
/// then, and a partial send is not repeated to those who got it.
pub(super) async fn notify(
    deps: &RevalidateDeps,
    system: &BookingSystem,
    config: &SavedConfig,
    kind: Notice,
    report: &CheckReport,
) -> Result<bool, String> {
    let admins = deps
        .store
        .administrators(&config.company_id)
        .await
        .map_err(|e| e.to_string())?;
    let mut recipients: Vec<String> = admins.into_iter().filter_map(|a| a.email).collect();
    recipients.sort();
    recipients.dedup();
    if recipients.is_empty() {
        tracing::warn!(company_id = %config.company_id, "no administrator with an e-mail address to notify");
        return Ok(false);
    }
    let (subject, text) = match kind {
        Notice::Broken => {
            let step = report
                .failed_step()
                .map(|s| s.message(system, Lang::Nb))
                .unwrap_or_default();
            msg::connection_broken_mail(&config.location_name, system.name, &step)
        }
        Notice::Recovered => msg::connection_recovered_mail(&config.location_name, system.name),
    };
    let mut sent = 0usize;
    let mut last_error = None;
    for to in recipients {
        let mail = OutgoingMail {
            to: vec![to],
            cc: Vec::new(),
            reply_to: Vec::new(),
            subject: subject.clone(),
            text: text.clone(),
        };
        match deps.mailer.send(&mail).await {
            Ok(_) => sent += 1,
            Err(e) => {
                tracing::warn!(company_id = %config.company_id, error = %e, "notice to one administrator not sent");
                last_error = Some(e.to_string());
            }
        }
    }
    match (sent, last_error) {
        (0, Some(error)) => Err(error),
        _ => Ok(true),
    }
}
