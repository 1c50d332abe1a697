//! The Kaseya BMS REST API v2 client: one `reqwest` client and one token per container, and the
//! few calls a ticket needs.

mod assets;
mod auth;
mod contacts;
pub mod envelope;
mod lookups;
mod notes;
mod retry;
mod tickets;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

pub use assets::{Asset, AssetKey};
pub use auth::Token;
pub use contacts::{Contact, NewContact, NewEmail};
pub use envelope::BmsError;
pub use lookups::{DEFAULT_LOOKUP_TTL, LookupItem};
pub use notes::{TicketDetail, TicketNote};
pub use retry::Backoff;
pub use tickets::{AttachmentInput, CreatedTicket, NoteInput, TicketInput};

use crate::net::Net;
use crate::secret::SecretStore;
use retry::{Fault, GiveUp, Resend, Standing, Step};

/// How long the button should wait after BMS could not be reached, when BMS gave no
/// `Retry-After` of its own.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 30;

tokio::task_local! {
    /// When the current invocation must have answered. A task-local rather than a parameter:
    /// every BMS call under one invocation (lookups, searches, the create) shares it, and none
    /// of their signatures should have to carry it.
    static DEADLINE: Instant;
}

/// Run `f` (one invocation) with every BMS call in it bounded by `deadline` (see
/// [`crate::deadline`]).
pub async fn within<F: Future>(deadline: Instant, f: F) -> F::Output {
    DEADLINE.scope(deadline, f).await
}

/// What the current invocation has left; `None` outside one.
fn time_left() -> Option<Duration> {
    DEADLINE
        .try_with(|d| d.saturating_duration_since(Instant::now()))
        .ok()
}

pub struct Bms {
    http: reqwest::Client,
    ahead: crate::net::OpenAhead,
    base: String,
    secrets: Arc<SecretStore>,
    token: Mutex<auth::TokenSlot>,
    lookups: lookups::Cache,
    /// Account id -> its main location, for contacts that have none.
    main_locations: RwLock<HashMap<i64, Option<i64>>>,
    /// Account id -> the e-mail domains its active contacts use, and when they were read: kept
    /// as long as a lookup list.
    staff_domains: RwLock<HashMap<i64, (std::time::Instant, std::collections::HashSet<String>)>>,
    /// The contacts this container made, by e-mail (lower case): held across a create, so
    /// that presses of one new hire arriving together make one contact.
    made_contacts: Mutex<HashMap<String, Contact>>,
    ticket_type_table: String,
    ticket_source_table: String,
    timeout: Duration,
    backoff: Backoff,
}

/// What a request sends, for one retry after a new login.
enum Body<'a> {
    None,
    Json(&'a Value),
}

impl Bms {
    pub fn new(
        net: &Net,
        base: &str,
        timeout: Duration,
        secrets: Arc<SecretStore>,
        ticket_type_table: &str,
        ticket_source_table: &str,
    ) -> Bms {
        Bms {
            http: net.bms().clone(),
            ahead: net.ahead().clone(),
            base: base.trim_end_matches('/').to_string(),
            secrets,
            token: Mutex::new(auth::TokenSlot::default()),
            lookups: lookups::Cache::new(lookups::DEFAULT_LOOKUP_TTL),
            main_locations: RwLock::new(HashMap::new()),
            staff_domains: RwLock::new(HashMap::new()),
            made_contacts: Mutex::new(HashMap::new()),
            ticket_type_table: ticket_type_table.to_string(),
            ticket_source_table: ticket_source_table.to_string(),
            timeout,
            backoff: Backoff::default(),
        }
    }

    /// Retry transient failures this way instead of [`Backoff::default`].
    pub fn with_backoff(mut self, backoff: Backoff) -> Bms {
        self.backoff = backoff;
        self
    }

    /// The configured name of an undocumented lookup table (`KASEYA_TICKET_TYPE_TABLE`,
    /// `KASEYA_TICKET_SOURCE_TABLE`); `None` for the lists BMS documents.
    pub fn lookup_table(&self, l: crate::context::Lookup) -> Option<&str> {
        match l {
            crate::context::Lookup::TicketType => Some(&self.ticket_type_table),
            crate::context::Lookup::TicketSource => Some(&self.ticket_source_table),
            _ => None,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, BmsError> {
        // Boxed, here and for POSTs: a call holds a login and two rounds of retries, and six
        // lookups run side by side; kept inline, the handler's future outgrows a thread's stack
        // in debug builds.
        Box::pin(self.call(
            what,
            reqwest::Method::GET,
            path,
            query,
            Body::None,
            Resend::Safe,
        ))
        .await
    }

    /// A POST that changes something in BMS: never sent twice unless BMS surely did not see it.
    pub async fn post<T: Serialize>(
        &self,
        what: &str,
        path: &str,
        body: &T,
    ) -> Result<Value, BmsError> {
        let json = serde_json::to_value(body).map_err(|e| BmsError::BadAnswer {
            what: what.to_string(),
            reason: format!("request body: {e}"),
        })?;
        Box::pin(self.call(
            what,
            reqwest::Method::POST,
            path,
            &[],
            Body::Json(&json),
            Resend::OnlyIfUnseen,
        ))
        .await
    }

    /// One call with the current token; on 401 one new login and one more call, never more. A
    /// 401 answer means BMS did nothing, so repeating even a create is safe.
    async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
        resend: Resend,
    ) -> Result<Value, BmsError> {
        let request = |token: &Token| {
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(token.access())
                .header(reqwest::header::ACCEPT, "application/json");
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Body::Json(json) = body {
                req = req.json(json);
            }
            req
        };
        let token = self.token().await?;
        match self.retrying(what, resend, || request(&token)).await {
            Err(BmsError::Unauthorized { .. }) => {
                tracing::info!(what, "BMS refused the token; logging in again");
                let token = self.renew_token(&token).await?;
                self.retrying(what, resend, || request(&token)).await
            }
            other => other,
        }
    }

    /// Send what `request` builds, again after a pause while [`retry::next_step`] says so.
    async fn retrying(
        &self,
        what: &str,
        resend: Resend,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, BmsError> {
        let mut attempt = 1;
        let mut timeouts = 0;
        loop {
            let Some(per_call) = self.per_call_timeout() else {
                return Err(out_of_time(what));
            };
            let fault = match self.send(what, request().timeout(per_call)).await {
                Ok(value) => return Ok(value),
                Err(fault) => fault,
            };
            timeouts += u32::from(fault.timed_out());
            let standing = Standing {
                attempt,
                attempts: self.backoff.attempts,
                timeouts,
                // Outside an invocation (a benchmark, a tool) the gateway's budget still bounds
                // what is worth waiting.
                left: time_left().unwrap_or(crate::deadline::API_GATEWAY_BUDGET),
                backoff: self.backoff.pause(attempt + 1),
            };
            let step = retry::next_step(&fault, resend, standing);
            let error = fault.into_error();
            let pause = match step {
                Step::Retry(pause) => pause,
                Step::MaybeDone(status) => return Err(maybe_done(what, status, &error)),
                Step::GiveUp(why) => {
                    log_giving_up(what, attempt, &error, why);
                    return Err(error);
                }
            };
            attempt += 1;
            tracing::info!(
                what,
                attempt,
                pause_ms = pause.as_millis() as u64,
                error = %error,
                "BMS call failed; retrying"
            );
            tokio::time::sleep(pause).await;
        }
    }

    /// The configured timeout, cut to what the invocation has left; `None` when nothing is left.
    fn per_call_timeout(&self) -> Option<Duration> {
        match time_left() {
            None => Some(self.timeout),
            Some(left) if left.is_zero() => None,
            Some(left) => Some(self.timeout.min(left)),
        }
    }

    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> Result<Value, Fault> {
        let started = Instant::now();
        let answer = req.send().await.map_err(|e| {
            // A refused or timed-out connect never carried the request; everything else may have.
            if e.is_connect() {
                Fault::NotSent(unreachable(what, &e))
            } else {
                Fault::Lost {
                    error: unreachable(what, &e),
                    timed_out: e.is_timeout(),
                }
            }
        })?;
        let status = answer.status().as_u16();
        let retry_after = answer
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after_seconds);
        let body = answer.bytes().await.map_err(|e| Fault::Lost {
            error: unreachable(what, &e),
            timed_out: e.is_timeout(),
        })?;
        tracing::debug!(
            what,
            status,
            ms = started.elapsed().as_millis() as u64,
            "BMS call"
        );
        envelope::open(what, status, retry_after, &body)
            .map_err(|error| Fault::Answered { status, error })
    }
}

/// `Retry-After` as seconds from now: either a number of seconds or an HTTP date.
pub fn retry_after_seconds(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    // Round up: waiting a little longer than asked is harmless, shorter is not.
    Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

fn log_giving_up(what: &str, attempt: u32, error: &BmsError, why: GiveUp) {
    match why {
        GiveUp::Lasting => {}
        GiveUp::TimedOutTwice => {
            tracing::warn!(what, attempt, error = %error, "BMS timed out twice; giving up");
        }
        GiveUp::NoRetriesLeft => {
            tracing::warn!(what, attempt, error = %error, "BMS call failed; no retries left");
        }
        GiveUp::NoTimeLeft { pause } => tracing::warn!(
            what,
            pause_ms = pause.as_millis() as u64,
            error = %error,
            "BMS call failed; the invocation has no time left to wait and retry"
        ),
    }
}

fn out_of_time(what: &str) -> BmsError {
    BmsError::Unreachable {
        what: what.to_string(),
        reason: "the invocation ran out of time before BMS answered".into(),
    }
}

fn maybe_done(what: &str, status: Option<u16>, error: &BmsError) -> BmsError {
    let retry_after = match error {
        BmsError::RateLimited { retry_after, .. } | BmsError::Unavailable { retry_after, .. } => {
            *retry_after
        }
        _ => None,
    };
    BmsError::MaybeDone {
        what: what.to_string(),
        status,
        reason: error.to_string(),
        retry_after,
    }
}

fn unreachable(what: &str, e: &reqwest::Error) -> BmsError {
    let reason = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        // The URL of a contact search holds the user's e-mail: personal data has no place in
        // an error that is logged and answered.
        let mut s = e.to_string();
        if let Some(url) = e.url() {
            s = s.replace(url.as_str(), "<BMS>");
        }
        s
    };
    BmsError::Unreachable {
        what: what.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after_seconds(" 7 "), Some(7));
        let later = SystemTime::now() + Duration::from_secs(120);
        let secs = retry_after_seconds(&httpdate::fmt_http_date(later));
        assert!(secs.is_some_and(|s| (119..=121).contains(&s)), "{secs:?}");
        let past = SystemTime::now() - Duration::from_secs(120);
        assert_eq!(retry_after_seconds(&httpdate::fmt_http_date(past)), Some(0));
        assert_eq!(retry_after_seconds("soon"), None);
    }
}
