//! Login: `POST /v2/security/authenticate`, and the token kept until shortly before it expires.

use std::time::Instant;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::envelope::{self, BmsError};
use super::{Bms, Resend};
use crate::secret::Credentials;

/// Renew this long before BMS says the token expires, so a request never starts with a token
/// that dies halfway.
const EXPIRY_MARGIN_SECONDS: i64 = 60;

#[derive(Clone)]
pub struct Token {
    access: SecretString,
    expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("access", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Token {
    pub fn access(&self) -> &str {
        self.access.expose_secret()
    }

    fn fresh(&self, now: DateTime<Utc>) -> bool {
        (self.expires_at - now).num_seconds() > EXPIRY_MARGIN_SECONDS
    }

    fn same_as(&self, other: &Token) -> bool {
        self.access.expose_secret() == other.access.expose_secret()
    }
}

#[derive(Deserialize)]
struct TokenOutput {
    #[serde(rename = "accesstoken")]
    access_token: Option<String>,
    #[serde(rename = "accesstokenexpireon")]
    expire_on: Option<DateTime<Utc>>,
}

/// The token cache, and the last login that failed: requests that waited for that login share
/// its failure instead of each trying again (a press runs up to seven BMS calls side by side,
/// and seven logins against a BMS that refuses or does not answer help no one).
#[derive(Default)]
pub(super) struct TokenSlot {
    token: Option<Token>,
    failed: Option<(Instant, BmsError)>,
}

impl TokenSlot {
    /// The failure of a login that ended after `since`, when a caller has been waiting for it.
    fn failed_since(&self, since: Instant) -> Option<BmsError> {
        self.failed
            .as_ref()
            .filter(|(at, _)| *at >= since)
            .map(|(_, e)| e.clone())
    }
}

impl Bms {
    /// The current token, logging in when there is none or it is about to expire.
    pub(super) async fn token(&self) -> Result<Token, BmsError> {
        let asked = Instant::now();
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.token.as_ref().filter(|t| t.fresh(Utc::now())) {
            return Ok(t.clone());
        }
        if let Some(e) = slot.failed_since(asked) {
            return Err(e);
        }
        self.login_into(&mut slot).await
    }

    /// Log in now, whatever the cache holds: proves the credentials still work (`/health`).
    pub async fn login_now(&self) -> Result<(), BmsError> {
        let mut slot = self.token.lock().await;
        self.login_into(&mut slot).await.map(|_| ())
    }

    /// Opens `n` connections to BMS and keeps them for the calls that come next (see
    /// [`crate::net::OpenAhead`]): only the handshakes, no request.
    pub async fn open_connections(&self, n: usize) {
        let connect = self.timeout.min(crate::net::CONNECT_TIMEOUT);
        self.ahead
            .open(&self.http, &self.url("/"), n, connect)
            .await;
    }

    /// BMS refused `stale`: log in again, unless another request already did.
    pub(super) async fn renew_token(&self, stale: &Token) -> Result<Token, BmsError> {
        let asked = Instant::now();
        let mut slot = self.token.lock().await;
        if let Some(t) = slot
            .token
            .as_ref()
            .filter(|t| !t.same_as(stale) && t.fresh(Utc::now()))
        {
            return Ok(t.clone());
        }
        if let Some(e) = slot.failed_since(asked) {
            return Err(e);
        }
        slot.token = None;
        self.login_into(&mut slot).await
    }

    async fn login_into(&self, slot: &mut TokenSlot) -> Result<Token, BmsError> {
        match self.login_with_refresh().await {
            Ok(t) => {
                slot.token = Some(t.clone());
                slot.failed = None;
                Ok(t)
            }
            Err(e) => {
                slot.failed = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// Log in with the cached credentials; if BMS refuses them, fetch the secret again (the
    /// password may have been rotated) and try once more.
    async fn login_with_refresh(&self) -> Result<Token, BmsError> {
        let secret = self.secrets.get().await?;
        match self.login(&secret.credentials).await {
            Err(BmsError::LoginRejected { .. }) => {
                tracing::info!("BMS refused the credentials; fetching the secret again");
                let secret = self.secrets.refresh().await?;
                self.login(&secret.credentials).await
            }
            other => other,
        }
    }

    async fn login(&self, creds: &Credentials) -> Result<Token, BmsError> {
        const WHAT: &str = "login";
        let form = [
            ("GrantType", "password"),
            ("UserName", creds.username.as_str()),
            ("Password", creds.password()),
            ("Tenant", creds.tenant.as_str()),
        ];
        let request = || {
            self.http
                .post(self.url("/v2/security/authenticate"))
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
        };
        // A second login only issues a second token: safe to repeat after a lost answer.
        let result = match self.retrying(WHAT, Resend::Safe, request).await {
            Ok(r) => r,
            // A login has no token to refuse: 401 here, or a Success=false, is about the
            // credentials.
            Err(BmsError::Unauthorized { .. }) => {
                return Err(BmsError::LoginRejected {
                    message: "HTTP 401".into(),
                });
            }
            Err(BmsError::Failed {
                status, message, ..
            }) if status < 500 => {
                return Err(BmsError::LoginRejected { message });
            }
            Err(e) => return Err(e),
        };
        let out: TokenOutput = envelope::read(WHAT, result)?;
        let access =
            out.access_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| BmsError::BadAnswer {
                    what: WHAT.into(),
                    reason: "no AccessToken in the answer".into(),
                })?;
        Ok(Token {
            access: SecretString::from(access),
            // No expiry given: assume a short life rather than keep a dead token.
            expires_at: out
                .expire_on
                .unwrap_or_else(|| Utc::now() + chrono::Duration::minutes(10)),
        })
    }
}
