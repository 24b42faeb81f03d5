//! Places in the table, one attempt slot item each (keys in [`crate::store::keys`]), with
//! `state`, `attempt_id`, `sub`, `location_id`, `target` and `expires_at` (the table's TTL
//! attribute).

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::*;
use crate::store::dynamo::{
    Conditional, DynamoStore, Item, conditional_write, get_n, get_opt_s, get_s, key_item, n, s,
    sdk, unless_condition_failed,
};
use crate::store::keys::TTL_ATTRIBUTE;

fn key(tally: Tally<'_>, index: u32) -> keys::Key {
    keys::Key::attempt_slot(&tally.partition(), index)
}

fn slot_item(tally: Tally<'_>, slot: &Slot) -> Item {
    let mut item = key_item(&key(tally, slot.index));
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

#[async_trait]
impl AttemptStore for DynamoStore {
    /// A place is free when absent or expired: TTL deletion is late (and never happens in the
    /// emulator), so the condition compares the expiry itself.
    async fn claim(&self, tally: Tally<'_>, slot: &Slot, now: Timestamp) -> Result<PlaceClaim> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(slot_item(tally, slot)))
            .condition_expression("attribute_not_exists(pk) OR #expires_at <= :now")
            .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PlaceClaim::Taken),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(e)) => {
                    Ok(PlaceClaim::Held(e.item().map(slot_from).transpose()?))
                }
                _ => Err(sdk(err)),
            },
        }
    }

    async fn mark_failed(&self, tally: Tally<'_>, held: Held<'_>, until: Timestamp) -> Result<()> {
        let place = key(tally, held.index());
        let result = conditional_write!(self.client().update_item(), self, &place, condition(held))
            .update_expression("SET #state = :failed, #expires_at = :expires")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
            .expression_attribute_values(":failed", s(SlotState::Failed.as_str()))
            .expression_attribute_values(":expires", n(until))
            .send()
            .await;
        // A refused condition: the reservation expired and another attempt owns the place now.
        unless_condition_failed(result)
    }

    async fn release(&self, tally: Tally<'_>, held: Held<'_>) -> Result<()> {
        let place = key(tally, held.index());
        let result = conditional_write!(self.client().delete_item(), self, &place, condition(held))
            .send()
            .await;
        // A refused condition: the reservation expired and another attempt owns the place now.
        unless_condition_failed(result)
    }

    async fn slots(&self, tally: Tally<'_>) -> Result<Vec<Slot>, StoreError> {
        let items = self.partition(&tally.partition()).await?;
        items.iter().map(slot_from).collect()
    }
}

/// [`Held::still_in`] as the condition of a write, with the placeholders it uses (`:id`: the
/// attempt, `#state` and `:failed`: the state).
fn condition(held: Held<'_>) -> Conditional<'static> {
    let id = (":id", s(held.attempt_id()));
    match held {
        Held::Reservation(_) => Conditional::on("attempt_id = :id").values(vec![id]),
        Held::Failure(_) => Conditional::on("attempt_id = :id AND #state = :failed")
            .names(&[("#state", "state")])
            .values(vec![id, (":failed", s(SlotState::Failed.as_str()))]),
    }
}
