//! Revalidation's reads and writes in the table (laid out in [`crate::store::keys`]): the
//! sparse index of saved configurations, nested updates of `booking.*` on a location, and the
//! run item with its cursor and lease.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{CheckRecord, Entry, IndexPage, RevalidationStore, RunLease, RunState, SavedConfig};
use crate::clock::Timestamp;
use crate::model::Membership;
use crate::store::dynamo::{
    DynamoStore, Item, get_bool, get_n, get_opt_s, index_start, is_condition_failure, key_item,
    location_from, n, s, sdk, to_attribute, unless_condition_failed,
};
use crate::store::keys::{
    Index, IndexKey, Key, PK, SAVED_BOOKINGS_PARTITION, SK, TTL_ATTRIBUTE,
    parse_saved_booking_position,
};
use crate::store::{AdministratorStore, Result, StoreError};

/// Run items are kept a month for the record, then expire.
const RUN_RETENTION_SECONDS: i64 = 31 * 86_400;

/// One item of the index: a saved configuration, or (one that does not read as a location
/// with a configuration) its keys and what is wrong with it.
fn entry_from(item: &Item) -> Entry {
    let read = location_from(item).and_then(|location| match location.booking {
        Some(booking) => Ok(SavedConfig {
            company_id: location.company_id,
            location_id: location.id,
            location_name: location.name,
            booking,
        }),
        None => Err(StoreError::Backend("no booking configuration".into())),
    });
    match read {
        Ok(config) => Entry::Config(Box::new(config)),
        Err(error) => Entry::Unreadable {
            index_key: get_opt_s(item, Index::Gsi2.sk()).unwrap_or_default(),
            item_key: format!(
                "{}/{}",
                get_opt_s(item, PK).unwrap_or_default(),
                get_opt_s(item, SK).unwrap_or_default()
            ),
            error: error.to_string(),
        },
    }
}

impl DynamoStore {
    /// An update of the location's `booking` (`#booking`, its `#notice`) that holds only while
    /// the configuration is still the one the run read: a save since replaces it, and the new
    /// configuration gets its own check.
    fn update_of_saved(&self, config: &SavedConfig) -> UpdateItemFluentBuilder {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&Key::location(
                &config.company_id,
                &config.location_id,
            ))))
            .condition_expression("#booking.#config_id = :config_id")
            .expression_attribute_names("#booking", "booking")
            .expression_attribute_names("#config_id", "config_id")
            .expression_attribute_names("#notice", "notice_pending")
            .expression_attribute_values(
                ":config_id",
                s(config.booking.config_id.clone().unwrap_or_default()),
            )
    }
}

#[async_trait]
impl RevalidationStore for DynamoStore {
    async fn saved_configs(&self, after: Option<&str>, limit: u32) -> Result<IndexPage> {
        let start = after
            .and_then(parse_saved_booking_position)
            .map(|(company, location)| {
                index_start(
                    &Key::location(company, location),
                    &IndexKey::saved_booking(company, location),
                )
            });
        let out = self
            .index_page(Index::Gsi2, SAVED_BOOKINGS_PARTITION, start, limit)
            .await?;
        let entries = out.items().iter().map(entry_from).collect();
        // Where the next page starts is the index key DynamoDB stopped at, whatever that item
        // holds, so a page that ends with an unreadable item is not read again.
        let next_after = out
            .last_evaluated_key()
            .and_then(|key| get_opt_s(key, Index::Gsi2.sk()));
        Ok(IndexPage {
            entries,
            next_after,
        })
    }

    async fn record_check(&self, config: &SavedConfig, record: &CheckRecord) -> Result<bool> {
        let check_value = to_attribute(
            &serde_json::to_value(&record.last_check)
                .map_err(|e| StoreError::Backend(e.to_string()))?,
        );
        let mut request = self
            .update_of_saved(config)
            .expression_attribute_names("#last_check", "last_check")
            .expression_attribute_names("#health", "health")
            .expression_attribute_values(":check", check_value)
            .expression_attribute_values(
                ":health",
                to_attribute(&serde_json::json!(record.health)),
            );
        request = match record.notice_pending {
            Some(notice) => request
                .update_expression(
                    "SET #booking.#last_check = :check, #booking.#health = :health, #booking.#notice = :notice",
                )
                .expression_attribute_values(":notice", to_attribute(&serde_json::json!(notice))),
            None => request.update_expression(
                "SET #booking.#last_check = :check, #booking.#health = :health REMOVE #booking.#notice",
            ),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(sdk(err)),
        }
    }

    async fn clear_notice(&self, config: &SavedConfig) -> Result<()> {
        let result = self
            .update_of_saved(config)
            .update_expression("REMOVE #booking.#notice")
            .send()
            .await;
        unless_condition_failed(result)
    }

    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>> {
        AdministratorStore::administrators(self, company_id).await
    }

    async fn acquire_run(&self, lease: RunLease<'_>, now: Timestamp) -> Result<Option<RunState>> {
        let RunLease {
            run_id,
            lease_id,
            until: lease_until,
        } = lease;
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&Key::revalidation_run(run_id))))
            .update_expression(
                "SET lease_id = :lease_id, lease_until = :lease_until, started_at = if_not_exists(started_at, :now), \
                 #done = if_not_exists(#done, :false), checked = if_not_exists(checked, :zero), \
                 invocations = if_not_exists(invocations, :zero), #expires_at = :expires",
            )
            .condition_expression("attribute_not_exists(pk) OR lease_until <= :now")
            .expression_attribute_names("#done", "done")
            .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
            .expression_attribute_values(":lease_id", s(lease_id))
            .expression_attribute_values(":lease_until", n(lease_until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":expires", n(now + RUN_RETENTION_SECONDS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out
                    .attributes()
                    .ok_or_else(|| StoreError::Backend("run update returned nothing".into()))?;
                Ok(Some(RunState {
                    run_id: run_id.to_string(),
                    lease_id: lease_id.to_string(),
                    cursor: get_opt_s(item, "cursor"),
                    done: get_bool(item, "done"),
                    checked: get_n(item, "checked")?,
                    invocations: get_n(item, "invocations")?,
                }))
            }
            Err(err) if is_condition_failure(&err) => Ok(None),
            Err(err) => Err(sdk(err)),
        }
    }

    async fn save_run(&self, state: &RunState, release: bool, now: Timestamp) -> Result<()> {
        let mut sets = vec![
            "#done = :done",
            "checked = :checked",
            "invocations = :invocations",
            "updated_at = :now",
        ];
        if release {
            sets.push("lease_until = :now");
        }
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&Key::revalidation_run(&state.run_id))))
            .condition_expression("lease_id = :lease_id")
            .expression_attribute_names("#done", "done")
            .expression_attribute_values(":done", AttributeValue::Bool(state.done))
            .expression_attribute_values(":checked", n(state.checked))
            .expression_attribute_values(":invocations", n(state.invocations))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":lease_id", s(&state.lease_id));
        let expression = match &state.cursor {
            Some(cursor) => {
                request = request.expression_attribute_values(":cursor", s(cursor));
                sets.push("#cursor = :cursor");
                format!("SET {}", sets.join(", "))
            }
            None => format!("SET {} REMOVE #cursor", sets.join(", ")),
        };
        let result = request
            .expression_attribute_names("#cursor", "cursor")
            .update_expression(expression)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Err(StoreError::Backend(
                "the run's lease was taken over; stopping without saving progress".into(),
            )),
            Err(err) => Err(sdk(err)),
        }
    }
}
