//! The audit trail: one entry per change, written in the change's own transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use serde_json::Value;

use super::DynamoStore;
use super::attributes::{
    Item, from_attribute, get_n, get_opt_s, get_s, key_item, n, s, to_attribute,
};
use crate::model::{AuditEntry, Page};
use crate::store::keys::{AUDIT_PREFIX, Key, TTL_ATTRIBUTE, company_partition};
use crate::store::{AuditStore, PageRequest, Result};

pub(crate) fn audit_item(e: &AuditEntry) -> Item {
    let mut item = key_item(&Key::audit(e.company_id.as_deref(), &e.id));
    item.extend([
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

pub fn audit_from(item: &Item) -> Result<AuditEntry> {
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

impl DynamoStore {
    /// A put of the change's audit entry, for the change's own transaction.
    pub(crate) fn audit_put(&self, entry: &AuditEntry) -> Result<TransactWriteItem> {
        self.put_new(audit_item(entry))
    }
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn audit_of(&self, company_id: &str, page: PageRequest<'_>) -> Result<Page<AuditEntry>> {
        let partition = company_partition(company_id);
        self.page_of(&partition, AUDIT_PREFIX, page, true, audit_from)
            .await
    }
}
