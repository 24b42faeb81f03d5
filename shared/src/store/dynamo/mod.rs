//! The DynamoDB store: one table, laid out as [`crate::store::keys`] documents. One file per
//! aggregate (`companies`, `locations`, `request_details`, `invitations`, `administrators`,
//! `audit`), on top of `requests` (the conditional writes, transactions and queries they all
//! use) and `attributes` (reading and writing attribute values).
//!
//! Uniqueness and optimistic versions are conditions on the writes themselves, never a read
//! before the write.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::Result;
use super::keys::{Index, PK, SK, TTL_ATTRIBUTE};

mod administrators;
mod attributes;
mod audit;
mod companies;
mod invitations;
mod locations;
mod request_details;
mod requests;
#[cfg(test)]
mod tests;

pub use attributes::{
    Item, from_attribute, get_bool, get_n, get_opt_s, get_s, index_start, key_item, n,
    record_attribute, s, set_index, to_attribute,
};
pub use audit::audit_from;
pub use companies::membership_from;
pub use locations::{booking_attribute, location_from};
pub use requests::sdk;
pub(crate) use requests::{TxFailure, backend};
// The lockout's attempt slots and revalidation (both behind `vendors`) use these.
#[cfg(feature = "vendors")]
pub(crate) use requests::{
    Conditional, conditional_write, is_condition_failure, unless_condition_failed,
};

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
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
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
    let gsi = |index: Index| -> Result<GlobalSecondaryIndex> {
        GlobalSecondaryIndex::builder()
            .index_name(index.name())
            .key_schema(key(index.pk(), KeyType::Hash)?)
            .key_schema(key(index.sk(), KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(backend)
    };
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?);
    for index in Index::ALL {
        request = request
            .attribute_definitions(attr(index.pk())?)
            .attribute_definitions(attr(index.sk())?);
    }
    for index in Index::ALL {
        request = request.global_secondary_indexes(gsi(index)?);
    }
    request.send().await.map_err(sdk)?;
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
