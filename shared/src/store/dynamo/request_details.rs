//! "Forespør detaljer": the limited send slots per location and system, and the requests
//! recorded on the location.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::attributes::{get_n, key_item, n, s};
use super::locations::{DETAILS_REQUESTS, details_request_attribute};
use super::requests::{SlotClaim, backend, unless_condition_failed};
use super::{DynamoStore, TxFailure};
use crate::clock::Timestamp;
use crate::model::{AuditEntry, DetailsRequest};
use crate::store::keys::{Key, TTL_ATTRIBUTE};
use crate::store::{
    DetailsRequestStore, LocationStore, SendLimitStore, SendSlot, SlotReservation, StoreError,
};

#[async_trait]
impl SendLimitStore for DynamoStore {
    async fn reserve_send_slot(
        &self,
        location_id: &str,
        system: &str,
        slots: u32,
        now: Timestamp,
        window_seconds: i64,
    ) -> Result<SlotReservation, StoreError> {
        let mut retry_at = Timestamp::MAX;
        for number in 1..=slots {
            let slot = SendSlot {
                location_id: location_id.to_string(),
                system: system.to_string(),
                number,
                token: uuid::Uuid::new_v4().to_string(),
                expires_at: now + window_seconds,
            };
            let mut item = key_item(&Key::send_slot(location_id, system, number));
            item.insert("entity".into(), s("details_send_slot"));
            item.insert("token".into(), s(&slot.token));
            item.insert("taken_at".into(), n(now));
            item.insert(TTL_ATTRIBUTE.into(), n(slot.expires_at));
            match self.claim_slot(item, now).await? {
                SlotClaim::Taken => return Ok(SlotReservation::Reserved(slot)),
                SlotClaim::Held(holder) => {
                    let held_until = holder
                        .and_then(|old| get_n::<Timestamp>(&old, TTL_ATTRIBUTE).ok())
                        .unwrap_or(now + window_seconds);
                    retry_at = retry_at.min(held_until);
                }
            }
        }
        Ok(SlotReservation::Full { retry_at })
    }

    async fn release_send_slot(&self, slot: &SendSlot) -> Result<(), StoreError> {
        let key = Key::send_slot(&slot.location_id, &slot.system, slot.number);
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&key)))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(&slot.token))
            .send()
            .await;
        // Not this reservation's any more: someone else holds the slot now.
        unless_condition_failed(result)
    }
}

#[async_trait]
impl DetailsRequestStore for DynamoStore {
    async fn record_details_request(
        &self,
        company_id: &str,
        location_id: &str,
        request: &DetailsRequest,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        // DynamoDB cannot set a nested path whose parent map does not exist yet, nor create the
        // map and set inside it in one expression. So: set inside an existing map, else create
        // the map if it is still missing, else (someone created it meanwhile) try again. Each
        // try is one transaction with the audit entry, so exactly one entry is written.
        let update = |expression: &str, condition: &str, value: AttributeValue, nested: bool| {
            let mut builder = Update::builder()
                .table_name(self.table())
                .set_key(Some(key_item(&Key::location(company_id, location_id))))
                .update_expression(expression)
                .condition_expression(condition)
                .expression_attribute_names("#requests", DETAILS_REQUESTS)
                .expression_attribute_values(":value", value);
            builder = if nested {
                builder.expression_attribute_names("#system", &request.system)
            } else {
                builder.expression_attribute_names("#pk", "pk")
            };
            builder
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build())
                .map_err(backend)
        };
        for _ in 0..3 {
            let into_map = update(
                "SET #requests.#system = :value",
                "attribute_exists(#requests)",
                details_request_attribute(request),
                true,
            )?;
            match self.transact(vec![into_map, self.audit_put(audit)?]).await {
                Ok(()) => return Ok(()),
                Err(TxFailure::Conditions(failed)) if failed[0] => {}
                Err(TxFailure::Conditions(_)) => return Err(StoreError::AlreadyExists),
                Err(TxFailure::Store(e)) => return Err(e),
            }
            let new_map = update(
                "SET #requests = :value",
                "attribute_exists(#pk) AND attribute_not_exists(#requests)",
                AttributeValue::M(HashMap::from([(
                    request.system.clone(),
                    details_request_attribute(request),
                )])),
                false,
            )?;
            match self.transact(vec![new_map, self.audit_put(audit)?]).await {
                Ok(()) => return Ok(()),
                Err(TxFailure::Conditions(failed)) if failed[0] => {
                    if self.location(company_id, location_id).await?.is_none() {
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
