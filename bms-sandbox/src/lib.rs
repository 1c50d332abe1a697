//! A fake Kaseya BMS REST API v2 on loopback.
//!
//! It speaks the v2 wire format (envelope, PascalCase or camelCase keys, bearer tokens, the
//! `TicketInputDto`/`TicketNotePostInputDto` schemas) over a small, fixed tenant, records every
//! call, and fails on demand. The main crate's black-box tests and benchmarks start one per test;
//! the `bms-sandbox` binary runs one for the local demo.
//!
//! ```no_run
//! # async fn demo() {
//! let bms = bms_sandbox::Sandbox::start().await;
//! let base = bms.url(); // "http://127.0.0.1:PORT"; paths start at /v2/...
//! # let _ = base;
//! assert_eq!(bms.count("POST", "/v2/servicedesk/tickets"), 0);
//! # }
//! ```

mod assets;
mod crm;
mod envelope;
mod login;
mod middleware;
mod query;
mod relay;
mod routes;
mod schema;
mod seed;
mod server;
mod state;
pub mod tenant;
mod ticket_reads;
mod ticket_updates;
mod tickets;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use envelope::Casing;
pub use schema::{
    validate_contact_input, validate_note_input, validate_resolve_ticket, validate_ticket_input,
};
pub use server::TEST_CA_PEM;
pub use state::{Call, Failure, round_trips};
pub use tenant::{CREDENTIALS, Tenant};

use state::{Shared, State};

/// How to start a sandbox; `Options::default()` is what `Sandbox::start` uses.
#[derive(Clone, Debug)]
pub struct Options {
    pub tenant: Tenant,
    pub casing: Casing,
    /// Added to every answer.
    pub latency: Duration,
    /// Lifetime of access tokens issued from now on.
    pub token_lifetime: Duration,
    /// Port 0 picks a free one.
    pub addr: SocketAddr,
    /// Print `METHOD path -> status` to stderr for every call (the binary turns this on).
    pub log_calls: bool,
    /// Serve HTTPS with a certificate for `localhost` and `127.0.0.1` signed by
    /// [`TEST_CA_PEM`], each new connection paying two round trips of `latency` (see
    /// `server.rs`); `url()` then starts with `https://`.
    pub tls: bool,
    /// Relay Secrets Manager calls sent to the sandbox to this endpoint (a moto server), so that
    /// they are recorded and delayed with the BMS calls.
    pub secrets_manager: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tenant: Tenant::default(),
            casing: Casing::Pascal,
            latency: Duration::ZERO,
            token_lifetime: Duration::from_secs(3600),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            log_calls: false,
            tls: false,
            secrets_manager: None,
        }
    }
}

/// A running fake BMS. Dropping it (or `shutdown().await`) stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// On `127.0.0.1` and a free port, with the default tenant, in PascalCase.
    pub async fn start() -> Sandbox {
        Sandbox::start_with(Options::default()).await
    }

    /// Panics when it cannot listen: meant for tests. See `try_start_with`.
    pub async fn start_with(options: Options) -> Sandbox {
        let addr = options.addr;
        match Sandbox::try_start_with(options).await {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("bms-sandbox: cannot listen on {addr}: {e}"),
        }
    }

    /// Binds and spawns the server on the current tokio runtime (a current-thread test
    /// runtime is fine).
    pub async fn try_start_with(options: Options) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(State::new(
            options.tenant,
            options.casing,
            options.latency,
            options.token_lifetime,
            options.log_calls,
        )));
        shared.lock().relay = options.secrets_manager.as_deref().map(relay::Relay::new);
        let tls = if options.tls {
            Some(server::tls_config()?)
        } else {
            None
        };
        let app = routes::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server::serve(listener, app, shared.clone(), tls, stopped));
        Ok(Sandbox {
            addr,
            tls: options.tls,
            shared,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://localhost:PORT` in TLS mode), without `/v2`.
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_casing(&self, casing: Casing) {
        self.shared.lock().casing = casing;
    }

    /// Added to every answer from now on (benchmarks use it to model the real round trip).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Access tokens issued from now on live this long.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().token_lifetime = lifetime;
    }

    /// Every access and refresh token issued so far now gets 401; logging in again works.
    pub fn expire_tokens(&self) {
        self.shared.lock().revoke_all_tokens();
    }

    /// Rotates the API user's password; tokens already issued stay valid.
    pub fn set_password(&self, password: &str) {
        self.shared.lock().tenant.password = password.to_owned();
    }

    /// The next call whose method matches (case-insensitively) and whose path starts with
    /// `path_prefix` fails once this way. Queued failures are used in order.
    pub fn fail_next(&self, method: &str, path_prefix: &str, failure: Failure) {
        self.shared
            .lock()
            .failures
            .push((method.to_owned(), path_prefix.to_owned(), failure));
    }

    /// From now on every call fails this way (after any queued by `fail_next`), until
    /// `set_outage(None)`: BMS down for as long as a test or the demo needs.
    /// `Some(Failure::Status(503))` is BMS down for maintenance.
    pub fn set_outage(&self, outage: Option<Failure>) {
        self.shared.lock().outage = outage;
    }

    /// Every access and refresh token issued so far, revoked or not: what a test searches logs
    /// and answers for.
    pub fn tokens_issued(&self) -> Vec<String> {
        let state = self.shared.lock();
        state
            .tokens
            .keys()
            .chain(state.refresh_grants.keys())
            .cloned()
            .collect()
    }

    /// Every call so far, in order; login bodies are never recorded.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Calls whose method matches (case-insensitively) and whose path starts with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method) && c.path.starts_with(path_prefix))
            .count()
    }

    /// The ticket bodies accepted, as received, each with `Id` and `TicketNumber` added.
    pub fn tickets(&self) -> Vec<Value> {
        self.shared
            .lock()
            .tickets
            .iter()
            .map(|t| t.received.clone())
            .collect()
    }

    /// Moves every ticket accepted so far `by` into the past (`OpenDate` and `CreatedOn`, as
    /// stored and as received), so tests can see what a search finds once time has passed.
    pub fn age_tickets(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut state = self.shared.lock();
        for ticket in &mut state.tickets {
            for body in [&mut ticket.output, &mut ticket.received] {
                for field in ["OpenDate", "CreatedOn"] {
                    let Some(obj) = body.as_object_mut() else {
                        continue;
                    };
                    let earlier = obj
                        .get(field)
                        .and_then(Value::as_str)
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                        .and_then(|d| d.with_timezone(&chrono::Utc).checked_sub_signed(by));
                    if let Some(earlier) = earlier {
                        obj.insert(field.to_owned(), Value::String(state::rfc3339(earlier)));
                    }
                }
            }
        }
    }

    /// `(ticket id, note body as received)` for every note accepted.
    pub fn notes(&self) -> Vec<(i64, Value)> {
        self.shared.lock().notes.clone()
    }

    /// Moves a ticket to another of the tenant's statuses, as a technician does in BMS.
    pub fn set_ticket_status(&self, ticket_id: i64, status_id: i64) -> Result<(), String> {
        self.shared.lock().set_status(ticket_id, status_id)
    }

    /// A technician (`assignee_id`, one of the tenant's assignees) writes a note on a ticket:
    /// a public reply, or an internal note. Answers the note's id.
    pub fn add_staff_note(
        &self,
        ticket_id: i64,
        assignee_id: i64,
        text: &str,
        internal: bool,
    ) -> Result<i64, String> {
        self.shared
            .lock()
            .add_staff_note(ticket_id, assignee_id, text, internal)
    }

    /// `(ticket id, ResolveTicketDto as received)` for every resolve accepted, in order.
    pub fn resolutions(&self) -> Vec<(i64, Value)> {
        self.shared.lock().resolutions.clone()
    }

    /// The sequential round trips among the calls recorded so far (see [`round_trips`]): with
    /// an injected latency, what a client's wall time is made of.
    pub fn round_trips(&self) -> usize {
        round_trips(&self.shared.lock().calls)
    }

    /// Forgets the calls (and connection set-ups) recorded so far, not the tickets, notes or
    /// tokens.
    pub fn reset_calls(&self) {
        let mut state = self.shared.lock();
        state.calls.clear();
        state.setups.clear();
    }

    /// In TLS mode, the TCP and TLS handshake of every connection accepted, as calls named
    /// `TCP` and `TLS`; empty otherwise.
    pub fn connection_setups(&self) -> Vec<Call> {
        self.shared.lock().setups.clone()
    }

    /// Connections accepted since the start.
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// The sequential round trips among the calls and the connection set-ups recorded so far:
    /// what a client waited for on a network where a new connection costs two.
    pub fn round_trips_with_setups(&self) -> usize {
        let state = self.shared.lock();
        round_trips(&[state.calls.as_slice(), state.setups.as_slice()].concat())
    }

    /// When calls' `started` and `ended` count from.
    pub fn epoch(&self) -> std::time::Instant {
        self.shared.lock().epoch
    }

    /// Closes every open connection now, as a server does with connections idle too long
    /// (while their client was frozen, say). New connections are accepted as before.
    pub fn drop_connections(&self) {
        self.shared.lock().drops.send_modify(|n| *n += 1);
    }

    /// Stops accepting connections and waits (a few seconds at most) for calls in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
        {
            server.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}
