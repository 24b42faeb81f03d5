//! Places in the table, one attempt slot item each (keys in [`crate::store::keys`]), with
//! `state`, `attempt_id`, `sub`, `location_id`, `target` and `expires_at` (the table's TTL
//! attribute).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use super::*;
use crate::store::dynamo::{
    DynamoStore, Item, SlotClaim, get_n, get_opt_s, get_s, key_item, n, s, sdk,
};
use crate::store::keys::TTL_ATTRIBUTE;

fn key(tally: Tally<'_>, index: u32) -> Item {
    key_item(&keys::Key::attempt_slot(&tally.partition(), index))
}

fn slot_item(tally: Tally<'_>, slot: &Slot) -> Item {
    let mut item = key(tally, slot.index);
    item.insert("entity".into(), s("attempt_slot"));
    item.insert("slot".into(), n(slot.index));
    item.insert("state".into(), s(slot.state.as_str()));
    item.insert("attempt_id".into(), s(&slot.attempt_id));
    for (name, value) in [
        ("sub", &slot.sub),
        ("location_id", &slot.location_id),
        ("target", &slot.target),
    ] {
        if let Some(value) = value {
            item.insert(name.into(), s(value));
        }
    }
    item.insert(TTL_ATTRIBUTE.into(), n(slot.expires_at));
    item
}

fn slot_from(item: &Item) -> Result<Slot, StoreError> {
    Ok(Slot {
        index: get_n(item, "slot")?,
        state: SlotState::parse(&get_s(item, "state")?)
            .ok_or_else(|| StoreError::Backend("unknown attempt slot state".into()))?,
        attempt_id: get_s(item, "attempt_id")?,
        expires_at: get_n(item, TTL_ATTRIBUTE)?,
        sub: get_opt_s(item, "sub"),
        location_id: get_opt_s(item, "location_id"),
        target: get_opt_s(item, "target"),
    })
}

/// Settling writes are conditional on the slot still holding the caller's attempt. If the
/// condition fails, the reservation expired and another attempt owns the slot now: there is
/// nothing left to settle.
fn unless_taken_over<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(()),
        Err(err) => Err(sdk(err)),
    }
}

#[async_trait]
impl AttemptStore for DynamoStore {
    async fn claim(&self, tally: Tally<'_>, slot: &Slot, now: Timestamp) -> Result<PlaceClaim> {
        match self.claim_slot(slot_item(tally, slot), now).await? {
            SlotClaim::Taken => Ok(PlaceClaim::Taken),
            SlotClaim::Held(Some(holder)) => Ok(PlaceClaim::Held(Some(slot_from(&holder)?))),
            SlotClaim::Held(None) => Ok(PlaceClaim::Held(None)),
        }
    }

    async fn mark_failed(&self, tally: Tally<'_>, held: Held<'_>, until: Timestamp) -> Result<()> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(tally, held.index())))
            .update_expression("SET #state = :failed, #expires_at = :expires")
            .condition_expression(condition(held))
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
            .expression_attribute_values(":failed", s(SlotState::Failed.as_str()))
            .expression_attribute_values(":expires", n(until))
            .expression_attribute_values(":id", s(held.attempt_id()))
            .send()
            .await;
        unless_taken_over(result)
    }

    async fn release(&self, tally: Tally<'_>, held: Held<'_>) -> Result<()> {
        let mut delete = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(tally, held.index())))
            .condition_expression(condition(held))
            .expression_attribute_values(":id", s(held.attempt_id()));
        if let Held::Failure(_) = held {
            delete = delete
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":failed", s(SlotState::Failed.as_str()));
        }
        unless_taken_over(delete.send().await)
    }

    async fn slots(&self, tally: Tally<'_>) -> Result<Vec<Slot>, StoreError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(tally.partition()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.items().iter().map(slot_from).collect()
    }
}

/// [`Held::still_in`] as the condition of a write (`:id`: the attempt, `:failed`: the state).
fn condition(held: Held<'_>) -> &'static str {
    match held {
        Held::Reservation(_) => "attempt_id = :id",
        Held::Failure(_) => "attempt_id = :id AND #state = :failed",
    }
}
