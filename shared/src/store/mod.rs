//! Storage behind small traits, one per aggregate, so the domain is tested against
//! [`memory::MemoryStore`] and runs against [`dynamo::DynamoStore`] (feature `dynamodb`). The
//! table's layout (every key, item type and index) is [`keys`].

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::model::{
    Address, AuditEntry, BookingConfig, Company, DetailsRequest, Invitation, Location, Membership,
    Page,
};

pub mod keys;
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
    #[error("the company would be left without an administrator")]
    LastAdministrator,
    /// A conditional write found the item in another state than the one it was written for.
    #[error("the item changed since it was read")]
    Changed,
    #[error("the company already has its maximum of {limit} locations")]
    TooManyLocations { limit: u32 },
    #[error("the store is throttling requests")]
    Throttled,
    #[error("store failure: {0}")]
    Backend(String),
}

/// What every store method answers.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which page of a listing to read: at most `limit` items, those after the item `after` in
/// the listing's order (the previous page's `next_after`; `None`: from the start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest<'a> {
    pub after: Option<&'a str>,
    pub limit: u32,
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

/// A company to create: the company, its first administrator (if any) and the audit entry
/// written with it.
#[derive(Clone, Copy, Debug)]
pub struct CompanyCreation<'a> {
    pub company: &'a Company,
    pub admin: Option<&'a Membership>,
    pub audit: &'a AuditEntry,
}

#[async_trait]
pub trait CompanyStore: Send + Sync {
    /// Creates the company, claims its organisation number, makes `creation.admin` (if any) its
    /// administrator and writes the audit entry, all or nothing.
    async fn create_company(&self, creation: CompanyCreation<'_>) -> Result<()>;

    /// Every company, in id order; `query` matches the organisation number exactly or the
    /// start of the name (case-insensitive).
    async fn all_companies(
        &self,
        query: Option<&str>,
        page: PageRequest<'_>,
    ) -> Result<Page<Company>>;

    /// The companies a user administers, in id order.
    async fn companies_of(&self, user_sub: &str, page: PageRequest<'_>) -> Result<Page<Company>>;

    async fn membership(&self, user_sub: &str, company_id: &str) -> Result<Option<Membership>>;

    async fn company(&self, company_id: &str) -> Result<Option<Company>>;
}

/// A versioned write of a location: which one, the version it was read at (the write holds
/// only while the location is still at it), who makes it when, and the audit entry written in
/// the same transaction.
#[derive(Clone, Copy, Debug)]
pub struct LocationWrite<'a> {
    pub company_id: &'a str,
    pub location_id: &'a str,
    pub expected_version: u64,
    pub now: Timestamp,
    pub by: &'a str,
    pub audit: &'a AuditEntry,
}

/// What "Test og lagre" writes on a location: the versioned write, the booking configuration
/// and whether the location is offline.
#[derive(Clone, Copy, Debug)]
pub struct BookingSave<'a> {
    pub write: LocationWrite<'a>,
    pub booking: &'a BookingConfig,
    pub offline: bool,
}

/// A location to create: the location, how many locations its company may have at most, and
/// the audit entry written with it.
#[derive(Clone, Copy, Debug)]
pub struct LocationCreation<'a> {
    pub location: &'a Location,
    pub max_per_company: u32,
    pub audit: &'a AuditEntry,
}

#[async_trait]
pub trait LocationStore: Send + Sync {
    /// Stores a new location with its audit entry and counts it on its company, all or
    /// nothing: `AlreadyExists` if its id is taken, `TooManyLocations` if the company already has
    /// `max_per_company` locations (or does not exist).
    async fn create_location(&self, creation: LocationCreation<'_>) -> Result<()>;

    /// A company's locations in creation order (ids are time-ordered).
    async fn locations_of(&self, company_id: &str, page: PageRequest<'_>)
    -> Result<Page<Location>>;

    async fn location(&self, company_id: &str, location_id: &str) -> Result<Option<Location>>;

    /// Applies `patch` if the location is still at `write.expected_version`, bumping the
    /// version. `NotFound` or `VersionConflict` otherwise, and nothing changes.
    async fn update_location(
        &self,
        write: LocationWrite<'_>,
        patch: &LocationPatch,
    ) -> Result<Location>;

    /// Replaces the booking configuration and the offline flag if the location is still at
    /// `save.write.expected_version`, bumping the version. `NotFound` or `VersionConflict`
    /// otherwise.
    async fn save_booking(&self, save: BookingSave<'_>) -> Result<Location>;
}

/// Whether an operator's search matches: the organisation number exactly, or the start of
/// the name without regard to case.
pub fn company_matches(company: &Company, query: &str) -> bool {
    let query = query.trim();
    let digits: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    company.org_number == digits
        || company
            .name
            .to_lowercase()
            .starts_with(&query.to_lowercase())
}

pub trait Store: CompanyStore + LocationStore {}
impl<T: CompanyStore + LocationStore> Store for T {}

/// Whose sends of "Forespør detaljer" a limit counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SendScope {
    /// One location and booking system, from all its administrators.
    Location { location_id: String, system: String },
    /// One administrator (`sub`), on every location of every company.
    Administrator { sub: String },
}

/// One counted send, held from the moment it is taken until `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendSlot {
    pub scope: SendScope,
    pub number: u32,
    /// Unique per send, so a release never frees a slot someone else has taken since.
    pub token: String,
    pub expires_at: Timestamp,
}

/// Counted sends as numbered slots per scope. A slot is free when absent or expired; taking
/// slots is one conditional write of all of them, so concurrent senders can never hold more
/// slots than there are, and a send is never counted in one scope and not in the other.
#[async_trait]
pub trait SendLimitStore: Send + Sync {
    /// The scope's slots still held at `now` (expired ones are free, deleted yet or not).
    async fn held_send_slots(&self, scope: &SendScope, now: Timestamp) -> Result<Vec<SendSlot>>;

    /// Takes every one of `slots`, each only if it is free at `now`, all or none. `false` when
    /// one of them is held (someone took it since it was read as free).
    async fn take_send_slots(&self, slots: &[SendSlot], now: Timestamp) -> Result<bool>;

    /// Gives back the slots of a send that did not go out. A slot that no longer holds its
    /// token is left alone.
    async fn release_send_slots(&self, slots: &[SendSlot]) -> Result<()>;
}

/// A sent "Forespør detaljer" to record: on which location, the request, and the audit entry
/// written with it.
#[derive(Clone, Copy, Debug)]
pub struct DetailsRequestWrite<'a> {
    pub company_id: &'a str,
    pub location_id: &'a str,
    pub request: &'a DetailsRequest,
    pub audit: &'a AuditEntry,
}

#[async_trait]
pub trait DetailsRequestStore: Send + Sync {
    /// Records the request on the location (replacing an earlier one for the same system)
    /// without touching its `version`, with its audit entry. `NotFound` if the location does
    /// not exist.
    async fn record_details_request(&self, write: DetailsRequestWrite<'_>) -> Result<()>;
}

/// Everything the `request-details` function stores and reads.
pub trait RequestDetailsStore: Store + SendLimitStore + DetailsRequestStore {}
impl<T: Store + SendLimitStore + DetailsRequestStore> RequestDetailsStore for T {}

/// A change to one invitation: the invitation (a new one, or one as it was read), when the
/// change is made (what decides whether an invitation is still open), and the audit entry
/// written with it.
#[derive(Clone, Copy, Debug)]
pub struct InvitationWrite<'a> {
    pub invitation: &'a Invitation,
    pub now: Timestamp,
    pub audit: &'a AuditEntry,
}

/// An invitation sent again: the invitation with its new token, validity and send count, the
/// token it was read with, and the audit entry written with it.
#[derive(Clone, Copy, Debug)]
pub struct InvitationResend<'a> {
    pub invitation: &'a Invitation,
    pub previous_hash: &'a str,
    pub audit: &'a AuditEntry,
}

/// An invitation accepted: the invitation as it was read, the membership it turns into, when,
/// and the audit entry written with it.
#[derive(Clone, Copy, Debug)]
pub struct InvitationAcceptance<'a> {
    pub invitation: &'a Invitation,
    pub membership: &'a Membership,
    pub now: Timestamp,
    pub audit: &'a AuditEntry,
}

/// Invitations to administer a company, and the memberships they turn into.
#[async_trait]
pub trait InvitationStore: Send + Sync {
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>>;

    /// A company's invitations that are still pending (expired ones included), oldest first.
    async fn pending_invitations(&self, company_id: &str) -> Result<Vec<Invitation>>;

    /// Pending invitations to an address (lower case), any company.
    async fn invitations_to(&self, email: &str) -> Result<Vec<Invitation>>;

    /// Stores a new invitation with its audit entry. `AlreadyExists` when the company already
    /// has an invitation to the same address that is open at `write.now`.
    async fn create_invitation(&self, write: InvitationWrite<'_>) -> Result<()>;

    /// Replaces a pending invitation's token, validity and send count, if its token is still
    /// `resend.previous_hash`. `Changed` otherwise.
    async fn resend_invitation(&self, resend: InvitationResend<'_>) -> Result<()>;

    /// Revokes a pending invitation at `write.now`. `Changed` if it is no longer pending.
    async fn revoke_invitation(&self, write: InvitationWrite<'_>) -> Result<()>;

    /// Marks the invitation accepted and creates the membership, exactly once: `Changed` when
    /// the invitation is no longer open (someone accepted it first), `AlreadyExists` when the
    /// caller is already an administrator.
    async fn accept_invitation(&self, acceptance: InvitationAcceptance<'_>) -> Result<()>;
}

/// An administrator to remove: their membership (as it was read), whether it may be their
/// company's last, and the audit entry written with it.
#[derive(Clone, Copy, Debug)]
pub struct AdministratorRemoval<'a> {
    pub membership: &'a Membership,
    pub last: LastAdministrator,
    pub audit: &'a AuditEntry,
}

/// Whether removing an administrator may leave their company without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LastAdministrator {
    /// The company's only administrator stays (an administrator removing one).
    Keep,
    /// The only administrator may go too (a platform operator removing one).
    MayRemove,
}

#[async_trait]
pub trait AdministratorStore: Send + Sync {
    /// A company's administrators, in subject order.
    async fn administrators(&self, company_id: &str) -> Result<Vec<Membership>>;

    /// Removes the membership. `NotFound` if it is gone; `LastAdministrator` if it is the
    /// company's only one and `removal.last` is `Keep`.
    async fn remove_administrator(&self, removal: AdministratorRemoval<'_>) -> Result<()>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// A company's audit entries, newest first (so those after `page.after` are older).
    async fn audit_of(&self, company_id: &str, page: PageRequest<'_>) -> Result<Page<AuditEntry>>;
}

/// Lifting an administrator's lockout early: the failed attempts that make it up are removed
/// together with the audit entry. Returns how many were removed (0: nothing to lift, nothing
/// written).
#[async_trait]
pub trait LockoutStore: Send + Sync {
    async fn lift_lockout(&self, user_sub: &str, now: Timestamp, audit: &AuditEntry)
    -> Result<u32>;
}

/// Everything the `admins` function stores and reads.
pub trait AdminStore: Store + InvitationStore + AdministratorStore + AuditStore {}
impl<T: Store + InvitationStore + AdministratorStore + AuditStore> AdminStore for T {}
