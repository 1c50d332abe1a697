//! The secret fetched from Secrets Manager once per container, kept, and read again when it
//! stops working, when a caller presents a key it does not know, every
//! `KASEYA_SECRET_TTL_SECONDS` in the background, and before a key is taken on the word of a
//! copy that no read has renewed for a TTL and a grace.

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
    /// When the value was last read successfully: the copy's age. A failed read leaves it
    /// alone, for it says nothing new about the keys.
    pub(super) read_at: Instant,
    /// When a background read last failed: the next one waits `retry_after_failure()`.
    pub(super) failed_at: Option<Instant>,
}

/// How long past its TTL a copy may still vouch for a key on its own: the time a background
/// read has to land (the default `KASEYA_TIMEOUT_SECONDS`). Lambda freezes the process once it
/// has answered, and a read still under way then dies; past this, a key the copy accepts is
/// checked against a read made there and then.
pub const STALE_GRACE: Duration = Duration::from_secs(10);

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
    /// Held by the read a key waits for, with when and how the last such read failed: presses
    /// that waited for a failed read share its error rather than queue one read each.
    confirming: Mutex<Option<(Instant, SecretError)>>,
}

impl SecretStore {
    pub fn new(source: Source, ttl: Duration) -> Self {
        SecretStore {
            source,
            ttl,
            cached: RwLock::new(None),
            refreshing: AtomicBool::new(false),
            last_key_refresh: Mutex::new(None),
            confirming: Mutex::new(None),
        }
    }

    /// The secret, from the cache when there is one. A cached value older than the TTL is still
    /// answered, and a read of the new value starts beside the request: BMS calls never wait
    /// for Secrets Manager once the container has the secret (a key may: see `check_key`).
    pub async fn get(self: &Arc<Self>) -> Result<Arc<Secret>, SecretError> {
        self.copy().await.map(|(secret, _)| secret)
    }

    /// The copy in hand and when it was read; the first read when there is none.
    async fn copy(self: &Arc<Self>) -> Result<(Arc<Secret>, Instant), SecretError> {
        if let Some(c) = self.cached.read().await.as_ref() {
            let retry_due = c
                .failed_at
                .is_none_or(|t| t.elapsed() >= self.retry_after_failure());
            if c.read_at.elapsed() >= self.ttl && retry_due {
                self.refresh_in_background();
            }
            return Ok((c.secret.clone(), c.read_at));
        }
        let secret = self.refresh().await?;
        Ok((secret, Instant::now()))
    }

    /// A failed background read is not tried again at every press: an outage would turn into
    /// a read, and an error logged, per press.
    fn retry_after_failure(&self) -> Duration {
        self.ttl.min(STALE_GRACE)
    }

    /// Whether a copy read at `read_at` is too old to vouch for a key on its own.
    fn too_old_to_vouch(&self, read_at: Instant) -> bool {
        read_at.elapsed() > self.ttl.saturating_add(STALE_GRACE)
    }

    fn refresh_in_background(self: &Arc<Self>) {
        if matches!(self.source, Source::Fixed(_)) || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = store.refresh().await {
                // The value in hand keeps working for BMS calls: a Secrets Manager outage or a
                // bad edit of the secret must not stop every button. Its age stays what it was,
                // so that keys stop being taken on its word alone past the TTL and the grace.
                tracing::error!(
                    error = %e,
                    "the secret could not be read again; the value read before stays in use"
                );
                if let Some(c) = store.cached.write().await.as_mut() {
                    c.failed_at = Some(Instant::now());
                }
            }
            store.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetch the secret again (BMS refused the credentials: the password may have been rotated).
    pub async fn refresh(&self) -> Result<Arc<Secret>, SecretError> {
        let secret = match &self.source {
            Source::Fixed(s) => s.clone(),
            Source::SecretsManager { id, client } => {
                let value = super::manager::read_value(client, id).await?;
                Arc::new(Secret::parse(value.expose_secret())?)
            }
        };
        *self.cached.write().await = Some(Cached {
            secret: secret.clone(),
            read_at: Instant::now(),
            failed_at: None,
        });
        Ok(secret)
    }

    /// Which key a caller presented, from `caller`'s address, fetching the secret again (at
    /// most once a minute) when the key is unknown, so that a key added to the secret works
    /// without a redeploy. A key used from outside its `allowFrom` counts as unknown.
    ///
    /// A key that only a copy older than its TTL and `STALE_GRACE` accepts waits for a read made
    /// now: it may have been removed since. When that read fails, its error is the answer (a
    /// 503 "try again" when Secrets Manager cannot be reached), never the stale copy's yes.
    pub async fn check_key(
        self: &Arc<Self>,
        presented: &str,
        caller: Option<IpAddr>,
    ) -> Result<KeyCheck, SecretError> {
        let (secret, read_at) = self.copy().await?;
        if !secret.has_keys() {
            return Ok(KeyCheck::NoKeysConfigured);
        }
        match secret.key_for(presented, caller) {
            Some(_) if self.too_old_to_vouch(read_at) => {
                tracing::info!(
                    "the secret was last read more than its TTL and grace ago; reading it again \
                     before a key it lists is accepted"
                );
                let secret = self.read_to_confirm().await?;
                return Ok(verdict(&secret, presented, caller));
            }
            Some(found) => return Ok(KeyCheck::Accepted(found)),
            None => {}
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

    /// The secret, read now for a key the copy in hand is too old to vouch for. One such read
    /// at a time: the presses that waited for it take the value it read, or its error.
    async fn read_to_confirm(&self) -> Result<Arc<Secret>, SecretError> {
        let arrived = Instant::now();
        let mut last_failure = self.confirming.lock().await;
        if let Some(c) = self.cached.read().await.as_ref()
            && !self.too_old_to_vouch(c.read_at)
        {
            return Ok(c.secret.clone());
        }
        if let Some((failed, e)) = last_failure.as_ref()
            && *failed >= arrived
        {
            return Err(e.clone());
        }
        let read = self.refresh().await;
        *last_failure = read.as_ref().err().map(|e| (Instant::now(), e.clone()));
        read
    }
}

/// What `secret` says of the key `presented` from `caller`.
fn verdict(secret: &Secret, presented: &str, caller: Option<IpAddr>) -> KeyCheck {
    if !secret.has_keys() {
        return KeyCheck::NoKeysConfigured;
    }
    match secret.key_for(presented, caller) {
        Some(found) => KeyCheck::Accepted(found),
        None => KeyCheck::Rejected,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::fake::FakeSecretsManager;

    const TTL: Duration = Duration::from_secs(60);
    const SECOND: Duration = Duration::from_secs(1);

    fn with_keys(keys: &[&str]) -> String {
        serde_json::json!({"credentials": "C+u:p", "buttonKeys": keys}).to_string()
    }

    fn accepted() -> KeyCheck {
        KeyCheck::Accepted(KeyMatch {
            role: Role::Button,
            name: None,
            customer: Default::default(),
        })
    }

    /// The store's copy, read from `sm` now.
    async fn store_reading(sm: &FakeSecretsManager) -> Arc<SecretStore> {
        let store = Arc::new(SecretStore::new(sm.source(), TTL));
        store.get().await.unwrap();
        store
    }

    /// `by` passes for the store: every time it keeps is moved that much into the past.
    async fn let_pass(store: &SecretStore, by: Duration) {
        let back = |t: Instant| t.checked_sub(by).unwrap();
        if let Some(c) = store.cached.write().await.as_mut() {
            c.read_at = back(c.read_at);
            c.failed_at = c.failed_at.map(back);
        }
    }

    async fn read_at(store: &SecretStore) -> Instant {
        store.cached.read().await.as_ref().unwrap().read_at
    }

    /// Let the background read started by the last call end, whatever its outcome.
    async fn background_read_over(store: &SecretStore) {
        let started = Instant::now();
        while store.refreshing.load(Ordering::Acquire) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "it never ended"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_failed_read_leaves_the_copys_age_alone() {
        let sm = FakeSecretsManager::start(&with_keys(&["k"]));
        let store = store_reading(&sm).await;
        sm.fail();
        let_pass(&store, TTL + SECOND).await;
        let read = read_at(&store).await;

        store.get().await.unwrap();
        background_read_over(&store).await;
        assert_eq!(sm.reads(), 2, "the background read was tried, and failed");
        assert_eq!(
            read_at(&store).await,
            read,
            "the copy is as old as its last successful read"
        );
    }

    /// Lambda freezes the process once it has answered: every background read dies with it.
    #[tokio::test]
    async fn a_removed_key_is_refused_once_the_copy_outlives_ttl_and_grace_though_every_background_read_failed()
     {
        let sm = FakeSecretsManager::start(&with_keys(&["kept", "removed"]));
        let store = store_reading(&sm).await;
        sm.fail();
        for _ in 0..3 {
            let_pass(&store, TTL + SECOND).await;
            store.get().await.unwrap();
            background_read_over(&store).await;
        }
        // The last read is three TTLs ago: the copy vouches for no key on its own.
        let refused = store.check_key("removed", None).await;
        assert!(
            matches!(refused, Err(SecretError::Unreachable { .. })),
            "{refused:?}"
        );
        let kept = store.check_key("kept", None).await;
        assert!(
            matches!(kept, Err(SecretError::Unreachable { .. })),
            "a key only the stale copy vouches for waits for a read: {kept:?}"
        );
        assert_eq!(
            store.get().await.unwrap().credentials.username,
            "u",
            "BMS calls keep the credentials in hand"
        );

        // Secrets Manager answers again, with the key removed.
        sm.serve(&with_keys(&["kept"]));
        assert_eq!(
            store.check_key("removed", None).await,
            Ok(KeyCheck::Rejected)
        );
        assert_eq!(store.check_key("kept", None).await, Ok(accepted()));
    }

    #[tokio::test]
    async fn within_ttl_and_grace_the_copy_answers_at_once() {
        let sm = FakeSecretsManager::start(&with_keys(&["removed"]));
        let store = store_reading(&sm).await;
        sm.fail();
        let_pass(&store, TTL + STALE_GRACE - SECOND).await;
        assert_eq!(store.check_key("removed", None).await, Ok(accepted()));
        background_read_over(&store).await;
        assert_eq!(sm.reads(), 2, "one read, in the background");
    }

    #[tokio::test]
    async fn presses_that_find_the_copy_too_old_share_one_read() {
        let sm = FakeSecretsManager::start(&with_keys(&["k"]));
        let store = store_reading(&sm).await;
        let_pass(&store, TTL + STALE_GRACE + SECOND).await;
        sm.fail();
        let mut presses = tokio::task::JoinSet::new();
        for _ in 0..5 {
            let store = store.clone();
            presses.spawn(async move { store.check_key("k", None).await });
        }
        for check in presses.join_all().await {
            assert!(
                matches!(check, Err(SecretError::Unreachable { .. })),
                "{check:?}"
            );
        }
        background_read_over(&store).await;
        assert!(
            sm.reads() <= 3,
            "the first read, one read for the waiting presses and at most one in the \
             background: {}",
            sm.reads()
        );
    }
}
