//! `GET /health`: every link of the chain from the secret to a complete ticket, one line each.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use super::{Problem, answer};
use crate::button::ButtonRequest;
use crate::config::SecretSetting;
use crate::context::{Context, Lookup};
use crate::kaseya::BmsError;
use crate::rules::Rules;
use crate::rules_store::Status;
use crate::secret::SecretError;
use crate::state::State;
use crate::{press, queue, resolve};

/// The report: `200` when all hold, else `503`, made afresh at most once per
/// `BUTTON_HEALTH_REUSE_SECONDS` (a minute).
pub(super) async fn report(app: &State) -> Response<Body> {
    // Held while checking: concurrent calls wait for one report rather than each making one.
    let mut cached = app.health.lock().await;
    let (status, text) = match cached.as_ref() {
        Some((at, status, text)) if at.elapsed() < app.config.health_reuse => {
            (*status, text.clone())
        }
        _ => {
            let (status, text) = check(app).await;
            *cached = Some((Instant::now(), status.as_u16(), text.clone()));
            (status.as_u16(), text)
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    answer::text(status, text, None)
}

/// Every check, one line each. The caches are dropped first, so a technician sees BMS as it is
/// now. A failing line says what to fix; a check that cannot run because an earlier one failed
/// says so, so the report always has the same five lines, one more for the rules parameter when
/// the rules come from one, and one for the parking queue when one is configured.
async fn check(app: &State) -> (StatusCode, String) {
    let mut lines = Vec::new();
    let mut healthy = true;
    let mut report = |name: &str, result: Result<String, String>| {
        let line = match result {
            Ok(detail) => format!("ok   {name}: {detail}"),
            Err(why) => {
                healthy = false;
                format!("FAIL {name}: {why}")
            }
        };
        lines.push(line);
    };
    report("secret", check_secret(app).await);
    // Read now, so that a version published a moment ago is the one checked below.
    app.rules.refresh().await;
    let status = app.rules.status().await;
    if let Some(parameter) = &status.parameter {
        report("rules parameter", rules_parameter(parameter, &status));
    }
    let rules = status.in_force.map(|f| f.rules);
    let login = check_login(app).await;
    let logged_in = login.is_ok();
    report("BMS login", login);
    if logged_in {
        app.catch_all.forget().await;
        app.bms.forget_lookups().await;
        report("catch-all contact", check_catch_all(app).await);
        if let Some(rules) = &rules {
            report("rules defaults", check_defaults(app, rules).await);
            report("rules names", check_names(app, rules).await);
        } else {
            for name in ["rules defaults", "rules names"] {
                lines.push(format!("skip {name}: needs rules in force"));
            }
        }
    } else {
        for name in ["catch-all contact", "rules defaults", "rules names"] {
            lines.push(format!("skip {name}: needs the BMS login"));
        }
    }
    if app.queue.is_some() {
        let queue = check_queue(app).await;
        healthy &= queue.is_ok();
        lines.push(match queue {
            Ok(detail) => format!("ok   parking queue: {detail}"),
            Err(why) => format!("FAIL parking queue: {why}"),
        });
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, lines.join("\n") + "\n")
}

/// The secret, read again from Secrets Manager, with the fix for where it usually goes wrong.
async fn check_secret(app: &State) -> Result<String, String> {
    let id = match &app.config.secret {
        SecretSetting::SecretsManager(id) => id,
        SecretSetting::Fixed(_) => {
            return Ok("given in KASEYA_CREDENTIALS (local runs only)".into());
        }
    };
    match app.secrets.refresh().await {
        Ok(_) => Ok(format!("read from Secrets Manager `{id}`")),
        Err(e @ SecretError::Denied { .. }) => Err(format!(
            "{e}: the function's role needs secretsmanager:GetSecretValue on this secret (the SAM \
             template grants it on the secret it is given)"
        )),
        Err(e @ SecretError::Unreachable { .. }) => Err(format!(
            "{e}: a function in a VPC needs a Secrets Manager endpoint or a NAT gateway"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The version in force, and what keeps a newer one out: a refused version (with the checker's
/// problems) or a failed read. Either fails the line, for the published rules are not the ones
/// presses go by.
fn rules_parameter(parameter: &str, status: &Status) -> Result<String, String> {
    let in_force = match status.in_force.as_ref().and_then(|f| f.version) {
        Some(v) => format!("version {v} stays in force"),
        None => "no version is in force, so presses are parked (or answered 503 without a \
                 queue) until one can be read"
            .to_string(),
    };
    if let Some(refused) = &status.refused {
        return Err(format!(
            "version {} of `{parameter}` was refused: {}. Correct the document and publish it \
             again (`button-rules publish`); {in_force}",
            refused.version,
            refused.problems.join("; ")
        ));
    }
    if let Some(e) = &status.failure {
        return Err(format!("{e}; {in_force}"));
    }
    match status.in_force.as_ref() {
        Some(f) => Ok(format!(
            "version {} of `{parameter}` in force, {} rules",
            f.version.unwrap_or_default(),
            f.rules.len()
        )),
        None => Err(format!("`{parameter}` has not been read; {in_force}")),
    }
}

/// The queue a press BMS cannot take is parked on: reachable, and how many presses wait on it.
/// A press parked there is one BMS has not seen yet, so a long wait is worth a look.
async fn check_queue(app: &State) -> Result<String, String> {
    let Some(queue) = app.queue.as_ref() else {
        return Ok("not configured".into());
    };
    let depth = queue.depth().await.map_err(|e| {
        format!(
            "{e}: a press BMS cannot take would be answered 503 instead of parked. Check \
             BUTTON_QUEUE_URL ({}) and that the function's role may sqs:SendMessage and \
             sqs:GetQueueAttributes on it",
            queue.url()
        )
    })?;
    let parked = depth.waiting + depth.in_flight;
    let presses = if parked == 1 { "press" } else { "presses" };
    let mut line = format!(
        "reachable, {parked} {presses} parked ({} being replayed or waiting to be retried)",
        depth.in_flight
    );
    // The age is CloudWatch's to tell, a minute late at best: not knowing it fails nothing.
    if parked > 0 {
        line += &match queue.oldest_age().await {
            Ok(Some(age)) => format!("; the oldest has waited {}", queue::age::human(age)),
            Ok(None) => {
                "; the oldest's age: no CloudWatch data point in the last 5 minutes yet".to_string()
            }
            Err(e) => format!(
                "; the oldest's age unknown ({e}: the role needs cloudwatch:GetMetricStatistics)"
            ),
        };
    }
    Ok(line)
}

/// A fresh login, so that a rotated or wrong password shows now.
async fn check_login(app: &State) -> Result<String, String> {
    let api_url = &app.config.api_url;
    match app.bms.login_now().await {
        Ok(()) => Ok(format!("logged in at {api_url}")),
        Err(e @ BmsError::Unreachable { .. }) => Err(format!(
            "{e}: check that KASEYA_API_URL ({api_url}) is your region's BMS API host and that the \
             function can reach it"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The catch-all contact exists and its tickets have a location to go to.
async fn check_catch_all(app: &State) -> Result<String, String> {
    let email = app.catch_all.email();
    let contact = app
        .catch_all
        .get(&app.bms)
        .await
        .map_err(|e| Problem::from(e).detail)?;
    let location = match press::location(&app.bms, &contact).await {
        Ok(Some(id)) if contact.location() == Some(id) => format!("its location {id}"),
        Ok(Some(id)) => format!("its account's main location {id}"),
        Ok(None) => {
            return Err(format!(
                "the catch-all contact `{email}` (contact {}) has no location and its account {} \
                 has no main location: give the contact a location or mark one of the account's \
                 locations as main",
                contact.id, contact.account_id
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok(format!(
        "`{email}` is contact {} of account {}, tickets go to {location}",
        contact.id, contact.account_id
    ))
}

/// Resolve a press that no rule touches: proves `defaults` (or BMS's own defaults) give a
/// complete ticket.
async fn check_defaults(app: &State, rules: &Rules) -> Result<String, String> {
    let probe = json!({"email": app.config.unregistered_email.as_str(), "message": "health check"});
    let button = ButtonRequest::parse(Some("application/json"), probe.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let mut ctx = Context::new(&button, Utc::now());
    let defaults = rules.defaults();
    ctx.fill_empty(defaults);
    let tables = press::tables(&app.bms, &resolve::needed(&ctx, defaults))
        .await
        .map_err(|e| Problem::from(e).detail)?;
    let r = resolve::resolve(&ctx, defaults, &tables).map_err(|e| e.to_string())?;
    if !r.warnings.is_empty() {
        return Err(format!(
            "{}: correct `defaults` in BUTTON_RULES to names BMS knows (docs/rules.md)",
            r.warnings.join("; ")
        ));
    }
    let show = |label: &str, c: &resolve::Choice| match &c.name {
        Some(n) => format!("{label} `{n}` ({})", c.id),
        None => format!("{label} {}", c.id),
    };
    let mut parts = vec![
        show("status", &r.status),
        show("priority", &r.priority),
        show("type", &r.ticket_type),
        show("source", &r.ticket_source),
    ];
    parts.extend(r.queue.as_ref().map(|c| show("queue", c)));
    parts.extend(r.assignee.as_ref().map(|c| show("assignee", c)));
    Ok(parts.join(", "))
}

/// Every name the rules can set, not only the defaults, and every key's `account`: a misspelt
/// name in a rule that seldom matches, or in the key of a customer who seldom presses, would
/// otherwise surface only in the ticket of the user it surprised.
async fn check_names(app: &State, rules: &Arc<Rules>) -> Result<String, String> {
    let names = names_given(app, rules).await.map_err(|p| p.detail)?;
    if names.is_empty() {
        return Ok("the rules and keys set no names".into());
    }
    let unknown = unknown_rules_names(app, rules)
        .await
        .map_err(|p| p.detail)?;
    if unknown.is_empty() {
        return Ok(format!(
            "each of the {} names the rules and keys set is active in BMS",
            names.len()
        ));
    }
    let in_keys = unknown
        .iter()
        .any(|u| u.starts_with(KEY_PLACE) || u.starts_with(UNNAMED_KEY_PLACE));
    let fix = if in_keys {
        "correct them in BUTTON_RULES, or a key's `account` in the secret, to names BMS knows \
         (docs/rules.md, docs/keys.md)"
    } else {
        "correct them in BUTTON_RULES to names BMS knows (docs/rules.md)"
    };
    Err(format!("{}: {fix}", unknown.join("; ")))
}

/// How the report names a key's `account`.
const KEY_PLACE: &str = "the key ";
const UNNAMED_KEY_PLACE: &str = "the account of a ";

/// The names the rules give lookup variables, and the accounts the keys name.
async fn names_given(app: &State, rules: &Rules) -> Result<Vec<resolve::RulesName>, Problem> {
    let secret = app.secrets.get().await?;
    let mut names = rules.literal_names();
    names.extend(secret.entries().filter_map(|e| {
        let name = e.customer.account.as_ref()?.as_str()?.trim();
        Some(resolve::RulesName {
            lookup: Lookup::Account,
            name: name.to_string(),
            at: match e.name {
                Some(n) => format!("{KEY_PLACE}`{n}`'s account"),
                None => format!("{UNNAMED_KEY_PLACE}{} key without a name", e.role.label()),
            },
        })
    }));
    Ok(names)
}

/// The names the rules can set that BMS does not know, each with where the rules set it and the
/// names BMS knows: for the health report and the preview, never for a button.
pub(crate) async fn unknown_rules_names(
    app: &State,
    rules: &Rules,
) -> Result<Vec<String>, Problem> {
    let names = names_given(app, rules).await?;
    let needed: Vec<Lookup> = Lookup::ALL
        .into_iter()
        .filter(|l| names.iter().any(|n| n.lookup == *l))
        .collect();
    let tables = press::tables(&app.bms, &needed).await?;
    Ok(resolve::unknown_names(&names, &tables))
}
