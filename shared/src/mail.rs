//! Outgoing e-mail behind a small trait: [`SesMailer`] (feature `ses`, SES v1 `SendEmail`) in
//! the functions, [`RecordingMailer`] in unit tests.

use std::sync::Mutex;

use async_trait::async_trait;

/// A plain-text e-mail. The sender is the mailer's own, configured, verified address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// Why a mail was not sent, grouped by what the caller can do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The mail service refused this message (unverified sender or recipient, bad address).
    /// Retrying the same message will not help.
    #[error("the mail service rejected the message: {0}")]
    Rejected(String),
    /// The service is rate limiting us; retrying later will work.
    #[error("the mail service is throttling")]
    Throttled,
    /// Sending is switched off or misconfigured on our side (paused account, missing
    /// configuration set) until someone fixes it.
    #[error("mail sending is unavailable: {0}")]
    Unavailable(String),
    #[error("mail sending failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends the mail and returns the service's message id.
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError>;
}

/// Keeps what it is asked to send; fails with the error it is given, if any.
#[derive(Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<OutgoingMail>>,
    failure: Mutex<Option<MailError>>,
}

impl RecordingMailer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail_with(&self, error: Option<MailError>) {
        *self.failure.lock().unwrap() = error;
    }

    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
        if let Some(error) = self.failure.lock().unwrap().clone() {
            return Err(error);
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(mail.clone());
        Ok(format!("recorded-{}", sent.len()))
    }
}

#[cfg(feature = "ses")]
pub use ses::SesMailer;

#[cfg(feature = "ses")]
mod ses {
    use async_trait::async_trait;
    use aws_sdk_ses::Client;
    use aws_sdk_ses::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_ses::operation::send_email::SendEmailError;
    use aws_sdk_ses::types::{Body, Content, Destination, Message};

    use super::{MailError, Mailer, OutgoingMail};
    use crate::aws::LazyClient;

    /// SES v1 `SendEmail` from one verified sender, optionally through a configuration set.
    #[derive(Clone, Debug)]
    pub struct SesMailer {
        client: LazyClient<Client>,
        sender: String,
        configuration_set: Option<String>,
    }

    impl SesMailer {
        /// From a client, or from a [`LazyClient`] the first mail sent builds.
        pub fn new(
            client: impl Into<LazyClient<Client>>,
            sender: String,
            configuration_set: Option<String>,
        ) -> Self {
            SesMailer {
                client: client.into(),
                sender,
                configuration_set: configuration_set.filter(|c| !c.trim().is_empty()),
            }
        }

        pub fn sender(&self) -> &str {
            &self.sender
        }
    }

    // SES defaults to 7-bit ASCII without a charset; æ, ø and å need UTF-8 said explicitly.
    fn utf8(data: &str) -> Result<Content, MailError> {
        Content::builder()
            .data(data)
            .charset("UTF-8")
            .build()
            .map_err(|e| MailError::Failed(e.to_string()))
    }

    #[async_trait]
    impl Mailer for SesMailer {
        async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError> {
            let destination = Destination::builder()
                .set_to_addresses(Some(mail.to.clone()))
                .set_cc_addresses(Some(mail.cc.clone()).filter(|cc| !cc.is_empty()))
                .build();
            let message = Message::builder()
                .subject(utf8(&mail.subject)?)
                .body(Body::builder().text(utf8(&mail.text)?).build())
                .build();
            let out = self
                .client
                .send_email()
                .source(&self.sender)
                .destination(destination)
                .message(message)
                .set_reply_to_addresses(Some(mail.reply_to.clone()).filter(|r| !r.is_empty()))
                .set_configuration_set_name(self.configuration_set.clone())
                .send()
                .await
                .map_err(classify)?;
            Ok(out.message_id().to_string())
        }
    }

    fn classify<R: std::fmt::Debug>(err: SdkError<SendEmailError, R>) -> MailError {
        let detail = || aws_sdk_ses::error::DisplayErrorContext(&err).to_string();
        match err.as_service_error() {
            Some(
                SendEmailError::MessageRejected(_)
                | SendEmailError::MailFromDomainNotVerifiedException(_),
            ) => MailError::Rejected(detail()),
            Some(
                SendEmailError::ConfigurationSetDoesNotExistException(_)
                | SendEmailError::ConfigurationSetSendingPausedException(_)
                | SendEmailError::AccountSendingPausedException(_),
            ) => MailError::Unavailable(detail()),
            Some(e)
                if matches!(
                    e.code(),
                    Some("Throttling" | "ThrottlingException" | "LimitExceeded")
                ) =>
            {
                MailError::Throttled
            }
            // Bad addresses come back as InvalidParameterValue: the message cannot be sent as is.
            Some(e) if e.code() == Some("InvalidParameterValue") => MailError::Rejected(detail()),
            _ => MailError::Failed(detail()),
        }
    }
}
