//! The BMS credentials, the callers' keys and the marker key: parsed from the secret's value,
//! fetched from Secrets Manager once per container, again in the background once per
//! `KASEYA_SECRET_TTL_SECONDS`, and again at once when they stop working.
//!
//! Nothing here can print a password or a key: they live in `secrecy` types, and parse errors
//! describe the shape that was wrong and where, never the value.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client as SecretsClient;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use tokio::sync::{Mutex, RwLock};

use crate::idempotency::MarkerKey;

/// A newly added key should work at once, but a flood of wrong keys must not turn into a flood
/// of Secrets Manager calls.
pub const UNKNOWN_KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// A `markerKey` shorter than this is a placeholder, not a secret.
pub const MIN_MARKER_KEY_CHARS: usize = 16;
/// Key names appear in logs; they are labels such as `tier2`, not prose.
const MAX_KEY_NAME_CHARS: usize = 64;

/// The BMS API user.
#[derive(Clone)]
pub struct Credentials {
    pub tenant: String,
    pub username: String,
    password: SecretString,
}

impl Credentials {
    pub fn password(&self) -> &str {
        self.password.expose_secret()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tenant", &self.tenant)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// What a key lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// From `buttonKeys`: every end user's desktop holds one.
    Button,
    /// From `operatorKeys`: technicians.
    Operator,
}

impl Role {
    /// The secret's field that lists keys of this role.
    pub fn field(self) -> &'static str {
        match self {
            Role::Button => "buttonKeys",
            Role::Operator => "operatorKeys",
        }
    }
}

/// The key a caller presented, once it is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMatch {
    pub role: Role,
    /// The key's `name` in the secret, if it has one: safe to log, unlike the key.
    pub name: Option<String>,
}

/// One key the secret lists.
#[derive(Clone)]
struct CallerKey {
    /// SHA-256 of the key: what presented keys are compared with (see [`Secret::key_for`]).
    digest: SecretSlice<u8>,
    role: Role,
    name: Option<String>,
    /// Where the key may be used from; empty: from anywhere.
    allow_from: Vec<IpNet>,
}

impl CallerKey {
    fn new(key: &str, role: Role) -> CallerKey {
        CallerKey {
            digest: SecretSlice::from(Sha256::digest(key.as_bytes()).to_vec()),
            role,
            name: None,
            allow_from: Vec::new(),
        }
    }

    /// A caller whose address is unknown passes only a key that may be used from anywhere.
    fn allows(&self, caller: Option<IpAddr>) -> bool {
        self.allow_from.is_empty()
            || caller.is_some_and(|ip| self.allow_from.iter().any(|net| net.contains(&ip)))
    }
}

impl std::fmt::Debug for CallerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerKey")
            .field("role", &self.role)
            .field("name", &self.name)
            .field("allow_from", &self.allow_from)
            .finish_non_exhaustive()
    }
}

/// Everything the secret holds.
#[derive(Clone, Debug)]
pub struct Secret {
    pub credentials: Credentials,
    keys: Vec<CallerKey>,
    marker_key: MarkerKey,
}

impl Secret {
    pub fn has_button_keys(&self) -> bool {
        self.keys.iter().any(|k| k.role == Role::Button)
    }

    /// Whether the secret lists any key at all, button or operator.
    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The key for computing duplicate markers: the secret's `markerKey`, or one derived from
    /// the BMS login.
    pub fn marker_key(&self) -> &MarkerKey {
        &self.marker_key
    }

    /// The key `presented` is, if it is one of the secret's keys and may be used from `caller`.
    /// A key used from outside its `allowFrom` is no key at all.
    ///
    /// Every key is compared, in constant time, so the time taken says nothing about how close
    /// a guess was or which key matched. The comparison is of SHA-256 digests: `ct_eq` on byte
    /// strings of different lengths returns at once, which would tell a caller each key's
    /// length. The address check needs no such care: the caller knows its own address.
    pub fn key_for(&self, presented: &str, caller: Option<IpAddr>) -> Option<KeyMatch> {
        let presented = Sha256::digest(presented.as_bytes());
        // An IPv4 caller may reach a dual-stack API as `::ffff:a.b.c.d`.
        let caller = caller.map(|ip| ip.to_canonical());
        let mut found = Choice::from(0);
        // 1 + the index of the first key that matches; 0 while none has.
        let mut chosen = 0u64;
        for (i, key) in self.keys.iter().enumerate() {
            let allowed = Choice::from(u8::from(key.allows(caller)));
            let hit = key.digest.expose_secret().ct_eq(presented.as_slice()) & allowed & !found;
            chosen = u64::conditional_select(&chosen, &(i as u64 + 1), hit);
            found |= hit;
        }
        let index = usize::try_from(chosen.checked_sub(1)?).ok()?;
        self.keys.get(index).map(|k| KeyMatch {
            role: k.role,
            name: k.name.clone(),
        })
    }
}

/// Why a secret value could not be read. Never holds any part of the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the secret is not in a known format: {0}. Use `Company+username:password`, or JSON \
         {{\"company\", \"username\", \"password\"}} or {{\"credentials\": \"Company+username:password\"}}"
    )]
    Format(String),
    /// The secret has the right shape, but one of its settings cannot be used.
    #[error("the secret cannot be used: {0}")]
    Invalid(String),
    #[error("Secrets Manager has no secret `{id}`: create it or correct KASEYA_SECRET_ID")]
    NotFound { id: String },
    #[error("Secrets Manager refused to give secret `{id}`: {reason}")]
    Denied { id: String, reason: String },
    #[error("Secrets Manager could not be reached for secret `{id}`: {reason}")]
    Unreachable { id: String, reason: String },
}

/// Parse `Company+username:password`: tenant up to the first `+`, user name up to the next `:`,
/// the rest is the password (which may itself hold `:` and `+`).
fn parse_plain(raw: &str) -> Result<Credentials, SecretError> {
    let raw = raw.trim();
    let (tenant, rest) = raw
        .split_once('+')
        .ok_or_else(|| SecretError::Format("there is no `+` after the company name".into()))?;
    let (username, password) = rest
        .split_once(':')
        .ok_or_else(|| SecretError::Format("there is no `:` after the user name".into()))?;
    credentials(tenant, username, password)
}

fn credentials(tenant: &str, username: &str, password: &str) -> Result<Credentials, SecretError> {
    let missing = |what: &str| SecretError::Format(format!("the {what} is empty"));
    if tenant.trim().is_empty() {
        return Err(missing("company"));
    }
    if username.trim().is_empty() {
        return Err(missing("user name"));
    }
    if password.is_empty() {
        return Err(missing("password"));
    }
    Ok(Credentials {
        // The tenant is the company name as BMS shows it; inner spaces are part of it.
        tenant: tenant.trim().to_string(),
        username: username.trim().to_string(),
        password: SecretString::from(password),
    })
}

/// A JSON string field, looked up without regard to case (the console's key/value editor makes
/// whatever case the person typed).
fn json_str<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, SecretError> {
    match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        None | Some((_, Value::Null)) => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((k, _)) => Err(SecretError::Format(format!("`{k}` must be a string"))),
    }
}

/// A field looked up without regard to case, like [`json_str`].
fn json_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// `buttonKeys` or `operatorKeys`: an array of keys, or one comma-separated string. An array
/// item is a key, or `{"key", "name", "allowFrom"}`. Blank string items are skipped (a trailing
/// comma), a blank `key` in an object is an error (the object says a key was meant).
fn caller_keys(obj: &Map<String, Value>, role: Role) -> Result<Vec<CallerKey>, SecretError> {
    let field = role.field();
    let plain = |k: &str| {
        let k = k.trim();
        (!k.is_empty()).then(|| CallerKey::new(k, role))
    };
    match json_field(obj, field) {
        None | Some((_, Value::Null)) => Ok(Vec::new()),
        Some((_, Value::String(s))) => Ok(s.split(',').filter_map(plain).collect()),
        Some((_, Value::Array(items))) => {
            let mut keys = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => keys.extend(plain(s)),
                    Value::Object(entry) => keys.push(key_entry(entry, role, i)?),
                    _ => {
                        return Err(SecretError::Invalid(format!(
                            "`{field}[{i}]` must be a key (a string) or an object {{\"key\", \
                             \"name\", \"allowFrom\"}}"
                        )));
                    }
                }
            }
            Ok(keys)
        }
        Some(_) => Err(SecretError::Invalid(format!(
            "`{field}` must be an array of keys or one comma-separated string"
        ))),
    }
}

/// `{"key": "…", "name": "tier2", "allowFrom": ["34.202.14.153", "3.209.57.193/32"]}`.
fn key_entry(entry: &Map<String, Value>, role: Role, i: usize) -> Result<CallerKey, SecretError> {
    let at = format!("{}[{i}]", role.field());
    let invalid = |what: String| SecretError::Invalid(format!("`{at}` {what}"));
    for name in entry.keys() {
        if !["key", "name", "allowFrom"]
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
        {
            // A misspelt `allowFrom` would let the key in from anywhere: refuse it. The field
            // is named only when it looks like a field name, never like a key pasted there.
            let looks_like_a_field = name.len() <= 20
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let shown = if looks_like_a_field {
                format!("`{name}`")
            } else {
                "that is not a field name".into()
            };
            return Err(invalid(format!(
                "has an unknown field {shown}: the fields are `key`, `name` and `allowFrom`"
            )));
        }
    }
    let key = match json_field(entry, "key") {
        Some((_, Value::String(k))) if !k.trim().is_empty() => k.trim(),
        Some(_) => return Err(invalid("has a `key` that is not a non-blank string".into())),
        None => return Err(invalid("has no `key`".into())),
    };
    let mut caller_key = CallerKey::new(key, role);
    caller_key.name = match json_field(entry, "name") {
        None | Some((_, Value::Null)) => None,
        Some((_, Value::String(n))) => {
            let n = n.trim();
            if n.is_empty()
                || n.chars().count() > MAX_KEY_NAME_CHARS
                || n.contains(char::is_control)
            {
                return Err(invalid(format!(
                    "has a `name` that is blank, longer than {MAX_KEY_NAME_CHARS} characters or \
                     holds a control character: use a short label such as `tier2`"
                )));
            }
            Some(n.to_string())
        }
        Some(_) => return Err(invalid("has a `name` that is not a string".into())),
    };
    caller_key.allow_from = match json_field(entry, "allowFrom") {
        None | Some((_, Value::Null)) => Vec::new(),
        Some((_, value)) => allow_from(value).map_err(invalid)?,
    };
    Ok(caller_key)
}

/// An `allowFrom` list: addresses and CIDR blocks, IPv4 or IPv6, as an array or one
/// comma-separated string. A block with host bits set (`10.0.0.5/24`) means its network.
fn allow_from(value: &Value) -> Result<Vec<IpNet>, String> {
    let entries: Vec<Option<&str>> = match value {
        Value::String(s) => s.split(',').map(Some).collect(),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => return Err("has an `allowFrom` that is not an array of addresses".into()),
    };
    let mut nets = Vec::new();
    for (j, entry) in entries.into_iter().enumerate() {
        let net = entry.map(str::trim).and_then(|e| {
            e.parse::<IpAddr>()
                .map(IpNet::from)
                .or_else(|_| e.parse::<IpNet>())
                .ok()
        });
        match net {
            Some(net) => nets.push(net.trunc()),
            None => {
                return Err(format!(
                    "has an `allowFrom[{j}]` that is not an IPv4 or IPv6 address or CIDR block \
                     (such as 203.0.113.7 or 2001:db8::/48)"
                ));
            }
        }
    }
    if nets.is_empty() {
        return Err(
            "has an empty `allowFrom`: leave it out to accept the key from any \
                    address, or list the addresses"
                .into(),
        );
    }
    Ok(nets)
}

/// Both lists; a key that is both a button and an operator key would give every desktop the
/// operator's rights, so it is refused.
fn all_caller_keys(obj: &Map<String, Value>) -> Result<Vec<CallerKey>, SecretError> {
    let button = caller_keys(obj, Role::Button)?;
    let operator = caller_keys(obj, Role::Operator)?;
    for (i, op) in operator.iter().enumerate() {
        if button
            .iter()
            .any(|b| b.digest.expose_secret() == op.digest.expose_secret())
        {
            return Err(SecretError::Invalid(format!(
                "one of the `operatorKeys` (entry {i} of the keys it lists) is also one of the \
                 `buttonKeys`: an operator key must differ from every button key"
            )));
        }
    }
    Ok(button.into_iter().chain(operator).collect())
}

fn marker_key(
    obj: &Map<String, Value>,
    credentials: &Credentials,
) -> Result<MarkerKey, SecretError> {
    match json_str(obj, "markerKey")?.map(str::trim) {
        Some(k) if k.chars().count() >= MIN_MARKER_KEY_CHARS => Ok(MarkerKey::given(k)),
        Some(_) => Err(SecretError::Invalid(format!(
            "`markerKey` is shorter than {MIN_MARKER_KEY_CHARS} characters: use a long random \
             value (such as the output of `openssl rand -hex 32`), or leave it out"
        ))),
        None => Ok(credentials.marker_key()),
    }
}

impl Credentials {
    fn marker_key(&self) -> MarkerKey {
        MarkerKey::derived(&self.tenant, &self.username, self.password())
    }
}

impl Secret {
    /// Parse a secret value in any of the three accepted formats.
    pub fn parse(raw: &str) -> Result<Secret, SecretError> {
        let trimmed = raw.trim();
        if !trimmed.starts_with('{') {
            let credentials = parse_plain(trimmed)?;
            return Ok(Secret {
                marker_key: credentials.marker_key(),
                credentials,
                keys: Vec::new(),
            });
        }
        // serde_json's error would quote the offending text: say only where it is.
        let value: Value = serde_json::from_str(trimmed).map_err(|e| {
            SecretError::Format(format!(
                "it starts with `{{` but is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(obj) = value else {
            return Err(SecretError::Format("the JSON is not an object".into()));
        };
        let credentials = match json_str(&obj, "credentials")? {
            Some(plain) => parse_plain(plain)?,
            None => {
                let field = |k: &str| {
                    json_str(&obj, k)?
                        .ok_or_else(|| SecretError::Format(format!("the JSON object has no `{k}`")))
                };
                credentials(field("company")?, field("username")?, field("password")?)?
            }
        };
        Ok(Secret {
            keys: all_caller_keys(&obj)?,
            marker_key: marker_key(&obj, &credentials)?,
            credentials,
        })
    }
}

/// A Secrets Manager client whose calls give up: an unreachable endpoint costs at most
/// `timeout` (connect attempts at most 3 s), and becomes a 503, not a hung invocation.
pub async fn secrets_manager_client(timeout: Duration) -> SecretsClient {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout)
        .build();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    SecretsClient::new(&sdk)
}

/// Where the secret comes from.
pub enum Source {
    /// `KASEYA_SECRET_ID`, read through Secrets Manager.
    SecretsManager { id: String, client: SecretsClient },
    /// `KASEYA_CREDENTIALS`: a fixed value, for local runs.
    Fixed(Arc<Secret>),
}

struct Cached {
    secret: Arc<Secret>,
    /// When the value was read, or last tried again: the next background read is due a TTL
    /// later.
    checked_at: Instant,
}

/// The secret, fetched once and then read again in the background at most once per TTL, and
/// fetched again on demand.
pub struct SecretStore {
    source: Source,
    /// `KASEYA_SECRET_TTL_SECONDS`: how long a read value is used before it is read again.
    ttl: Duration,
    cached: RwLock<Option<Cached>>,
    /// Whether a background read is running, so that a burst of presses starts only one.
    refreshing: AtomicBool,
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

async fn fetch(client: &SecretsClient, id: &str) -> Result<Secret, SecretError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(s: &Secret, key: &str) -> bool {
        s.key_for(key, None).is_some()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn button(name: Option<&str>) -> Option<KeyMatch> {
        Some(KeyMatch {
            role: Role::Button,
            name: name.map(str::to_string),
        })
    }

    fn operator(name: Option<&str>) -> Option<KeyMatch> {
        Some(KeyMatch {
            role: Role::Operator,
            name: name.map(str::to_string),
        })
    }

    #[test]
    fn plain_format_keeps_colons_and_pluses_in_the_password() {
        let s = Secret::parse("Contoso MSP+api.button:pa:ss+word").unwrap();
        assert_eq!(s.credentials.tenant, "Contoso MSP");
        assert_eq!(s.credentials.username, "api.button");
        assert_eq!(s.credentials.password(), "pa:ss+word");
        assert!(!s.has_button_keys());
    }

    #[test]
    fn json_formats() {
        let a = Secret::parse(
            r#"{"company":"C","username":"u","password":"p","buttonKeys":["k1"," k2 "]}"#,
        )
        .unwrap();
        assert_eq!(a.credentials.tenant, "C");
        assert!(accepts(&a, "k1") && accepts(&a, "k2") && !accepts(&a, "k3"));
        let b = Secret::parse(r#"{"credentials":"C+u:p","buttonKeys":"k1, k2"}"#).unwrap();
        assert_eq!(b.credentials.password(), "p");
        assert!(accepts(&b, "k2") && !accepts(&b, ""));
        let c = Secret::parse(r#"{"Company":"C","UserName":"u","Password":"p"}"#).unwrap();
        assert_eq!(c.credentials.username, "u");
    }

    #[test]
    fn errors_never_show_the_value() {
        let cases = [
            "no-separators-secretvalue",
            "C+u",
            "+u:secretvalue",
            "C+:secretvalue",
            "{\"company\":\"C\",\"username\":\"u\"}",
            "{\"company\":\"C\",\"username\":\"u\",\"password\":\"secretvalue\",\"buttonKeys\":5}",
            "{secretvalue",
        ];
        for raw in cases {
            let err = Secret::parse(raw).unwrap_err().to_string();
            assert!(!err.contains("secretvalue"), "{raw}: {err}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::parse(
            r#"{"credentials":"C+u:hunter2","buttonKeys":["key-abc"],
                "operatorKeys":[{"key":"op-xyz","name":"tier2"}]}"#,
        )
        .unwrap();
        let printed = format!("{s:?}");
        for secret in ["hunter2", "key-abc", "op-xyz"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("tier2"), "{printed}");
    }

    #[test]
    fn operator_keys_and_named_keys() {
        let s = Secret::parse(
            r#"{"credentials":"C+u:p",
                "buttonKeys":["b1", {"key":"b2","name":"kiosk"}],
                "OperatorKeys":"o1, o2"}"#,
        )
        .unwrap();
        assert!(s.has_button_keys() && s.has_keys());
        assert_eq!(s.key_for("b1", None), button(None));
        assert_eq!(s.key_for("b2", ip("198.51.100.1")), button(Some("kiosk")));
        assert_eq!(s.key_for("o2", None), operator(None));
        assert_eq!(s.key_for("o3", None), None);
        let only_operators =
            Secret::parse(r#"{"credentials":"C+u:p","operatorKeys":[{"key":"o1","name":"t2"}]}"#)
                .unwrap();
        assert!(!only_operators.has_button_keys() && only_operators.has_keys());
        assert_eq!(only_operators.key_for("o1", None), operator(Some("t2")));
    }

    #[test]
    fn allow_from_limits_where_a_key_works() {
        let s = Secret::parse(
            r#"{"credentials":"C+u:p",
                "operatorKeys":[{"key":"o1","name":"tier2",
                                 "allowFrom":["34.202.14.153","3.209.57.193/32","10.1.0.9/16",
                                              "2001:db8::/48"]}],
                "buttonKeys":[{"key":"b1","allowFrom":"192.0.2.7, 192.0.2.8"}]}"#,
        )
        .unwrap();
        let tier2 = operator(Some("tier2"));
        for from in [
            "34.202.14.153",
            "3.209.57.193",
            "10.1.255.1",
            "2001:db8:0:1::5",
            "::ffff:34.202.14.153",
        ] {
            assert_eq!(s.key_for("o1", ip(from)), tier2, "{from}");
        }
        for from in ["34.202.14.154", "10.2.0.1", "2001:db9::1"] {
            assert_eq!(s.key_for("o1", ip(from)), None, "{from}");
        }
        // No address, no proof of where the caller is.
        assert_eq!(s.key_for("o1", None), None);
        assert_eq!(s.key_for("b1", ip("192.0.2.8")), button(None));
        assert_eq!(s.key_for("b1", ip("192.0.2.9")), None);
    }

    #[test]
    fn the_same_key_may_be_listed_for_two_places_and_the_allowed_one_answers() {
        let s = Secret::parse(
            r#"{"credentials":"C+u:p","buttonKeys":[
                {"key":"k","name":"office","allowFrom":["192.0.2.0/24"]},
                {"key":"k","name":"lab","allowFrom":["198.51.100.0/24"]}]}"#,
        )
        .unwrap();
        assert_eq!(s.key_for("k", ip("198.51.100.3")), button(Some("lab")));
        assert_eq!(s.key_for("k", ip("192.0.2.3")), button(Some("office")));
        assert_eq!(s.key_for("k", ip("203.0.113.1")), None);
    }

    #[test]
    fn key_errors_name_the_entry_and_never_the_key() {
        let cases = [
            (
                r#"{"operatorKeys":[{"key":"secretvalue","allowFrom":["300.1.1.1"]}]}"#,
                "`operatorKeys[0]` has an `allowFrom[0]`",
            ),
            (
                r#"{"buttonKeys":["k1",{"key":"secretvalue","allowFrom":["10.0.0.1","nope/8"]}]}"#,
                "`buttonKeys[1]` has an `allowFrom[1]`",
            ),
            (
                r#"{"buttonKeys":[{"key":"secretvalue","allowFrom":[]}]}"#,
                "`buttonKeys[0]` has an empty `allowFrom`",
            ),
            (
                r#"{"buttonKeys":[{"key":"secretvalue","allowedFrom":["10.0.0.1"]}]}"#,
                "`buttonKeys[0]` has an unknown field `allowedFrom`",
            ),
            (
                r#"{"buttonKeys":[{"key":"k","secretvalue0123456789abcdef":1}]}"#,
                "`buttonKeys[0]` has an unknown field that is not a field name",
            ),
            (
                r#"{"buttonKeys":[{"name":"secretvalue"}]}"#,
                "`buttonKeys[0]` has no `key`",
            ),
            (
                r#"{"buttonKeys":[{"key":"  "}]}"#,
                "`buttonKeys[0]` has a `key`",
            ),
            (
                r#"{"buttonKeys":[{"key":"secretvalue","name":"a\nb"}]}"#,
                "`buttonKeys[0]` has a `name`",
            ),
            (r#"{"operatorKeys":[5]}"#, "`operatorKeys[0]` must be a key"),
            (r#"{"operatorKeys":5}"#, "`operatorKeys` must be an array"),
            (
                r#"{"buttonKeys":["secretvalue"],"operatorKeys":["x","secretvalue"]}"#,
                "entry 1",
            ),
            (r#"{"markerKey":"secretvalue"}"#, "`markerKey` is shorter"),
        ];
        for (keys, expected) in cases {
            let mut json: Value = serde_json::from_str(keys).unwrap();
            json["credentials"] = "C+u:p".into();
            let err = Secret::parse(&json.to_string()).unwrap_err().to_string();
            assert!(err.contains(expected), "{keys}: {err}");
            assert!(!err.contains("secretvalue"), "{keys}: {err}");
        }
    }

    /// A Secrets Manager that takes the connection and never answers.
    fn silent_secrets_manager(listener: &std::net::TcpListener) -> SecretsClient {
        use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
        let url = format!("http://{}", listener.local_addr().unwrap());
        let conf = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("id", "secret", None, None, "test"))
            .endpoint_url(url)
            .build();
        SecretsClient::from_conf(conf)
    }

    #[tokio::test]
    async fn a_stale_secret_is_answered_at_once_while_it_is_read_again() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let source = Source::SecretsManager {
            id: "kaseya-button/stalled".into(),
            client: silent_secrets_manager(&listener),
        };
        let store = Arc::new(SecretStore::new(source, Duration::from_secs(1)));
        let read_long_ago = Instant::now().checked_sub(Duration::from_secs(5)).unwrap();
        *store.cached.write().await = Some(Cached {
            secret: Arc::new(Secret::parse("C+u:p").unwrap()),
            checked_at: read_long_ago,
        });

        let started = Instant::now();
        store.get().await.unwrap();
        // Let the background read start and stall on the silent endpoint.
        tokio::time::sleep(Duration::from_millis(200)).await;
        for _ in 0..3 {
            assert_eq!(store.get().await.unwrap().credentials.username, "u");
        }
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "the presses waited for Secrets Manager: {:?}",
            started.elapsed()
        );
        assert!(
            store.refreshing.load(Ordering::Acquire),
            "one background read, still waiting for its answer"
        );
    }

    #[tokio::test]
    async fn a_fixed_secret_is_never_read_again() {
        let fixed = Arc::new(Secret::parse("C+u:p").unwrap());
        let store = Arc::new(SecretStore::new(
            Source::Fixed(fixed),
            Duration::from_secs(1),
        ));
        store.get().await.unwrap();
        if let Some(c) = store.cached.write().await.as_mut() {
            c.checked_at = Instant::now().checked_sub(Duration::from_secs(5)).unwrap();
        }
        store.get().await.unwrap();
        assert!(!store.refreshing.load(Ordering::Acquire));
    }

    #[test]
    fn the_marker_key_is_given_or_derived_from_the_login() {
        use crate::button::Email;
        use crate::idempotency::{IdempotencyKey, Marker};
        let marker = |raw: &str| {
            let s = Secret::parse(raw).unwrap();
            Marker::new(
                s.marker_key(),
                &Email::parse("a@b.com").unwrap(),
                &IdempotencyKey::parse("k").unwrap(),
            )
        };
        let derived = marker("C+u:p");
        assert_eq!(
            derived,
            marker(r#"{"credentials":"C+u:p","buttonKeys":["k"]}"#)
        );
        assert_ne!(derived, marker("C+u:rotated"));
        let given = marker(r#"{"credentials":"C+u:p","markerKey":"0123456789abcdef"}"#);
        assert_ne!(given, derived);
        assert_eq!(
            given,
            marker(r#"{"credentials":"C+u:rotated","markerKey":"0123456789abcdef"}"#),
            "a given markerKey outlives a password rotation"
        );
        let printed = format!(
            "{:?}",
            Secret::parse(r#"{"credentials":"C+u:p","markerKey":"0123456789abcdef"}"#).unwrap()
        );
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
    }
}
