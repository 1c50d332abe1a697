//! The Kaseya BMS REST API v2 client: one `reqwest` client and one token per container, and the
//! few calls a ticket needs.

mod auth;
mod contacts;
pub mod envelope;
mod lookups;
mod tickets;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

pub use auth::Token;
pub use contacts::Contact;
pub use envelope::BmsError;
pub use lookups::{DEFAULT_LOOKUP_TTL, Item};
pub use tickets::{AttachmentInput, CreatedTicket, NoteInput, TicketInput};

use crate::secret::SecretStore;

pub struct Bms {
    http: reqwest::Client,
    base: String,
    secrets: Arc<SecretStore>,
    token: Mutex<Option<Token>>,
    lookups: lookups::Cache,
    /// Account id -> its main location, for contacts that have none.
    main_locations: RwLock<HashMap<i64, Option<i64>>>,
    ticket_type_table: String,
    ticket_source_table: String,
}

/// What a request sends, for one retry after a new login.
enum Body<'a> {
    None,
    Json(&'a Value),
}

impl Bms {
    pub fn new(
        base: &str,
        timeout: Duration,
        secrets: Arc<SecretStore>,
        ticket_type_table: &str,
        ticket_source_table: &str,
    ) -> Result<Bms, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("kaseya-button/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Bms {
            http,
            base: base.trim_end_matches('/').to_string(),
            secrets,
            token: Mutex::new(None),
            lookups: lookups::Cache::new(lookups::DEFAULT_LOOKUP_TTL),
            main_locations: RwLock::new(HashMap::new()),
            ticket_type_table: ticket_type_table.to_string(),
            ticket_source_table: ticket_source_table.to_string(),
        })
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
        self.call(what, reqwest::Method::GET, path, query, Body::None)
            .await
    }

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
        self.call(what, reqwest::Method::POST, path, &[], Body::Json(&json))
            .await
    }

    /// One call with the current token; on 401 one new login and one retry. A 401 answer means
    /// BMS did nothing, so repeating even a create is safe.
    async fn call(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Body<'_>,
    ) -> Result<Value, BmsError> {
        let mut token = self.token().await?;
        for attempt in 0..2 {
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
            let result = self.send(what, req).await;
            match result {
                Err(BmsError::Unauthorized { .. }) if attempt == 0 => {
                    tracing::info!(what, "BMS refused the token; logging in again");
                    token = self.renew_token(&token).await?;
                }
                other => return other,
            }
        }
        Err(BmsError::Unauthorized {
            what: what.to_string(),
        })
    }

    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> Result<Value, BmsError> {
        let started = std::time::Instant::now();
        let answer = req.send().await.map_err(|e| unreachable(what, &e))?;
        let status = answer.status().as_u16();
        let retry_after = answer
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = answer.bytes().await.map_err(|e| unreachable(what, &e))?;
        tracing::debug!(
            what,
            status,
            ms = started.elapsed().as_millis() as u64,
            "BMS call"
        );
        envelope::open(what, status, retry_after, &body)
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
