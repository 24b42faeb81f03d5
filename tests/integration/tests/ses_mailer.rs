//! `SesMailer` on the wire: what it asks SES for (the emulator keeps neither Reply-To nor the
//! charsets) and how SES's refusals are classified. A small local server stands in for SES.

use std::sync::{Arc, Mutex};

use bookinglink::mail::{MailError, Mailer, OutgoingMail, SesMailer};
use integration_tests::emulator_config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request's form parameters, in order.
type Form = Vec<(String, String)>;

/// Answers every request with `status` and `body`, and keeps each request's form parameters.
async fn fake_ses(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<Form>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (pos + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let form = String::from_utf8_lossy(&buf[head_end..]).into_owned();
                log.lock().unwrap().push(parse_form(&form));
                let reason = if status == 200 { "OK" } else { "Bad Request" };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

fn parse_form(form: &str) -> Form {
    form.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("the form is UTF-8")
}

async fn mailer(url: &str, configuration_set: Option<&str>) -> SesMailer {
    let config = aws_sdk_ses::config::Builder::from(&emulator_config().await)
        .endpoint_url(url)
        .build();
    SesMailer::new(
        aws_sdk_ses::Client::from_conf(config),
        "bookinglink@fysio-demo.no".into(),
        configuration_set.map(str::to_string),
    )
}

fn mail() -> OutgoingMail {
    OutgoingMail {
        to: vec!["support@aspit.no".into()],
        cc: vec!["åse@klinikk.no".into()],
        reply_to: vec!["åse@klinikk.no".into()],
        subject: "Forespørsel om nettbooking: Blåbær AS, Grünerløkka".into(),
        text: "Hei,\n\nVi ønsker æ, ø og å.\n".into(),
    }
}

const SENT: &str = r#"<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult><MessageId>0100-captured</MessageId></SendEmailResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></SendEmailResponse>"#;

fn param<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_request_is_utf8_plain_text_with_cc_and_reply_to() {
    let (url, seen) = fake_ses(200, SENT).await;
    let id = mailer(&url, Some("bookinglink-mail"))
        .await
        .send(&mail())
        .await
        .unwrap();
    assert_eq!(id, "0100-captured");
    let seen = seen.lock().unwrap();
    let form = &seen[0];
    let expected = [
        ("Action", "SendEmail"),
        ("Source", "bookinglink@fysio-demo.no"),
        ("Destination.ToAddresses.member.1", "support@aspit.no"),
        ("Destination.CcAddresses.member.1", "åse@klinikk.no"),
        ("ReplyToAddresses.member.1", "åse@klinikk.no"),
        ("Message.Subject.Charset", "UTF-8"),
        ("Message.Body.Text.Charset", "UTF-8"),
        (
            "Message.Subject.Data",
            "Forespørsel om nettbooking: Blåbær AS, Grünerløkka",
        ),
        ("Message.Body.Text.Data", "Hei,\n\nVi ønsker æ, ø og å.\n"),
        ("ConfigurationSetName", "bookinglink-mail"),
    ];
    for (key, value) in expected {
        assert_eq!(param(form, key), Some(value), "{key}");
    }
    assert_eq!(
        param(form, "Message.Body.Html.Data"),
        None,
        "plain text only"
    );
}

#[tokio::test]
async fn without_a_configuration_set_none_is_named() {
    let (url, seen) = fake_ses(200, SENT).await;
    mailer(&url, Some("")).await.send(&mail()).await.unwrap();
    assert_eq!(
        param(&seen.lock().unwrap()[0], "ConfigurationSetName"),
        None
    );
}

fn error(code: &str) -> &'static str {
    Box::leak(
        format!(
            r#"<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>{code}</Code><Message>refused</Message></Error><RequestId>r1</RequestId></ErrorResponse>"#
        )
        .into_boxed_str(),
    )
}

fn kind(err: &MailError) -> &'static str {
    match err {
        MailError::Rejected(_) => "rejected",
        MailError::Throttled => "throttled",
        MailError::Unavailable(_) => "unavailable",
        MailError::Failed(_) => "failed",
    }
}

#[tokio::test]
async fn refusals_are_classified() {
    let cases = [
        ("MessageRejected", "rejected"),
        ("MailFromDomainNotVerifiedException", "rejected"),
        ("ConfigurationSetDoesNotExist", "unavailable"),
        ("AccountSendingPausedException", "unavailable"),
        ("Throttling", "throttled"),
        ("InternalFailure", "failed"),
    ];
    for (code, expected) in cases {
        let (url, _) = fake_ses(400, error(code)).await;
        let err = mailer(&url, None).await.send(&mail()).await.unwrap_err();
        assert_eq!(kind(&err), expected, "{code}: {err:?}");
    }
}
