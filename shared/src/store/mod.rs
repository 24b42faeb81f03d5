//! Storage behind small traits, so the domain is tested against [`memory::MemoryStore`] and
//! runs against [`dynamo::DynamoStore`] (feature `dynamodb`).

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::model::{Address, Company, Location, Membership, Page};

pub mod memory;

#[cfg(feature = "dynamodb")]
pub mod dynamo;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("the organisation number is already registered")]
    OrgNumberTaken,
    #[error("the item does not exist")]
    NotFound,
    #[error("the item is at version {current}, not the expected one")]
    VersionConflict { current: u64 },
    #[error("an item with this key already exists")]
    AlreadyExists,
    #[error("the store is throttling requests")]
    Throttled,
    #[error("store failure: {0}")]
    Backend(String),
}

/// The fields of a location an administrator may change. `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocationPatch {
    pub name: Option<String>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub offline: Option<bool>,
}

impl LocationPatch {
    pub fn is_empty(&self) -> bool {
        self == &LocationPatch::default()
    }
}

#[async_trait]
pub trait CompanyStore: Send + Sync {
    /// Creates the company, claims its organisation number and makes `admin` its administrator,
    /// all or nothing.
    async fn create_company(&self, company: &Company, admin: &Membership)
    -> Result<(), StoreError>;

    /// The companies a user administers, in id order.
    async fn companies_of(
        &self,
        user_sub: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Company>, StoreError>;

    async fn membership(
        &self,
        user_sub: &str,
        company_id: &str,
    ) -> Result<Option<Membership>, StoreError>;
}

#[async_trait]
pub trait LocationStore: Send + Sync {
    /// Stores a new location; `AlreadyExists` if its id is taken.
    async fn create_location(&self, location: &Location) -> Result<(), StoreError>;

    /// A company's locations in creation order (ids are time-ordered).
    async fn locations_of(
        &self,
        company_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<Location>, StoreError>;

    async fn location(
        &self,
        company_id: &str,
        location_id: &str,
    ) -> Result<Option<Location>, StoreError>;

    /// Applies `patch` if the location is still at `expected_version`, bumping the version.
    /// `NotFound` or `VersionConflict` otherwise, and nothing changes.
    async fn update_location(
        &self,
        company_id: &str,
        location_id: &str,
        expected_version: u64,
        patch: &LocationPatch,
        now: Timestamp,
        by: &str,
    ) -> Result<Location, StoreError>;
}

pub trait Store: CompanyStore + LocationStore {}
impl<T: CompanyStore + LocationStore> Store for T {}
