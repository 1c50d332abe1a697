//! The secret fetched from Secrets Manager once per container, kept, and read again when it
//! stops working, when a caller presents a key it does not know, and every
//! `KASEYA_SECRET_TTL_SECONDS` in the background.

use super::*;

/// A Secrets Manager client whose calls give up: an unreachable endpoint costs at most
/// `timeout` (connect attempts at most 3 s), and becomes a 503, not a hung invocation.
pub fn secrets_manager_client(sdk: &aws_types::SdkConfig, timeout: Duration) -> SecretsClient {
    let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(timeout.min(crate::net::CONNECT_TIMEOUT))
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout)
        .build();
    let mut conf = aws_sdk_secretsmanager::config::Builder::from(sdk).timeout_config(timeouts);
    if let Some(url) = crate::net::aws::var("AWS_ENDPOINT_URL_SECRETS_MANAGER") {
        conf = conf.endpoint_url(url);
    }
    SecretsClient::from_conf(conf.build())
}

/// Where the secret comes from.
pub enum Source {
    /// `KASEYA_SECRET_ID`, read through Secrets Manager.
    SecretsManager { id: String, client: SecretsClient },
    /// `KASEYA_CREDENTIALS`: a fixed value, for local runs.
    Fixed(Arc<Secret>),
}

pub(super) struct Cached {
    pub(super) secret: Arc<Secret>,
    /// When the value was read, or last tried again: the next background read is due a TTL
    /// later.
    pub(super) checked_at: Instant,
}

/// The secret, fetched once and then read again in the background at most once per TTL, and
/// fetched again on demand.
pub struct SecretStore {
    source: Source,
    /// `KASEYA_SECRET_TTL_SECONDS`: how long a read value is used before it is read again.
    ttl: Duration,
    pub(super) cached: RwLock<Option<Cached>>,
    /// Whether a background read is running, so that a burst of presses starts only one.
    pub(super) refreshing: AtomicBool,
    /// When an unknown button key last caused a refetch.
    last_key_refresh: Mutex<Option<Instant>>,
}

impl SecretStore {
    pub fn new(source: Source, ttl: Duration) -> Self {
        SecretStore {
            source,
            ttl,
            cached: RwLock::new(None),
            refreshing: AtomicBool::new(false),
            last_key_refresh: Mutex::new(None),
        }
    }

    /// The secret, from the cache when there is one. A cached value older than the TTL is still
    /// answered, and a read of the new value starts beside the request: a press never waits for
    /// Secrets Manager once the container has the secret, and a key removed from the secret
    /// stops working within the TTL.
    pub async fn get(self: &Arc<Self>) -> Result<Arc<Secret>, SecretError> {
        if let Some(c) = self.cached.read().await.as_ref() {
            if c.checked_at.elapsed() >= self.ttl {
                self.refresh_in_background();
            }
            return Ok(c.secret.clone());
        }
        self.refresh().await
    }

    fn refresh_in_background(self: &Arc<Self>) {
        if matches!(self.source, Source::Fixed(_)) || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = store.refresh().await {
                // The value in hand keeps working: a Secrets Manager outage or a bad edit of the
                // secret must not stop every button. It is tried again a TTL later.
                tracing::error!(
                    error = %e,
                    "the secret could not be read again; the value read before stays in use"
                );
                if let Some(c) = store.cached.write().await.as_mut() {
                    c.checked_at = Instant::now();
                }
            }
            store.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetch the secret again (BMS refused the credentials: the password may have been rotated).
    pub async fn refresh(&self) -> Result<Arc<Secret>, SecretError> {
        let secret = match &self.source {
            Source::Fixed(s) => s.clone(),
            Source::SecretsManager { id, client } => Arc::new(fetch(client, id).await?),
        };
        *self.cached.write().await = Some(Cached {
            secret: secret.clone(),
            checked_at: Instant::now(),
        });
        Ok(secret)
    }

    /// Which key a caller presented, from `caller`'s address, fetching the secret again (at
    /// most once a minute) when the key is unknown, so that a key added to the secret works
    /// without a redeploy. A key used from outside its `allowFrom` counts as unknown.
    pub async fn check_key(
        self: &Arc<Self>,
        presented: &str,
        caller: Option<IpAddr>,
    ) -> Result<KeyCheck, SecretError> {
        let secret = self.get().await?;
        if !secret.has_keys() {
            return Ok(KeyCheck::NoKeysConfigured);
        }
        if let Some(found) = secret.key_for(presented, caller) {
            return Ok(KeyCheck::Accepted(found));
        }
        {
            let mut last = self.last_key_refresh.lock().await;
            if last.is_some_and(|t| t.elapsed() < UNKNOWN_KEY_REFRESH_INTERVAL) {
                return Ok(KeyCheck::Rejected);
            }
            *last = Some(Instant::now());
        }
        let secret = self.refresh().await?;
        Ok(match secret.key_for(presented, caller) {
            Some(found) => KeyCheck::Accepted(found),
            None => KeyCheck::Rejected,
        })
    }
}

/// The caller's address as API Gateway saw it (the TCP peer, not a header a client could
/// write): what a key's `allowFrom` is checked against. `None` outside API Gateway.
pub fn source_ip(req: &lambda_http::Request) -> Option<IpAddr> {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let raw = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(c) => c.identity.source_ip.as_deref(),
        RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref(),
        _ => None,
    };
    raw?.trim().parse().ok()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    Accepted(KeyMatch),
    /// A wrong key, or a right one from an address outside its `allowFrom`: one answer for
    /// both, so a caller cannot tell a key it guessed from a key it may not use.
    Rejected,
    /// `BUTTON_AUTH=key` but the secret lists no keys: a setup mistake, not a caller's.
    NoKeysConfigured,
}

pub(super) async fn fetch(client: &SecretsClient, id: &str) -> Result<Secret, SecretError> {
    use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

    let out = client.get_secret_value().secret_id(id).send().await;
    let out = match out {
        Ok(out) => out,
        Err(SdkError::ServiceError(e)) => {
            let err = e.err();
            return Err(match err {
                GetSecretValueError::ResourceNotFoundException(_) => {
                    SecretError::NotFound { id: id.to_string() }
                }
                // Secrets Manager's own trouble passes: the caller should try again later.
                GetSecretValueError::InternalServiceError(_) => SecretError::Unreachable {
                    id: id.to_string(),
                    reason: aws_sdk_secretsmanager::error::DisplayErrorContext(err).to_string(),
                },
                other if other.code() == Some("ThrottlingException") => SecretError::Unreachable {
                    id: id.to_string(),
                    reason: "Secrets Manager is throttling this function".into(),
                },
                other => SecretError::Denied {
                    id: id.to_string(),
                    reason: aws_sdk_secretsmanager::error::DisplayErrorContext(other).to_string(),
                },
            });
        }
        Err(e) => {
            return Err(SecretError::Unreachable {
                id: id.to_string(),
                reason: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
            });
        }
    };
    let value = out.secret_string().ok_or_else(|| {
        SecretError::Format(format!(
            "secret `{id}` has no text value (a binary secret?)"
        ))
    })?;
    Secret::parse(value)
}
