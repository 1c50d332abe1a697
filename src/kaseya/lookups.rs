//! Lookup lists (statuses, priorities, queues, assignees, ticket types and sources), cached per
//! container for `KASEYA_LOOKUP_TTL_SECONDS` (5 minutes unless set): they change rarely and every
//! call spends BMS's hourly allowance, but a queue renamed in BMS must show up within minutes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::Bms;
use super::envelope::{self, BmsError};
use crate::context::{Lookup, LookupPath, Table};

/// One entry of a lookup list; the lists differ in their other fields.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct LookupItem {
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

impl LookupItem {
    /// An active entry with a name, as BMS lists most of them.
    pub fn new(id: i64, name: &str, is_default: bool) -> LookupItem {
        LookupItem {
            id,
            name: Some(name.into()),
            is_default,
            is_active: true,
        }
    }
}

/// How long a fetched list is used before BMS is asked again (`KASEYA_LOOKUP_TTL_SECONDS`).
pub const DEFAULT_LOOKUP_TTL: Duration = Duration::from_secs(300);

/// One slot per lookup. A slot's lock is held across the fetch: concurrent requests that need
/// the same list wait for the one fetch in flight instead of each making their own.
pub(super) struct Cache {
    ttl: Duration,
    /// Indexed by `Lookup as usize`.
    slots: [Mutex<Option<Cached>>; Lookup::ALL.len()],
    /// The sub-issue types of each issue type, by its id.
    subs: Mutex<HashMap<i64, Cached>>,
}

struct Cached {
    items: Arc<Vec<LookupItem>>,
    fetched: Instant,
}

impl Cache {
    pub(super) fn new(ttl: Duration) -> Cache {
        Cache {
            ttl,
            slots: Lookup::ALL.map(|_| Mutex::new(None)),
            subs: Mutex::new(HashMap::new()),
        }
    }

    /// How long a fetched list is used.
    pub(super) fn ttl(&self) -> Duration {
        self.ttl
    }

    fn slot(&self, lookup: Lookup) -> &Mutex<Option<Cached>> {
        &self.slots[lookup as usize]
    }
}

impl Cached {
    fn fresh(&self, ttl: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.fetched) < ttl
    }
}

/// Lists that come in pages (assignees); past this many pages we stop rather than loop on a
/// broken pager.
const PAGE_SIZE: usize = 100;
const PAGED_MAX_PAGES: usize = 50;

impl Bms {
    /// How long fetched lists are used; zero reads BMS for every request.
    pub fn with_lookup_ttl(mut self, ttl: Duration) -> Bms {
        self.lookups = Cache::new(ttl);
        self
    }

    /// The list for `lookup`, from the cache or from BMS, fetched once however many requests
    /// ask for it at the same time. Failures are not cached; when BMS cannot be read and the
    /// list has merely aged, the aged list is used rather than failing the request.
    pub async fn lookup(&self, lookup: Lookup) -> Result<Arc<Vec<LookupItem>>, BmsError> {
        let mut slot = self.lookups.slot(lookup).lock().await;
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
        self.lookups.subs.lock().await.clear();
        self.main_locations.write().await.clear();
        self.staff_domains.write().await.clear();
    }

    /// The sub-issue types of issue type `issue_type_id`, cached as the other lists are.
    pub async fn sub_issue_types(
        &self,
        issue_type_id: i64,
    ) -> Result<Arc<Vec<LookupItem>>, BmsError> {
        let ttl = self.lookups.ttl;
        if let Some(c) = self.lookups.subs.lock().await.get(&issue_type_id)
            && c.fresh(ttl, Instant::now())
        {
            return Ok(c.items.clone());
        }
        let LookupPath::Sub(path) = Lookup::SubIssueType.path() else {
            return Ok(Arc::default());
        };
        let what = format!("{} list", Lookup::SubIssueType.label());
        let path = path.replace("{id}", &issue_type_id.to_string());
        let result = self.get(&what, &path, &[]).await?;
        let items: Arc<Vec<LookupItem>> = Arc::new(envelope::read_list(&what, result)?);
        let cached = Cached {
            items: items.clone(),
            fetched: Instant::now(),
        };
        self.lookups.subs.lock().await.insert(issue_type_id, cached);
        Ok(items)
    }

    /// Every sub-issue type of every active issue type: what `/health` checks names against.
    async fn every_sub_issue_type(&self) -> Result<Vec<LookupItem>, BmsError> {
        let issue_types = Box::pin(self.lookup(Lookup::IssueType)).await?;
        let active = issue_types.iter().filter(|t| t.is_active);
        let lists = join_all(active.map(|t| self.sub_issue_types(t.id))).await;
        let mut all = Vec::new();
        for list in lists {
            all.extend(list?.iter().cloned());
        }
        Ok(all)
    }

    async fn fetch_lookup(&self, lookup: Lookup) -> Result<Vec<LookupItem>, BmsError> {
        let what = format!("{} list", lookup.label());
        let path = match lookup.path() {
            LookupPath::List(path) => path.to_string(),
            LookupPath::Table(table) => format!("/v2/system/lookup/{}", self.table_name(table)),
            LookupPath::Pages(path) => return self.fetch_pages(&what, path).await,
            LookupPath::Sub(_) => return self.every_sub_issue_type().await,
        };
        let result = self.get(&what, &path, &[]).await?;
        envelope::read_list(&what, result)
    }

    /// The name of a BMS lookup table, as its setting gives it.
    fn table_name(&self, table: Table) -> &str {
        match table {
            Table::TicketType => &self.ticket_type_table,
            Table::TicketSource => &self.ticket_source_table,
        }
    }

    async fn fetch_pages(&self, what: &str, path: &str) -> Result<Vec<LookupItem>, BmsError> {
        let mut all = Vec::new();
        for page in 1..=PAGED_MAX_PAGES {
            let result = self
                .get(
                    what,
                    path,
                    &[
                        ("PageSize", PAGE_SIZE.to_string()),
                        ("PageNumber", page.to_string()),
                    ],
                )
                .await?;
            let items = envelope::read_list(what, result)?;
            let last = items.len() < PAGE_SIZE;
            all.extend(items);
            if last {
                break;
            }
        }
        Ok(all)
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

    /// Each list lands in a slot of its own: one fetched list never answers for another.
    #[tokio::test]
    async fn every_lookup_has_a_slot_of_its_own() {
        let cache = Cache::new(DEFAULT_LOOKUP_TTL);
        for (i, l) in Lookup::ALL.into_iter().enumerate() {
            assert_eq!(l as usize, i, "{l:?} indexes its own slot");
            *cache.slot(l).lock().await = Some(Cached {
                items: Arc::new(vec![LookupItem::new(l as i64, l.label(), false)]),
                fetched: Instant::now(),
            });
        }
        for l in Lookup::ALL {
            let slot = cache.slot(l).lock().await;
            let held = slot.as_ref().map(|c| c.items[0].name.clone());
            assert_eq!(held, Some(Some(l.label().to_string())), "{l:?}");
        }
    }
}
