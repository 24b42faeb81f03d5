//! Reading and writing attribute values, and the keys of [`crate::store::keys`] as items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::store::keys::{IndexKey, Key, PK, SK};
use crate::store::{Result, StoreError};

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The item that holds nothing but `key`: what GetItem, UpdateItem and DeleteItem take.
pub fn key_item(key: &Key) -> Item {
    HashMap::from([(PK.into(), s(&key.pk)), (SK.into(), s(&key.sk))])
}

/// Enters `item` into a secondary index.
pub fn set_index(item: &mut Item, key: &IndexKey) {
    item.insert(key.index.pk().into(), s(&key.pk));
    item.insert(key.index.sk().into(), s(&key.sk));
}

/// Where a query of an index resumes: after the item with `key` at `position` in the index.
pub fn index_start(key: &Key, position: &IndexKey) -> Item {
    let mut item = key_item(key);
    set_index(&mut item, position);
    item
}

pub fn get_s(item: &Item, name: &str) -> Result<String> {
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

pub fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T> {
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

/// A serializable record as an attribute (its JSON form).
pub fn record_attribute(record: &impl serde::Serialize) -> AttributeValue {
    to_attribute(&serde_json::to_value(record).unwrap_or(Value::Null))
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
