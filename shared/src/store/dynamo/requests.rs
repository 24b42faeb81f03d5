//! The requests every item type is written and read with: conditional puts, transactions that
//! say which condition failed, paged queries and batch reads. Item types build on these
//! instead of talking to the SDK themselves.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem, Update,
};

use super::DynamoStore;
use super::attributes::{Item, get_s, key_item, s};
use crate::model::Page;
use crate::store::keys::{Index, Key, SK};
use crate::store::{PageRequest, Result, StoreError};

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps an SDK failure; throttling is told apart so callers can answer 503 with Retry-After.
pub fn sdk<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded",
        ) => StoreError::Throttled,
        _ => StoreError::Backend(aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string()),
    }
}

/// Whether a single-item write was refused by its condition.
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// A conditional single-item write whose refused condition means "nothing to do": the item
/// is no longer in the state the write was for, and someone else's write stands.
pub(crate) fn unless_condition_failed<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_condition_failure(&err) => Ok(()),
        Err(err) => Err(sdk(err)),
    }
}

/// Why a transaction did not commit.
pub(crate) enum TxFailure {
    /// The conditions that failed, by the position of their item in the transaction.
    Conditions(Vec<bool>),
    Store(StoreError),
}

impl From<StoreError> for TxFailure {
    fn from(err: StoreError) -> Self {
        TxFailure::Store(err)
    }
}

/// What a write inside a transaction holds under: its condition (`None`: it always applies)
/// and the placeholders that the condition and the write's own expression use (`#name` → an
/// attribute's name, `:value` → a value).
#[derive(Default)]
pub(crate) struct Conditional<'a> {
    pub condition: Option<&'a str>,
    pub names: &'a [(&'a str, &'a str)],
    pub values: Vec<(&'a str, AttributeValue)>,
}

impl<'a> Conditional<'a> {
    /// A write that always applies.
    pub(crate) fn always() -> Self {
        Conditional::default()
    }

    /// A write that applies only while `condition` holds.
    pub(crate) fn on(condition: &'a str) -> Self {
        Conditional {
            condition: Some(condition),
            ..Conditional::default()
        }
    }

    pub(crate) fn names(self, names: &'a [(&'a str, &'a str)]) -> Self {
        Conditional { names, ..self }
    }

    pub(crate) fn values(self, values: Vec<(&'a str, AttributeValue)>) -> Self {
        Conditional { values, ..self }
    }
}

/// Sets what an Update and a Delete share, inside a transaction or on their own: the table,
/// the key and the [`Conditional`]. The SDK's builders are distinct types with the same
/// setters, hence a macro.
macro_rules! conditional_write {
    ($builder:expr, $store:expr, $key:expr, $when:expr) => {{
        let when = $when;
        let mut builder = $builder
            .table_name($store.table())
            .set_key(Some($crate::store::dynamo::key_item($key)))
            .set_condition_expression(when.condition.map(str::to_string));
        for (placeholder, name) in when.names {
            builder = builder.expression_attribute_names(*placeholder, *name);
        }
        for (placeholder, value) in when.values {
            builder = builder.expression_attribute_values(placeholder, value);
        }
        builder
    }};
}
pub(crate) use conditional_write;

impl DynamoStore {
    /// An UpdateItem inside a transaction.
    pub(crate) fn update(
        &self,
        key: &Key,
        expression: &str,
        when: Conditional<'_>,
    ) -> Result<TransactWriteItem> {
        let update = conditional_write!(Update::builder(), self, key, when)
            .update_expression(expression)
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A DeleteItem inside a transaction.
    pub(crate) fn delete(&self, key: &Key, when: Conditional<'_>) -> Result<TransactWriteItem> {
        let delete = conditional_write!(Delete::builder(), self, key, when)
            .build()
            .map_err(backend)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// A Put that only creates: it fails if an item with the key exists.
    pub(crate) fn put_new(&self, item: Item) -> Result<TransactWriteItem> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(backend)?,
            )
            .build())
    }

    /// Writes `items` all or nothing; a failed condition, whichever it is, answers `refused`.
    pub(crate) async fn transact_or(
        &self,
        items: Vec<TransactWriteItem>,
        refused: StoreError,
    ) -> Result<()> {
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(refused),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    /// Writes `items` all or nothing. A cancelled transaction says which conditions failed.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxFailure> {
        let count = items.len();
        let result = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) =
                    err.as_service_error()
                {
                    let failed: Vec<bool> = (0..count)
                        .map(|i| {
                            e.cancellation_reasons()
                                .get(i)
                                .and_then(|r| r.code())
                                .is_some_and(|c| c == "ConditionalCheckFailed")
                        })
                        .collect();
                    if failed.iter().any(|f| *f) {
                        return Err(TxFailure::Conditions(failed));
                    }
                    // Cancelled for another reason (a conflicting transaction, throttling).
                    let throttled = e.cancellation_reasons().iter().any(|r| {
                        matches!(
                            r.code(),
                            Some("ThrottlingError" | "ProvisionedThroughputExceeded" | "TransactionConflict")
                        )
                    });
                    if throttled {
                        return Err(TxFailure::Store(StoreError::Throttled));
                    }
                }
                Err(TxFailure::Store(sdk(err)))
            }
        }
    }

    /// The item with `key`, read strongly consistent when `consistent`.
    pub(crate) async fn get(&self, key: &Key, consistent: bool) -> Result<Option<Item>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .set_consistent_read(consistent.then_some(true))
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.item().cloned())
    }

    /// A query of partition `pk` for the items whose sort key starts with `prefix`.
    fn query_prefix(&self, pk: &str, prefix: &str) -> QueryFluentBuilder {
        self.client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// A query of index partition `pk`.
    fn query_index(&self, index: Index, pk: &str) -> QueryFluentBuilder {
        self.client()
            .query()
            .table_name(self.table())
            .index_name(index.name())
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", index.pk())
            .expression_attribute_values(":pk", s(pk))
    }

    /// A query of index partition `pk` for the items whose sort key starts with `prefix`: the
    /// partition's query with a narrower key condition.
    fn query_index_prefix(&self, index: Index, pk: &str, prefix: &str) -> QueryFluentBuilder {
        self.query_index(index, pk)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#sk", index.sk())
            .expression_attribute_values(":prefix", s(prefix))
    }

    /// One page of the items in partition `pk` whose sort key starts with `prefix`, after the
    /// item `<prefix><page.after>`, newest first when `backwards`, each read by `read`. An
    /// item's id in the page (what the next page starts after) is its sort key without the
    /// prefix. Asks for one item more than the page so the caller can tell whether another page
    /// follows without a request that returns nothing.
    pub(crate) async fn page_of<T>(
        &self,
        pk: &str,
        prefix: &str,
        page: PageRequest<'_>,
        backwards: bool,
        read: impl Fn(&Item) -> Result<T>,
    ) -> Result<Page<T>> {
        let start = page.after.map(|a| {
            key_item(&Key {
                pk: pk.to_string(),
                sk: format!("{prefix}{a}"),
            })
        });
        let out = self
            .query_prefix(pk, prefix)
            .set_scan_index_forward(backwards.then_some(false))
            .set_exclusive_start_key(start)
            .limit(page.limit as i32 + 1)
            .send()
            .await
            .map_err(sdk)?;
        let items = out
            .items()
            .iter()
            .map(|item| {
                let sk = get_s(item, SK)?;
                let id = sk.strip_prefix(prefix).unwrap_or(&sk).to_string();
                Ok((id, read(item)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::cut(
            items,
            page.limit,
            out.last_evaluated_key().is_some(),
        ))
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, read strongly
    /// consistent.
    pub(crate) async fn prefixed_items(&self, pk: &str, prefix: &str) -> Result<Vec<Item>> {
        every_item(self.query_prefix(pk, prefix).consistent_read(true)).await
    }

    /// Every item of partition `pk`, read strongly consistent.
    pub(crate) async fn partition(&self, pk: &str) -> Result<Vec<Item>> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true);
        every_item(query).await
    }

    /// Every item of an index partition whose sort key starts with `prefix`.
    pub(crate) async fn index_items(
        &self,
        index: Index,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Item>> {
        every_item(self.query_index_prefix(index, pk, prefix)).await
    }

    /// One page of an index partition, resuming after `start`.
    pub(crate) async fn index_page(
        &self,
        index: Index,
        pk: &str,
        start: Option<Item>,
        limit: u32,
    ) -> Result<QueryOutput> {
        self.query_index(index, pk)
            .set_exclusive_start_key(start)
            .limit(limit as i32)
            .send()
            .await
            .map_err(sdk)
    }

    /// BatchGetItem with the retries DynamoDB asks for when it leaves keys unprocessed.
    pub(crate) async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys.iter().map(key_item).collect()))
                .build()
                .map_err(backend)?,
        );
        let mut delay = Duration::from_millis(20);
        for _ in 0..6 {
            let Some(request) = pending.take() else { break };
            let out = self
                .client()
                .batch_get_item()
                .request_items(self.table(), request)
                .send()
                .await
                .map_err(sdk)?;
            if let Some(items) = out.responses().and_then(|r| r.get(self.table())) {
                found.extend(items.iter().cloned());
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(self.table()))
                .filter(|k| !k.keys().is_empty())
                .cloned();
            if pending.is_some() {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        if pending.is_some() {
            return Err(StoreError::Throttled);
        }
        Ok(found)
    }
}

/// Every item `query` finds, page after page.
async fn every_item(query: QueryFluentBuilder) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = query
            .clone()
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

/// `HashMap` of expression attribute names `#<name>` → `<name>`.
pub(crate) fn attribute_names(names: &[&str]) -> HashMap<String, String> {
    names
        .iter()
        .map(|n| (format!("#{n}"), n.to_string()))
        .collect()
}
