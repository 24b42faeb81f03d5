//! The table's layout: every key format, item type and index, and the one place that builds
//! them. One DynamoDB table, single-table design; the DynamoDB code and the in-memory stores
//! both key their items through this module, so the two cannot drift apart.
//!
//! | item             | pk                                   | sk                     | gsi1pk / gsi1sk             | gsi2pk / gsi2sk                       |
//! |------------------|--------------------------------------|------------------------|-----------------------------|---------------------------------------|
//! | company          | `COMPANY#<id>`                       | `COMPANY`              |                             | `COMPANIES` / `<id>`                  |
//! | org number       | `ORGNR#<number>`                     | `ORGNR`                |                             |                                       |
//! | membership       | `USER#<sub>`                         | `COMPANY#<id>`         | `COMPANY#<id>` / `ADMIN#<sub>` |                                    |
//! | location         | `COMPANY#<id>`                       | `LOCATION#<id>`        |                             | `BOOKING` / `<company>#<location>`, once saved |
//! | send slot        | `LOCATION#<id>`                      | `DETAILS#<system>#<n>` |                             |                                       |
//! | sender slot      | `DETAILS_SENDS#<sub>`                | `SLOT#<n>`             |                             |                                       |
//! | invitation       | `INVITATION#<id>`                    | `INVITATION`           | `COMPANY#<id>` / `INVITE#<id>` | `INVITEE#<email>` / `INVITE#<id>`, while pending |
//! | invitee          | `COMPANY#<id>`                       | `INVITEE#<email>`      |                             |                                       |
//! | audit entry      | `COMPANY#<id>` or `PLATFORM`         | `AUDIT#<id>`           |                             |                                       |
//! | attempt slot     | `ATTEMPTS#<sub>` or `LOCATION_ATTEMPTS#<location id>` | `SLOT#<n>` |                |                                       |
//! | revalidation run | `REVALIDATION#<run id>`              | `RUN`                  |                             |                                       |
//!
//! Every item also carries `entity` (its type, as named in the first column in snake case).
//!
//! - **`gsi1`** (`gsi1pk`, `gsi1sk`): a company's administrators and its invitations.
//! - **`gsi2`** (`gsi2pk`, `gsi2sk`) is sparse: locations with a saved booking configuration
//!   (`BOOKING`, what revalidation pages through; a save enters the location), every company
//!   (`COMPANIES`, the operators' list) and pending invitations (`INVITEE#<email>`, what
//!   `GET /v1/me` offers to accept; closing an invitation removes it).
//! - **TTL** on `expires_at` (epoch seconds): send slots, invitations (a month after they could
//!   last be accepted), invitees, audit entries, attempt slots and revalidation runs. DynamoDB
//!   deletes expired items late and the emulator never, so readers compare `expires_at`
//!   themselves and a slot whose `expires_at` has passed counts as free.
//!
//! What the keys guarantee: the org number item makes an organisation number unique; the
//! invitee item allows one open invitation per company and address; the company item counts
//! its administrators (`admin_count`), so two removals at once cannot remove the last one, and
//! its locations (`location_count`), so two creates at once cannot pass the cap together; a
//! fixed number of slot items bounds sends and attempts, each taken by a conditional write. A
//! "Forespør detaljer" send holds a send slot (its location and system) and a sender slot (its
//! administrator, on every location), taken in one transaction.

use crate::store::SendScope;

/// The primary key attributes.
pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The table's TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The partition of audit entries that belong to no company.
pub const PLATFORM_PARTITION: &str = "PLATFORM";
/// `gsi2` partition of locations with a saved booking configuration.
pub const SAVED_BOOKINGS_PARTITION: &str = "BOOKING";
/// `gsi2` partition of every company, for the operators' list.
pub const COMPANIES_PARTITION: &str = "COMPANIES";

/// Sort key prefixes, for reading a partition's items of one type.
pub const COMPANY_PREFIX: &str = "COMPANY#";
pub const LOCATION_PREFIX: &str = "LOCATION#";
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const ADMIN_PREFIX: &str = "ADMIN#";
pub const INVITE_PREFIX: &str = "INVITE#";

/// An item's primary key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Key {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    pub fn company(company_id: &str) -> Key {
        Key::new(company_partition(company_id), "COMPANY")
    }

    /// Claims an organisation number for one company.
    pub fn org_number(number: &str) -> Key {
        Key::new(format!("ORGNR#{number}"), "ORGNR")
    }

    pub fn membership(user_sub: &str, company_id: &str) -> Key {
        Key::new(user_partition(user_sub), company_partition(company_id))
    }

    pub fn location(company_id: &str, location_id: &str) -> Key {
        Key::new(
            company_partition(company_id),
            format!("{LOCATION_PREFIX}{location_id}"),
        )
    }

    /// One of the limited sends of "Forespør detaljer": per location and system, or per
    /// administrator on every location.
    pub fn send_slot(scope: &SendScope, number: u32) -> Key {
        let (pk, prefix) = send_slots(scope);
        Key::new(pk, format!("{prefix}{number}"))
    }

    pub fn invitation(invitation_id: &str) -> Key {
        Key::new(format!("INVITATION#{invitation_id}"), "INVITATION")
    }

    /// Held by the one open invitation of a company to an address.
    pub fn invitee(company_id: &str, email: &str) -> Key {
        Key::new(company_partition(company_id), format!("INVITEE#{email}"))
    }

    /// In the company's partition, or the platform's for entries of no company.
    pub fn audit(company_id: Option<&str>, entry_id: &str) -> Key {
        let pk = company_id.map_or_else(|| PLATFORM_PARTITION.to_string(), company_partition);
        Key::new(pk, format!("{AUDIT_PREFIX}{entry_id}"))
    }

    /// A place in a lockout tally: `partition` is [`administrator_attempts`] or
    /// [`location_attempts`].
    pub fn attempt_slot(partition: &str, slot: u32) -> Key {
        Key::new(partition, format!("SLOT#{slot}"))
    }

    /// The cursor and lease of one night's revalidation.
    pub fn revalidation_run(run_id: &str) -> Key {
        Key::new(format!("REVALIDATION#{run_id}"), "RUN")
    }
}

/// The partition and the sort-key prefix of a send limit's slots.
pub fn send_slots(scope: &SendScope) -> (String, String) {
    match scope {
        SendScope::Location {
            location_id,
            system,
        } => (
            format!("{LOCATION_PREFIX}{location_id}"),
            format!("DETAILS#{system}#"),
        ),
        SendScope::Administrator { sub } => (format!("DETAILS_SENDS#{sub}"), "SLOT#".into()),
    }
}

/// The company attribute counting its locations, which the cap on locations is checked against.
pub const LOCATION_COUNT: &str = "location_count";

/// The partition of a company's own item, its locations, invitees and audit entries; also
/// the `gsi1` partition of its administrators and invitations.
pub fn company_partition(company_id: &str) -> String {
    format!("{COMPANY_PREFIX}{company_id}")
}

/// The partition of a user's memberships.
pub fn user_partition(user_sub: &str) -> String {
    format!("USER#{user_sub}")
}

/// The partition of one administrator's attempt slots (their tally on every location).
pub fn administrator_attempts(user_sub: &str) -> String {
    format!("ATTEMPTS#{user_sub}")
}

/// The partition of one location's attempt slots (its tally by every administrator).
pub fn location_attempts(location_id: &str) -> String {
    format!("LOCATION_ATTEMPTS#{location_id}")
}

/// The secondary indexes, by the attributes that make up their keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Gsi1,
    Gsi2,
}

impl Index {
    pub const ALL: [Index; 2] = [Index::Gsi1, Index::Gsi2];

    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
        }
    }

    pub fn pk(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1pk",
            Index::Gsi2 => "gsi2pk",
        }
    }

    pub fn sk(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1sk",
            Index::Gsi2 => "gsi2sk",
        }
    }
}

/// An item's key in one of the secondary indexes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexKey {
    pub index: Index,
    pub pk: String,
    pub sk: String,
}

impl IndexKey {
    /// A membership, among its company's administrators.
    pub fn administrator(company_id: &str, user_sub: &str) -> IndexKey {
        IndexKey {
            index: Index::Gsi1,
            pk: company_partition(company_id),
            sk: format!("{ADMIN_PREFIX}{user_sub}"),
        }
    }

    /// An invitation, among its company's.
    pub fn company_invitation(company_id: &str, invitation_id: &str) -> IndexKey {
        IndexKey {
            index: Index::Gsi1,
            pk: company_partition(company_id),
            sk: format!("{INVITE_PREFIX}{invitation_id}"),
        }
    }

    /// A pending invitation, among those to its address.
    pub fn pending_invitation(email: &str, invitation_id: &str) -> IndexKey {
        IndexKey {
            index: Index::Gsi2,
            pk: invitee_partition(email),
            sk: format!("{INVITE_PREFIX}{invitation_id}"),
        }
    }

    /// A company, in the operators' list (ordered by id).
    pub fn listed_company(company_id: &str) -> IndexKey {
        IndexKey {
            index: Index::Gsi2,
            pk: COMPANIES_PARTITION.to_string(),
            sk: company_id.to_string(),
        }
    }

    /// A location with a saved configuration, in revalidation's index.
    pub fn saved_booking(company_id: &str, location_id: &str) -> IndexKey {
        IndexKey {
            index: Index::Gsi2,
            pk: SAVED_BOOKINGS_PARTITION.to_string(),
            sk: saved_booking_position(company_id, location_id),
        }
    }
}

/// The `gsi2` partition of the pending invitations to an address (lower case).
pub fn invitee_partition(email: &str) -> String {
    format!("INVITEE#{email}")
}

/// Where a saved configuration sits in revalidation's index, and the cursor a run resumes
/// after: `<company id>#<location id>`.
pub fn saved_booking_position(company_id: &str, location_id: &str) -> String {
    format!("{company_id}#{location_id}")
}

/// The company and location of a position in revalidation's index.
pub fn parse_saved_booking_position(position: &str) -> Option<(&str, &str)> {
    position.split_once('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formats are what is already stored: a change here orphans existing items.
    #[test]
    fn primary_keys_keep_their_stored_formats() {
        let location_scope = SendScope::Location {
            location_id: "l1".into(),
            system: "pasientsky".into(),
        };
        let administrator_scope = SendScope::Administrator { sub: "u1".into() };
        let stored = [
            (Key::company("c1"), "COMPANY#c1", "COMPANY"),
            (Key::org_number("923609016"), "ORGNR#923609016", "ORGNR"),
            (Key::membership("u1", "c1"), "USER#u1", "COMPANY#c1"),
            (Key::location("c1", "l1"), "COMPANY#c1", "LOCATION#l1"),
            (
                Key::send_slot(&location_scope, 2),
                "LOCATION#l1",
                "DETAILS#pasientsky#2",
            ),
            (
                Key::send_slot(&administrator_scope, 3),
                "DETAILS_SENDS#u1",
                "SLOT#3",
            ),
            (Key::invitation("i1"), "INVITATION#i1", "INVITATION"),
            (Key::invitee("c1", "a@b.no"), "COMPANY#c1", "INVITEE#a@b.no"),
            (Key::audit(Some("c1"), "e1"), "COMPANY#c1", "AUDIT#e1"),
            (Key::audit(None, "e1"), "PLATFORM", "AUDIT#e1"),
            (
                Key::attempt_slot(&administrator_attempts("u1"), 3),
                "ATTEMPTS#u1",
                "SLOT#3",
            ),
            (
                Key::attempt_slot(&location_attempts("l1"), 9),
                "LOCATION_ATTEMPTS#l1",
                "SLOT#9",
            ),
            (
                Key::revalidation_run("2026-12-01"),
                "REVALIDATION#2026-12-01",
                "RUN",
            ),
        ];
        for (key, pk, sk) in stored {
            assert_eq!((key.pk.as_str(), key.sk.as_str()), (pk, sk));
        }
    }

    #[test]
    fn index_keys_keep_their_stored_formats() {
        let stored = [
            (
                IndexKey::administrator("c1", "u1"),
                "gsi1",
                "COMPANY#c1",
                "ADMIN#u1",
            ),
            (
                IndexKey::company_invitation("c1", "i1"),
                "gsi1",
                "COMPANY#c1",
                "INVITE#i1",
            ),
            (
                IndexKey::pending_invitation("a@b.no", "i1"),
                "gsi2",
                "INVITEE#a@b.no",
                "INVITE#i1",
            ),
            (IndexKey::listed_company("c1"), "gsi2", "COMPANIES", "c1"),
            (
                IndexKey::saved_booking("c1", "l1"),
                "gsi2",
                "BOOKING",
                "c1#l1",
            ),
        ];
        for (key, index, pk, sk) in stored {
            assert_eq!(
                (key.index.name(), key.pk.as_str(), key.sk.as_str()),
                (index, pk, sk)
            );
        }
        assert_eq!(
            (
                Index::Gsi1.pk(),
                Index::Gsi1.sk(),
                Index::Gsi2.pk(),
                Index::Gsi2.sk()
            ),
            ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
        );
    }

    #[test]
    fn a_saved_booking_position_reads_back_as_its_company_and_location() {
        let position = saved_booking_position("c1", "l1");
        assert_eq!(parse_saved_booking_position(&position), Some(("c1", "l1")));
        assert_eq!(parse_saved_booking_position("no-separator"), None);
    }
}
