//! The cap on locations per company.

use super::*;
use crate::clock::ManualClock;
use crate::domain::fixtures::{assert_detail_says, company_administered_by, new_location};
use crate::i18n::Lang;
use crate::store::memory::MemoryStore;
use crate::store::{LocationStore, PageRequest};

#[tokio::test]
async fn a_company_gets_no_more_locations_than_its_limit() {
    let store = MemoryStore::new();
    let clock = ManualClock::at(10);
    let company = company_administered_by(&store, "ola", "923609016").await;
    let other = company_administered_by(&store, "ola", "986753043").await;
    let ola = Caller::new("ola");
    for n in 0..3 {
        create(
            &store,
            &clock,
            &ola,
            &company,
            new_location(&format!("L{n}")),
            3,
        )
        .await
        .unwrap();
    }
    let audit_before = store.audit_entries().len();
    let err = create(&store, &clock, &ola, &company, new_location("L3"), 3)
        .await
        .unwrap_err();
    assert_eq!((err.status, err.code), (409, "too_many_locations"));
    assert_eq!(err.errors[0].field, "companyId");
    assert_eq!(err.errors[0].code, "too_many_locations");
    assert_detail_says(&err, Lang::Nb, "allerede 3 lokasjoner");
    assert_detail_says(&err, Lang::En, "already has 3 locations");
    let body = err.to_json(Lang::En);
    assert_eq!(body["errors"][0]["field"], "companyId");
    // Nothing was written for the refused one.
    assert_eq!(store.audit_entries().len(), audit_before);
    let page = store
        .locations_of(
            &company,
            PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    // The limit is per company.
    create(&store, &clock, &ola, &other, new_location("Nord"), 3)
        .await
        .unwrap();
    // A higher setting lets the same company grow.
    create(&store, &clock, &ola, &company, new_location("L3"), 4)
        .await
        .unwrap();
}
