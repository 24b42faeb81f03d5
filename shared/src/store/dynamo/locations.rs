//! Locations: the item, its booking configuration and "Forespør detaljer" requests as nested
//! maps, and the versioned updates an administrator makes.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::attributes::{
    Item, from_attribute, get_bool, get_n, get_s, key_item, n, record_attribute, s,
};
use super::requests::{Conditional, attribute_names, backend};
use super::{DynamoStore, TxFailure};
use crate::model::{Address, BookingConfig, DetailsRequest, Location, Page};
use crate::store::keys::{IndexKey, Key, LOCATION_COUNT, LOCATION_PREFIX, company_partition};
use crate::store::{
    BookingSave, LocationCreation, LocationPatch, LocationStore, LocationWrite, PageRequest,
    Result, StoreError,
};

/// The location attribute holding "Forespør detaljer" requests, a map by system.
pub(super) const DETAILS_REQUESTS: &str = "details_requests";

pub(super) fn details_request_attribute(r: &DetailsRequest) -> AttributeValue {
    record_attribute(r)
}

fn location_item(l: &Location) -> Item {
    let mut item = key_item(&Key::location(&l.company_id, &l.id));
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
    record_attribute(b)
}

pub fn location_from(item: &Item) -> Result<Location> {
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
impl LocationStore for DynamoStore {
    async fn create_location(&self, creation: LocationCreation<'_>) -> Result<()> {
        // The company counts its locations in the same transaction, so two creates at once
        // cannot both take the last place.
        let count = self.update(
            &Key::company(&creation.location.company_id),
            "ADD #count :one",
            Conditional::on(
                "attribute_exists(pk) AND (attribute_not_exists(#count) OR #count < :max)",
            )
            .names(&[("#count", LOCATION_COUNT)])
            .values(vec![(":one", n(1)), (":max", n(creation.max_per_company))]),
        )?;
        let items = vec![
            self.put_new(location_item(creation.location))?,
            count,
            self.audit_put(creation.audit)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(failed)) if failed[1] => Err(StoreError::TooManyLocations {
                limit: creation.max_per_company,
            }),
            Err(TxFailure::Conditions(_)) => Err(StoreError::AlreadyExists),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn locations_of(
        &self,
        company_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Page<Location>> {
        let partition = company_partition(company_id);
        self.page_of(&partition, LOCATION_PREFIX, page, false, location_from)
            .await
    }

    async fn location(&self, company_id: &str, location_id: &str) -> Result<Option<Location>> {
        let item = self
            .get(&Key::location(company_id, location_id), true)
            .await?;
        item.as_ref().map(location_from).transpose()
    }

    async fn update_location(
        &self,
        write: LocationWrite<'_>,
        patch: &LocationPatch,
    ) -> Result<Location> {
        let mut change = Change::default();
        if let Some(v) = &patch.name {
            change.set("name", s(v));
        }
        if let Some(v) = &patch.address {
            change.set("address", address_attribute(v));
        }
        if let Some(v) = &patch.phone {
            change.set("phone", s(v));
        }
        if let Some(v) = &patch.email {
            change.set("email", s(v));
        }
        if let Some(v) = patch.offline {
            change.set("offline", AttributeValue::Bool(v));
        }
        self.versioned_update(write, change).await
    }

    async fn save_booking(&self, save: BookingSave<'_>) -> Result<Location> {
        let mut change = Change::default();
        change.set("booking", booking_attribute(save.booking));
        change.set("offline", AttributeValue::Bool(save.offline));
        // Enters the location into the sparse index of saved configurations that revalidation
        // reads page by page.
        let position = IndexKey::saved_booking(save.write.company_id, save.write.location_id);
        change.set(position.index.pk(), s(&position.pk));
        change.set(position.index.sk(), s(&position.sk));
        self.versioned_update(save.write, change).await
    }
}

/// The attributes a location update sets besides its version and who changed it when.
#[derive(Default)]
struct Change {
    sets: Vec<String>,
    names: HashMap<String, String>,
    values: Item,
}

impl Change {
    fn set(&mut self, attribute: &str, value: AttributeValue) {
        self.sets.push(format!("#{attribute} = :{attribute}"));
        self.names
            .insert(format!("#{attribute}"), attribute.to_string());
        self.values.insert(format!(":{attribute}"), value);
    }
}

impl DynamoStore {
    /// `SET` on a location if it exists and is at `write.expected_version`, bumping the
    /// version, in one transaction with its audit entry. A transaction returns no item, so the
    /// location is read back (strongly consistent) for the answer; when the condition fails,
    /// the same read tells a missing location from a stale version.
    async fn versioned_update(&self, write: LocationWrite<'_>, change: Change) -> Result<Location> {
        let mut sets = vec![
            "#version = #version + :one".to_string(),
            "#updated_at = :now".to_string(),
            "#updated_by = :by".to_string(),
        ];
        sets.extend(change.sets);
        let mut names = attribute_names(&["version", "updated_at", "updated_by", "pk"]);
        names.extend(change.names);
        let mut values: Item = HashMap::from([
            (":one".into(), n(1)),
            (":now".into(), n(write.now)),
            (":by".into(), s(write.by)),
            (":expected".into(), n(write.expected_version)),
        ]);
        values.extend(change.values);
        let key = Key::location(write.company_id, write.location_id);
        let update = TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(self.table())
                    .set_key(Some(key_item(&key)))
                    .update_expression(format!("SET {}", sets.join(", ")))
                    .condition_expression("attribute_exists(#pk) AND #version = :expected")
                    .set_expression_attribute_names(Some(names))
                    .set_expression_attribute_values(Some(values))
                    .build()
                    .map_err(backend)?,
            )
            .build();
        let committed = self
            .transact(vec![update, self.audit_put(write.audit)?])
            .await;
        let current = match committed {
            Ok(()) | Err(TxFailure::Conditions(_)) => {
                self.location(write.company_id, write.location_id).await?
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
