//! Invitations in memory.

use async_trait::async_trait;

use super::{MemoryStore, State, pair};
use crate::model::{Invitation, InvitationStatus};
use crate::store::{
    InvitationAcceptance, InvitationResend, InvitationStore, InvitationWrite, Result, StoreError,
};

impl State {
    /// A pending invitation, for a change: `NotFound` if there is none, `Changed` if it is no
    /// longer pending.
    fn pending_invitation(&mut self, id: &str) -> Result<&mut Invitation> {
        let stored = self.invitations.get_mut(id).ok_or(StoreError::NotFound)?;
        if stored.status != InvitationStatus::Pending {
            return Err(StoreError::Changed);
        }
        Ok(stored)
    }
}

impl MemoryStore {
    /// The pending invitations that `of` picks, in id order as the indexes keep them.
    fn pending_where(&self, of: impl Fn(&Invitation) -> bool) -> Vec<Invitation> {
        let state = self.state();
        state
            .invitations
            .values()
            .filter(|i| i.status == InvitationStatus::Pending && of(i))
            .cloned()
            .collect()
    }
}

#[async_trait]
impl InvitationStore for MemoryStore {
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        Ok(self.state().invitations.get(id).cloned())
    }

    async fn pending_invitations(&self, company_id: &str) -> Result<Vec<Invitation>> {
        Ok(self.pending_where(|i| i.company_id == company_id))
    }

    async fn invitations_to(&self, email: &str) -> Result<Vec<Invitation>> {
        Ok(self.pending_where(|i| i.email == email))
    }

    async fn create_invitation(&self, write: InvitationWrite<'_>) -> Result<()> {
        let mut state = self.state();
        let open_to_same = state.invitations.values().any(|i| {
            i.company_id == write.invitation.company_id
                && i.email == write.invitation.email
                && i.is_open(write.now)
        });
        if open_to_same || state.invitations.contains_key(&write.invitation.id) {
            return Err(StoreError::AlreadyExists);
        }
        state
            .invitations
            .insert(write.invitation.id.clone(), write.invitation.clone());
        state.audit.push(write.audit.clone());
        Ok(())
    }

    async fn resend_invitation(&self, resend: InvitationResend<'_>) -> Result<()> {
        let mut state = self.state();
        let stored = state.pending_invitation(&resend.invitation.id)?;
        if stored.token_hash != resend.previous_hash {
            return Err(StoreError::Changed);
        }
        *stored = resend.invitation.clone();
        state.audit.push(resend.audit.clone());
        Ok(())
    }

    async fn revoke_invitation(&self, write: InvitationWrite<'_>) -> Result<()> {
        let mut state = self.state();
        let stored = state.pending_invitation(&write.invitation.id)?;
        stored.status = InvitationStatus::Revoked;
        stored.closed_at = Some(write.now);
        state.audit.push(write.audit.clone());
        Ok(())
    }

    async fn accept_invitation(&self, acceptance: InvitationAcceptance<'_>) -> Result<()> {
        let mut state = self.state();
        let key = pair(
            &acceptance.membership.user_sub,
            &acceptance.membership.company_id,
        );
        let open = state
            .invitations
            .get(&acceptance.invitation.id)
            .is_some_and(|i| {
                i.is_open(acceptance.now) && i.token_hash == acceptance.invitation.token_hash
            });
        if !open {
            return Err(StoreError::Changed);
        }
        if state.memberships.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        if let Some(stored) = state.invitations.get_mut(&acceptance.invitation.id) {
            stored.status = InvitationStatus::Accepted;
            stored.accepted_by = Some(acceptance.membership.user_sub.clone());
            stored.closed_at = Some(acceptance.now);
        }
        state.memberships.insert(key, acceptance.membership.clone());
        state.audit.push(acceptance.audit.clone());
        Ok(())
    }
}
