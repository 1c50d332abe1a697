//! Lookup lists (statuses, priorities, queues, assignees, ticket types and sources), cached per
//! container for a bounded time: they change rarely and every call spends BMS's hourly
//! allowance, but a queue renamed in BMS must show up within minutes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

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

/// How long a fetched list is used before BMS is asked again (`KASEYA_LOOKUP_TTL_SECONDS`).
pub const DEFAULT_LOOKUP_TTL: Duration = Duration::from_secs(300);

/// One slot per lookup. A slot's lock is held across the fetch: concurrent requests that need
/// the same list wait for the one fetch in flight instead of each making their own.
pub(super) struct Cache {
    ttl: Duration,
    /// Indexed by `Lookup as usize`.
    slots: [Mutex<Option<Cached>>; Lookup::ALL.len()],
}

struct Cached {
    items: Arc<Vec<Item>>,
    fetched: Instant,
}

impl Cache {
    pub(super) fn new(ttl: Duration) -> Cache {
        Cache {
            ttl,
            slots: Lookup::ALL.map(|_| Mutex::new(None)),
        }
    }
}

impl Cached {
    fn fresh(&self, ttl: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.fetched) < ttl
    }
}

/// Assignees come in pages; past this many we stop rather than loop on a broken pager.
const ASSIGNEE_PAGE_SIZE: usize = 100;
const ASSIGNEE_MAX_PAGES: usize = 50;

impl Bms {
    /// How long fetched lists are used; zero reads BMS for every request.
    pub fn with_lookup_ttl(mut self, ttl: Duration) -> Bms {
        self.lookups = Cache::new(ttl);
        self
    }

    /// The list for `lookup`, from the cache or from BMS, fetched once however many requests
    /// ask for it at the same time. Failures are not cached; when BMS cannot be read and the
    /// list has merely aged, the aged list is used rather than failing the request.
    pub async fn lookup(&self, lookup: Lookup) -> Result<Arc<Vec<Item>>, BmsError> {
        let mut slot = self.lookups.slots[lookup as usize].lock().await;
        if let Some(cached) = slot
            .as_ref()
            .filter(|c| c.fresh(self.lookups.ttl, Instant::now()))
        {
            return Ok(cached.items.clone());
        }
        match self.fetch_lookup(lookup).await {
            Ok(items) => {
                let items = Arc::new(items);
                *slot = Some(Cached {
                    items: items.clone(),
                    fetched: Instant::now(),
                });
                Ok(items)
            }
            Err(e) => match slot.as_ref() {
                Some(aged) => {
                    tracing::warn!(
                        list = lookup.label(),
                        error = %e,
                        "BMS could not be read; using the list fetched earlier"
                    );
                    Ok(aged.items.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Drop every cached list, so the next lookups read BMS as it is now (`/health`).
    pub async fn forget_lookups(&self) {
        for slot in &self.lookups.slots {
            *slot.lock().await = None;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched_at(at: Instant) -> Cached {
        Cached {
            items: Arc::new(Vec::new()),
            fetched: at,
        }
    }

    #[test]
    fn a_list_is_fresh_for_its_lifetime_only() {
        let t0 = Instant::now();
        let c = fetched_at(t0);
        let ttl = Duration::from_secs(300);
        assert!(c.fresh(ttl, t0));
        assert!(c.fresh(ttl, t0 + Duration::from_secs(299)));
        assert!(!c.fresh(ttl, t0 + Duration::from_secs(300)));
        assert!(!c.fresh(Duration::ZERO, t0), "zero means never cached");
    }

    #[test]
    fn every_lookup_has_a_slot() {
        let cache = Cache::new(DEFAULT_LOOKUP_TTL);
        for (i, l) in Lookup::ALL.into_iter().enumerate() {
            assert_eq!(l as usize, i, "{l:?} indexes its own slot");
            assert!(cache.slots.get(l as usize).is_some(), "{l:?}");
        }
    }
}
