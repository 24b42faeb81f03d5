//! Who administers which company, in the DynamoDB table: invitations, memberships, the audit
//! trail and lifting a lockout (the item layout is in [`super::dynamo`]). Every change is one
//! transaction with its audit entry.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use super::dynamo::{
    DynamoStore, GSI1, GSI2, Item, TTL_ATTRIBUTE, TxFailure, attempts_pk, audit_from, get_n,
    get_opt_s, get_s, membership_from, membership_item, n, s, sdk,
};
use super::{AdministratorStore, AuditStore, InvitationStore, LockoutStore, StoreError};
use crate::clock::Timestamp;
use crate::i18n::Lang;
use crate::model::{AuditEntry, Invitation, InvitationStatus, Membership, Page};

/// Invitations stay in the table this long after they could last be accepted, so a late
/// click is answered "expired" rather than "not found".
const INVITATION_KEPT_SECONDS: i64 = 30 * 24 * 60 * 60;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn invitation_key(id: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("INVITATION#{id}"))),
        ("sk".into(), s("INVITATION")),
    ])
}

fn invitee_key(company_id: &str, email: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("COMPANY#{company_id}"))),
        ("sk".into(), s(format!("INVITEE#{email}"))),
    ])
}

fn company_key(company_id: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("COMPANY#{company_id}"))),
        ("sk".into(), s("COMPANY")),
    ])
}

fn membership_key(company_id: &str, user_sub: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("USER#{user_sub}"))),
        ("sk".into(), s(format!("COMPANY#{company_id}"))),
    ])
}

fn invitation_item(i: &Invitation) -> Item {
    let mut item = invitation_key(&i.id);
    item.extend([
        ("entity".into(), s("invitation")),
        ("gsi1pk".into(), s(format!("COMPANY#{}", i.company_id))),
        ("gsi1sk".into(), s(format!("INVITE#{}", i.id))),
        ("id".into(), s(&i.id)),
        ("company_id".into(), s(&i.company_id)),
        ("email".into(), s(&i.email)),
        ("language".into(), s(i.language.pick("nb", "en"))),
        ("token_hash".into(), s(&i.token_hash)),
        ("status".into(), s(i.status.as_str())),
        ("created_at".into(), n(i.created_at)),
        ("valid_until".into(), n(i.valid_until)),
        ("invited_by_sub".into(), s(&i.invited_by_sub)),
        ("sends_day".into(), s(&i.sends_day)),
        ("sends_that_day".into(), n(i.sends_that_day)),
        (
            TTL_ATTRIBUTE.into(),
            n(i.valid_until + INVITATION_KEPT_SECONDS),
        ),
    ]);
    if i.status == InvitationStatus::Pending {
        // What `GET /v1/me` finds by the invited address; removed once the invitation closes.
        item.insert("gsi2pk".into(), s(format!("INVITEE#{}", i.email)));
        item.insert("gsi2sk".into(), s(format!("INVITE#{}", i.id)));
    }
    if let Some(email) = &i.invited_by_email {
        item.insert("invited_by_email".into(), s(email));
    }
    if let Some(by) = &i.accepted_by {
        item.insert("accepted_by".into(), s(by));
    }
    if let Some(at) = i.closed_at {
        item.insert("closed_at".into(), n(at));
    }
    item
}

fn invitation_from(item: &Item) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: get_s(item, "id")?,
        company_id: get_s(item, "company_id")?,
        email: get_s(item, "email")?,
        language: if get_s(item, "language")? == "en" {
            Lang::En
        } else {
            Lang::Nb
        },
        token_hash: get_s(item, "token_hash")?,
        status: InvitationStatus::parse(&get_s(item, "status")?)
            .ok_or_else(|| StoreError::Backend("unknown invitation status".into()))?,
        created_at: get_n(item, "created_at")?,
        valid_until: get_n(item, "valid_until")?,
        invited_by_sub: get_s(item, "invited_by_sub")?,
        invited_by_email: get_opt_s(item, "invited_by_email"),
        sends_day: get_s(item, "sends_day")?,
        sends_that_day: get_n(item, "sends_that_day")?,
        accepted_by: get_opt_s(item, "accepted_by"),
        closed_at: item
            .get("closed_at")
            .and_then(|_| get_n(item, "closed_at").ok()),
    })
}

fn update(
    table: &str,
    key: Item,
    expression: &str,
    condition: Option<&str>,
    names: &[(&str, &str)],
    values: Vec<(&str, AttributeValue)>,
) -> Result<TransactWriteItem, StoreError> {
    let mut builder = Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(expression)
        .set_condition_expression(condition.map(str::to_string));
    for (placeholder, name) in names {
        builder = builder.expression_attribute_names(*placeholder, *name);
    }
    for (placeholder, value) in values {
        builder = builder.expression_attribute_values(placeholder, value);
    }
    Ok(TransactWriteItem::builder()
        .update(builder.build().map_err(backend)?)
        .build())
}

fn delete(
    table: &str,
    key: Item,
    condition: Option<&str>,
    names: &[(&str, &str)],
    values: Vec<(&str, AttributeValue)>,
) -> Result<TransactWriteItem, StoreError> {
    let mut builder = Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.map(str::to_string));
    for (placeholder, name) in names {
        builder = builder.expression_attribute_names(*placeholder, *name);
    }
    for (placeholder, value) in values {
        builder = builder.expression_attribute_values(placeholder, value);
    }
    Ok(TransactWriteItem::builder()
        .delete(builder.build().map_err(backend)?)
        .build())
}

impl DynamoStore {
    /// Every item of a `gsi1`/`gsi2` partition whose sort key starts with `prefix`.
    async fn index_items(
        &self,
        index: &str,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let (pk_name, sk_name) = if index == GSI1 {
            ("gsi1pk", "gsi1sk")
        } else {
            ("gsi2pk", "gsi2sk")
        };
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk)?;
            items.extend(out.items().iter().cloned());
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// The invitee item that keeps one open invitation per company and address.
    fn invitee_put(
        &self,
        i: &Invitation,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = invitee_key(&i.company_id, &i.email);
        item.extend([
            ("entity".into(), s("invitee")),
            ("invitation_id".into(), s(&i.id)),
            ("valid_until".into(), n(i.valid_until)),
            (TTL_ATTRIBUTE.into(), n(i.valid_until)),
        ]);
        let mut put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string));
        if condition.is_some() {
            put = put.expression_attribute_values(":now", n(i.created_at));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(backend)?)
            .build())
    }
}

#[async_trait]
impl InvitationStore for DynamoStore {
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(invitation_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item().map(invitation_from).transpose()
    }

    async fn pending_invitations(&self, company_id: &str) -> Result<Vec<Invitation>, StoreError> {
        let items = self
            .index_items(GSI1, &format!("COMPANY#{company_id}"), "INVITE#")
            .await?;
        let mut invitations = items
            .iter()
            .map(invitation_from)
            .collect::<Result<Vec<_>, _>>()?;
        invitations.retain(|i| i.status == InvitationStatus::Pending);
        Ok(invitations)
    }

    async fn invitations_to(&self, email: &str) -> Result<Vec<Invitation>, StoreError> {
        let items = self
            .index_items(GSI2, &format!("INVITEE#{email}"), "INVITE#")
            .await?;
        let mut invitations = items
            .iter()
            .map(invitation_from)
            .collect::<Result<Vec<_>, _>>()?;
        invitations.retain(|i| i.status == InvitationStatus::Pending);
        Ok(invitations)
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        audit: &AuditEntry,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut open = invitation.clone();
        open.created_at = now;
        let items = vec![
            self.put_new(invitation_item(invitation))?,
            // Free when absent or when the invitation it stands for can no longer be accepted.
            self.invitee_put(
                &open,
                Some("attribute_not_exists(pk) OR valid_until <= :now"),
            )?,
            self.audit_put(audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(StoreError::AlreadyExists),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn resend_invitation(
        &self,
        invitation: &Invitation,
        previous_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let items = vec![
            update(
                self.table(),
                invitation_key(&invitation.id),
                "SET token_hash = :hash, valid_until = :until, sends_day = :day, \
                 sends_that_day = :sends, #ttl = :ttl",
                Some("#status = :pending AND token_hash = :previous"),
                &[("#status", "status"), ("#ttl", TTL_ATTRIBUTE)],
                vec![
                    (":hash", s(&invitation.token_hash)),
                    (":until", n(invitation.valid_until)),
                    (":day", s(&invitation.sends_day)),
                    (":sends", n(invitation.sends_that_day)),
                    (":ttl", n(invitation.valid_until + INVITATION_KEPT_SECONDS)),
                    (":pending", s(InvitationStatus::Pending.as_str())),
                    (":previous", s(previous_hash)),
                ],
            )?,
            self.invitee_put(invitation, None)?,
            self.audit_put(audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(StoreError::Changed),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn revoke_invitation(
        &self,
        invitation: &Invitation,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let items = vec![
            close(
                self.table(),
                invitation,
                InvitationStatus::Revoked,
                None,
                now,
            )?,
            // Still open (the condition above), so the invitee item is this invitation's.
            delete(
                self.table(),
                invitee_key(&invitation.company_id, &invitation.email),
                None,
                &[],
                vec![],
            )?,
            self.audit_put(audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(StoreError::Changed),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        membership: &Membership,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let items = vec![
            close(
                self.table(),
                invitation,
                InvitationStatus::Accepted,
                Some(&membership.user_sub),
                now,
            )?,
            self.put_new(membership_item(membership))?,
            update(
                self.table(),
                company_key(&invitation.company_id),
                "ADD admin_count :one",
                Some("attribute_exists(pk)"),
                &[],
                vec![(":one", n(1))],
            )?,
            delete(
                self.table(),
                invitee_key(&invitation.company_id, &invitation.email),
                None,
                &[],
                vec![],
            )?,
            self.audit_put(audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(failed)) if failed[0] => Err(StoreError::Changed),
            Err(TxFailure::Conditions(failed)) if failed[1] => Err(StoreError::AlreadyExists),
            Err(TxFailure::Conditions(_)) => Err(StoreError::NotFound),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }
}

/// Closes an invitation that is still open with the token it was read with.
fn close(
    table: &str,
    invitation: &Invitation,
    status: InvitationStatus,
    accepted_by: Option<&str>,
    now: Timestamp,
) -> Result<TransactWriteItem, StoreError> {
    let mut values = vec![
        (":closed", s(status.as_str())),
        (":pending", s(InvitationStatus::Pending.as_str())),
        (":hash", s(&invitation.token_hash)),
        (":now", n(now)),
    ];
    let expression = match accepted_by {
        Some(sub) => {
            values.push((":by", s(sub)));
            "SET #status = :closed, closed_at = :now, accepted_by = :by REMOVE gsi2pk, gsi2sk"
        }
        None => "SET #status = :closed, closed_at = :now REMOVE gsi2pk, gsi2sk",
    };
    update(
        table,
        invitation_key(&invitation.id),
        expression,
        Some("#status = :pending AND token_hash = :hash AND valid_until > :now"),
        &[("#status", "status")],
        values,
    )
}

#[async_trait]
impl AdministratorStore for DynamoStore {
    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>, StoreError> {
        let items = self
            .index_items(GSI1, &format!("COMPANY#{company_id}"), "ADMIN#")
            .await?;
        items.iter().map(membership_from).collect()
    }

    async fn remove_administrator(
        &self,
        company_id: &str,
        user_sub: &str,
        allow_last: bool,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let count_condition = if allow_last {
            "attribute_exists(pk)"
        } else {
            "attribute_exists(pk) AND admin_count > :one"
        };
        let mut count_values = vec![(":minus_one", n(-1))];
        if !allow_last {
            count_values.push((":one", n(1)));
        }
        let items = vec![
            delete(
                self.table(),
                membership_key(company_id, user_sub),
                Some("attribute_exists(pk)"),
                &[],
                vec![],
            )?,
            update(
                self.table(),
                company_key(company_id),
                "ADD admin_count :minus_one",
                Some(count_condition),
                &[],
                count_values,
            )?,
            self.audit_put(audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(failed)) if failed[0] => Err(StoreError::NotFound),
            Err(TxFailure::Conditions(_)) => Err(StoreError::LastAdministrator),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn audit_of(
        &self,
        company_id: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let pk = format!("COMPANY#{company_id}");
        let start = before.map(|id| {
            HashMap::from([
                ("pk".to_string(), s(&pk)),
                ("sk".to_string(), s(format!("AUDIT#{id}"))),
            ])
        });
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":prefix", s("AUDIT#"))
            .scan_index_forward(false)
            .set_exclusive_start_key(start)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(sdk)?;
        let entries = out
            .items()
            .iter()
            .map(|item| audit_from(item).map(|e| (e.id.clone(), e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(
            entries,
            limit,
            out.last_evaluated_key().is_some(),
        ))
    }
}

#[async_trait]
impl LockoutStore for DynamoStore {
    async fn lift_lockout(
        &self,
        user_sub: &str,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<u32, StoreError> {
        // A failure may be settled or extended while we lift; then read again.
        for _ in 0..3 {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(attempts_pk(user_sub)))
                .consistent_read(true)
                .send()
                .await
                .map_err(sdk)?;
            let failures: Vec<&Item> = out
                .items()
                .iter()
                .filter(|item| get_s(item, "state").is_ok_and(|state| state == "failed"))
                .filter(|item| get_n::<Timestamp>(item, TTL_ATTRIBUTE).is_ok_and(|t| t > now))
                .collect();
            if failures.is_empty() {
                return Ok(0);
            }
            let mut items = Vec::new();
            for failure in &failures {
                let key = HashMap::from([
                    ("pk".to_string(), s(get_s(failure, "pk")?)),
                    ("sk".to_string(), s(get_s(failure, "sk")?)),
                ]);
                items.push(delete(
                    self.table(),
                    key,
                    Some("attempt_id = :id AND #state = :failed"),
                    &[("#state", "state")],
                    vec![
                        (":id", s(get_s(failure, "attempt_id")?)),
                        (":failed", s("failed")),
                    ],
                )?);
            }
            items.push(self.audit_put(audit)?);
            match self.transact(items).await {
                Ok(()) => return Ok(failures.len() as u32),
                Err(TxFailure::Conditions(_)) => continue,
                Err(TxFailure::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Changed)
    }
}
