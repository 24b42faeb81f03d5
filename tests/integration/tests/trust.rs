//! Invitations, memberships and the mail that follows them, through the real handlers against
//! the emulator: an invitation is accepted exactly once, only by its verified address, never
//! when expired, revoked or used; the last administrator stays; tokens are never stored; and
//! mail about a company goes to the addresses its administrators were invited at.

mod common;

use std::sync::Arc;

use common::Stack;
use integration_tests::{Identity, last_invitation};
use serde_json::{Value, json};

async fn stack_with_company() -> (Arc<Stack>, String) {
    let stack = Stack::new().await;
    let company = stack.company().await;
    (Arc::new(stack), company)
}

/// `admin` invites `email` to the company.
async fn post_invitation(
    stack: &Stack,
    company: &str,
    email: &str,
    language: Option<&str>,
) -> integration_tests::Answer {
    let mut body = json!({"email": email});
    if let Some(language) = language {
        body["language"] = json!(language);
    }
    stack
        .call(
            "POST",
            &format!("/v1/companies/{company}/invitations"),
            &Identity::jwt("admin"),
            Some(&body),
        )
        .await
}

/// Invites `email` as the company's administrator (a new invitation: 201); returns
/// (invitation id, token).
async fn invite(
    stack: &Stack,
    company: &str,
    email: &str,
    language: Option<&str>,
) -> (String, String) {
    let answer = post_invitation(stack, company, email, language).await;
    assert_eq!(answer.status, 201, "{}", answer.raw);
    last_invitation(&stack.invitations)
}

/// Invites `email` again while their invitation is pending (sent again: 200); returns
/// (invitation id, token).
async fn invite_again(stack: &Stack, company: &str, email: &str) -> (String, String) {
    let answer = post_invitation(stack, company, email, None).await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    last_invitation(&stack.invitations)
}

async fn accept(stack: &Stack, id: &str, token: &str, who: &Identity) -> integration_tests::Answer {
    stack
        .call(
            "POST",
            &format!("/v1/invitations/{id}/accept"),
            who,
            Some(&json!({"token": token})),
        )
        .await
}

async fn administrators(stack: &Stack, company: &str) -> Vec<Value> {
    let path = format!("/v1/companies/{company}/administrators");
    let answer = stack
        .call("GET", &path, &Identity::operator("drift"), None)
        .await;
    answer.body["administrators"].as_array().unwrap().clone()
}

/// `who` removes `user` from the company's administrators.
async fn remove_administrator(
    stack: &Stack,
    company: &str,
    user: &str,
    who: &Identity,
) -> integration_tests::Answer {
    let path = format!("/v1/companies/{company}/administrators/{user}");
    stack.call("DELETE", &path, who, None).await
}

#[tokio::test]
async fn the_invitation_mail_links_to_the_admin_app_in_the_asked_language_and_only_a_hash_is_kept()
{
    let (stack, company) = stack_with_company().await;
    let (id, token) = invite(&stack, &company, "Ny.Admin@Example.no", None).await;
    let mail = stack.invitations.sent().pop().unwrap();
    assert_eq!(mail.to, ["ny.admin@example.no"]);
    assert!(
        mail.subject
            .contains("invitert som administrator for Fysio AS"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text
            .contains("https://admin.bookinglink.no/app?invitation="),
        "{}",
        mail.text
    );
    assert!(token.len() >= 43, "at least 256 bits, base64url: {token}");
    invite(&stack, &company, "en@example.no", Some("en")).await;
    let english = stack.invitations.sent().pop().unwrap();
    assert!(
        english.subject.starts_with("You are invited"),
        "{}",
        english.subject
    );

    // The token is nowhere in the table; its hash is.
    let items = stack
        .api
        .client
        .scan()
        .table_name(&stack.api.table)
        .send()
        .await
        .unwrap();
    let all = format!("{:?}", items.items());
    assert!(!all.contains(&token), "the token is stored");
    assert!(all.contains(&bookinglink::domain::access::token_hash(&token)));

    // Pending invitations show in the invited person's own view and the company's list.
    let me_as = async |who: &Identity| stack.call("GET", "/v1/me", who, None).await;
    let me = me_as(&Identity::with_email("nina", "ny.admin@example.no")).await;
    assert_eq!(me.body["invitations"][0]["id"], id.as_str());
    assert_eq!(me.body["invitations"][0]["company_name"], "Fysio AS");
    let unverified = me_as(&Identity::unverified("nina", "ny.admin@example.no")).await;
    assert_eq!(
        unverified.body["invitations"],
        json!([]),
        "only for a verified address"
    );
}

#[tokio::test]
async fn two_concurrent_accepts_make_one_membership() {
    let (stack, company) = stack_with_company().await;
    let (id, token) = invite(&stack, &company, "nina@example.no", None).await;
    let nina = Identity::with_email("nina", "nina@example.no");
    // The same person twice (two tabs), and another account with the same verified address.
    let twin = Identity::with_email("nina-2", "NINA@example.no");
    let tasks: Vec<_> = [nina.clone(), nina.clone(), twin.clone(), twin]
        .into_iter()
        .map(|who| {
            let (stack, id, token) = (stack.clone(), id.clone(), token.clone());
            tokio::spawn(async move { accept(&stack, &id, &token, &who).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().status);
    }
    let admins = administrators(&stack, &company).await;
    let joined: Vec<&str> = admins
        .iter()
        .filter_map(|a| a["user_id"].as_str())
        .filter(|s| s.starts_with("nina"))
        .collect();
    assert_eq!(
        joined.len(),
        1,
        "one membership: {admins:?}, answers {statuses:?}"
    );
    statuses.sort();
    // The winner's account gets 200 on both its tabs; the other account 410.
    assert_eq!(statuses, [200, 200, 410, 410], "{admins:?}");
    let joins = stack
        .audit_items()
        .await
        .into_iter()
        .filter(|(_, e)| e.action == "administrator_joined")
        .count();
    assert_eq!(joins, 1);
    assert_eq!(
        admins.iter().find(|a| a["user_id"] == joined[0]).unwrap()["email"],
        "nina@example.no"
    );
}

#[tokio::test]
async fn expired_revoked_reused_and_misaddressed_invitations_are_refused() {
    let (stack, company) = stack_with_company().await;
    let nina = Identity::with_email("nina", "nina@example.no");

    // Wrong e-mail, unverified e-mail, wrong token: 403, and still open.
    let (id, token) = invite(&stack, &company, "nina@example.no", None).await;
    let kari = Identity::jwt("kari");
    assert_eq!(
        accept(&stack, &id, &token, &kari).await.body["code"],
        "invitation_email_mismatch"
    );
    let unverified = Identity::unverified("nina", "nina@example.no");
    assert_eq!(
        accept(&stack, &id, &token, &unverified).await.body["code"],
        "email_not_verified"
    );
    let wrong = accept(&stack, &id, "not-the-token", &nina).await;
    assert_eq!(wrong.problem(), (403, Some("invitation_token_invalid")));

    // Used: the same address on another account gets 410; the member again gets 200.
    assert_eq!(accept(&stack, &id, &token, &nina).await.status, 200);
    assert_eq!(accept(&stack, &id, &token, &nina).await.status, 200);
    let other_account = Identity::with_email("nina-old", "nina@example.no");
    let reused = accept(&stack, &id, &token, &other_account).await;
    assert_eq!(reused.problem(), (410, Some("invitation_used")));

    // Revoked.
    let (id, token) = invite(&stack, &company, "per@example.no", None).await;
    let invitation = format!("/v1/companies/{company}/invitations/{id}");
    let revoked = stack
        .call("DELETE", &invitation, &Identity::jwt("admin"), None)
        .await;
    assert_eq!(revoked.status, 204);
    let per = Identity::with_email("per", "per@example.no");
    let answer = accept(&stack, &id, &token, &per).await;
    assert_eq!(answer.problem(), (410, Some("invitation_revoked")));

    // Expired after 14 days.
    let (id, token) = invite(&stack, &company, "lise@example.no", None).await;
    stack.clock.advance(14 * 24 * 3600 + 1);
    let lise = Identity::with_email("lise", "lise@example.no");
    let answer = accept(&stack, &id, &token, &lise).await;
    assert_eq!(answer.problem(), (410, Some("invitation_expired")));

    let members: Vec<String> = administrators(&stack, &company)
        .await
        .iter()
        .map(|a| a["user_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members.len(), 2, "admin and nina only: {members:?}");
}

#[tokio::test]
async fn re_sending_is_limited_per_day_and_pending_invitations_per_company() {
    let (stack, company) = stack_with_company().await;
    let (id, first) = invite(&stack, &company, "nina@example.no", None).await;
    for _ in 0..3 {
        let (again, _) = invite_again(&stack, &company, "nina@example.no").await;
        assert_eq!(again, id, "the same invitation, sent again");
    }
    let limited = post_invitation(&stack, &company, "nina@example.no", None).await;
    assert_eq!(limited.problem(), (429, Some("invitation_resend_limit")));
    assert!(limited.header("retry-after").is_some());
    let (_, latest) = last_invitation(&stack.invitations);
    let nina = Identity::with_email("nina", "nina@example.no");
    assert_eq!(
        accept(&stack, &id, &first, &nina).await.status,
        403,
        "an old link stops working"
    );

    for n in 1..20 {
        invite(&stack, &company, &format!("person-{n}@example.no"), None).await;
    }
    let full = post_invitation(&stack, &company, "one-too-many@example.no", None).await;
    assert_eq!(full.problem(), (409, Some("too_many_invitations")));
    assert_eq!(accept(&stack, &id, &latest, &nina).await.status, 200);
    let again = post_invitation(&stack, &company, "one-more@example.no", None).await;
    assert_eq!(again.status, 201, "accepting frees a place: {}", again.raw);
    let existing = post_invitation(&stack, &company, "NINA@example.no", None).await;
    assert_eq!(existing.body["code"], "already_administrator");
}

#[tokio::test]
async fn the_last_administrator_stays_unless_an_operator_removes_them() {
    let (stack, company) = stack_with_company().await;
    let admin = Identity::jwt("admin");
    let alone = remove_administrator(&stack, &company, "admin", &admin).await;
    assert_eq!(alone.problem(), (409, Some("last_administrator")));
    let (id, token) = invite(&stack, &company, "nina@example.no", None).await;
    let nina = Identity::with_email("nina", "nina@example.no");
    accept(&stack, &id, &token, &nina).await;
    // Two removals at once of the last two: one stays.
    let removal = |user: &'static str, who: Identity| {
        let (stack, company) = (stack.clone(), company.clone());
        tokio::spawn(async move {
            remove_administrator(&stack, &company, user, &who)
                .await
                .status
        })
    };
    let a = removal("nina", admin.clone());
    let b = removal("admin", nina.clone());
    let mut statuses = [a.await.unwrap(), b.await.unwrap()];
    statuses.sort();
    assert_eq!(statuses, [204, 409]);
    let left = administrators(&stack, &company).await;
    assert_eq!(left.len(), 1);
    let last = left[0]["user_id"].as_str().unwrap().to_string();
    let removed = remove_administrator(&stack, &company, &last, &Identity::operator("drift")).await;
    assert_eq!(
        removed.status, 204,
        "an operator may remove anyone: {}",
        removed.raw
    );
    assert!(administrators(&stack, &company).await.is_empty());
}

#[tokio::test]
async fn vendors_are_asked_to_answer_the_stored_verified_address_not_the_tokens_claim() {
    let (stack, company) = stack_with_company().await;
    let location = stack.location(&company).await;
    // The token now names another address (changed at the identity provider, unverified).
    let claims_other = Identity::unverified("admin", "attacker@example.com");
    let path = format!("/v1/companies/{company}/locations/{location}/booking/request-details");
    let sent = stack
        .call(
            "POST",
            &path,
            &claims_other,
            Some(&json!({"system": "hano"})),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.raw);
    assert_eq!(sent.body["cc"], "admin@example.no");
    let mail = stack.mail.sent().pop().unwrap();
    assert_eq!(mail.cc, ["admin@example.no"]);
    assert_eq!(mail.reply_to, ["admin@example.no"]);
    assert!(!format!("{mail:?}").contains("attacker"));
}
