//! Demo data for local runs, under fixed ids so that the sample events in `events/` and the
//! README's examples work as written: an administrator (`demo-admin`) of two companies with a
//! few locations, a platform operator (`demo-operator`, an operator by the group in its token
//! or `X-Dev-Groups`, so it has no items of its own), and a user with a pending invitation
//! (`demo-invitee`). The invitation's token is a constant of this demo loader, known to the
//! local demo only: production invitations get random tokens and only their hash is stored.

use bookinglink::clock::Timestamp;
use bookinglink::domain::access::{INVITATION_VALID_SECONDS, token_hash};
use bookinglink::domain::locations;
use bookinglink::i18n::Lang;
use bookinglink::model::{
    AUDIT_RETENTION_SECONDS, Address, AuditEntry, BookingConfig, Company, Health, Invitation,
    InvitationStatus, Location, Membership,
};
use bookinglink::store::{
    CompanyCreation, InvitationAcceptance, InvitationStore, InvitationWrite, LocationCreation,
    Store, StoreError,
};
use serde_json::json;

pub const ADMIN_SUB: &str = "demo-admin";
pub const ADMIN_EMAIL: &str = "admin@fysio-demo.no";
pub const ADMIN_NAME: &str = "Demo Administrator";
pub const OPERATOR_SUB: &str = "demo-operator";
pub const OPERATOR_EMAIL: &str = "drift@bookinglink.no";
pub const OPERATOR_GROUP: &str = "bookinglink-operators";
pub const INVITEE_SUB: &str = "demo-invitee";
pub const INVITEE_EMAIL: &str = "ny.admin@fysio-demo.no";
pub const INVITEE_NAME: &str = "Nina Ny";
pub const INVITATION_ID: &str = "1a000000-0000-4000-8000-000000000001";
/// The demo invitation's token, for the local demo and its browser tests only.
pub const INVITATION_TOKEN: &str = "demo-invitation-token-local-only-0000000001";
pub const COMPANY_1: &str = "c0000000-0000-4000-8000-000000000001";
pub const COMPANY_2: &str = "c0000000-0000-4000-8000-000000000002";
pub const LOCATION_1: &str = "10000000-0000-4000-8000-000000000001";

/// An audit entry by the demo operator, for data written straight to the store.
pub fn seed_entry(
    company_id: &str,
    action: &str,
    details: serde_json::Value,
    now: Timestamp,
) -> AuditEntry {
    AuditEntry {
        id: bookinglink::domain::new_id(),
        company_id: Some(company_id.into()),
        at: now,
        actor_sub: OPERATOR_SUB.into(),
        actor_email: Some(OPERATOR_EMAIL.into()),
        action: action.into(),
        location_id: None,
        details,
        request_id: None,
        expires_at: now + AUDIT_RETENTION_SECONDS,
    }
}

/// Writes the demo data; running it again changes nothing.
pub async fn seed<S: Store + InvitationStore>(store: &S, now: Timestamp) -> Result<(), StoreError> {
    let companies = [
        (
            COMPANY_1,
            "Fysio Demo AS",
            "923609016",
            Some("faktura@fysio-demo.no"),
        ),
        (COMPANY_2, "Psykologene Demo AS", "974760673", None),
    ];
    for (id, name, org, invoice) in companies {
        let company = Company {
            id: id.into(),
            name: name.into(),
            org_number: org.into(),
            invoice_email: invoice.map(str::to_string),
            created_at: now,
            created_by: ADMIN_SUB.into(),
        };
        let admin = Membership {
            user_sub: ADMIN_SUB.into(),
            company_id: id.into(),
            email: Some(ADMIN_EMAIL.into()),
            name: Some(ADMIN_NAME.into()),
            created_at: now,
            invited_by: Some(OPERATOR_EMAIL.into()),
        };
        let audit = seed_entry(
            id,
            "company_created",
            json!({"name": name, "org_number": org}),
            now,
        );
        let creation = CompanyCreation {
            company: &company,
            admin: Some(&admin),
            audit: &audit,
        };
        match store.create_company(creation).await {
            Ok(()) | Err(StoreError::OrgNumberTaken | StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    let locations = [
        (
            COMPANY_1,
            LOCATION_1,
            "Majorstuen",
            "Kirkeveien 64",
            "0364",
            "Oslo",
            "+47 22 00 00 01",
        ),
        (
            COMPANY_1,
            "10000000-0000-4000-8000-000000000002",
            "Grünerløkka",
            "Thorvald Meyers gate 30",
            "0555",
            "Oslo",
            "+47 22 00 00 02",
        ),
        (
            COMPANY_1,
            "10000000-0000-4000-8000-000000000003",
            "Bergen sentrum",
            "Torgallmenningen 8",
            "5014",
            "Bergen",
            "+47 55 00 00 03",
        ),
        (
            COMPANY_2,
            "20000000-0000-4000-8000-000000000001",
            "Trondheim",
            "Munkegata 10",
            "7011",
            "Trondheim",
            "+47 73 00 00 01",
        ),
    ];
    for (company_id, id, name, street, postal_code, city, phone) in locations {
        let location = locations::NewLocation {
            name: name.into(),
            address: Address {
                street: street.into(),
                postal_code: postal_code.into(),
                city: city.into(),
            },
            phone: phone.into(),
            email: format!("{}@fysio-demo.no", postal_code),
        }
        .into_location(company_id, id.into(), ADMIN_SUB, now);
        let mut audit = seed_entry(company_id, "location_created", json!({"name": name}), now);
        audit.actor_sub = ADMIN_SUB.into();
        audit.actor_email = Some(ADMIN_EMAIL.into());
        audit.location_id = Some(id.into());
        match store
            .create_location(LocationCreation {
                location: &location,
                max_per_company: locations::DEFAULT_MAX_PER_COMPANY,
                audit: &audit,
            })
            .await
        {
            Ok(()) | Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    let invitation = Invitation {
        id: INVITATION_ID.into(),
        invited_by_sub: ADMIN_SUB.into(),
        invited_by_email: Some(ADMIN_EMAIL.into()),
        ..pending_invitation(COMPANY_1, INVITEE_EMAIL, INVITATION_TOKEN, now)
    };
    let mut audit = seed_entry(
        COMPANY_1,
        "administrator_invited",
        json!({"email": INVITEE_EMAIL, "invitation_id": INVITATION_ID, "resent": false}),
        now,
    );
    audit.actor_sub = ADMIN_SUB.into();
    audit.actor_email = Some(ADMIN_EMAIL.into());
    let already = store.invitation(INVITATION_ID).await?.is_some();
    if !already {
        let write = InvitationWrite {
            invitation: &invitation,
            now,
            audit: &audit,
        };
        match store.create_invitation(write).await {
            Ok(()) | Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A company with one administrator, written straight to the store (registering a company is
/// for operators, and joining takes an invitation): the set-up of tests about something else.
pub async fn company_with_admin(
    store: &dyn Store,
    admin_sub: &str,
    admin_email: &str,
    name: &str,
    org_number: &str,
    now: Timestamp,
) -> Result<Company, StoreError> {
    let company = Company {
        id: bookinglink::domain::new_id(),
        name: name.into(),
        org_number: org_number.into(),
        invoice_email: None,
        created_at: now,
        created_by: OPERATOR_SUB.into(),
    };
    let admin = Membership {
        user_sub: admin_sub.into(),
        company_id: company.id.clone(),
        email: Some(admin_email.into()),
        name: Some("Test Person".into()),
        created_at: now,
        invited_by: Some(OPERATOR_EMAIL.into()),
    };
    let audit = seed_entry(&company.id, "company_created", json!({"name": name}), now);
    store
        .create_company(CompanyCreation {
            company: &company,
            admin: Some(&admin),
            audit: &audit,
        })
        .await?;
    Ok(company)
}

/// A pending invitation in Norwegian to `email` (lower-cased) whose token is `token`, sent by
/// the demo operator at `now`, not yet re-sent.
fn pending_invitation(company_id: &str, email: &str, token: &str, now: Timestamp) -> Invitation {
    Invitation {
        id: bookinglink::domain::new_id(),
        company_id: company_id.into(),
        email: email.to_lowercase(),
        language: Lang::Nb,
        token_hash: token_hash(token),
        status: InvitationStatus::Pending,
        created_at: now,
        valid_until: now + INVITATION_VALID_SECONDS,
        invited_by_sub: OPERATOR_SUB.into(),
        invited_by_email: Some(OPERATOR_EMAIL.into()),
        sends_day: String::new(),
        sends_that_day: 0,
        accepted_by: None,
        closed_at: None,
    }
}

/// An open invitation to `email` whose token is `token`, written straight to the store.
pub async fn invitation_with_token<S: InvitationStore + ?Sized>(
    store: &S,
    company_id: &str,
    email: &str,
    token: &str,
    now: Timestamp,
) -> Result<Invitation, StoreError> {
    let invitation = pending_invitation(company_id, email, token, now);
    let audit = seed_entry(
        company_id,
        "administrator_invited",
        json!({"email": invitation.email}),
        now,
    );
    store
        .create_invitation(InvitationWrite {
            invitation: &invitation,
            now,
            audit: &audit,
        })
        .await?;
    Ok(invitation)
}

/// Makes `sub` (at `email`) an administrator of the company by an invitation it accepts.
pub async fn join<S: InvitationStore + ?Sized>(
    store: &S,
    company_id: &str,
    sub: &str,
    email: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let invitation = invitation_with_token(store, company_id, email, "join-token", now).await?;
    let membership = Membership {
        user_sub: sub.into(),
        company_id: company_id.into(),
        email: Some(email.to_lowercase()),
        name: None,
        created_at: now,
        invited_by: Some(OPERATOR_EMAIL.into()),
    };
    let audit = seed_entry(
        company_id,
        "administrator_joined",
        json!({"user_id": sub}),
        now,
    );
    let acceptance = InvitationAcceptance {
        invitation: &invitation,
        membership: &membership,
        now,
        audit: &audit,
    };
    store.accept_invitation(acceptance).await
}

/// A saved, healthy Pasientsky connection to the sandbox's clinic whose key is the secret
/// version `secret_version_id`, as "Test og lagre" leaves it (before any check is recorded).
pub fn saved_pasientsky(secret_version_id: String) -> BookingConfig {
    BookingConfig {
        system: "pasientsky".into(),
        external_id: Some(vendor_sandbox::PASIENTSKY_CLINIC_OK.into()),
        external_department_id: Some(vendor_sandbox::PASIENTSKY_DEPT_OK.into()),
        booking_url: None,
        key_stored: true,
        secret_version_id: Some(secret_version_id),
        config_id: Some(uuid::Uuid::new_v4().to_string()),
        health: Some(Health::Ok),
        notice_pending: None,
        last_check: None,
        saved_by: None,
        saved_at: None,
    }
}

/// Location `n` of a fleet seeded into `company_id` (a revalidation test's or benchmark's),
/// created by `by`, with nothing saved on it yet.
pub fn fleet_location(company_id: &str, n: u64, by: &str) -> Location {
    Location {
        company_id: company_id.into(),
        id: format!("10000000-0000-4000-8000-{n:012}"),
        name: format!("Lokasjon {n}"),
        address: Address {
            street: "Gate 1".into(),
            postal_code: "0364".into(),
            city: "Oslo".into(),
        },
        phone: "22000000".into(),
        email: "post@fysio.no".into(),
        offline: false,
        booking: None,
        details_requests: Vec::new(),
        version: 1,
        created_at: 0,
        updated_at: 0,
        updated_by: by.into(),
    }
}
