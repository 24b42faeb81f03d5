use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::identity::Caller;
use crate::model::{Company, Membership, Page};
use crate::problem::Problem;
use crate::store::CompanyStore;
use crate::validate::{self, ObjectReader};

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
        let org_number = r.text_with(
            "org_number",
            true,
            validate::SHORT_CODE,
            validate::org_number,
        );
        let invoice_email = r.text_with("invoice_email", false, validate::EMAIL, validate::email);
        r.finish()?;
        Ok(NewCompany {
            name: name.unwrap_or_default(),
            org_number: org_number.unwrap_or_default(),
            invoice_email,
        })
    }
}

pub async fn list(
    store: &dyn CompanyStore,
    caller: &Caller,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<Company>, Problem> {
    Ok(store.companies_of(&caller.sub, after, limit).await?)
}

/// Registers a company with the caller as its administrator. The organisation number is
/// claimed in the same transaction, so two concurrent registrations cannot both succeed.
pub async fn create(
    store: &dyn CompanyStore,
    clock: &dyn Clock,
    caller: &Caller,
    new: NewCompany,
) -> Result<Company, Problem> {
    let now = clock.now();
    let company = Company {
        id: super::new_id(),
        name: new.name,
        org_number: new.org_number,
        invoice_email: new.invoice_email,
        created_at: now,
        created_by: caller.sub.clone(),
    };
    let admin = Membership {
        user_sub: caller.sub.clone(),
        company_id: company.id.clone(),
        email: caller.email.clone(),
        name: caller.name.clone(),
        created_at: now,
    };
    store.create_company(&company, &admin).await?;
    tracing::info!(company_id = %company.id, "company created");
    Ok(company)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::memory::MemoryStore;
    use serde_json::json;

    fn caller(sub: &str) -> Caller {
        Caller {
            sub: sub.into(),
            email: Some(format!("{sub}@example.no")),
            name: None,
        }
    }

    fn new_company(org: &str) -> NewCompany {
        NewCompany::from_json(
            json!({"name": " Fysio AS ", "org_number": org})
                .as_object()
                .unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_creator_administers_the_new_company() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(1_000);
        let company = create(&store, &clock, &caller("ola"), new_company("923609016"))
            .await
            .unwrap();
        assert_eq!(company.name, "Fysio AS");
        let page = list(&store, &caller("ola"), None, 10).await.unwrap();
        assert_eq!(page.items, vec![company]);
        assert!(
            list(&store, &caller("kari"), None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_org_number_can_be_registered_once() {
        let store = MemoryStore::new();
        let clock = ManualClock::at(1_000);
        create(&store, &clock, &caller("ola"), new_company("923609016"))
            .await
            .unwrap();
        let err = create(&store, &clock, &caller("kari"), new_company("923 609 016"))
            .await
            .unwrap_err();
        assert_eq!((err.status, err.code), (409, "org_number_taken"));
        assert_eq!(err.errors[0].field, "org_number");
        assert!(
            list(&store, &caller("kari"), None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }

    #[test]
    fn company_input_is_validated_field_by_field() {
        let body = json!({"name": 5, "org_number": "123456789", "invoice_email": "x@"});
        let err = NewCompany::from_json(body.as_object().unwrap()).unwrap_err();
        let fields: Vec<_> = err
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            fields,
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
            create(&store, &clock, &caller("ola"), new_company(org))
                .await
                .unwrap();
        }
        let first = list(&store, &caller("ola"), None, 2).await.unwrap();
        assert_eq!(first.items.len(), 2);
        let second = list(&store, &caller("ola"), first.next_after.as_deref(), 2)
            .await
            .unwrap();
        assert_eq!(second.items.len(), 1);
        assert!(second.next_after.is_none());
        assert!(!first.items.contains(&second.items[0]));
    }
}
