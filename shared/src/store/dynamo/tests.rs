//! The stored items, attribute by attribute. Existing tables hold exactly these: a change here
//! is a migration, not a refactoring.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use super::attributes::Item;
use super::audit::audit_item;
use super::companies::membership_item;
use super::invitations::invitation_item;
use crate::i18n::Lang;
use crate::model::{AuditEntry, Invitation, InvitationStatus, Membership};

/// An item as `name=value` pairs in name order, values in the SDK's debug form.
fn attributes(item: &Item) -> BTreeMap<String, String> {
    item.iter()
        .map(|(name, value)| (name.clone(), format!("{value:?}")))
        .collect()
}

fn expect(pairs: &[(&str, AttributeValue)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), format!("{value:?}")))
        .collect()
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

#[test]
fn a_membership_item_keeps_its_keys_index_and_attributes() {
    let item = membership_item(&Membership {
        user_sub: "u1".into(),
        company_id: "c1".into(),
        email: Some("a@b.no".into()),
        name: None,
        created_at: 100,
        invited_by: Some("x@b.no".into()),
    });
    assert_eq!(
        attributes(&item),
        expect(&[
            ("pk", s("USER#u1")),
            ("sk", s("COMPANY#c1")),
            ("gsi1pk", s("COMPANY#c1")),
            ("gsi1sk", s("ADMIN#u1")),
            ("entity", s("membership")),
            ("user_sub", s("u1")),
            ("company_id", s("c1")),
            ("created_at", n("100")),
            ("email", s("a@b.no")),
            ("invited_by", s("x@b.no")),
        ])
    );
}

#[test]
fn an_invitation_item_is_in_the_address_index_only_while_pending() {
    let mut invitation = Invitation {
        id: "i1".into(),
        company_id: "c1".into(),
        email: "a@b.no".into(),
        language: Lang::En,
        token_hash: "h".into(),
        status: InvitationStatus::Pending,
        created_at: 100,
        valid_until: 200,
        invited_by_sub: "u0".into(),
        invited_by_email: None,
        sends_day: "2026-12-01".into(),
        sends_that_day: 1,
        accepted_by: None,
        closed_at: None,
    };
    let common = [
        ("pk", s("INVITATION#i1")),
        ("sk", s("INVITATION")),
        ("gsi1pk", s("COMPANY#c1")),
        ("gsi1sk", s("INVITE#i1")),
        ("entity", s("invitation")),
        ("id", s("i1")),
        ("company_id", s("c1")),
        ("email", s("a@b.no")),
        ("language", s("en")),
        ("token_hash", s("h")),
        ("created_at", n("100")),
        ("valid_until", n("200")),
        ("invited_by_sub", s("u0")),
        ("sends_day", s("2026-12-01")),
        ("sends_that_day", n("1")),
        ("expires_at", n(&(200 + 30 * 24 * 60 * 60).to_string())),
    ];
    let mut pending = common.to_vec();
    pending.extend([
        ("status", s("pending")),
        ("gsi2pk", s("INVITEE#a@b.no")),
        ("gsi2sk", s("INVITE#i1")),
    ]);
    assert_eq!(attributes(&invitation_item(&invitation)), expect(&pending));

    invitation.status = InvitationStatus::Accepted;
    invitation.accepted_by = Some("u2".into());
    invitation.closed_at = Some(150);
    let mut accepted = common.to_vec();
    accepted.extend([
        ("status", s("accepted")),
        ("accepted_by", s("u2")),
        ("closed_at", n("150")),
    ]);
    assert_eq!(attributes(&invitation_item(&invitation)), expect(&accepted));
}

#[test]
fn an_audit_entry_of_no_company_is_in_the_platform_partition() {
    let entry = AuditEntry {
        id: "e1".into(),
        company_id: None,
        at: 100,
        actor_sub: "drift".into(),
        actor_email: None,
        action: "lockout_lifted".into(),
        location_id: None,
        details: json!({"user_id": "u1"}),
        request_id: Some("r1".into()),
        expires_at: 900,
    };
    let details = AttributeValue::M([("user_id".to_string(), s("u1"))].into());
    assert_eq!(
        attributes(&audit_item(&entry)),
        expect(&[
            ("pk", s("PLATFORM")),
            ("sk", s("AUDIT#e1")),
            ("entity", s("audit")),
            ("id", s("e1")),
            ("at", n("100")),
            ("actor_sub", s("drift")),
            ("action", s("lockout_lifted")),
            ("details", details),
            ("request_id", s("r1")),
            ("expires_at", n("900")),
        ])
    );
}
