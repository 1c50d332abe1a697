//! The environment, read once at start into a typed configuration.
//!
//! Every problem is collected, not just the first, so that one deploy fixes them all.

use std::sync::Arc;
use std::time::Duration;

use crate::button::Email;
use crate::kaseya::Backoff;
use crate::rules::Rules;
use crate::secret::Secret;

pub const DEFAULT_API_URL: &str = "https://api.bms.kaseya.com";
pub const DEFAULT_UNREGISTERED_EMAIL: &str = "unregistered@helpdeskbuttons.com";
pub const DEFAULT_TICKET_TYPE_TABLE: &str = "TicketType";
pub const DEFAULT_TICKET_SOURCE_TABLE: &str = "TicketSource";
pub const DEFAULT_NOTE_TYPE_ID: i64 = 1;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub use crate::kaseya::DEFAULT_LOOKUP_TTL;

/// Where the BMS credentials come from.
#[derive(Debug, Clone)]
pub enum SecretSetting {
    /// `KASEYA_SECRET_ID`: a Secrets Manager secret name or ARN.
    SecretsManager(String),
    /// `KASEYA_CREDENTIALS`: the value itself, for local runs.
    Fixed(Arc<Secret>),
}

/// How callers prove they are a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonAuth {
    /// A key from the secret's `buttonKeys`, as `Authorization: Bearer` or `X-Api-Key`.
    Key,
    /// The API in front (an API Gateway authorizer, IAM) has already authenticated the caller.
    None,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub secret: SecretSetting,
    /// BMS base URL without a trailing `/` or `/v2`.
    pub api_url: String,
    pub rules: Rules,
    pub unregistered_email: Email,
    pub auth: ButtonAuth,
    /// BMS does not document the lookup tables of ticket types and sources; these name them.
    pub ticket_type_table: String,
    pub ticket_source_table: String,
    /// The note type of the attachment note (note types are per tenant).
    pub note_type_id: i64,
    /// Per BMS call.
    pub timeout: Duration,
    /// `BUTTON_PREVIEW=on`: `/tickets/preview` answers. It shows the contact an e-mail matches,
    /// so it is off unless asked for.
    pub preview: bool,
    /// Pauses between retries of BMS calls that failed for a passing reason.
    pub backoff: Backoff,
    /// How long lookup lists are reused before BMS is read again.
    pub lookup_ttl: Duration,
    /// `BUTTON_BASE_PATH`: the path a custom domain maps the API under (`/helpdesk`), or empty.
    /// Routes match exactly below it, so no other prefix reaches an endpoint.
    pub base_path: String,
    /// `BUTTON_WEB`, `BUTTON_WEB_TITLE`, `BUTTON_WEB_INTRO`: the help page.
    pub web: crate::web::WebSettings,
}

/// Everything wrong with the environment, each line naming its variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    /// Read the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();

        let secret = match (get("KASEYA_SECRET_ID"), get("KASEYA_CREDENTIALS")) {
            (Some(id), _) => Some(SecretSetting::SecretsManager(id.trim().to_string())),
            (None, Some(value)) => match Secret::parse(&value) {
                Ok(s) => Some(SecretSetting::Fixed(Arc::new(s))),
                Err(e) => {
                    problems.push(format!("KASEYA_CREDENTIALS: {e}"));
                    None
                }
            },
            (None, None) => {
                problems.push(
                    "KASEYA_SECRET_ID is not set: set it to the name or ARN of the Secrets \
                     Manager secret that holds the BMS credentials (or, for local runs only, \
                     set KASEYA_CREDENTIALS to `Company+username:password`)"
                        .into(),
                );
                None
            }
        };

        let api_url = get("KASEYA_API_URL")
            .map(|u| parse_api_url(&u))
            .unwrap_or_else(|| Ok(DEFAULT_API_URL.to_string()))
            .map_err(|e| problems.push(format!("KASEYA_API_URL: {e}")))
            .ok();

        let rules = match get("BUTTON_RULES") {
            None => Some(Rules::default()),
            Some(text) => Rules::parse(&text)
                .map_err(|e| {
                    for p in e.problems {
                        problems.push(format!("BUTTON_RULES: {p}"));
                    }
                })
                .ok(),
        };

        let unregistered_email = Email::parse(
            &get("KASEYA_UNREGISTERED_EMAIL").unwrap_or_else(|| DEFAULT_UNREGISTERED_EMAIL.into()),
        )
        .map_err(|e| problems.push(format!("KASEYA_UNREGISTERED_EMAIL {e}")))
        .ok();

        let auth = match get("BUTTON_AUTH")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("key") => Some(ButtonAuth::Key),
            Some("none") => Some(ButtonAuth::None),
            Some(other) => {
                problems.push(format!(
                    "BUTTON_AUTH is `{other}`: use `key` (callers present a button key) or \
                     `none` (the API in front authenticates them)"
                ));
                None
            }
        };

        let preview = match get("BUTTON_PREVIEW")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("off") => false,
            Some("on") => true,
            Some(other) => {
                problems.push(format!(
                    "BUTTON_PREVIEW is `{other}`: use `on` (POST /tickets/preview shows what a \
                     press would file, including the contact its e-mail matches) or `off`"
                ));
                false
            }
        };

        let note_type_id = number(
            &get,
            "KASEYA_NOTE_TYPE_ID",
            DEFAULT_NOTE_TYPE_ID,
            0,
            &mut problems,
        );
        let timeout = number(
            &get,
            "KASEYA_TIMEOUT_SECONDS",
            DEFAULT_TIMEOUT.as_secs() as i64,
            1,
            &mut problems,
        )
        .map(|s| Duration::from_secs(s.unsigned_abs()));
        let lookup_ttl = number(
            &get,
            "KASEYA_LOOKUP_TTL_SECONDS",
            DEFAULT_LOOKUP_TTL.as_secs() as i64,
            0,
            &mut problems,
        )
        .map(|s| Duration::from_secs(s.unsigned_abs()));

        let defaults = Backoff::default();
        let millis = |name: &str, default: Duration, problems: &mut Vec<String>| {
            number(&get, name, default.as_millis() as i64, 1, problems)
                .map(|ms| Duration::from_millis(ms.unsigned_abs()))
        };
        let backoff = match (
            millis("KASEYA_RETRY_BASE_MS", defaults.base, &mut problems),
            millis("KASEYA_RETRY_CAP_MS", defaults.cap, &mut problems),
        ) {
            (Some(base), Some(cap)) => Some(Backoff {
                base,
                cap,
                ..defaults
            }),
            _ => None,
        };

        let table = |name: &str, default: &str| {
            get(name).map_or_else(|| default.to_string(), |v| v.trim().to_string())
        };
        let ticket_type_table = table("KASEYA_TICKET_TYPE_TABLE", DEFAULT_TICKET_TYPE_TABLE);
        let ticket_source_table = table("KASEYA_TICKET_SOURCE_TABLE", DEFAULT_TICKET_SOURCE_TABLE);
        let base_path = base_path(get("BUTTON_BASE_PATH").as_deref());
        let web = crate::web::WebSettings::from_lookup(get, &mut problems);

        match (
            secret,
            api_url,
            rules,
            unregistered_email,
            auth,
            note_type_id,
            timeout,
            backoff,
            lookup_ttl,
        ) {
            (
                Some(secret),
                Some(api_url),
                Some(rules),
                Some(unregistered_email),
                Some(auth),
                Some(note_type_id),
                Some(timeout),
                Some(backoff),
                Some(lookup_ttl),
            ) if problems.is_empty() => Ok(Config {
                secret,
                api_url,
                rules,
                unregistered_email,
                auth,
                ticket_type_table,
                ticket_source_table,
                note_type_id,
                timeout,
                preview,
                backoff,
                lookup_ttl,
                base_path,
                web,
            }),
            _ => Err(ConfigError { problems }),
        }
    }
}

/// `/helpdesk`, `helpdesk/` and `/helpdesk/` all mean `/helpdesk`; nothing means no prefix.
fn base_path(raw: Option<&str>) -> String {
    match raw.map(|p| p.trim().trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("/{p}"),
        _ => String::new(),
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: i64,
    min: i64,
    problems: &mut Vec<String>,
) -> Option<i64> {
    let Some(raw) = get(name) else {
        return Some(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= min => Some(n),
        _ => {
            problems.push(format!(
                "{name} is `{raw}`: it must be a whole number of at least {min}"
            ));
            None
        }
    }
}

/// An http(s) URL with a host; a trailing `/` or `/v2` (copied from Kaseya's docs) is dropped.
fn parse_api_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let url = reqwest::Url::parse(raw)
        .map_err(|e| format!("`{raw}` is not a URL ({e}); use e.g. {DEFAULT_API_URL}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!(
            "`{raw}` must be an https:// URL such as {DEFAULT_API_URL}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{raw}` must not have a query or a fragment"));
    }
    let mut s = url.as_str().trim_end_matches('/').to_string();
    if let Some(stripped) = s.strip_suffix("/v2") {
        s = stripped.to_string();
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("KASEYA_SECRET_ID", "kaseya/bms")]).unwrap();
        assert_eq!(c.api_url, DEFAULT_API_URL);
        assert_eq!(c.auth, ButtonAuth::Key);
        assert_eq!(c.unregistered_email.as_str(), DEFAULT_UNREGISTERED_EMAIL);
        assert!(matches!(c.secret, SecretSetting::SecretsManager(ref id) if id == "kaseya/bms"));
        assert_eq!(c.ticket_type_table, "TicketType");
        assert!(!c.preview, "preview is off unless asked for");
        assert_eq!(c.lookup_ttl, Duration::from_secs(300));
    }

    #[test]
    fn preview_on_off_or_an_error() {
        let with = |v: &str| config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_PREVIEW", v)]);
        assert!(with("on").unwrap().preview);
        assert!(with(" ON ").unwrap().preview);
        assert!(!with("off").unwrap().preview);
        let err = with("yes").unwrap_err().to_string();
        assert!(err.contains("BUTTON_PREVIEW is `yes`"), "{err}");
    }

    #[test]
    fn lookup_lifetime() {
        let ttl = |v: &str| {
            config(&[
                ("KASEYA_SECRET_ID", "kaseya/bms"),
                ("KASEYA_LOOKUP_TTL_SECONDS", v),
            ])
            .map(|c| c.lookup_ttl)
        };
        assert_eq!(ttl("60"), Ok(Duration::from_secs(60)));
        assert_eq!(ttl("0"), Ok(Duration::ZERO));
        let err = ttl("five minutes").unwrap_err().to_string();
        assert!(err.contains("KASEYA_LOOKUP_TTL_SECONDS"), "{err}");
        assert!(ttl("-1").is_err());
    }

    #[test]
    fn url_forms() {
        assert_eq!(
            parse_api_url("https://api.bmsemea.kaseya.com/v2/").unwrap(),
            "https://api.bmsemea.kaseya.com"
        );
        assert_eq!(
            parse_api_url("http://127.0.0.1:9100").unwrap(),
            "http://127.0.0.1:9100"
        );
        assert!(parse_api_url("api.bms.kaseya.com").is_err());
        assert!(parse_api_url("ftp://x.com").is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let err = config(&[
            ("KASEYA_CREDENTIALS", "nonsense-s3cret"),
            ("KASEYA_API_URL", "not a url"),
            ("BUTTON_AUTH", "maybe"),
            ("KASEYA_UNREGISTERED_EMAIL", "nobody"),
            ("KASEYA_TIMEOUT_SECONDS", "0"),
            ("KASEYA_RETRY_BASE_MS", "soon"),
            ("BUTTON_RULES", "{not json"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for var in [
            "KASEYA_CREDENTIALS",
            "KASEYA_API_URL",
            "BUTTON_AUTH",
            "KASEYA_UNREGISTERED_EMAIL",
            "KASEYA_TIMEOUT_SECONDS",
            "KASEYA_RETRY_BASE_MS",
            "BUTTON_RULES",
        ] {
            assert!(text.contains(var), "{var} missing from:\n{text}");
        }
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn debug_print_holds_no_credential_or_key() {
        let c = config(&[(
            "KASEYA_CREDENTIALS",
            r#"{"credentials":"Contoso+api:pa55w0rd-xyz","buttonKeys":["btn-key-123"]}"#,
        )])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(printed.contains("Contoso"), "{printed}");
        assert!(
            !printed.contains("pa55w0rd") && !printed.contains("btn-key-123"),
            "{printed}"
        );
    }

    #[test]
    fn no_secret_at_all() {
        let err = config(&[]).unwrap_err();
        assert!(err.to_string().contains("KASEYA_SECRET_ID"), "{err}");
    }
}
