//! Status reads reused for a minute per ticket, in one container: a help page open on several
//! requests, polled, must not spend BMS's hourly allowance. Bounded, and thrown away at will
//! like every cache of the function.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Status;

/// Tickets kept at most: a minute's worth of status reads of a busy container.
pub const MAX_TICKETS: usize = 512;

pub struct StatusCache {
    reuse: Duration,
    max: usize,
    entries: Mutex<HashMap<i64, (Instant, Status)>>,
}

impl StatusCache {
    pub fn new(reuse: Duration, max: usize) -> StatusCache {
        StatusCache {
            reuse,
            max: max.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The ticket's status read less than a minute ago, if there is one. Only a caller whose
    /// token holds for the ticket asks.
    pub fn get(&self, ticket_id: i64) -> Option<Status> {
        let entries = self.lock();
        entries
            .get(&ticket_id)
            .filter(|(at, _)| at.elapsed() < self.reuse)
            .map(|(_, s)| s.clone())
    }

    /// Keep a fresh read; full, the stale entries go first, then the oldest.
    pub fn put(&self, ticket_id: i64, status: Status) {
        let mut entries = self.lock();
        if entries.len() >= self.max && !entries.contains_key(&ticket_id) {
            entries.retain(|_, (at, _)| at.elapsed() < self.reuse);
            if entries.len() >= self.max
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(ticket_id, (Instant::now(), status));
    }

    /// A note was added: the next read shows it.
    pub fn forget(&self, ticket_id: i64) {
        self.lock().remove(&ticket_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Instant, Status)>> {
        // What a panic left behind is a cache entry at worst.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: i64) -> Status {
        Status {
            ticket_id: id,
            ticket_number: None,
            title: None,
            status: Some("New".into()),
            updated: None,
            replies: Vec::new(),
        }
    }

    #[test]
    fn reads_are_reused_for_a_while_and_the_map_stays_bounded() {
        let cache = StatusCache::new(Duration::from_secs(60), 3);
        for id in 1..=5 {
            cache.put(id, status(id));
        }
        assert_eq!(cache.lock().len(), 3);
        assert!(
            cache.get(1).is_none() && cache.get(2).is_none(),
            "the oldest went"
        );
        assert_eq!(cache.get(5), Some(status(5)));
        cache.forget(5);
        assert_eq!(cache.get(5), None);
        let gone = StatusCache::new(Duration::ZERO, 3);
        gone.put(1, status(1));
        assert_eq!(gone.get(1), None, "no longer fresh");
    }
}
