//! The environment, read once at start into a typed configuration.
//!
//! Every problem is collected, not just the first, so that one deploy fixes them all.

mod endpoints;
mod settings;
mod vars;

use std::sync::Arc;
use std::time::Duration;

use crate::button::Email;
use crate::kaseya::Backoff;
use crate::rules::Rules;
use crate::secret::Secret;
use endpoints::{extra_roots, parse_api_url, queue_url};
use settings::{
    auth, backoff, base_path, follow_up, metrics, osticket_answer, osticket_dedupe, preview, web,
};
use vars::Vars;

pub const DEFAULT_API_URL: &str = "https://api.bms.kaseya.com";
pub const DEFAULT_UNREGISTERED_EMAIL: &str = "unregistered@helpdeskbuttons.com";
pub const DEFAULT_TICKET_TYPE_TABLE: &str = "TicketType";
pub const DEFAULT_TICKET_SOURCE_TABLE: &str = "TicketSource";
pub const DEFAULT_NOTE_TYPE_ID: i64 = 1;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// A health report costs a login and about eight BMS calls; BMS allows 1,500 calls an hour per
/// endpoint, and a monitor polling every few seconds must not spend them.
pub const DEFAULT_HEALTH_REUSE: Duration = Duration::from_secs(60);
/// A ticket's status, read for a follow-up, is answered again for a minute.
pub const STATUS_REUSE: Duration = Duration::from_secs(60);
/// The first wait of a replayed press BMS still cannot take; the queue's own backoff doubles it.
pub const DEFAULT_REPLAY_RETRY: Duration = Duration::from_secs(60);
pub use crate::kaseya::DEFAULT_LOOKUP_TTL;
/// osTicket clients send no `Idempotency-Key` and retry for minutes after a slow answer.
pub const DEFAULT_OSTICKET_DEDUPE_MINUTES: i64 = 10;
/// A day: a longer window would swallow a problem reported again the next morning.
pub const MAX_OSTICKET_DEDUPE_MINUTES: i64 = 24 * 60;
/// How long a follow-up token lets its user read and add to the ticket.
pub const DEFAULT_FOLLOW_UP_DAYS: i64 = 30;
/// A year: a token is a bearer credential, and a ticket that old is long closed.
pub const MAX_FOLLOW_UP_DAYS: i64 = 366;
/// A button key removed from the secret stops working within this time.
pub const DEFAULT_SECRET_TTL: Duration = Duration::from_secs(300);
/// Rules published to Parameter Store are in force within this time.
pub const DEFAULT_RULES_TTL: Duration = Duration::from_secs(300);

/// Where the rules document comes from.
#[derive(Debug, Clone)]
pub enum RulesSetting {
    /// `BUTTON_RULES`, checked at start; no rules when unset.
    Document(Rules),
    /// `BUTTON_RULES_PARAMETER`: a Parameter Store parameter, read at start and every
    /// `BUTTON_RULES_TTL_SECONDS` (`ttl`).
    Parameter { name: String, ttl: Duration },
}

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

/// What a created ticket is answered with on osTicket's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsTicketAnswer {
    /// The BMS ticket id, digits only: what osTicket clients parse.
    Id,
    /// The BMS ticket number (`T20261126.0001`).
    Number,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub secret: SecretSetting,
    /// BMS base URL without a trailing `/` or `/v2`.
    pub api_url: String,
    pub rules: RulesSetting,
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
    /// `BUTTON_HEALTH_REUSE_SECONDS`: how long a health report is answered again instead of
    /// made afresh (each costs a login and about eight BMS calls).
    pub health_reuse: Duration,
    /// `BUTTON_FOLLOW_UP_REUSE_SECONDS`: how long a ticket's status read is answered again to
    /// the follow-up route (each read costs two BMS calls).
    pub status_reuse: Duration,
    /// `BUTTON_WEB`, `BUTTON_WEB_TITLE`, `BUTTON_WEB_INTRO`: the help page.
    pub web: crate::web::WebSettings,
    /// `OSTICKET_DEDUPE_MINUTES`: how long a request on osTicket's route without an
    /// `Idempotency-Key` answers the ticket an identical one filed; zero turns it off.
    pub osticket_dedupe: Duration,
    /// `OSTICKET_ANSWER`: `id` or `number`.
    pub osticket_answer: OsTicketAnswer,
    /// `KASEYA_SECRET_TTL_SECONDS`: how often the secret is read again, in the background of a
    /// request, so that a key removed from it stops working.
    pub secret_ttl: Duration,
    /// `BUTTON_QUEUE_URL`: the SQS queue a press BMS cannot take now is parked on (answered
    /// 202) and replayed from. `None`: such a press is answered 503, as without a queue.
    pub queue_url: Option<String>,
    /// `BUTTON_REPLAY_RETRY_SECONDS`: how long a replayed press that BMS still cannot take
    /// waits before its first retry; each later retry waits twice as long, up to 15 minutes.
    pub replay_retry: Duration,
    /// `BUTTON_METRICS`: one CloudWatch Embedded Metric Format line per press on stdout
    /// (`emf`, the default) or none (`off`).
    pub metrics: bool,
    /// `BUTTON_FOLLOW_UP_DAYS`: how long a follow-up token reads and adds to its ticket.
    pub follow_up: Duration,
    /// `BUTTON_EXTRA_CA_FILE`: roots trusted besides the built-in ones (see [`crate::net`]).
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
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

    /// Read the process environment but the rules document, which comes back as written, for
    /// [`Config::rules`]: a container starts its first call (the secret's fetch) before it
    /// parses and checks the rules, however long the document. With `BUTTON_RULES_PARAMETER`
    /// there is no document to hold back (and `BUTTON_RULES` beside it is an error).
    pub fn from_env_but_rules() -> (Result<Config, ConfigError>, Option<String>) {
        let from_parameter = std::env::var_os("BUTTON_RULES_PARAMETER").is_some();
        let config = Config::from_lookup(|name| match name {
            "BUTTON_RULES" if !from_parameter => None,
            _ => std::env::var(name).ok(),
        });
        let text = std::env::var("BUTTON_RULES")
            .ok()
            .filter(|_| !from_parameter);
        (config, text)
    }

    /// `BUTTON_RULES` parsed and checked: no rules when unset or blank.
    pub fn rules(text: Option<&str>) -> Result<Rules, ConfigError> {
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return Ok(Rules::default());
        };
        Rules::parse(text).map_err(|e| ConfigError {
            problems: e
                .problems
                .iter()
                .map(|p| format!("BUTTON_RULES: {p}"))
                .collect(),
        })
    }

    /// Read configuration through `get` (the environment, or a map in tests). Every setting is
    /// read, in this order, before any is used: each bad one is one more line of the error.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut vars = Vars::new(get);
        let secret = secret_setting(&mut vars);
        let api_url = {
            let raw = vars.text("KASEYA_API_URL", DEFAULT_API_URL);
            vars.checked(parse_api_url(&raw).map_err(|e| format!("KASEYA_API_URL: {e}")))
        };
        let rules = rules_setting(&mut vars);
        let unregistered_email = {
            let raw = vars.text("KASEYA_UNREGISTERED_EMAIL", DEFAULT_UNREGISTERED_EMAIL);
            vars.checked(Email::parse(&raw).map_err(|e| format!("KASEYA_UNREGISTERED_EMAIL {e}")))
        };
        let auth = auth(&mut vars);
        let preview = preview(&mut vars);
        let note_type_id = vars.number("KASEYA_NOTE_TYPE_ID", DEFAULT_NOTE_TYPE_ID, 0);
        let timeout = vars.seconds("KASEYA_TIMEOUT_SECONDS", DEFAULT_TIMEOUT, 1);
        let lookup_ttl = vars.seconds("KASEYA_LOOKUP_TTL_SECONDS", DEFAULT_LOOKUP_TTL, 0);
        let backoff = backoff(&mut vars);
        let health_reuse = vars.seconds("BUTTON_HEALTH_REUSE_SECONDS", DEFAULT_HEALTH_REUSE, 0);
        let status_reuse = vars.seconds("BUTTON_FOLLOW_UP_REUSE_SECONDS", STATUS_REUSE, 0);
        let web = web(&mut vars);
        let osticket_dedupe = osticket_dedupe(&mut vars);
        let osticket_answer = osticket_answer(&mut vars);
        let secret_ttl = vars.seconds("KASEYA_SECRET_TTL_SECONDS", DEFAULT_SECRET_TTL, 1);
        let queue_url = queue_url(&mut vars);
        let replay_retry = vars.seconds("BUTTON_REPLAY_RETRY_SECONDS", DEFAULT_REPLAY_RETRY, 0);
        let metrics = metrics(&mut vars);
        let follow_up = follow_up(&mut vars);
        let extra_roots = extra_roots(&mut vars);

        let config = (|| {
            Some(Config {
                secret: secret?,
                api_url: api_url?,
                rules: rules?,
                unregistered_email: unregistered_email?,
                auth: auth?,
                ticket_type_table: vars.text("KASEYA_TICKET_TYPE_TABLE", DEFAULT_TICKET_TYPE_TABLE),
                ticket_source_table: vars
                    .text("KASEYA_TICKET_SOURCE_TABLE", DEFAULT_TICKET_SOURCE_TABLE),
                note_type_id: note_type_id?,
                timeout: timeout?,
                preview: preview?,
                backoff: backoff?,
                lookup_ttl: lookup_ttl?,
                base_path: base_path(&vars.text("BUTTON_BASE_PATH", "")),
                health_reuse: health_reuse?,
                status_reuse: status_reuse?,
                web: web?,
                osticket_dedupe: osticket_dedupe?,
                osticket_answer: osticket_answer?,
                secret_ttl: secret_ttl?,
                queue_url: queue_url?,
                replay_retry: replay_retry?,
                metrics: metrics?,
                follow_up: follow_up?,
                extra_roots: extra_roots?,
            })
        })();
        vars.finish(config)
    }
}

/// `KASEYA_SECRET_ID`, or else `KASEYA_CREDENTIALS`; one of them is needed.
fn secret_setting(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<SecretSetting> {
    if let Some(id) = vars.value("KASEYA_SECRET_ID") {
        return Some(SecretSetting::SecretsManager(id.trim().to_string()));
    }
    let Some(value) = vars.value("KASEYA_CREDENTIALS") else {
        vars.problem(
            "KASEYA_SECRET_ID is not set: set it to the name or ARN of the Secrets Manager \
             secret that holds the BMS credentials (or, for local runs only, set \
             KASEYA_CREDENTIALS to `Company+username:password`)"
                .into(),
        );
        return None;
    };
    vars.checked(
        Secret::parse(&value)
            .map(|s| SecretSetting::Fixed(Arc::new(s)))
            .map_err(|e| format!("KASEYA_CREDENTIALS: {e}")),
    )
}

/// `BUTTON_RULES_PARAMETER` (with `BUTTON_RULES_TTL_SECONDS`), or else `BUTTON_RULES`.
fn rules_setting(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<RulesSetting> {
    let ttl = vars.seconds("BUTTON_RULES_TTL_SECONDS", DEFAULT_RULES_TTL, 1);
    let Some(name) = vars.value("BUTTON_RULES_PARAMETER") else {
        return rules(vars).map(RulesSetting::Document);
    };
    if vars.value("BUTTON_RULES").is_some() {
        vars.problem(
            "BUTTON_RULES and BUTTON_RULES_PARAMETER are both set: pick one. Keep \
             BUTTON_RULES_PARAMETER (the rules read from Parameter Store, published with \
             `button-rules publish`) and remove BUTTON_RULES, or the other way round"
                .into(),
        );
        return None;
    }
    Some(RulesSetting::Parameter {
        name: name.trim().to_string(),
        ttl: ttl?,
    })
}

/// `BUTTON_RULES`, each of the document's problems a problem of its own.
fn rules(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<Rules> {
    match Config::rules(vars.value("BUTTON_RULES").as_deref()) {
        Ok(rules) => Some(rules),
        Err(e) => {
            for p in e.problems {
                vars.problem(p);
            }
            None
        }
    }
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
    fn the_help_page_is_on_unless_switched_off_and_a_bad_switch_is_named() {
        let c = config(&[("KASEYA_SECRET_ID", "s")]).unwrap();
        assert_eq!(c.web, crate::web::WebSettings::default());
        let off = config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_WEB", " OFF ")]).unwrap();
        assert!(!off.web.on);
        let e = config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_WEB", "maybe")]).unwrap_err();
        assert!(e.to_string().contains("BUTTON_WEB is `maybe`"), "{e}");
    }

    #[test]
    fn the_help_desks_phone_is_one_short_line() {
        let set = |phone: &str| config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_WEB_PHONE", phone)]);
        assert_eq!(
            set(" +1 555 0100 ").unwrap().web.phone.as_deref(),
            Some("+1 555 0100")
        );
        assert_eq!(set("  ").unwrap().web.phone, None);
        let e = set("+1 555 0100\nor e-mail us").unwrap_err().to_string();
        assert!(e.contains("BUTTON_WEB_PHONE holds a line break"), "{e}");
        let e = set(&"5".repeat(41)).unwrap_err().to_string();
        assert!(
            e.contains("BUTTON_WEB_PHONE is 41 characters long: at most 40"),
            "{e}"
        );
    }

    #[test]
    fn an_extra_ca_file_is_refused_with_the_other_problems_unless_it_holds_usable_roots() {
        let dir = std::env::temp_dir();
        let file = |name: &str, text: &str| {
            let path = dir.join(format!("{name}-{}.pem", std::process::id()));
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        let good = file(
            "extra-ca-good",
            include_str!("../../bms-sandbox/tls/ca.pem"),
        );
        let c = config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_EXTRA_CA_FILE", &good)]).unwrap();
        assert_eq!(c.extra_roots.len(), 1);
        // A PEM block that is no certificate at all: parsed as PEM, refused as a root.
        let junk = file(
            "extra-ca-junk",
            "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
        );
        let e = config(&[
            ("KASEYA_SECRET_ID", "s"),
            ("BUTTON_EXTRA_CA_FILE", &junk),
            ("BUTTON_WEB", "maybe"),
        ])
        .unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(
            e.to_string().contains("certificate 1 is not a usable root"),
            "{e}"
        );
        let missing = dir.join("no-such-extra-ca.pem").display().to_string();
        let e = config(&[
            ("KASEYA_SECRET_ID", "s"),
            ("BUTTON_EXTRA_CA_FILE", &missing),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("cannot be read"), "{e}");
    }

    #[test]
    fn an_extra_ca_file_over_the_limit_is_refused_without_being_read_whole() {
        let root = include_str!("../../bms-sandbox/tls/ca.pem");
        // A usable root, then more than the limit of what PEM readers skip.
        let padding = "# not a certificate\n".repeat(60_000);
        let path = std::env::temp_dir().join(format!("extra-ca-large-{}.pem", std::process::id()));
        std::fs::write(&path, format!("{root}{padding}")).unwrap();
        let path = path.display().to_string();
        let e = config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_EXTRA_CA_FILE", &path)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("BUTTON_EXTRA_CA_FILE") && e.contains("1 MiB"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
        // Endless: read up to the limit and refused, not read until memory runs out.
        if cfg!(unix) {
            let e = config(&[
                ("KASEYA_SECRET_ID", "s"),
                ("BUTTON_EXTRA_CA_FILE", "/dev/zero"),
            ])
            .unwrap_err();
            assert_eq!(e.problems.len(), 1, "{e}");
            assert!(
                e.problems[0]
                    .starts_with("BUTTON_EXTRA_CA_FILE is `/dev/zero`, which is larger than 1 MiB"),
                "{e}"
            );
        }
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
        assert_eq!(c.secret_ttl, Duration::from_secs(300));
    }

    #[test]
    fn secret_lifetime() {
        let ttl = |v: &str| {
            config(&[("KASEYA_SECRET_ID", "s"), ("KASEYA_SECRET_TTL_SECONDS", v)])
                .map(|c| c.secret_ttl)
        };
        assert_eq!(ttl("60"), Ok(Duration::from_secs(60)));
        // Every request would start a read of the secret.
        let err = ttl("0").unwrap_err().to_string();
        assert!(err.contains("KASEYA_SECRET_TTL_SECONDS is `0`"), "{err}");
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
    fn an_api_url_with_user_info_is_refused_without_echoing_it() {
        for url in [
            "http://alice:hunter2@127.0.0.1:9100",
            "https://alice@api.bms.kaseya.com",
            "https://alice:hunter2@api.bms.kaseya.com/v2?x=1#y",
            "http://alice:hunter2@api.bms.kaseya.com",
            "https://alice:hunter2@",
            "alice:hunter2@api.bms.kaseya.com",
            "https:/alice:hunter2@api.bms.kaseya.com",
        ] {
            let e = config(&[("KASEYA_SECRET_ID", "s"), ("KASEYA_API_URL", url)]).unwrap_err();
            assert_eq!(e.problems.len(), 1, "{url}: {e}");
            let e = e.to_string();
            assert!(
                e.starts_with("KASEYA_API_URL") && e.contains("secret"),
                "{url}: {e}"
            );
            assert!(!e.contains("hunter2") && !e.contains("alice"), "{url}: {e}");
        }
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
    fn follow_up_days() {
        let with = |vars: &[(&str, &str)]| {
            let mut all = vec![("KASEYA_SECRET_ID", "s")];
            all.extend_from_slice(vars);
            config(&all)
        };
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(with(&[]).unwrap().follow_up, 30 * day);
        let c = with(&[("BUTTON_FOLLOW_UP_DAYS", "7")]).unwrap();
        assert_eq!(c.follow_up, 7 * day);
        for bad in ["0", "367", "a week"] {
            let e = with(&[("BUTTON_FOLLOW_UP_DAYS", bad)]).unwrap_err();
            assert!(e.to_string().contains("BUTTON_FOLLOW_UP_DAYS"), "{e}");
        }
    }

    #[test]
    fn osticket_settings() {
        let with = |vars: &[(&str, &str)]| {
            let mut all = vec![("KASEYA_SECRET_ID", "s")];
            all.extend_from_slice(vars);
            config(&all)
        };
        let c = with(&[]).unwrap();
        assert_eq!(c.osticket_dedupe, Duration::from_secs(600));
        assert_eq!(c.osticket_answer, OsTicketAnswer::Id);
        let c = with(&[
            ("OSTICKET_DEDUPE_MINUTES", "0"),
            ("OSTICKET_ANSWER", "Number"),
        ])
        .unwrap();
        assert_eq!(c.osticket_dedupe, Duration::ZERO);
        assert_eq!(c.osticket_answer, OsTicketAnswer::Number);
        for (var, value) in [
            ("OSTICKET_DEDUPE_MINUTES", "1441"),
            ("OSTICKET_DEDUPE_MINUTES", "-1"),
            ("OSTICKET_DEDUPE_MINUTES", "ten"),
            ("OSTICKET_ANSWER", "digits"),
        ] {
            let err = with(&[(var, value)]).unwrap_err().to_string();
            assert!(err.contains(&format!("{var} is `{value}`")), "{err}");
        }
    }

    #[test]
    fn queue_url_unset_set_or_an_error() {
        let with = |v: &str| config(&[("KASEYA_SECRET_ID", "s"), ("BUTTON_QUEUE_URL", v)]);
        assert_eq!(
            config(&[("KASEYA_SECRET_ID", "s")]).unwrap().queue_url,
            None
        );
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/parked";
        assert_eq!(with(url).unwrap().queue_url.as_deref(), Some(url));
        let err = with("parked").unwrap_err().to_string();
        assert!(err.contains("BUTTON_QUEUE_URL is `parked`"), "{err}");
        let c = config(&[("KASEYA_SECRET_ID", "s")]).unwrap();
        assert_eq!(c.replay_retry, DEFAULT_REPLAY_RETRY);
        assert!(c.metrics, "metrics are on unless switched off");
    }

    #[test]
    fn rules_from_a_parameter_with_their_lifetime_or_an_error_when_both_are_set() {
        let c = config(&[
            ("KASEYA_SECRET_ID", "s"),
            ("BUTTON_RULES_PARAMETER", " /button/rules "),
        ])
        .unwrap();
        assert!(
            matches!(&c.rules, RulesSetting::Parameter { name, ttl }
                if name == "/button/rules" && *ttl == DEFAULT_RULES_TTL),
            "{:?}",
            c.rules
        );
        let c = config(&[
            ("KASEYA_SECRET_ID", "s"),
            ("BUTTON_RULES_PARAMETER", "/button/rules"),
            ("BUTTON_RULES_TTL_SECONDS", "30"),
        ])
        .unwrap();
        assert!(matches!(c.rules, RulesSetting::Parameter { ttl, .. } if ttl.as_secs() == 30));
        let e = config(&[
            ("KASEYA_SECRET_ID", "s"),
            ("BUTTON_RULES_PARAMETER", "/button/rules"),
            ("BUTTON_RULES", "{}"),
            ("BUTTON_RULES_TTL_SECONDS", "0"),
        ])
        .unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(e.to_string().contains("both set: pick one"), "{e}");
        assert!(
            e.to_string().contains("BUTTON_RULES_TTL_SECONDS is `0`"),
            "{e}"
        );
    }

    #[test]
    fn no_secret_at_all() {
        let err = config(&[]).unwrap_err();
        assert!(err.to_string().contains("KASEYA_SECRET_ID"), "{err}");
    }
}
