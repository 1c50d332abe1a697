//! The BMS credentials, the callers' keys and the marker key: parsed from the secret's value,
//! fetched from Secrets Manager once per container, again in the background once per
//! `KASEYA_SECRET_TTL_SECONDS`, and again at once when they stop working.
//!
//! Nothing here can print a password or a key: they live in `secrecy` types, and parse errors
//! describe the shape that was wrong and where, never the value.

#[cfg(test)]
mod fake;
mod fields;
pub mod keys_edit;
mod manager;
mod parse;
mod store;

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

    /// The role in a sentence: `a button key`, `the operator keys`.
    pub fn label(self) -> &'static str {
        match self {
            Role::Button => "button",
            Role::Operator => "operator",
        }
    }
}

/// The key a caller presented, once it is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMatch {
    pub role: Role,
    /// The key's `name` in the secret, if it has one: safe to log, unlike the key.
    pub name: Option<String>,
    pub customer: KeyCustomer,
}

/// The customer a key is handed out to: the starting value of the rules' `account`, and
/// whether its presses may create a contact for a new member of the customer's staff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCustomer {
    /// A BMS account name (a JSON string) or id (a JSON integer).
    pub account: Option<Value>,
    pub create_contacts: bool,
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
    customer: KeyCustomer,
}

impl CallerKey {
    fn new(key: &str, role: Role) -> CallerKey {
        CallerKey {
            digest: SecretSlice::from(Sha256::digest(key.as_bytes()).to_vec()),
            role,
            name: None,
            allow_from: Vec::new(),
            customer: KeyCustomer::default(),
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
            .field("customer", &self.customer)
            .finish_non_exhaustive()
    }
}

/// One key the secret lists, as a technician may see it: everything but the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEntry<'a> {
    pub role: Role,
    pub name: Option<&'a str>,
    /// Where the key may be used from, as the function reads it; empty: from anywhere.
    pub allow_from: &'a [IpNet],
    pub customer: &'a KeyCustomer,
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

    /// The keys, button keys first, in the order the secret lists them; never their values.
    pub fn entries(&self) -> impl Iterator<Item = KeyEntry<'_>> {
        self.keys.iter().map(|k| KeyEntry {
            role: k.role,
            name: k.name.as_deref(),
            allow_from: &k.allow_from,
            customer: &k.customer,
        })
    }

    /// Every entry that lists `key`, wherever it may be used from: a key removed under one
    /// name may still be listed under another.
    pub fn entries_of(&self, key: &str) -> Vec<KeyEntry<'_>> {
        let digest = Sha256::digest(key.as_bytes());
        self.keys
            .iter()
            .filter(|k| bool::from(k.digest.expose_secret().ct_eq(digest.as_slice())))
            .map(|k| KeyEntry {
                role: k.role,
                name: k.name.as_deref(),
                allow_from: &k.allow_from,
                customer: &k.customer,
            })
            .collect()
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
        self.matching(presented, caller, true).map(|k| KeyMatch {
            role: k.role,
            name: k.name.clone(),
            customer: k.customer.clone(),
        })
    }

    /// When `presented` is one of the secret's keys but `caller` is outside its `allowFrom`:
    /// the key's name (`None` for an unnamed key), for the log, so that an operator sees which
    /// key was used from where. Compared as [`Secret::key_for`] compares.
    pub fn refused_from(&self, presented: &str, caller: Option<IpAddr>) -> Option<Option<String>> {
        self.matching(presented, caller, false)
            .map(|k| k.name.clone())
    }

    /// The first key that is `presented` and that `caller` may (`allowed`) or may not use.
    fn matching(
        &self,
        presented: &str,
        caller: Option<IpAddr>,
        allowed: bool,
    ) -> Option<&CallerKey> {
        let presented = Sha256::digest(presented.as_bytes());
        // An IPv4 caller may reach a dual-stack API as `::ffff:a.b.c.d`.
        let caller = caller.map(|ip| ip.to_canonical());
        let mut found = Choice::from(0);
        // 1 + the index of the first key that matches; 0 while none has.
        let mut chosen = 0u64;
        for (i, key) in self.keys.iter().enumerate() {
            let wanted = Choice::from(u8::from(key.allows(caller) == allowed));
            let hit = key.digest.expose_secret().ct_eq(presented.as_slice()) & wanted & !found;
            chosen = u64::conditional_select(&chosen, &(i as u64 + 1), hit);
            found |= hit;
        }
        let index = usize::try_from(chosen.checked_sub(1)?).ok()?;
        self.keys.get(index)
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

pub use manager::{NotStored, read_value, write_value};
#[cfg(test)]
use store::Cached;
pub use store::{KeyCheck, SecretStore, Source, secrets_manager_client, source_ip};

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
            customer: Default::default(),
        })
    }

    fn operator(name: Option<&str>) -> Option<KeyMatch> {
        Some(KeyMatch {
            role: Role::Operator,
            name: name.map(str::to_string),
            customer: Default::default(),
        })
    }

    #[test]
    fn a_key_names_its_customer_by_name_or_id() {
        let s = Secret::parse(
            r#"{"credentials":"C+u:p","buttonKeys":[
                {"key":"k1","name":"fabrikam","account":" Fabrikam Inc ","createContacts":true},
                {"key":"k2","account":2},
                "k3"]}"#,
        )
        .unwrap();
        let customer = |k: &str| s.key_for(k, None).map(|m| m.customer);
        assert_eq!(
            customer("k1"),
            Some(KeyCustomer {
                account: Some("Fabrikam Inc".into()),
                create_contacts: true
            })
        );
        assert_eq!(customer("k2").and_then(|c| c.account), Some(2.into()));
        assert_eq!(customer("k3"), Some(KeyCustomer::default()));
        for (entry, problem) in [
            (
                r#"{"key":"secretvalue","account":""}"#,
                "has an `account` that is neither",
            ),
            (
                r#"{"key":"secretvalue","account":0}"#,
                "has an `account` that is neither",
            ),
            (
                r#"{"key":"secretvalue","account":"A\nB"}"#,
                "has an `account` that is neither",
            ),
            (
                r#"{"key":"secretvalue","createContacts":"yes"}"#,
                "has a `createContacts` that",
            ),
            (
                r#"{"key":"secretvalue","acount":"A"}"#,
                "unknown field `acount`",
            ),
        ] {
            let raw = format!(r#"{{"credentials":"C+u:p","buttonKeys":[{entry}]}}"#);
            let err = Secret::parse(&raw).unwrap_err().to_string();
            assert!(err.contains(problem), "{entry}: {err}");
            assert!(!err.contains("secretvalue"), "{err}");
        }
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
            .http_client(crate::net::aws::http_client(
                &crate::net::Net::new(&[]).unwrap(),
            ))
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
            read_at: read_long_ago,
            failed_at: None,
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
            c.read_at = Instant::now().checked_sub(Duration::from_secs(5)).unwrap();
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
