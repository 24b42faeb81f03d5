//! Invitations to administer a company, and the invitee items that keep one open invitation
//! per company and address. Every change is one transaction with its audit entry.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::attributes::{Item, get_n, get_opt_s, get_s, key_item, n, s, set_index};
use super::companies::membership_item;
use super::requests::{Conditional, backend};
use super::{DynamoStore, TxFailure};
use crate::clock::Timestamp;
use crate::i18n::Lang;
use crate::model::{Invitation, InvitationStatus};
use crate::store::keys::{
    INVITE_PREFIX, Index, IndexKey, Key, TTL_ATTRIBUTE, company_partition, invitee_partition,
};
use crate::store::{
    InvitationAcceptance, InvitationResend, InvitationStore, InvitationWrite, Result, StoreError,
};

/// Invitations stay in the table this long after they could last be accepted, so a late
/// click is answered "expired" rather than "not found".
const INVITATION_KEPT_SECONDS: i64 = 30 * 24 * 60 * 60;

pub(super) fn invitation_item(i: &Invitation) -> Item {
    let mut item = key_item(&Key::invitation(&i.id));
    set_index(
        &mut item,
        &IndexKey::company_invitation(&i.company_id, &i.id),
    );
    item.extend([
        ("entity".into(), s("invitation")),
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
        set_index(&mut item, &IndexKey::pending_invitation(&i.email, &i.id));
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

fn invitation_from(item: &Item) -> Result<Invitation> {
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

impl DynamoStore {
    /// The invitee item that keeps one open invitation per company and address.
    fn invitee_put(&self, i: &Invitation, condition: Option<&str>) -> Result<TransactWriteItem> {
        let mut item = key_item(&Key::invitee(&i.company_id, &i.email));
        item.extend([
            ("entity".into(), s("invitee")),
            ("invitation_id".into(), s(&i.id)),
            ("valid_until".into(), n(i.valid_until)),
            (TTL_ATTRIBUTE.into(), n(i.valid_until)),
        ]);
        let mut put = Put::builder()
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

impl DynamoStore {
    /// The pending invitations of an index partition: a company's, or those to an address.
    async fn pending_in(&self, index: Index, pk: &str) -> Result<Vec<Invitation>> {
        let items = self.index_items(index, pk, INVITE_PREFIX).await?;
        let mut invitations = items
            .iter()
            .map(invitation_from)
            .collect::<Result<Vec<_>, _>>()?;
        invitations.retain(|i| i.status == InvitationStatus::Pending);
        Ok(invitations)
    }
}

#[async_trait]
impl InvitationStore for DynamoStore {
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        let item = self.get(&Key::invitation(id), true).await?;
        item.as_ref().map(invitation_from).transpose()
    }

    async fn pending_invitations(&self, company_id: &str) -> Result<Vec<Invitation>> {
        self.pending_in(Index::Gsi1, &company_partition(company_id))
            .await
    }

    async fn invitations_to(&self, email: &str) -> Result<Vec<Invitation>> {
        self.pending_in(Index::Gsi2, &invitee_partition(email))
            .await
    }

    async fn create_invitation(&self, write: InvitationWrite<'_>) -> Result<()> {
        let mut open = write.invitation.clone();
        open.created_at = write.now;
        let items = vec![
            self.put_new(invitation_item(write.invitation))?,
            // Free when absent or when the invitation it stands for can no longer be accepted.
            self.invitee_put(
                &open,
                Some("attribute_not_exists(pk) OR valid_until <= :now"),
            )?,
            self.audit_put(write.audit)?,
        ];
        self.transact_or(items, StoreError::AlreadyExists).await
    }

    async fn resend_invitation(&self, resend: InvitationResend<'_>) -> Result<()> {
        let items = vec![
            self.update(
                &Key::invitation(&resend.invitation.id),
                "SET token_hash = :hash, valid_until = :until, sends_day = :day, \
                 sends_that_day = :sends, #ttl = :ttl",
                Conditional::on("#status = :pending AND token_hash = :previous")
                    .names(&[("#status", "status"), ("#ttl", TTL_ATTRIBUTE)])
                    .values(vec![
                        (":hash", s(&resend.invitation.token_hash)),
                        (":until", n(resend.invitation.valid_until)),
                        (":day", s(&resend.invitation.sends_day)),
                        (":sends", n(resend.invitation.sends_that_day)),
                        (
                            ":ttl",
                            n(resend.invitation.valid_until + INVITATION_KEPT_SECONDS),
                        ),
                        (":pending", s(InvitationStatus::Pending.as_str())),
                        (":previous", s(resend.previous_hash)),
                    ]),
            )?,
            self.invitee_put(resend.invitation, None)?,
            self.audit_put(resend.audit)?,
        ];
        self.transact_or(items, StoreError::Changed).await
    }

    async fn revoke_invitation(&self, write: InvitationWrite<'_>) -> Result<()> {
        let [close, invitee] =
            self.closing(write.invitation, InvitationStatus::Revoked, None, write.now)?;
        let items = vec![close, invitee, self.audit_put(write.audit)?];
        self.transact_or(items, StoreError::Changed).await
    }

    async fn accept_invitation(&self, acceptance: InvitationAcceptance<'_>) -> Result<()> {
        let accepted_by = Some(acceptance.membership.user_sub.as_str());
        let [close, invitee] = self.closing(
            acceptance.invitation,
            InvitationStatus::Accepted,
            accepted_by,
            acceptance.now,
        )?;
        let items = vec![
            close,
            self.put_new(membership_item(acceptance.membership))?,
            self.update(
                &Key::company(&acceptance.invitation.company_id),
                "ADD admin_count :one",
                Conditional::on("attribute_exists(pk)").values(vec![(":one", n(1))]),
            )?,
            invitee,
            self.audit_put(acceptance.audit)?,
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

impl DynamoStore {
    /// Closes an invitation that is still open with the token it was read with, and frees its
    /// invitee item: the condition on the first proves the second is this invitation's.
    fn closing(
        &self,
        invitation: &Invitation,
        status: InvitationStatus,
        accepted_by: Option<&str>,
        now: Timestamp,
    ) -> Result<[TransactWriteItem; 2]> {
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
        let close = self.update(
            &Key::invitation(&invitation.id),
            expression,
            Conditional::on("#status = :pending AND token_hash = :hash AND valid_until > :now")
                .names(&[("#status", "status")])
                .values(values),
        )?;
        let invitee = self.delete(
            &Key::invitee(&invitation.company_id, &invitation.email),
            Conditional::always(),
        )?;
        Ok([close, invitee])
    }
}
