//! A company's administrators, removing one (never the last but by an operator), and lifting
//! an administrator's lockout. Every change is one transaction with its audit entry.

use async_trait::async_trait;

use super::DynamoStore;
use super::attributes::{Item, get_n, get_s, n, s};
use super::companies::membership_from;
use super::requests::{Conditional, TxFailure};
use crate::clock::Timestamp;
use crate::model::{AuditEntry, Membership};
use crate::store::keys::{
    ADMIN_PREFIX, Index, Key, PK, SK, TTL_ATTRIBUTE, administrator_attempts, company_partition,
};
use crate::store::{
    AdministratorRemoval, AdministratorStore, LastAdministrator, LockoutStore, Result, StoreError,
};

#[async_trait]
impl AdministratorStore for DynamoStore {
    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>> {
        let items = self
            .index_items(Index::Gsi1, &company_partition(company_id), ADMIN_PREFIX)
            .await?;
        items.iter().map(membership_from).collect()
    }

    async fn remove_administrator(&self, removal: AdministratorRemoval<'_>) -> Result<()> {
        let count_condition = match removal.last {
            LastAdministrator::MayRemove => "attribute_exists(pk)",
            LastAdministrator::Keep => "attribute_exists(pk) AND admin_count > :one",
        };
        let mut count_values = vec![(":minus_one", n(-1))];
        if removal.last == LastAdministrator::Keep {
            count_values.push((":one", n(1)));
        }
        let items = vec![
            self.delete(
                &Key::membership(&removal.membership.user_sub, &removal.membership.company_id),
                Conditional::on("attribute_exists(pk)"),
            )?,
            self.update(
                &Key::company(&removal.membership.company_id),
                "ADD admin_count :minus_one",
                Conditional::on(count_condition).values(count_values),
            )?,
            self.audit_put(removal.audit)?,
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
impl LockoutStore for DynamoStore {
    async fn lift_lockout(
        &self,
        user_sub: &str,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<u32> {
        // A failure may be settled or extended while we lift; then read again.
        for _ in 0..3 {
            let slots = self.partition(&administrator_attempts(user_sub)).await?;
            let failures: Vec<&Item> = slots
                .iter()
                .filter(|item| get_s(item, "state").is_ok_and(|state| state == "failed"))
                .filter(|item| get_n::<Timestamp>(item, TTL_ATTRIBUTE).is_ok_and(|t| t > now))
                .collect();
            if failures.is_empty() {
                return Ok(0);
            }
            let mut items = Vec::new();
            for failure in &failures {
                let key = Key {
                    pk: get_s(failure, PK)?,
                    sk: get_s(failure, SK)?,
                };
                items.push(
                    self.delete(
                        &key,
                        Conditional::on("attempt_id = :id AND #state = :failed")
                            .names(&[("#state", "state")])
                            .values(vec![
                                (":id", s(get_s(failure, "attempt_id")?)),
                                (":failed", s("failed")),
                            ]),
                    )?,
                );
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
