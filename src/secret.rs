//! The BMS credentials and button keys: parsed from the secret's value, fetched from Secrets
//! Manager once per container and again when they stop working.
//!
//! Nothing here can print a password or a key: they live in `secrecy` types, and parse errors
//! describe the shape that was wrong, never the value.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client as SecretsClient;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{Mutex, RwLock};

/// A newly added button key should work at once, but a flood of wrong keys must not turn into a
/// flood of Secrets Manager calls.
pub const UNKNOWN_KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

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

/// Everything the secret holds.
#[derive(Clone, Debug)]
pub struct Secret {
    pub credentials: Credentials,
    button_keys: Vec<SecretString>,
}

impl Secret {
    pub fn has_button_keys(&self) -> bool {
        !self.button_keys.is_empty()
    }

    /// Whether `presented` is one of the button keys. Every key is compared, in constant time,
    /// so the time taken says nothing about how close a guess was. The comparison is of
    /// SHA-256 digests: `ct_eq` on byte strings of different lengths returns at once, which
    /// would tell a caller each key's length.
    pub fn accepts_key(&self, presented: &str) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        let mut found = subtle::Choice::from(0);
        for key in &self.button_keys {
            let key = Sha256::digest(key.expose_secret().as_bytes());
            found |= key.as_slice().ct_eq(presented.as_slice());
        }
        found.into()
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

fn button_keys(obj: &serde_json::Map<String, Value>) -> Result<Vec<SecretString>, SecretError> {
    let keys: Vec<String> = match obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("buttonKeys"))
    {
        None | Some((_, Value::Null)) => Vec::new(),
        Some((_, Value::String(s))) => s.split(',').map(str::to_string).collect(),
        Some((_, Value::Array(items))) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    SecretError::Format("`buttonKeys` must hold only strings".into())
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(SecretError::Format(
                "`buttonKeys` must be an array of strings or one comma-separated string".into(),
            ));
        }
    };
    Ok(keys
        .into_iter()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .map(SecretString::from)
        .collect())
}

impl Secret {
    /// Parse a secret value in any of the three accepted formats.
    pub fn parse(raw: &str) -> Result<Secret, SecretError> {
        let trimmed = raw.trim();
        if !trimmed.starts_with('{') {
            return Ok(Secret {
                credentials: parse_plain(trimmed)?,
                button_keys: Vec::new(),
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
            credentials,
            button_keys: button_keys(&obj)?,
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
}

/// The secret, fetched once and kept for the container's life, and fetched again on demand.
pub struct SecretStore {
    source: Source,
    cached: RwLock<Option<Cached>>,
    /// When an unknown button key last caused a refetch.
    last_key_refresh: Mutex<Option<Instant>>,
}

impl SecretStore {
    pub fn new(source: Source) -> Self {
        SecretStore {
            source,
            cached: RwLock::new(None),
            last_key_refresh: Mutex::new(None),
        }
    }

    /// The secret, from the cache when there is one.
    pub async fn get(&self) -> Result<Arc<Secret>, SecretError> {
        if let Some(c) = self.cached.read().await.as_ref() {
            return Ok(c.secret.clone());
        }
        self.refresh().await
    }

    /// Fetch the secret again (BMS refused the credentials: the password may have been rotated).
    pub async fn refresh(&self) -> Result<Arc<Secret>, SecretError> {
        let secret = match &self.source {
            Source::Fixed(s) => s.clone(),
            Source::SecretsManager { id, client } => Arc::new(fetch(client, id).await?),
        };
        *self.cached.write().await = Some(Cached {
            secret: secret.clone(),
        });
        Ok(secret)
    }

    /// Whether a caller's key is valid, fetching the secret again (at most once a minute) when
    /// the key is unknown, so that a key added to the secret works without a redeploy.
    pub async fn check_key(&self, presented: &str) -> Result<KeyCheck, SecretError> {
        let secret = self.get().await?;
        if !secret.has_button_keys() {
            return Ok(KeyCheck::NoKeysConfigured);
        }
        if secret.accepts_key(presented) {
            return Ok(KeyCheck::Accepted);
        }
        {
            let mut last = self.last_key_refresh.lock().await;
            if last.is_some_and(|t| t.elapsed() < UNKNOWN_KEY_REFRESH_INTERVAL) {
                return Ok(KeyCheck::Rejected);
            }
            *last = Some(Instant::now());
        }
        let secret = self.refresh().await?;
        Ok(if secret.accepts_key(presented) {
            KeyCheck::Accepted
        } else {
            KeyCheck::Rejected
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    Accepted,
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
        assert!(a.accepts_key("k1") && a.accepts_key("k2") && !a.accepts_key("k3"));
        let b = Secret::parse(r#"{"credentials":"C+u:p","buttonKeys":"k1, k2"}"#).unwrap();
        assert_eq!(b.credentials.password(), "p");
        assert!(b.accepts_key("k2") && !b.accepts_key(""));
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
        let s = Secret::parse(r#"{"credentials":"C+u:hunter2","buttonKeys":["key-abc"]}"#).unwrap();
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("key-abc"),
            "{printed}"
        );
    }
}
