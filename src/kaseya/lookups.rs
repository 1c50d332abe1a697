//! Lookup lists (statuses, priorities, queues, assignees, ticket types and sources), fetched
//! once per container: they change rarely, and every call spends BMS's hourly allowance.

use std::sync::Arc;

use serde::Deserialize;

use super::Bms;
use super::envelope::{self, BmsError};
use crate::context::Lookup;

/// One entry of a lookup list; the lists differ in their other fields.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "isdefault", default)]
    pub is_default: bool,
    /// Lists without the field (priorities, assignees) hold only usable entries.
    #[serde(rename = "isactive", default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// Assignees come in pages; past this many we stop rather than loop on a broken pager.
const ASSIGNEE_PAGE_SIZE: usize = 100;
const ASSIGNEE_MAX_PAGES: usize = 50;

impl Bms {
    /// The list for `lookup`, from the cache or from BMS. Failures are not cached.
    pub async fn lookup(&self, lookup: Lookup) -> Result<Arc<Vec<Item>>, BmsError> {
        if let Some(items) = self.lookups.read().await.get(&lookup) {
            return Ok(items.clone());
        }
        let items = Arc::new(self.fetch_lookup(lookup).await?);
        self.lookups.write().await.insert(lookup, items.clone());
        Ok(items)
    }

    /// Drop every cached list, so the next lookups read BMS as it is now (`/health`).
    pub async fn forget_lookups(&self) {
        self.lookups.write().await.clear();
        self.main_locations.write().await.clear();
    }

    async fn fetch_lookup(&self, lookup: Lookup) -> Result<Vec<Item>, BmsError> {
        let what = format!("{} list", lookup.label());
        let path = match lookup {
            Lookup::Status => "/v2/system/statuses/lookup".to_string(),
            Lookup::Priority => "/v2/system/priorities/lookup".to_string(),
            Lookup::Queue => "/v2/system/queues/lookup".to_string(),
            Lookup::TicketType => format!("/v2/system/lookup/{}", self.ticket_type_table),
            Lookup::TicketSource => format!("/v2/system/lookup/{}", self.ticket_source_table),
            Lookup::Assignee => return self.fetch_assignees(&what).await,
        };
        let result = self.get(&what, &path, &[]).await?;
        read_items(&what, result)
    }

    async fn fetch_assignees(&self, what: &str) -> Result<Vec<Item>, BmsError> {
        let mut all = Vec::new();
        for page in 1..=ASSIGNEE_MAX_PAGES {
            let result = self
                .get(
                    what,
                    "/v2/hr/assignees/lookup",
                    &[
                        ("PageSize", ASSIGNEE_PAGE_SIZE.to_string()),
                        ("PageNumber", page.to_string()),
                    ],
                )
                .await?;
            let items = read_items(what, result)?;
            let last = items.len() < ASSIGNEE_PAGE_SIZE;
            all.extend(items);
            if last {
                break;
            }
        }
        Ok(all)
    }
}

fn read_items(what: &str, result: serde_json::Value) -> Result<Vec<Item>, BmsError> {
    match result {
        serde_json::Value::Null => Ok(Vec::new()),
        other => envelope::read(what, other),
    }
}
