//! Companies, their organisation numbers and memberships.

use std::collections::HashMap;

use async_trait::async_trait;

use super::attributes::{Item, get_n, get_opt_s, get_s, index_start, key_item, n, s, set_index};
use super::{DynamoStore, TxFailure};
use crate::model::{Company, Membership, Page};
use crate::store::keys::{
    COMPANIES_PARTITION, COMPANY_PREFIX, Index, IndexKey, Key, user_partition,
};
use crate::store::{
    CompanyCreation, CompanyStore, PageRequest, Result, StoreError, company_matches,
};

fn company_item(c: &Company) -> Item {
    let mut item = key_item(&Key::company(&c.id));
    item.insert("entity".into(), s("company"));
    item.insert("id".into(), s(&c.id));
    item.insert("name".into(), s(&c.name));
    item.insert("org_number".into(), s(&c.org_number));
    if let Some(email) = &c.invoice_email {
        item.insert("invoice_email".into(), s(email));
    }
    item.insert("created_at".into(), n(c.created_at));
    item.insert("created_by".into(), s(&c.created_by));
    item.insert("name_search".into(), s(c.name.to_lowercase()));
    set_index(&mut item, &IndexKey::listed_company(&c.id));
    item
}

fn company_from(item: &Item) -> Result<Company> {
    Ok(Company {
        id: get_s(item, "id")?,
        name: get_s(item, "name")?,
        org_number: get_s(item, "org_number")?,
        invoice_email: get_opt_s(item, "invoice_email"),
        created_at: get_n(item, "created_at")?,
        created_by: get_s(item, "created_by")?,
    })
}

fn org_number_item(company: &Company) -> Item {
    let mut item = key_item(&Key::org_number(&company.org_number));
    item.insert("entity".into(), s("org_number"));
    item.insert("company_id".into(), s(&company.id));
    item
}

pub(crate) fn membership_item(m: &Membership) -> Item {
    let mut item = key_item(&Key::membership(&m.user_sub, &m.company_id));
    set_index(
        &mut item,
        &IndexKey::administrator(&m.company_id, &m.user_sub),
    );
    item.extend([
        ("entity".into(), s("membership")),
        ("user_sub".into(), s(&m.user_sub)),
        ("company_id".into(), s(&m.company_id)),
        ("created_at".into(), n(m.created_at)),
    ]);
    if let Some(email) = &m.email {
        item.insert("email".into(), s(email));
    }
    if let Some(name) = &m.name {
        item.insert("name".into(), s(name));
    }
    if let Some(by) = &m.invited_by {
        item.insert("invited_by".into(), s(by));
    }
    item
}

pub fn membership_from(item: &Item) -> Result<Membership> {
    Ok(Membership {
        user_sub: get_s(item, "user_sub")?,
        company_id: get_s(item, "company_id")?,
        email: get_opt_s(item, "email"),
        name: get_opt_s(item, "name"),
        created_at: get_n(item, "created_at")?,
        invited_by: get_opt_s(item, "invited_by"),
    })
}

#[async_trait]
impl CompanyStore for DynamoStore {
    async fn create_company(&self, creation: CompanyCreation<'_>) -> Result<()> {
        let mut item = company_item(creation.company);
        item.insert("admin_count".into(), n(u32::from(creation.admin.is_some())));
        let mut items = vec![
            self.put_new(item)?,
            self.put_new(org_number_item(creation.company))?,
            self.audit_put(creation.audit)?,
        ];
        if let Some(admin) = creation.admin {
            items.push(self.put_new(membership_item(admin))?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Conditions(failed)) if failed[1] => Err(StoreError::OrgNumberTaken),
            Err(TxFailure::Conditions(_)) => Err(StoreError::AlreadyExists),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn all_companies(
        &self,
        query: Option<&str>,
        page: PageRequest<'_>,
    ) -> Result<Page<Company>> {
        // Reads pages of the company index until one more match than the page is found, so
        // a filter that skips most companies still fills the page and tells whether more follow.
        let mut found: Vec<(String, Company)> = Vec::new();
        let mut start = page
            .after
            .map(|a| index_start(&Key::company(a), &IndexKey::listed_company(a)));
        loop {
            let out = self
                .index_page(Index::Gsi2, COMPANIES_PARTITION, start, 200)
                .await?;
            for item in out.items() {
                let company = company_from(item)?;
                if query.is_none_or(|q| company_matches(&company, q)) {
                    found.push((company.id.clone(), company));
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() || found.len() > page.limit as usize {
                return Ok(Page::cut(found, page.limit, false));
            }
        }
    }

    async fn companies_of(&self, user_sub: &str, page: PageRequest<'_>) -> Result<Page<Company>> {
        let partition = user_partition(user_sub);
        let company_id = |item: &Item| get_s(item, "company_id");
        let ids = self
            .page_of(&partition, COMPANY_PREFIX, page, false, company_id)
            .await?;
        let keys: Vec<Key> = ids.items.iter().map(|id| Key::company(id)).collect();
        let mut by_id: HashMap<String, Company> = HashMap::new();
        for item in self.batch_get(&keys).await? {
            let company = company_from(&item)?;
            by_id.insert(company.id.clone(), company);
        }
        Ok(Page {
            // Keep the membership order; a membership whose company is gone is skipped.
            items: ids.items.iter().filter_map(|id| by_id.remove(id)).collect(),
            next_after: ids.next_after,
        })
    }

    async fn membership(&self, user_sub: &str, company_id: &str) -> Result<Option<Membership>> {
        let item = self
            .get(&Key::membership(user_sub, company_id), false)
            .await?;
        item.as_ref().map(membership_from).transpose()
    }

    async fn company(&self, company_id: &str) -> Result<Option<Company>> {
        let item = self.get(&Key::company(company_id), false).await?;
        item.as_ref().map(company_from).transpose()
    }
}
