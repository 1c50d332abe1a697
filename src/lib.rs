//! kaseya-button: a press of a help-desk button becomes a Kaseya BMS ticket.
//!
//! Data flows one way: request -> context -> rules -> resolution -> ticket -> answer. The
//! [`App`] is built once per Lambda container and borrowed by every invocation.

pub mod button;
pub mod config;
pub mod context;
pub mod idempotency;
pub mod kaseya;
pub mod problem;
pub mod resolve;
pub mod rules;
pub mod secret;
pub mod ticket;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use lambda_http::http::{HeaderMap, Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::button::{ButtonRequest, Email, RequestError};
use crate::config::{ButtonAuth, Config, ConfigError, SecretSetting};
use crate::context::{Context, Lookup};
use crate::idempotency::{IdempotencyKey, Marker};
use crate::kaseya::{Bms, BmsError, Contact, CreatedTicket, NoteInput, TicketInput};
use crate::problem::Problem;
use crate::resolve::{Resolution, Tables};
use crate::rules::Outcome;
use crate::secret::{KeyCheck, SecretStore, Source};
use crate::ticket::Requester;

/// The function: configuration and clients, built once.
pub struct App {
    ready: Result<Ready, ConfigError>,
}

struct Ready {
    config: Config,
    secrets: Arc<SecretStore>,
    bms: Bms,
    /// The catch-all contact, found once per container.
    catch_all: Mutex<Option<Contact>>,
}

/// What a path asks for; every endpoint takes the same caller authentication.
enum Endpoint {
    Create,
    Preview,
    Health,
}

/// Everything a ticket needs, short of creating it: what `/tickets/preview` shows.
struct Plan {
    requester: Requester,
    resolution: Resolution,
    warnings: Vec<String>,
    note: Option<NoteInput>,
}

/// What BMS holds from an earlier press with the same e-mail and `Idempotency-Key`.
enum Earlier {
    /// No key, or no ticket of the last ten minutes carries the marker.
    Nothing,
    Found(CreatedTicket),
    /// The search failed in a way no retry would cure; the reason goes into the warnings.
    Unchecked(String),
}

/// A request taken through the rules.
struct Evaluated {
    button: ButtonRequest,
    before: Context,
    after: Context,
    outcome: Outcome,
    now: DateTime<Utc>,
}

impl App {
    /// Read the environment and build the clients. A configuration error is logged here, once,
    /// and answered to every request.
    pub async fn from_env() -> App {
        App::new(Config::from_env()).await
    }

    pub async fn new(config: Result<Config, ConfigError>) -> App {
        let ready = match config {
            Ok(config) => Ready::new(config).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &ready {
            tracing::error!(
                problems = %e,
                "configuration error: every request will be answered 500 until it is fixed"
            );
        }
        App { ready }
    }

    /// What a request would otherwise wait for, done before the first one: the secret, the BMS
    /// login, and (concurrently) the lookup lists the rules' defaults need and the catch-all
    /// contact. Lambda runs this in its init phase, outside any request's time. Failures are
    /// logged and left to the request path, which fetches whatever is still missing.
    pub async fn warm_up(&self) {
        if let Ok(ready) = &self.ready {
            ready.warm_up().await;
        }
    }

    /// One invocation. Never fails: every error becomes a problem+json answer.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().trim_end_matches('/').to_string();
        // Lambda hands an event over before its deadline. One already past is not a real
        // deadline (local emulators send a duration, e.g. 600000, where the epoch time belongs)
        // and is ignored: API Gateway's budget still bounds the invocation.
        let lambda_deadline = req
            .lambda_context_ref()
            .filter(|c| c.deadline > 0)
            .map(|c| c.deadline())
            .filter(|&at| at > std::time::SystemTime::now());
        let deadline = kaseya::deadline(started, lambda_deadline);
        let answer = match &self.ready {
            Ok(ready) => kaseya::within(deadline, ready.route(&method, &path, req)).await,
            Err(e) => Err(Problem::from(e)),
        };
        let response = answer.unwrap_or_else(|p| {
            if p.status >= 500 {
                tracing::error!(status = p.status, detail = ?p.detail, "request failed");
            } else {
                tracing::info!(status = p.status, detail = ?p.detail, "request refused");
            }
            p.to_response()
        });
        tracing::info!(
            %method,
            path,
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        response
    }
}

/// The request's `Idempotency-Key`; an unusable one is a 400, never silently ignored.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, Problem> {
    IdempotencyKey::from_headers(headers).map_err(|e| Problem::from(RequestError::Malformed(e)))
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    bearer
        .or_else(|| {
            headers
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        })
        .filter(|k| !k.is_empty())
}

impl Plan {
    /// Whether a ticket an earlier press left is this press's: the marker alone is not enough,
    /// the ticket must also be for the same contact.
    fn is_for(&self, earlier: &CreatedTicket) -> bool {
        earlier.contact_id == Some(self.requester.contact.id)
    }

    /// The `POST /v2/servicedesk/tickets` body, built once the warnings are final: they are
    /// listed in the ticket too.
    fn ticket(&self, ev: &Evaluated, marker: Option<&Marker>) -> TicketInput {
        ticket::ticket_input(
            &ev.button,
            &ev.after,
            &self.requester,
            &self.resolution,
            &self.warnings,
            ev.now,
            marker,
        )
    }
}

impl Ready {
    async fn new(config: Config) -> Result<Ready, ConfigError> {
        let source = match &config.secret {
            SecretSetting::Fixed(secret) => Source::Fixed(secret.clone()),
            SecretSetting::SecretsManager(id) => Source::SecretsManager {
                id: id.clone(),
                client: secret::secrets_manager_client(config.timeout).await,
            },
        };
        let secrets = Arc::new(SecretStore::new(source));
        let bms = Bms::new(
            &config.api_url,
            config.timeout,
            secrets.clone(),
            &config.ticket_type_table,
            &config.ticket_source_table,
        )
        .map_err(|e| ConfigError {
            problems: vec![format!("the HTTP client for BMS could not be built: {e}")],
        })?
        .with_backoff(config.backoff)
        .with_lookup_ttl(config.lookup_ttl);
        Ok(Ready {
            config,
            secrets,
            bms,
            catch_all: Mutex::new(None),
        })
    }

    async fn warm_up(&self) {
        if let Err(e) = self.secrets.get().await {
            tracing::warn!(error = %e, "warm-up: the secret could not be read; requests will retry");
            return;
        }
        if let Err(e) = self.bms.login_now().await {
            tracing::warn!(error = %e, "warm-up: BMS login failed; requests will retry");
            return;
        }
        let needed = resolve::needed_by_defaults(self.config.rules.defaults());
        let (tables, catch_all) = tokio::join!(self.tables(&needed), self.catch_all());
        if let Err(p) = tables {
            tracing::warn!(detail = %p.detail, "warm-up: lookup lists not fetched; requests will retry");
        }
        if let Err(p) = catch_all {
            tracing::warn!(detail = %p.detail, "warm-up: catch-all contact not found; requests will retry");
        }
    }

    async fn route(
        &self,
        method: &Method,
        path: &str,
        req: Request,
    ) -> Result<Response<Body>, Problem> {
        let (endpoint, allowed) = if path.ends_with("/tickets/preview") {
            (Endpoint::Preview, Method::POST)
        } else if path.ends_with("/tickets") {
            (Endpoint::Create, Method::POST)
        } else if path.ends_with("/health") {
            (Endpoint::Health, Method::GET)
        } else {
            return Err(Problem::not_found(path));
        };
        if matches!(endpoint, Endpoint::Preview) && !self.config.preview {
            return Err(Problem {
                detail: format!(
                    "`{path}` is switched off: it shows the BMS contact an e-mail matches, so it \
                     answers only when the function runs with BUTTON_PREVIEW=on"
                ),
                ..Problem::not_found(path)
            });
        }
        if *method != allowed {
            return Err(Problem::method_not_allowed(
                method.as_str(),
                path,
                allowed.as_str(),
            ));
        }
        self.authenticate(req.headers(), secret::source_ip(&req))
            .await?;
        match endpoint {
            Endpoint::Create => self.create(&req).await,
            Endpoint::Preview => self.preview(&req).await,
            Endpoint::Health => Ok(self.health().await),
        }
    }

    /// Every link of the chain, one line each: `200` when all hold, else `503`. The caches are
    /// dropped first, so a technician sees BMS as it is now. A failing line says what to fix; a
    /// check that cannot run because an earlier one failed says so, so the report always has
    /// the same four lines.
    async fn health(&self) -> Response<Body> {
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
        let secret = match &self.config.secret {
            SecretSetting::SecretsManager(id) => self.secrets.refresh().await.map_or_else(
                |e| Err(Self::health_secret_fix(&e)),
                |_| Ok(format!("read from Secrets Manager `{id}`")),
            ),
            SecretSetting::Fixed(_) => Ok("given in KASEYA_CREDENTIALS (local runs only)".into()),
        };
        report("secret", secret);
        let login = self.bms.login_now().await.map_err(|e| match e {
            BmsError::Unreachable { .. } => format!(
                "{e}: check that KASEYA_API_URL ({}) is your region's BMS API host and that the \
                 function can reach it",
                self.config.api_url
            ),
            other => other.to_string(),
        });
        let logged_in = login.is_ok();
        report(
            "BMS login",
            login.map(|()| format!("logged in at {}", self.config.api_url)),
        );
        if logged_in {
            *self.catch_all.lock().await = None;
            self.bms.forget_lookups().await;
            report("catch-all contact", self.check_catch_all().await);
            report("rules defaults", self.check_defaults().await);
        } else {
            for name in ["catch-all contact", "rules defaults"] {
                lines.push(format!("skip {name}: needs the BMS login"));
            }
        }
        let status = if healthy {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::Text(lines.join("\n") + "\n"))
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }

    /// The catch-all contact exists and its tickets have a location to go to.
    async fn check_catch_all(&self) -> Result<String, String> {
        let email = &self.config.unregistered_email;
        let contact = self.catch_all().await.map_err(|p| p.detail)?;
        let location = match contact.location() {
            Some(id) => format!("its location {id}"),
            None => match self.bms.main_location(contact.account_id).await {
                Ok(Some(id)) => format!("its account's main location {id}"),
                Ok(None) => {
                    return Err(format!(
                        "the catch-all contact `{email}` (contact {}) has no location and its \
                         account {} has no main location: give the contact a location or mark \
                         one of the account's locations as main",
                        contact.id, contact.account_id
                    ));
                }
                Err(e) => return Err(e.to_string()),
            },
        };
        Ok(format!(
            "`{email}` is contact {} of account {}, tickets go to {location}",
            contact.id, contact.account_id
        ))
    }

    /// A failing secret in the health report, with the fix for where it usually goes wrong.
    fn health_secret_fix(e: &secret::SecretError) -> String {
        match e {
            secret::SecretError::Denied { .. } => format!(
                "{e}: the function's role needs secretsmanager:GetSecretValue on this secret (the \
                 SAM template grants it on the secret it is given)"
            ),
            secret::SecretError::Unreachable { .. } => {
                format!(
                    "{e}: a function in a VPC needs a Secrets Manager endpoint or a NAT gateway"
                )
            }
            _ => e.to_string(),
        }
    }

    /// Resolve a press that no rule touches: proves `defaults` (or BMS's own defaults) give a
    /// complete ticket.
    async fn check_defaults(&self) -> Result<String, String> {
        let probe =
            json!({"email": self.config.unregistered_email.as_str(), "message": "health check"});
        let button = ButtonRequest::parse(Some("application/json"), probe.to_string().as_bytes())
            .map_err(|e| e.to_string())?;
        let mut ctx = Context::new(&button, Utc::now());
        let defaults = self.config.rules.defaults();
        ctx.fill_empty(defaults);
        let tables = self
            .tables(&resolve::needed(&ctx, defaults))
            .await
            .map_err(|p| p.detail)?;
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

    async fn authenticate(
        &self,
        headers: &HeaderMap,
        caller: Option<std::net::IpAddr>,
    ) -> Result<(), Problem> {
        // The secret is needed for BMS either way; fetching it first makes a missing or
        // malformed secret a clear 500 before anything else happens.
        let secret = self.secrets.get().await?;
        if self.config.auth == ButtonAuth::None {
            return Ok(());
        }
        let check = match presented_key(headers) {
            Some(key) => self.secrets.check_key(key, caller).await?,
            None if !secret.has_button_keys() => KeyCheck::NoKeysConfigured,
            None => KeyCheck::Rejected,
        };
        // One answer for every refusal: a caller learns nothing about which keys exist.
        let refused = || {
            Problem::unauthorized(
                "missing or wrong button key: send one of the function's button keys as \
                 `Authorization: Bearer <key>` or `X-Api-Key: <key>`",
            )
        };
        match check {
            KeyCheck::Accepted(_) => Ok(()),
            KeyCheck::Rejected => Err(refused()),
            KeyCheck::NoKeysConfigured => {
                tracing::error!(
                    "BUTTON_AUTH is `key` but the secret lists no `buttonKeys`, so every caller \
                     is refused: add them to the secret (its JSON form), or set BUTTON_AUTH=none \
                     if the API in front authenticates callers"
                );
                Err(refused())
            }
        }
    }

    /// Parse the body and run the rules.
    fn evaluate(&self, req: &Request) -> Result<Evaluated, Problem> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let button = ButtonRequest::parse(content_type, req.body().as_ref())?;
        let now = Utc::now();
        let before = Context::new(&button, now);
        let mut after = before.clone();
        let outcome = self.config.rules.apply(&mut after);
        Ok(Evaluated {
            button,
            before,
            after,
            outcome,
            now,
        })
    }

    /// A keyed press first looks for the ticket an earlier try created, at the same time as
    /// the contact search: a repeat costs one call more, but no extra round trip.
    async fn create(&self, req: &Request) -> Result<Response<Body>, Problem> {
        let key = idempotency_key(req.headers())?;
        let ev = self.evaluate(req)?;
        if let Some(rejection) = &ev.outcome.rejected {
            tracing::info!(rule = rejection.rule, "a rule rejected the ticket");
            return Err(Problem::rejected(rejection.message.clone()));
        }
        let secret = self.secrets.get().await?;
        let marker = key.map(|k| Marker::new(secret.marker_key(), &ev.button.email, &k));
        let (earlier, plan) = self.plan_and_earlier(&ev, marker.as_ref()).await;
        let mut plan = match earlier? {
            // The ticket exists: the answer the client lost is what it needs.
            Earlier::Found(first) if plan.as_ref().is_ok_and(|p| p.is_for(&first)) => {
                tracing::info!(
                    ticket_id = first.id,
                    "repeated press: answered with its ticket"
                );
                let body = json!({
                    "ticketId": first.id,
                    "ticketNumber": first.ticket_number,
                    "warnings": [],
                    "duplicate": true,
                });
                return Ok(json_response(StatusCode::OK, &body));
            }
            // Another contact's ticket is not this press's, whoever put the marker there; and
            // without this press's contact it cannot be told whose it is.
            Earlier::Found(other) => {
                if plan.is_ok() {
                    tracing::warn!(
                        ticket_id = other.id,
                        "a ticket of another contact carries this press's marker: filing anew"
                    );
                }
                plan?
            }
            Earlier::Nothing => plan?,
            Earlier::Unchecked(warning) => {
                let mut plan = plan?;
                plan.warnings.push(warning);
                plan
            }
        };
        let ticket = plan.ticket(&ev, marker.as_ref());
        let created: CreatedTicket = self.bms.create_ticket(&ticket).await?;
        tracing::info!(
            ticket_id = created.id,
            contact_id = plan.requester.contact.id,
            unregistered = plan.requester.unregistered,
            "ticket created"
        );
        if let Some(note) = &plan.note {
            // The ticket exists: failing the request now would make the button retry and file
            // it twice. The attachments are reported lost instead.
            if let Err(e) = self.bms.add_note(created.id, note).await {
                tracing::warn!(ticket_id = created.id, error = %e, "attachments not added");
                plan.warnings.push(format!(
                    "the attachments could not be added to the ticket: {e}"
                ));
            }
        }
        // Nothing here may tell a known e-mail from an unknown one: no contact, no account,
        // no "unregistered" flag (the ticket in BMS says all that to the technicians).
        let body = json!({
            "ticketId": created.id,
            "ticketNumber": created.ticket_number,
            "warnings": plan.warnings,
        });
        Ok(json_response(StatusCode::CREATED, &body))
    }

    async fn preview(&self, req: &Request) -> Result<Response<Body>, Problem> {
        let key = idempotency_key(req.headers())?;
        let ev = self.evaluate(req)?;
        let mut body = json!({
            "contextBefore": ev.before.vars(),
            "contextAfter": ev.after.vars(),
            "rules": &ev.outcome,
        });
        if ev.outcome.rejected.is_none() {
            let secret = self.secrets.get().await?;
            let marker = key.map(|k| Marker::new(secret.marker_key(), &ev.button.email, &k));
            let (earlier, plan) = self.plan_and_earlier(&ev, marker.as_ref()).await;
            let mut plan = plan?;
            let duplicate_of = match earlier? {
                Earlier::Found(first) if plan.is_for(&first) => {
                    json!({"ticketId": first.id, "ticketNumber": first.ticket_number})
                }
                Earlier::Found(_) | Earlier::Nothing => Value::Null,
                Earlier::Unchecked(warning) => {
                    plan.warnings.push(warning);
                    Value::Null
                }
            };
            let ticket = plan.ticket(&ev, marker.as_ref());
            body["contact"] = json!({
                "contactId": plan.requester.contact.id,
                "accountId": plan.requester.contact.account_id,
                "locationId": plan.requester.location_id,
                "unregistered": plan.requester.unregistered,
            });
            body["resolved"] = json!(plan.resolution);
            body["warnings"] = json!(plan.warnings);
            body["duplicateOf"] = duplicate_of;
            body["ticket"] = json!(ticket);
            body["note"] = json!(plan.note);
        }
        Ok(json_response(StatusCode::OK, &body))
    }

    /// The plan and, for a keyed press, the ticket an earlier try created, looked up side by
    /// side: the duplicate search costs a call but no round trip.
    async fn plan_and_earlier(
        &self,
        ev: &Evaluated,
        marker: Option<&Marker>,
    ) -> (Result<Earlier, Problem>, Result<Plan, Problem>) {
        // Boxed: side by side, the two futures are too large for a debug build's test thread.
        tokio::join!(
            Box::pin(self.earlier_ticket(marker, ev.now)),
            Box::pin(self.plan(ev))
        )
    }

    /// The ticket an earlier press with this marker created within the window.
    ///
    /// A failing search must neither file a repeat twice nor lose the press. So a failure a
    /// retry can outlast (BMS unreachable, rate limiting, an HTTP 5xx) files nothing and answers
    /// 503: the client sends the same key again. A failure every retry would meet (the API user
    /// may not list tickets, an answer we cannot read) files the ticket with a warning, since
    /// refusing would lose every keyed press until someone fixes BMS.
    async fn earlier_ticket(
        &self,
        marker: Option<&Marker>,
        now: DateTime<Utc>,
    ) -> Result<Earlier, Problem> {
        let Some(marker) = marker else {
            return Ok(Earlier::Nothing);
        };
        let since = idempotency::window_start(now);
        match self.bms.find_marked_ticket(marker, since).await {
            Ok(Some(first)) => Ok(Earlier::Found(first)),
            Ok(None) => Ok(Earlier::Nothing),
            Err(
                e @ (BmsError::Unreachable { .. }
                | BmsError::RateLimited { .. }
                | BmsError::Failed { status: 500.., .. }),
            ) => {
                let detail = format!(
                    "{e}. Nothing was filed: send the request again with the same {}",
                    idempotency::HEADER
                );
                Err(Problem {
                    status: 503,
                    detail,
                    ..Problem::from(e)
                })
            }
            // A ticket could not be created either: the same error as without a key.
            Err(e @ (BmsError::Secret(_) | BmsError::LoginRejected { .. })) => Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "the duplicate search failed; filing the ticket");
                Ok(Earlier::Unchecked(format!(
                    "the {} could not be checked ({e}): if this press repeats an earlier one, \
                     BMS now holds the ticket twice",
                    idempotency::HEADER
                )))
            }
        }
    }

    /// Contact, location and ids, looked up concurrently.
    async fn plan(&self, ev: &Evaluated) -> Result<Plan, Problem> {
        let defaults = self.config.rules.defaults();
        let needed = resolve::needed(&ev.after, defaults);
        let (requester, tables) =
            tokio::join!(self.requester(&ev.button.email), self.tables(&needed));
        let requester = requester?;
        let resolution = resolve::resolve(&ev.after, defaults, &tables?)?;
        let mut warnings = ev.outcome.errors.clone();
        warnings.extend(resolution.warnings.iter().cloned());
        let note = ticket::attachment_note(&ev.button, self.config.note_type_id, ev.now);
        Ok(Plan {
            requester,
            resolution,
            warnings,
            note,
        })
    }

    /// The contact for `email`, or the catch-all one, and the location the ticket goes to.
    ///
    /// The catch-all contact is required for every press, known e-mail or not, and errors name
    /// no contact: otherwise an error would tell a caller which e-mails BMS knows.
    async fn requester(&self, email: &Email) -> Result<Requester, Problem> {
        let (found, catch_all) = tokio::join!(self.bms.find_contact(email), self.catch_all());
        let catch_all = catch_all?;
        let (contact, unregistered) = match found? {
            Some(c) => (c, false),
            None => (catch_all, true),
        };
        let location_id = match contact.location() {
            Some(id) => id,
            None => self
                .bms
                .main_location(contact.account_id)
                .await?
                .ok_or_else(|| {
                    tracing::error!(
                        contact_id = contact.id,
                        account_id = contact.account_id,
                        "the contact has no location and its account no main location"
                    );
                    Problem::from(BmsError::Failed {
                        what: "account locations".into(),
                        status: 200,
                        message: "the ticket's contact has no location and its account has no \
                                  main location: set one in BMS (the function's log names the \
                                  account)"
                            .into(),
                    })
                })?,
        };
        Ok(Requester {
            contact,
            location_id,
            unregistered,
        })
    }

    async fn catch_all(&self) -> Result<Contact, Problem> {
        // Held across the search: concurrent cold presses wait for one search, not one each.
        let mut slot = self.catch_all.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let email = &self.config.unregistered_email;
        let contact = self.bms.find_contact(email).await?.ok_or_else(|| {
            Problem::configuration(format!(
                "the catch-all contact `{email}` for unregistered users is not an active contact \
                 in BMS: create it (under an account with a main location), or set \
                 KASEYA_UNREGISTERED_EMAIL to the one you use"
            ))
        })?;
        *slot = Some(contact.clone());
        Ok(contact)
    }

    /// The lookup lists resolution needs, fetched concurrently (the first request of a container
    /// pays for them once).
    async fn tables(&self, needed: &[Lookup]) -> Result<Tables, Problem> {
        let fetch = |l: Lookup| async move {
            if needed.contains(&l) {
                Some((l, self.bms.lookup(l).await))
            } else {
                None
            }
        };
        let (a, b, c, d, e, f) = tokio::join!(
            fetch(Lookup::Status),
            fetch(Lookup::Priority),
            fetch(Lookup::Queue),
            fetch(Lookup::Assignee),
            fetch(Lookup::TicketType),
            fetch(Lookup::TicketSource),
        );
        let mut tables = Tables::new();
        for (l, result) in [a, b, c, d, e, f].into_iter().flatten() {
            let entry = match result {
                Ok(items) => Ok(items),
                // Ticket type and source tables are undocumented: a wrong table name must not
                // stop a ticket whose rules give ids, so it is kept as a reason, not an error.
                Err(BmsError::Failed { message, .. })
                    if matches!(l, Lookup::TicketType | Lookup::TicketSource) =>
                {
                    let (table, var) = if l == Lookup::TicketType {
                        (&self.config.ticket_type_table, "KASEYA_TICKET_TYPE_TABLE")
                    } else {
                        (
                            &self.config.ticket_source_table,
                            "KASEYA_TICKET_SOURCE_TABLE",
                        )
                    };
                    Err(format!(
                        "BMS could not read the {} lookup table `{table}` ({message}): set {var} \
                         to the right table name, or give `{}` as an integer id",
                        l.label(),
                        l.variable()
                    ))
                }
                Err(e) => return Err(e.into()),
            };
            tables.insert(l, entry);
        }
        Ok(tables)
    }
}
