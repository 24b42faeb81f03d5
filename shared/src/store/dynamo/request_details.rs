//! "Forespør detaljer": the limited send slots (per location and system, and per
//! administrator on every location), and the requests recorded on the location.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::attributes::{get_n, get_opt_s, get_s, key_item, n, s};
use super::locations::{DETAILS_REQUESTS, details_request_attribute};
use super::requests::{Conditional, backend, sdk, unless_condition_failed};
use super::{DynamoStore, TxFailure};
use crate::clock::Timestamp;
use crate::store::keys::{Key, SK, TTL_ATTRIBUTE, send_slots};
use crate::store::{
    DetailsRequestStore, DetailsRequestWrite, LocationStore, Result, SendLimitStore, SendScope,
    SendSlot, StoreError,
};

#[async_trait]
impl SendLimitStore for DynamoStore {
    async fn held_send_slots(&self, scope: &SendScope, now: Timestamp) -> Result<Vec<SendSlot>> {
        let (pk, prefix) = send_slots(scope);
        let mut held = Vec::new();
        for item in self.prefixed_items(&pk, &prefix).await? {
            let sk = get_s(&item, SK)?;
            let number = sk
                .strip_prefix(prefix.as_str())
                .unwrap_or(&sk)
                .parse()
                .map_err(|_| StoreError::Backend(format!("unreadable send slot {sk}")))?;
            let expires_at: Timestamp = get_n(&item, TTL_ATTRIBUTE)?;
            if expires_at > now {
                held.push(SendSlot {
                    scope: scope.clone(),
                    number,
                    token: get_s(&item, "token")?,
                    expires_at,
                });
            }
        }
        Ok(held)
    }

    async fn take_send_slots(&self, slots: &[SendSlot], now: Timestamp) -> Result<bool> {
        let mut items = Vec::with_capacity(slots.len());
        for slot in slots {
            let mut item = key_item(&Key::send_slot(&slot.scope, slot.number));
            let entity = match slot.scope {
                SendScope::Location { .. } => "details_send_slot",
                SendScope::Administrator { .. } => "details_sender_slot",
            };
            item.insert("entity".into(), s(entity));
            item.insert("token".into(), s(&slot.token));
            item.insert("taken_at".into(), n(now));
            item.insert(TTL_ATTRIBUTE.into(), n(slot.expires_at));
            let put = Put::builder()
                .table_name(self.table())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #expires_at <= :now")
                .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
                .expression_attribute_values(":now", n(now))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .map_err(backend)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        // The slots' token makes the write idempotent: DynamoDB answers a repeated request
        // with the same token as the first, and where a repeat is executed anyway (the
        // emulator ignores the token), slots found holding our own token are ours.
        let token = slots.first().map(|slot| slot.token.clone());
        let result = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .set_client_request_token(token.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(e)) =
                    err.as_service_error()
                {
                    let reasons = e.cancellation_reasons();
                    let ours = |reason: &CancellationReason| {
                        reason.code() == Some("ConditionalCheckFailed")
                            && reason.item().and_then(|item| get_opt_s(item, "token")) == token
                    };
                    if !reasons.is_empty() && reasons.iter().all(ours) {
                        // A repeat of our own write that had already been executed.
                        return Ok(true);
                    }
                    if reasons
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed"))
                    {
                        return Ok(false);
                    }
                    if reasons
                        .iter()
                        .any(|r| r.code() == Some("TransactionConflict"))
                    {
                        // A concurrent transaction on the same slot: it is someone else's.
                        return Ok(false);
                    }
                }
                Err(sdk(err))
            }
        }
    }

    async fn release_send_slots(&self, slots: &[SendSlot]) -> Result<()> {
        let releases = slots.iter().map(|slot| async move {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key_item(&Key::send_slot(&slot.scope, slot.number))))
                .condition_expression("#token = :token")
                .expression_attribute_names("#token", "token")
                .expression_attribute_values(":token", s(&slot.token))
                .send()
                .await;
            // Not this send's any more: someone else holds the slot now.
            unless_condition_failed(result)
        });
        futures_util::future::try_join_all(releases).await?;
        Ok(())
    }
}

#[async_trait]
impl DetailsRequestStore for DynamoStore {
    async fn record_details_request(&self, write: DetailsRequestWrite<'_>) -> Result<()> {
        // DynamoDB cannot set a nested path whose parent map does not exist yet, nor create the
        // map and set inside it in one expression. So: set inside an existing map, else create
        // the map if it is still missing, else (someone created it meanwhile) try again. Each
        // try is one transaction with the audit entry, so exactly one entry is written.
        let key = Key::location(write.company_id, write.location_id);
        let in_map = [
            ("#requests", DETAILS_REQUESTS),
            ("#system", write.request.system.as_str()),
        ];
        let new_map = [("#requests", DETAILS_REQUESTS), ("#pk", "pk")];
        for _ in 0..3 {
            let set_in_map = self.update(
                &key,
                "SET #requests.#system = :value",
                Conditional::on("attribute_exists(#requests)")
                    .names(&in_map)
                    .values(vec![(":value", details_request_attribute(write.request))]),
            )?;
            match self
                .transact(vec![set_in_map, self.audit_put(write.audit)?])
                .await
            {
                Ok(()) => return Ok(()),
                Err(TxFailure::Conditions(failed)) if failed[0] => {}
                Err(TxFailure::Conditions(_)) => return Err(StoreError::AlreadyExists),
                Err(TxFailure::Store(e)) => return Err(e),
            }
            let map = HashMap::from([(
                write.request.system.clone(),
                details_request_attribute(write.request),
            )]);
            let create_map = self.update(
                &key,
                "SET #requests = :value",
                Conditional::on("attribute_exists(#pk) AND attribute_not_exists(#requests)")
                    .names(&new_map)
                    .values(vec![(":value", AttributeValue::M(map))]),
            )?;
            match self
                .transact(vec![create_map, self.audit_put(write.audit)?])
                .await
            {
                Ok(()) => return Ok(()),
                Err(TxFailure::Conditions(failed)) if failed[0] => {
                    if self
                        .location(write.company_id, write.location_id)
                        .await?
                        .is_none()
                    {
                        return Err(StoreError::NotFound);
                    }
                }
                Err(TxFailure::Conditions(_)) => return Err(StoreError::AlreadyExists),
                Err(TxFailure::Store(e)) => return Err(e),
            }
        }
        Err(StoreError::Backend(
            "details request not recorded after 3 attempts".into(),
        ))
    }
}
