//! The DynamoDB store: one table, single-table design.
//!
//! | item        | pk                 | sk                  | gsi1pk          | gsi1sk        |
//! |-------------|--------------------|---------------------|-----------------|---------------|
//! | company     | `COMPANY#<id>`     | `COMPANY`           |                 |               |
//! | org number  | `ORGNR#<number>`   | `ORGNR`             |                 |               |
//! | membership  | `USER#<sub>`       | `COMPANY#<id>`      | `COMPANY#<id>`  | `ADMIN#<sub>` |
//! | location    | `COMPANY#<id>`     | `LOCATION#<id>`     |                 |               |
//! | send slot   | `LOCATION#<id>`    | `DETAILS#<system>#<n>` |              |               |
//! | invitation  | `INVITATION#<id>`  | `INVITATION`        | `COMPANY#<id>`  | `INVITE#<id>` |
//! | invitee     | `COMPANY#<id>`     | `INVITEE#<email>`   |                 |               |
//! | audit entry | `COMPANY#<id>` or `PLATFORM` | `AUDIT#<id>` |           |               |
//!
//! `gsi2` is sparse: locations with a saved configuration (`BOOKING`, read by revalidation),
//! companies (`COMPANIES`, the operators' list) and pending invitations (`INVITEE#<email>`,
//! what `GET /v1/me` offers to accept) carry `gsi2pk`/`gsi2sk`. The invitee item makes one
//! open invitation per company and address; the company item counts its administrators
//! (`admin_count`), so the last one cannot be removed by two removals at once.
//!
//! Uniqueness and optimistic versions are conditions on the writes themselves, never a read
//! before the write. Items that expire carry `expires_at` (epoch seconds, the table's TTL
//! attribute); DynamoDB deletes them late, so readers compare `expires_at` themselves.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use serde_json::Value;

use super::{
    CompanyStore, DetailsRequestStore, LocationPatch, LocationStore, SendLimitStore, SendSlot,
    SlotReservation, StoreError,
};
use crate::clock::Timestamp;
use crate::model::{
    Address, AuditEntry, BookingConfig, Company, DetailsRequest, Location, Membership, Page,
};

pub type Item = HashMap<String, AttributeValue>;

pub const TTL_ATTRIBUTE: &str = "expires_at";
pub const GSI1: &str = "gsi1";
/// Sparse index over locations with a saved booking configuration (`gsi2pk` is set by a save).
pub const GSI2: &str = "gsi2";
pub const SAVED_BOOKINGS_PARTITION: &str = "BOOKING";
/// `gsi2` partition of every company, for the operators' list.
pub const COMPANIES_PARTITION: &str = "COMPANIES";
/// The partition of audit entries that belong to no company.
pub const PLATFORM_PARTITION: &str = "PLATFORM";

/// The partition of one administrator's attempt slots (the lockout).
pub fn attempts_pk(sub: &str) -> String {
    format!("ATTEMPTS#{sub}")
}

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Creates the table as the SAM template declares it (keys, GSI, TTL). For local runs and tests.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(backend)
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(backend)
    };
    let gsi = |name: &str, pk: &str, sk: &str| -> Result<GlobalSecondaryIndex, StoreError> {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(backend)
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .attribute_definitions(attr("gsi1pk")?)
        .attribute_definitions(attr("gsi1sk")?)
        .attribute_definitions(attr("gsi2pk")?)
        .attribute_definitions(attr("gsi2sk")?)
        .global_secondary_indexes(gsi(GSI1, "gsi1pk", "gsi1sk")?)
        .global_secondary_indexes(gsi(GSI2, "gsi2pk", "gsi2sk")?)
        .send()
        .await
        .map_err(sdk)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(backend)?,
        )
        .send()
        .await
        .map_err(sdk)?;
    Ok(())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
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

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn get_s(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Backend(format!(
            "item lacks string attribute {name}"
        ))),
    }
}

pub fn get_opt_s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

pub fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Backend(format!("attribute {name} is not a number"))),
        _ => Err(StoreError::Backend(format!(
            "item lacks number attribute {name}"
        ))),
    }
}

pub fn get_bool(item: &Item, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

/// JSON → DynamoDB attribute, for nested records such as the booking configuration.
pub fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(num) => AttributeValue::N(num.to_string()),
        Value::String(text) => AttributeValue::S(text.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

pub fn from_attribute(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(num) => serde_json::from_str(num).unwrap_or(Value::Null),
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::L(items) => Value::Array(items.iter().map(from_attribute).collect()),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), from_attribute(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn company_key(id: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("COMPANY#{id}"))),
        ("sk".into(), s("COMPANY")),
    ])
}

fn location_key(company_id: &str, location_id: &str) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("COMPANY#{company_id}"))),
        ("sk".into(), s(format!("LOCATION#{location_id}"))),
    ])
}

fn company_item(c: &Company) -> Item {
    let mut item = company_key(&c.id);
    item.insert("entity".into(), s("company"));
    item.insert("id".into(), s(&c.id));
    item.insert("name".into(), s(&c.name));
    item.insert("org_number".into(), s(&c.org_number));
    if let Some(email) = &c.invoice_email {
        item.insert("invoice_email".into(), s(email));
    }
    item.insert("created_at".into(), n(c.created_at));
    item.insert("created_by".into(), s(&c.created_by));
    item.insert("name_search".into(), s(c.name.to_lowercase()));
    item.insert("gsi2pk".into(), s(COMPANIES_PARTITION));
    item.insert("gsi2sk".into(), s(&c.id));
    item
}

fn company_from(item: &Item) -> Result<Company, StoreError> {
    Ok(Company {
        id: get_s(item, "id")?,
        name: get_s(item, "name")?,
        org_number: get_s(item, "org_number")?,
        invoice_email: get_opt_s(item, "invoice_email"),
        created_at: get_n(item, "created_at")?,
        created_by: get_s(item, "created_by")?,
    })
}

pub(crate) fn membership_item(m: &Membership) -> Item {
    let mut item = HashMap::from([
        ("pk".into(), s(format!("USER#{}", m.user_sub))),
        ("sk".into(), s(format!("COMPANY#{}", m.company_id))),
        ("gsi1pk".into(), s(format!("COMPANY#{}", m.company_id))),
        ("gsi1sk".into(), s(format!("ADMIN#{}", m.user_sub))),
        ("entity".into(), s("membership")),
        ("user_sub".into(), s(&m.user_sub)),
        ("company_id".into(), s(&m.company_id)),
        ("created_at".into(), n(m.created_at)),
    ]);
    if let Some(email) = &m.email {
        item.insert("email".into(), s(email));
    }
    if let Some(name) = &m.name {
        item.insert("name".into(), s(name));
    }
    if let Some(by) = &m.invited_by {
        item.insert("invited_by".into(), s(by));
    }
    item
}

pub fn membership_from(item: &Item) -> Result<Membership, StoreError> {
    Ok(Membership {
        user_sub: get_s(item, "user_sub")?,
        company_id: get_s(item, "company_id")?,
        email: get_opt_s(item, "email"),
        name: get_opt_s(item, "name"),
        created_at: get_n(item, "created_at")?,
        invited_by: get_opt_s(item, "invited_by"),
    })
}

pub(crate) fn audit_item(e: &AuditEntry) -> Item {
    let pk = match &e.company_id {
        Some(company) => format!("COMPANY#{company}"),
        None => PLATFORM_PARTITION.to_string(),
    };
    let mut item = HashMap::from([
        ("pk".into(), s(pk)),
        ("sk".into(), s(format!("AUDIT#{}", e.id))),
        ("entity".into(), s("audit")),
        ("id".into(), s(&e.id)),
        ("at".into(), n(e.at)),
        ("actor_sub".into(), s(&e.actor_sub)),
        ("action".into(), s(&e.action)),
        ("details".into(), to_attribute(&e.details)),
        (TTL_ATTRIBUTE.into(), n(e.expires_at)),
    ]);
    let mut optional = |name: &str, value: &Option<String>| {
        if let Some(v) = value {
            item.insert(name.into(), s(v));
        }
    };
    optional("company_id", &e.company_id);
    optional("actor_email", &e.actor_email);
    optional("location_id", &e.location_id);
    optional("request_id", &e.request_id);
    item
}

pub(crate) fn audit_from(item: &Item) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: get_s(item, "id")?,
        company_id: get_opt_s(item, "company_id"),
        at: get_n(item, "at")?,
        actor_sub: get_s(item, "actor_sub")?,
        actor_email: get_opt_s(item, "actor_email"),
        action: get_s(item, "action")?,
        location_id: get_opt_s(item, "location_id"),
        details: item
            .get("details")
            .map(from_attribute)
            .unwrap_or(Value::Null),
        request_id: get_opt_s(item, "request_id"),
        expires_at: get_n(item, TTL_ATTRIBUTE)?,
    })
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

impl DynamoStore {
    /// A Put that only creates: it fails if an item with the key exists.
    pub(crate) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(backend)?,
            )
            .build())
    }

    pub(crate) fn audit_put(&self, entry: &AuditEntry) -> Result<TransactWriteItem, StoreError> {
        self.put_new(audit_item(entry))
    }

    /// Writes `items` all or nothing. A cancelled transaction says which conditions failed.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxFailure> {
        let count = items.len();
        let result = self
            .client
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
}

fn location_item(l: &Location) -> Item {
    let mut item = location_key(&l.company_id, &l.id);
    item.insert("entity".into(), s("location"));
    item.insert("id".into(), s(&l.id));
    item.insert("company_id".into(), s(&l.company_id));
    item.insert("name".into(), s(&l.name));
    item.insert("address".into(), address_attribute(&l.address));
    item.insert("phone".into(), s(&l.phone));
    item.insert("email".into(), s(&l.email));
    item.insert("offline".into(), AttributeValue::Bool(l.offline));
    if let Some(booking) = &l.booking {
        item.insert("booking".into(), booking_attribute(booking));
    }
    if !l.details_requests.is_empty() {
        let by_system = l
            .details_requests
            .iter()
            .map(|r| (r.system.clone(), details_request_attribute(r)))
            .collect();
        item.insert(DETAILS_REQUESTS.into(), AttributeValue::M(by_system));
    }
    item.insert("version".into(), n(l.version));
    item.insert("created_at".into(), n(l.created_at));
    item.insert("updated_at".into(), n(l.updated_at));
    item.insert("updated_by".into(), s(&l.updated_by));
    item
}

fn address_attribute(a: &Address) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("street".into(), s(&a.street)),
        ("postal_code".into(), s(&a.postal_code)),
        ("city".into(), s(&a.city)),
    ]))
}

pub fn booking_attribute(b: &BookingConfig) -> AttributeValue {
    to_attribute(&serde_json::to_value(b).unwrap_or(Value::Null))
}

pub fn location_from(item: &Item) -> Result<Location, StoreError> {
    let address = match item.get("address") {
        Some(AttributeValue::M(a)) => Address {
            street: get_s(a, "street")?,
            postal_code: get_s(a, "postal_code")?,
            city: get_s(a, "city")?,
        },
        _ => return Err(StoreError::Backend("location lacks address".into())),
    };
    let booking = match item.get("booking") {
        Some(value @ AttributeValue::M(_)) => Some(
            serde_json::from_value::<BookingConfig>(from_attribute(value)).map_err(|e| {
                StoreError::Backend(format!("unreadable booking configuration: {e}"))
            })?,
        ),
        _ => None,
    };
    // Stored as a map by system, so recording a request is one UpdateItem on a nested path.
    let mut details_requests = match item.get(DETAILS_REQUESTS) {
        Some(AttributeValue::M(by_system)) => by_system
            .values()
            .map(|v| {
                serde_json::from_value::<DetailsRequest>(from_attribute(v))
                    .map_err(|e| StoreError::Backend(format!("unreadable details request: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    details_requests.sort_by(|a, b| a.system.cmp(&b.system));
    Ok(Location {
        company_id: get_s(item, "company_id")?,
        id: get_s(item, "id")?,
        name: get_s(item, "name")?,
        address,
        phone: get_s(item, "phone")?,
        email: get_s(item, "email")?,
        offline: get_bool(item, "offline"),
        booking,
        details_requests,
        version: get_n(item, "version")?,
        created_at: get_n(item, "created_at")?,
        updated_at: get_n(item, "updated_at")?,
        updated_by: get_s(item, "updated_by")?,
    })
}

#[async_trait]
impl CompanyStore for DynamoStore {
    async fn create_company(
        &self,
        company: &Company,
        admin: Option<&Membership>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let org_item = HashMap::from([
            ("pk".into(), s(format!("ORGNR#{}", company.org_number))),
            ("sk".into(), s("ORGNR")),
            ("entity".into(), s("org_number")),
            ("company_id".into(), s(&company.id)),
        ]);
        let mut item = company_item(company);
        item.insert("admin_count".into(), n(u32::from(admin.is_some())));
        let mut items = vec![
            self.put_new(item)?,
            self.put_new(org_item)?,
            self.audit_put(audit)?,
        ];
        if let Some(admin) = admin {
            items.push(self.put_new(membership_item(admin))?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(failed)) if failed[1] => Err(StoreError::OrgNumberTaken),
            Err(TxFailure::Conditions(_)) => Err(StoreError::AlreadyExists),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn all_companies(
        &self,
        query: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Company>, StoreError> {
        // Reads pages of the company index until one more match than the page is found, so
        // a filter that skips most companies still fills the page and tells whether more follow.
        let mut found: Vec<(String, Company)> = Vec::new();
        let mut start = after.map(|a| {
            HashMap::from([
                ("pk".to_string(), s(format!("COMPANY#{a}"))),
                ("sk".to_string(), s("COMPANY")),
                ("gsi2pk".to_string(), s(COMPANIES_PARTITION)),
                ("gsi2sk".to_string(), s(a)),
            ])
        });
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI2)
                .key_condition_expression("gsi2pk = :pk")
                .expression_attribute_values(":pk", s(COMPANIES_PARTITION))
                .set_exclusive_start_key(start)
                .limit(200)
                .send()
                .await
                .map_err(sdk)?;
            for item in out.items() {
                let company = company_from(item)?;
                if query.is_none_or(|q| super::memory::company_matches(&company, q)) {
                    found.push((company.id.clone(), company));
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() || found.len() > limit as usize {
                return Ok(Page::cut(found, limit, false));
            }
        }
    }

    async fn companies_of(
        &self,
        user_sub: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Company>, StoreError> {
        let out = self
            .page_of(&format!("USER#{user_sub}"), "COMPANY#", after, limit)
            .await?;
        let ids: Vec<String> = out
            .items()
            .iter()
            .map(|item| get_s(item, "company_id"))
            .collect::<Result<_, _>>()?;
        let more =
            ids.len() > limit as usize || (out.last_evaluated_key().is_some() && !ids.is_empty());
        let page_ids: Vec<String> = ids.into_iter().take(limit as usize).collect();
        let mut by_id: HashMap<String, Company> = HashMap::new();
        for item in self
            .batch_get(page_ids.iter().map(|id| company_key(id)).collect())
            .await?
        {
            let company = company_from(&item)?;
            by_id.insert(company.id.clone(), company);
        }
        Ok(Page {
            next_after: if more { page_ids.last().cloned() } else { None },
            // Keep the membership order; a membership whose company is gone is skipped.
            items: page_ids.iter().filter_map(|id| by_id.remove(id)).collect(),
        })
    }

    async fn membership(
        &self,
        user_sub: &str,
        company_id: &str,
    ) -> Result<Option<Membership>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{user_sub}")))
            .key("sk", s(format!("COMPANY#{company_id}")))
            .send()
            .await
            .map_err(sdk)?;
        out.item().map(membership_from).transpose()
    }

    async fn company(&self, company_id: &str) -> Result<Option<Company>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(company_key(company_id)))
            .send()
            .await
            .map_err(sdk)?;
        out.item().map(company_from).transpose()
    }
}

impl DynamoStore {
    /// One page of the items in partition `pk` whose sort key starts with `prefix`, after the
    /// item `<prefix><after>`. Asks for one item more than the page so the caller can tell
    /// whether another page follows without a request that returns nothing.
    async fn page_of(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, StoreError> {
        let start = after.map(|a| {
            HashMap::from([
                ("pk".to_string(), s(pk)),
                ("sk".to_string(), s(format!("{prefix}{a}"))),
            ])
        });
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .set_exclusive_start_key(start)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(sdk)
    }

    /// BatchGetItem with the retries DynamoDB asks for when it leaves keys unprocessed.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .build()
                .map_err(backend)?,
        );
        let mut delay = Duration::from_millis(20);
        for _ in 0..6 {
            let Some(request) = pending.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(sdk)?;
            if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                found.extend(items.iter().cloned());
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
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

#[async_trait]
impl LocationStore for DynamoStore {
    async fn create_location(
        &self,
        location: &Location,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let items = vec![
            self.put_new(location_item(location))?,
            self.audit_put(audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(_)) => Err(StoreError::AlreadyExists),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn locations_of(
        &self,
        company_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Location>, StoreError> {
        let out = self
            .page_of(&format!("COMPANY#{company_id}"), "LOCATION#", after, limit)
            .await?;
        let items = out
            .items()
            .iter()
            .map(|item| location_from(item).map(|l| (l.id.clone(), l)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(items, limit, out.last_evaluated_key().is_some()))
    }

    async fn location(
        &self,
        company_id: &str,
        location_id: &str,
    ) -> Result<Option<Location>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(location_key(company_id, location_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item().map(location_from).transpose()
    }

    async fn update_location(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        patch: &LocationPatch,
        now: Timestamp,
        by: &str,
        audit: &AuditEntry,
    ) -> Result<Location, StoreError> {
        let mut sets = vec![
            "#version = #version + :one",
            "#updated_at = :now",
            "#updated_by = :by",
        ];
        let mut names: HashMap<String, String> = ["version", "updated_at", "updated_by", "pk"]
            .iter()
            .map(|n| (format!("#{n}"), n.to_string()))
            .collect();
        let mut values: Item = HashMap::from([
            (":one".into(), n(1)),
            (":now".into(), n(now)),
            (":by".into(), s(by)),
            (":expected".into(), n(expected_version)),
        ]);
        let mut set = |field: &'static str, expr: &'static str, value: AttributeValue| {
            sets.push(expr);
            names.insert(format!("#{field}"), field.to_string());
            values.insert(format!(":{field}"), value);
        };
        if let Some(v) = &patch.name {
            set("name", "#name = :name", s(v));
        }
        if let Some(v) = &patch.address {
            set("address", "#address = :address", address_attribute(v));
        }
        if let Some(v) = &patch.phone {
            set("phone", "#phone = :phone", s(v));
        }
        if let Some(v) = &patch.email {
            set("email", "#email = :email", s(v));
        }
        if let Some(v) = patch.offline {
            set("offline", "#offline = :offline", AttributeValue::Bool(v));
        }
        self.versioned_update(company_id, location_id, &sets, names, values, audit)
            .await
    }

    async fn save_booking(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        booking: &BookingConfig,
        offline: bool,
        now: Timestamp,
        by: &str,
        audit: &AuditEntry,
    ) -> Result<Location, StoreError> {
        let sets = [
            "#version = #version + :one",
            "#updated_at = :now",
            "#updated_by = :by",
            "#booking = :booking",
            "#offline = :offline",
            // Enters the location into the sparse index of saved configurations that
            // revalidation reads page by page.
            "#gsi2pk = :gsi2pk",
            "#gsi2sk = :gsi2sk",
        ];
        let names: HashMap<String, String> = [
            "version",
            "updated_at",
            "updated_by",
            "pk",
            "booking",
            "offline",
            "gsi2pk",
            "gsi2sk",
        ]
        .iter()
        .map(|n| (format!("#{n}"), n.to_string()))
        .collect();
        let values: Item = HashMap::from([
            (":one".into(), n(1)),
            (":now".into(), n(now)),
            (":by".into(), s(by)),
            (":expected".into(), n(expected_version)),
            (":booking".into(), booking_attribute(booking)),
            (":offline".into(), AttributeValue::Bool(offline)),
            (":gsi2pk".into(), s(SAVED_BOOKINGS_PARTITION)),
            (":gsi2sk".into(), s(format!("{company_id}#{location_id}"))),
        ]);
        self.versioned_update(company_id, location_id, &sets, names, values, audit)
            .await
    }
}

impl DynamoStore {
    /// `SET` on a location if it exists and is at `:expected`, in one transaction with its audit
    /// entry. A transaction returns no item, so the location is read back (strongly
    /// consistent) for the answer; when the condition fails, the same read tells a missing
    /// location from a stale version.
    async fn versioned_update(
        &self,
        company_id: &str,
        location_id: &str,
        sets: &[&str],
        names: HashMap<String, String>,
        values: Item,
        audit: &AuditEntry,
    ) -> Result<Location, StoreError> {
        let update = TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(location_key(company_id, location_id)))
                    .update_expression(format!("SET {}", sets.join(", ")))
                    .condition_expression("attribute_exists(#pk) AND #version = :expected")
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values(Some(values))
                    .build()
                    .map_err(backend)?,
            )
            .build();
        let committed = self.transact(vec![update, self.audit_put(audit)?]).await;
        let current = match committed {
            Ok(()) | Err(TxFailure::Conditions(_)) => {
                self.location(company_id, location_id).await?
            }
            Err(TxFailure::Store(e)) => return Err(e),
        };
        match (committed, current) {
            (Ok(()), Some(location)) => Ok(location),
            (Ok(()), None) => Err(StoreError::Backend(
                "location missing right after its update".into(),
            )),
            (Err(_), None) => Err(StoreError::NotFound),
            (Err(_), Some(location)) => Err(StoreError::VersionConflict {
                current: location.version,
            }),
        }
    }
}

/// The location attribute holding "Forespør detaljer" requests, a map by system.
const DETAILS_REQUESTS: &str = "details_requests";

fn details_request_attribute(r: &DetailsRequest) -> AttributeValue {
    to_attribute(&serde_json::to_value(r).unwrap_or(Value::Null))
}

fn send_slot_key(location_id: &str, system: &str, number: u32) -> Item {
    HashMap::from([
        ("pk".into(), s(format!("LOCATION#{location_id}"))),
        ("sk".into(), s(format!("DETAILS#{system}#{number}"))),
    ])
}

/// Whether a slot item could be written: the slots that bound attempts and detail requests.
pub(crate) enum SlotClaim {
    Taken,
    /// The slot is held; the holder's item, when DynamoDB returned it.
    Held(Option<Item>),
}

impl DynamoStore {
    /// Writes `item` unless its slot is held. A slot is free when absent or expired: TTL
    /// deletion is late (and never happens in the emulator), so the condition compares the
    /// expiry itself.
    pub(crate) async fn claim_slot(
        &self,
        item: Item,
        now: Timestamp,
    ) -> Result<SlotClaim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #expires_at <= :now")
            .expression_attribute_names("#expires_at", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(SlotClaim::Taken),
            Err(err) => match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e)) => {
                    Ok(SlotClaim::Held(e.item().cloned()))
                }
                _ => Err(sdk(err)),
            },
        }
    }
}

fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

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
            let mut item = send_slot_key(location_id, system, number);
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
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(send_slot_key(
                &slot.location_id,
                &slot.system,
                slot.number,
            )))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(&slot.token))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(sdk(err)),
        }
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
                .table_name(&self.table)
                .set_key(Some(location_key(company_id, location_id)))
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
