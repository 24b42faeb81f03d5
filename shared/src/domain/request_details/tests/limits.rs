//! The two limits on sends, how the window rolls, and what the answers say is left.

use super::*;

#[tokio::test]
async fn the_eleventh_mail_in_a_day_is_refused_across_locations_and_companies() {
    let w = world().await;
    // Five on each of two locations in two companies, within each location's own limit.
    for other in [false, true] {
        for system in ["hano", "hano", "hano", "konfidens"] {
            w.send_at(&caller("ola"), other, system).await.unwrap();
            w.clock.advance(60);
        }
    }
    w.send_at(&caller("ola"), false, "konfidens").await.unwrap();
    w.clock.advance(60);
    let last = w.send_at(&caller("ola"), true, "konfidens").await.unwrap();
    assert_eq!(w.mailer.sent().len(), 10);
    assert_eq!(last.allowance.remaining, 0);
    assert_eq!(
        last.allowance.blocked,
        Some((NOW + WINDOW_SECONDS, LimitScope::Administrator))
    );

    let err = w
        .send_at(&caller("ola"), true, "physica")
        .await
        .unwrap_err();
    assert_eq!((err.status, err.code), (429, "details_request_limit"));
    assert_eq!(err.extensions["send_limit_scope"], "administrator");
    assert_eq!(err.extensions["sends_remaining"], 0);
    // The first of the ten frees at 26.11.2026 13:00 in Oslo.
    let now = crate::clock::Clock::now(&w.clock);
    assert_eq!(
        err.headers[0],
        ("retry-after", (NOW + WINDOW_SECONDS - now).to_string())
    );
    assert_eq!(err.extensions["retry_at"], "2026-11-26T12:00:00Z");
    assert_detail_says(&err, Lang::Nb, "sendt 10 forespørsler");
    assert_detail_says(&err, Lang::Nb, "26.11.2026 kl. 13:00");
    assert_detail_says(&err, Lang::En, "26.11.2026 at 13:00 (Oslo time)");
    assert_eq!(w.mailer.sent().len(), 10, "nothing was sent");
    assert_eq!(
        w.allowance(&caller("ola"), false, "physica")
            .await
            .remaining,
        0
    );

    // Another administrator of the same location has sends of their own.
    w.store.add_membership(Membership {
        created_at: NOW,
        ..fixtures::membership("kari", &w.company)
    });
    w.send(&caller("kari"), "physica").await.unwrap();
}

#[tokio::test]
async fn the_window_rolls_one_send_at_a_time() {
    let mut w = world().await;
    w.limits.per_administrator = 2;
    w.send_at(&caller("ola"), false, "hano").await.unwrap();
    w.clock.advance(3_600);
    w.send_at(&caller("ola"), true, "hano").await.unwrap();
    w.clock.advance(3_600);
    let refused = w.send(&caller("ola"), "konfidens").await.unwrap_err();
    assert_eq!(refused.headers[0].1, (WINDOW_SECONDS - 7_200).to_string());
    // A second before the first send is a day old, it still counts; at a day, it does not.
    w.clock.set(NOW + WINDOW_SECONDS - 1);
    w.send(&caller("ola"), "konfidens").await.unwrap_err();
    w.clock.set(NOW + WINDOW_SECONDS);
    let allowance = w.allowance(&caller("ola"), false, "konfidens").await;
    assert_eq!((allowance.remaining, allowance.blocked), (1, None));
    let sent = w.send(&caller("ola"), "konfidens").await.unwrap();
    assert_eq!(
        sent.allowance.blocked,
        Some((NOW + 3_600 + WINDOW_SECONDS, LimitScope::Administrator))
    );
    w.send(&caller("ola"), "konfidens").await.unwrap_err();
}

#[tokio::test]
async fn sends_remaining_is_the_smaller_of_both_limits() {
    let mut w = world().await;
    w.limits.per_administrator = 4;
    let ola = caller("ola");
    let fresh = w.allowance(&ola, false, "hano").await;
    assert_eq!((fresh.remaining, fresh.blocked), (3, None));
    let sent = w.send(&ola, "hano").await.unwrap();
    assert_eq!(sent.allowance.remaining, 2);
    let body = sent.to_json();
    assert_eq!(body["sends_remaining"], 2);
    assert_eq!(body["sends_available_at"], Value::Null);
    assert_eq!(body["send_limit_scope"], Value::Null);
    // Elsewhere, the location's three are left and three of the administrator's four.
    assert_eq!(w.allowance(&ola, true, "physica").await.remaining, 3);
    w.send(&ola, "hano").await.unwrap();
    w.clock.advance(1_800);
    let last = w.send(&ola, "hano").await.unwrap();
    assert_eq!(last.allowance.remaining, 0);
    let shown = w
        .preview(&ola, catalog::sys("hano"), Lang::Nb)
        .await
        .to_json();
    assert_eq!(shown["sends_remaining"], 0);
    assert_eq!(shown["sends_available_at"], "2026-11-26T12:00:00Z");
    assert_eq!(shown["send_limit_scope"], "location");
    assert!(shown["to"].as_str().unwrap().contains('@'));
    // The administrator has one left, on any other location.
    let elsewhere = w.allowance(&ola, true, "physica").await;
    assert_eq!((elsewhere.remaining, elsewhere.blocked), (1, None));
    w.send_at(&ola, true, "physica").await.unwrap();
    let elsewhere = w.allowance(&ola, true, "physica").await;
    assert_eq!(
        elsewhere.blocked,
        Some((NOW + WINDOW_SECONDS, LimitScope::Administrator))
    );
}

#[tokio::test]
async fn a_refused_mail_counts_in_neither_limit() {
    let mut w = world().await;
    w.limits.per_administrator = 1;
    w.mailer
        .fail_with(Some(MailError::Unavailable("down".into())));
    for other in [false, true, false] {
        let err = w.send_at(&caller("ola"), other, "hano").await.unwrap_err();
        assert_eq!(err.code, "mail_unavailable");
    }
    let allowance = w.allowance(&caller("ola"), false, "hano").await;
    assert_eq!(allowance.remaining, 1);
    w.mailer.fail_with(None);
    w.send(&caller("ola"), "hano").await.unwrap();
    assert_eq!(
        w.allowance(&caller("ola"), false, "hano").await.remaining,
        0
    );
}

#[test]
fn the_limits_come_from_the_settings() {
    let limits = SendLimits::from_setting(Some("25")).unwrap();
    assert_eq!((limits.per_administrator, limits.per_location), (25, 3));
    for bad in ["0", "-1", "ten", ""] {
        let err = SendLimits::from_setting(Some(bad)).unwrap_err();
        assert!(
            err.contains("DETAILS_SENDS_PER_ADMINISTRATOR"),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(
        SendLimits::from_setting(None).unwrap(),
        SendLimits::default()
    );
    assert_eq!(SendLimits::default().per_administrator, 10);
}
