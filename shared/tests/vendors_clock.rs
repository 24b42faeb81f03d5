//! The dates a check asks a vendor's calendar about come from the injected clock, not from
//! the machine's: a check run at a given moment asks about that moment's Oslo date. The vendor
//! here is a bare HTTP listener that keeps each request it is sent.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use bookinglink::api_key::ApiKey;
use bookinglink::catalog::{self, BookingDetails};
use bookinglink::clock::ManualClock;
use bookinglink::vendors::{VendorCheck, Vendors, VendorsConfig};

/// 2030-06-15T22:30:00Z: already 16 June in Oslo (UTC+2 in summer).
const LATE_EVENING_UTC: i64 = 1_907_793_000;

/// Reads one HTTP/1.1 request (the head, then as much body as it announces) as text.
fn read_request(socket: &mut std::net::TcpStream) -> String {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = socket.read(&mut buffer).unwrap_or(0);
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&request).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&request).to_string()
}

/// A listener on its own thread that answers every request with an empty JSON object and
/// hands over what it was sent.
fn recording_vendor() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sent, received) = mpsc::channel();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let _ = sent.send(read_request(&mut socket));
            let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
            let _ = socket.write_all(reply.as_bytes());
        }
    });
    (url, received)
}

async fn first_request(system: &str, details: BookingDetails) -> String {
    let (url, received) = recording_vendor();
    let vendors = Vendors::new(VendorsConfig::sandbox(&url, Duration::from_secs(2)))
        .unwrap()
        .with_clock(Arc::new(ManualClock::at(LATE_EVENING_UTC)));
    vendors
        .check(catalog::system(system).unwrap(), &details)
        .await;
    received
        .recv_timeout(Duration::from_secs(5))
        .expect("the check called the vendor")
}

#[tokio::test]
async fn pasientsky_is_asked_about_the_week_from_the_injected_oslo_date() {
    let request = first_request(
        "pasientsky",
        BookingDetails {
            external_id: Some(vendor_sandbox::PASIENTSKY_CLINIC_OK.into()),
            external_department_id: Some(vendor_sandbox::PASIENTSKY_DEPT_OK.into()),
            api_key: Some(ApiKey::new(vendor_sandbox::KEY_OK)),
            booking_url: None,
        },
    )
    .await;
    let body: serde_json::Value =
        serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["dateRange"]["from"], "2030-06-16", "{request}");
    assert_eq!(body["dateRange"]["to"], "2030-06-23", "{request}");
    assert_eq!(body["selectedDateForDetails"], "2030-06-16", "{request}");
}

#[tokio::test]
async fn easypractice_is_asked_about_the_injected_oslo_date() {
    let request = first_request(
        "easypractice",
        BookingDetails {
            external_id: None,
            external_department_id: None,
            api_key: Some(ApiKey::new("sandbox-token-ok")),
            booking_url: None,
        },
    )
    .await;
    let target = request.lines().next().unwrap();
    assert!(
        target.contains("start=2030-06-16&end=2030-06-16"),
        "{target}"
    );
}
