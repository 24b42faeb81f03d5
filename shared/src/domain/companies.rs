//! Companies: the operators register them and search all of them; an administrator lists the
//! ones they administer.

use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::identity::Caller;
use crate::model::{Company, Page};
use crate::problem::Problem;
use crate::store::{CompanyCreation, CompanyStore, PageRequest};
use crate::validate::{self, ObjectReader};

use super::{audit_entry, require_operator};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCompany {
    pub name: String,
    pub org_number: String,
    pub invoice_email: Option<String>,
}

impl NewCompany {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, Problem> {
        let mut r = ObjectReader::new(body, &["name", "org_number", "invoice_email"])?;
        let name = r.text("name", true, validate::NAME);
        let org_number = r.text("org_number", true, validate::ORG_NUMBER);
        let invoice_email = r.text("invoice_email", false, validate::EMAIL);
        r.finish()?;
        Ok(NewCompany {
            name: name.unwrap_or_default(),
            org_number: org_number.unwrap_or_default(),
            invoice_email,
        })
    }
}

/// The longest `?q=` an operator may search with.
pub const MAX_QUERY_CHARS: usize = 120;

/// An operator sees every company (`query` narrows it to an organisation number or the start
/// of a name); an administrator sees the companies they administer.
pub async fn list(
    store: &dyn CompanyStore,
    caller: &Caller,
    query: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<Company>, Problem> {
    let page = PageRequest { after, limit };
    if caller.operator {
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        return Ok(store.all_companies(query, page).await?);
    }
    Ok(store.companies_of(&caller.sub, page).await?)
}

/// Registers a company; only platform operators may. It has no administrator until an
/// invitation is accepted. The organisation number is claimed in the same transaction, so two
/// concurrent registrations cannot both succeed.
pub async fn create(
    store: &dyn CompanyStore,
    clock: &dyn Clock,
    caller: &Caller,
    new: NewCompany,
) -> Result<Company, Problem> {
    require_operator(caller)?;
    let now = clock.now();
    let company = Company {
        id: super::new_id(),
        name: new.name,
        org_number: new.org_number,
        invoice_email: new.invoice_email,
        created_at: now,
        created_by: caller.sub.clone(),
    };
    let audit = audit_entry(
        caller,
        Some(&company.id),
        "company_created",
        None,
        json!({"name": company.name, "org_number": company.org_number}),
        now,
    );
    store
        .create_company(CompanyCreation {
            company: &company,
            admin: None,
            audit: &audit,
        })
        .await?;
    tracing::info!(company_id = %company.id, "company created");
    Ok(company)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::fixtures::{self, field_codes, operator};
    use crate::model::Membership;
    use crate::store::memory::MemoryStore;

    fn new_company(org: &str) -> NewCompany {
        NewCompany::from_json(
            json!({"name": " Fysio AS ", "org_number": org})
                .as_object()
                .unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn only_operators_register_companies_and_see_them_all() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(1_000);
        let err = create(
            &store,
            &clock,
            &Caller::new("ola"),
            new_company("923609016"),
        )
        .await
        .unwrap_err();
        assert_eq!((err.status, err.code), (403, "operator_only"));
        assert!(
            store.audit_entries().is_empty(),
            "a refusal writes no entry"
        );

        let company = create(&store, &clock, &operator(), new_company("923609016"))
            .await
            .unwrap();
        assert_eq!(company.name, "Fysio AS");
        let entries = store.audit_entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, "company_created");
        assert_eq!(entries[0].company_id.as_deref(), Some(company.id.as_str()));

        assert!(
            list(&store, &Caller::new("ola"), None, None, 10)
                .await
                .unwrap()
                .items
                .is_empty(),
            "registering makes nobody an administrator"
        );
        store.add_membership(Membership {
            email: None,
            created_at: 1_000,
            ..fixtures::membership("ola", &company.id)
        });
        let mine = list(&store, &Caller::new("ola"), None, None, 10)
            .await
            .unwrap();
        assert_eq!(mine.items, vec![company.clone()]);
        let all = list(&store, &operator(), None, None, 10).await.unwrap();
        assert_eq!(all.items, vec![company]);
    }

    #[tokio::test]
    async fn operators_search_by_org_number_or_the_start_of_the_name() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(1_000);
        for (name, org) in [
            ("Fysio Nord AS", "923609016"),
            ("Psykologene AS", "974760673"),
        ] {
            let new = NewCompany {
                name: name.into(),
                org_number: org.into(),
                invoice_email: None,
            };
            create(&store, &clock, &operator(), new).await.unwrap();
        }
        let names =
            |page: Page<Company>| page.items.into_iter().map(|c| c.name).collect::<Vec<_>>();
        let op = operator();
        assert_eq!(
            names(list(&store, &op, Some("psyk"), None, 10).await.unwrap()),
            ["Psykologene AS"]
        );
        assert_eq!(
            names(
                list(&store, &op, Some("923 609 016"), None, 10)
                    .await
                    .unwrap()
            ),
            ["Fysio Nord AS"]
        );
        assert!(
            list(&store, &op, Some("nord"), None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert_eq!(
            list(&store, &op, Some("  "), None, 10)
                .await
                .unwrap()
                .items
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn an_org_number_can_be_registered_once() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(1_000);
        create(&store, &clock, &operator(), new_company("923609016"))
            .await
            .unwrap();
        let err = create(&store, &clock, &operator(), new_company("923 609 016"))
            .await
            .unwrap_err();
        assert_eq!((err.status, err.code), (409, "org_number_taken"));
        assert_eq!(err.errors[0].field, "org_number");
        assert_eq!(store.audit_entries().len(), 1);
    }

    #[test]
    fn company_input_is_validated_field_by_field() {
        let body = json!({"name": 5, "org_number": "123456789", "invoice_email": "x@"});
        let err = NewCompany::from_json(body.as_object().unwrap()).unwrap_err();
        assert_eq!(
            field_codes(&err),
            [
                ("name", "wrong_type"),
                ("org_number", "invalid_org_number_checksum"),
                ("invoice_email", "invalid_email")
            ]
        );
        let missing = NewCompany::from_json(json!({}).as_object().unwrap()).unwrap_err();
        assert_eq!(missing.errors.len(), 2);
    }

    #[tokio::test]
    async fn companies_are_paginated() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(1_000);
        let orgs = ["923609016", "974760673", "982463718"];
        for org in orgs {
            create(&store, &clock, &operator(), new_company(org))
                .await
                .unwrap();
        }
        let first = list(&store, &operator(), None, None, 2).await.unwrap();
        assert_eq!(first.items.len(), 2);
        let second = list(&store, &operator(), None, first.next_after.as_deref(), 2)
            .await
            .unwrap();
        assert_eq!(second.items.len(), 1);
        assert!(second.next_after.is_none());
        let mut seen: Vec<String> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|c| c.org_number.clone())
            .collect();
        seen.sort();
        assert_eq!(seen, orgs, "every company once, none twice");
    }
}
