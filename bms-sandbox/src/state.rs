//! What one running sandbox remembers: its tenant and modes, the tokens it issued, the calls it
//! saw, the failures queued for it and the tickets and notes it accepted.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::envelope::Casing;
pub(crate) use crate::tenant::FIRST_TICKET_ID;
use crate::tenant::Tenant;

/// A failure injected with `Sandbox::fail_next`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 200 with `Success=false` and this `Error.Message` (what the spec documents).
    SuccessFalse(String),
    /// This HTTP status with a `Success=false` envelope (what real deployments also do).
    Status(u16),
    /// Answer normally, but only after this delay (the request is handled first).
    Delay(Duration),
    /// This HTTP status (429, 503...) with a `Retry-After` header of this value (seconds or
    /// an HTTP date), as a throttling gateway sends it.
    StatusRetryAfter(u16, String),
    /// Take the request and never answer; it is not handled (nothing is created). Recorded
    /// with status 0.
    Hang,
    /// Handle the request (a ticket is created), then break the connection instead of
    /// answering: the work is done but the client never learns it.
    DropAnswer,
    /// Handle the request, then answer its status with a body that is not JSON (what a proxy
    /// in the way sends).
    GarbledAnswer,
}

/// One request the sandbox answered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Call {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`; empty when there is none.
    pub query: String,
    /// The status answered; 0 when no answer was sent ([`Failure::Hang`]).
    pub status: u16,
    /// The request body: JSON when it parses, else the text; `None` when empty and always for
    /// `/v2/security/...`, whose forms hold the password or tokens.
    pub body: Option<Value>,
    /// When the request arrived, since the sandbox started.
    pub started: Duration,
    /// When the answer left (injected latency included), since the sandbox started.
    pub ended: Duration,
}

/// How many calls had to wait for one another: the longest chain of calls in which each one
/// started after the one before it had ended. Calls that overlap (a client's concurrent
/// requests) share a round trip, however many there are.
pub fn round_trips(calls: &[Call]) -> usize {
    let mut order: Vec<&Call> = calls.iter().collect();
    order.sort_by_key(|c| c.started);
    // depth[i]: the longest chain that ends with call i.
    let mut depth: Vec<usize> = Vec::with_capacity(order.len());
    for (i, call) in order.iter().enumerate() {
        let before = (0..i)
            .filter(|&j| order[j].ended <= call.started)
            .map(|j| depth[j])
            .max()
            .unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

pub(crate) struct Token {
    pub expires: DateTime<Utc>,
    pub revoked: bool,
}

pub(crate) struct RefreshGrant {
    pub access_token: String,
    pub expires: DateTime<Utc>,
    pub revoked: bool,
}

pub(crate) struct StoredTicket {
    /// The `TicketOutputDto` subset the fake answers with, in PascalCase.
    pub output: Value,
    /// The body as received, plus `Id` and `TicketNumber`.
    pub received: Value,
}

pub(crate) struct State {
    pub tenant: Tenant,
    pub casing: Casing,
    pub latency: Duration,
    pub token_lifetime: Duration,
    pub log_calls: bool,
    /// The zero of every call's `started` and `ended`.
    pub epoch: Instant,
    pub tokens: HashMap<String, Token>,
    pub refresh_grants: HashMap<String, RefreshGrant>,
    token_serial: u64,
    token_hasher: RandomState,
    pub failures: Vec<(String, String, Failure)>,
    /// While set, every BMS call that has no queued failure fails this way: an outage that
    /// lasts until it is lifted.
    pub outage: Option<Failure>,
    pub calls: Vec<Call>,
    /// In TLS mode, each new connection's TCP and TLS handshakes, as `Call`s named `TCP` and
    /// `TLS` (see `server.rs`).
    pub setups: Vec<Call>,
    /// Connections accepted since the start.
    pub connections: usize,
    /// Bumped to close every open connection.
    pub drops: tokio::sync::watch::Sender<u64>,
    /// `Options::secrets_manager`: where Secrets Manager calls are relayed.
    pub relay: Option<crate::relay::Relay>,
    pub tickets: Vec<StoredTicket>,
    pub notes: Vec<(i64, Value)>,
    /// `(ticket id, TicketNoteOutputDto)` of every note, the API user's and the technicians'.
    pub note_outputs: Vec<(i64, Value)>,
    /// `(ticket id, ResolveTicketDto as received)` for every resolve accepted.
    pub resolutions: Vec<(i64, Value)>,
    pub next_note_id: i64,
    pub next_attachment_id: i64,
}

impl State {
    pub fn new(
        tenant: Tenant,
        casing: Casing,
        latency: Duration,
        token_lifetime: Duration,
        log_calls: bool,
    ) -> State {
        State {
            tenant,
            casing,
            latency,
            token_lifetime,
            log_calls,
            epoch: Instant::now(),
            setups: Vec::new(),
            connections: 0,
            drops: tokio::sync::watch::Sender::new(0),
            relay: None,
            tokens: HashMap::new(),
            refresh_grants: HashMap::new(),
            token_serial: 0,
            token_hasher: RandomState::new(),
            failures: Vec::new(),
            outage: None,
            calls: Vec::new(),
            tickets: Vec::new(),
            notes: Vec::new(),
            note_outputs: Vec::new(),
            resolutions: Vec::new(),
            next_note_id: 7001,
            next_attachment_id: 9001,
        }
    }

    /// Opaque, unique and unguessable enough for a loopback fake: a serial number plus a hash
    /// of it and the clock under a per-sandbox random key.
    fn new_token(&mut self, prefix: &str) -> String {
        self.token_serial += 1;
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let noise = self.token_hasher.hash_one((self.token_serial, nanos));
        format!("{prefix}-{}-{noise:016x}", self.token_serial)
    }

    /// Issues an access token and its refresh token; returns the `TokenOutputDto`.
    pub fn issue_tokens(&mut self) -> Value {
        let now = Utc::now();
        let lifetime =
            chrono::Duration::from_std(self.token_lifetime).unwrap_or(chrono::Duration::hours(1));
        let access_expires = now + lifetime;
        // Refresh tokens outlive access tokens in every OAuth-style API; a day more is enough here.
        let refresh_expires = access_expires + chrono::Duration::days(1);
        let access = self.new_token("sbx");
        let refresh = self.new_token("sbr");
        self.tokens.insert(
            access.clone(),
            Token {
                expires: access_expires,
                revoked: false,
            },
        );
        self.refresh_grants.insert(
            refresh.clone(),
            RefreshGrant {
                access_token: access.clone(),
                expires: refresh_expires,
                revoked: false,
            },
        );
        serde_json::json!({
            "AccessToken": access,
            "RefreshToken": refresh,
            "AccessTokenExpireOn": rfc3339(access_expires),
            "RefreshTokenExpireOn": rfc3339(refresh_expires),
        })
    }

    pub fn token_is_valid(&self, token: &str) -> bool {
        self.tokens
            .get(token)
            .is_some_and(|t| !t.revoked && Utc::now() < t.expires)
    }

    /// Trades a refresh token (and the access token it was issued with) for a new pair; the old
    /// pair stops working.
    pub fn refresh(&mut self, access_token: &str, refresh_token: &str) -> Option<Value> {
        let grant = self.refresh_grants.get_mut(refresh_token)?;
        if grant.revoked || grant.access_token != access_token || Utc::now() >= grant.expires {
            return None;
        }
        grant.revoked = true;
        if let Some(old) = self.tokens.get_mut(access_token) {
            old.revoked = true;
        }
        Some(self.issue_tokens())
    }

    pub fn revoke_all_tokens(&mut self) {
        self.tokens.values_mut().for_each(|t| t.revoked = true);
        self.refresh_grants
            .values_mut()
            .for_each(|g| g.revoked = true);
    }

    /// Removes and returns the first queued failure for this call; else the outage, if any.
    pub fn take_failure(&mut self, method: &str, path: &str) -> Option<Failure> {
        let index = self.failures.iter().position(|(m, prefix, _)| {
            m.eq_ignore_ascii_case(method) && path.starts_with(prefix.as_str())
        });
        match index {
            Some(index) => Some(self.failures.remove(index).2),
            None => self.outage.clone(),
        }
    }

    pub fn next_ticket_id(&self) -> i64 {
        FIRST_TICKET_ID + self.tickets.len() as i64
    }
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The sandbox's state behind one lock, never held across an `.await`.
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub fn new(state: State) -> Shared {
        Shared {
            state: Mutex::new(state),
        }
    }

    /// A panicking test thread must not wedge every later call, so a poisoned lock is reused.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(started_ms: u64, ended_ms: u64) -> Call {
        Call {
            method: "GET".into(),
            path: "/v2/x".into(),
            query: String::new(),
            status: 200,
            body: None,
            started: Duration::from_millis(started_ms),
            ended: Duration::from_millis(ended_ms),
        }
    }

    #[test]
    fn overlapping_calls_share_a_round_trip() {
        // login; then contact and three lookups at once; then the create.
        let calls = [
            call(0, 40),
            call(41, 81),
            call(41, 82),
            call(42, 82),
            call(43, 83),
            call(84, 124),
        ];
        assert_eq!(round_trips(&calls), 3);
    }

    #[test]
    fn a_call_that_starts_before_another_ends_does_not_follow_it() {
        assert_eq!(round_trips(&[call(0, 40), call(39, 80)]), 1);
        assert_eq!(round_trips(&[call(0, 40), call(40, 80)]), 2);
    }

    #[test]
    fn the_longest_chain_counts_whatever_the_order_recorded() {
        // A long call beside a chain of three short ones.
        let calls = [call(20, 30), call(0, 100), call(0, 10), call(40, 50)];
        assert_eq!(round_trips(&calls), 3);
        assert_eq!(round_trips(&[]), 0);
    }
}
