//! kaseya-button: a press of a help-desk button becomes a Kaseya BMS ticket.
//!
//! Data flows one way: request -> context -> rules -> resolution -> ticket -> answer. The
//! [`App`] is built once per Lambda container and borrowed by every invocation.

pub mod button;
pub mod config;
pub mod context;
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
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use tokio::sync::RwLock;

use crate::button::{ButtonRequest, Email};
use crate::config::{ButtonAuth, Config, ConfigError, SecretSetting};
use crate::context::{Context, Lookup};
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
    catch_all: RwLock<Option<Contact>>,
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
    ticket: TicketInput,
    note: Option<NoteInput>,
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
        let answer = match &self.ready {
            Ok(ready) => ready.route(&method, &path, req).await,
            Err(e) => Err(Problem::from(e)),
        };
        let response = answer.unwrap_or_else(|p| {
            if p.status >= 500 {
                tracing::error!(status = p.status, detail = %p.detail, "request failed");
            } else {
                tracing::info!(status = p.status, detail = %p.detail, "request refused");
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

impl Ready {
    async fn new(config: Config) -> Result<Ready, ConfigError> {
        let source = match &config.secret {
            SecretSetting::Fixed(secret) => Source::Fixed(secret.clone()),
            SecretSetting::SecretsManager(id) => {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                Source::SecretsManager {
                    id: id.clone(),
                    client: aws_sdk_secretsmanager::Client::new(&sdk),
                }
            }
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
        .with_lookup_ttl(config.lookup_ttl);
        Ok(Ready {
            config,
            secrets,
            bms,
            catch_all: RwLock::new(None),
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
        if *method != allowed {
            return Err(Problem::method_not_allowed(
                method.as_str(),
                path,
                allowed.as_str(),
            ));
        }
        self.authenticate(req.headers()).await?;
        match endpoint {
            Endpoint::Create => self.create(&req).await,
            Endpoint::Preview => self.preview(&req).await,
            Endpoint::Health => Ok(self.health().await),
        }
    }

    /// Every link of the chain, one line each: `200` when all hold, else `503`. The caches are
    /// dropped first, so a technician sees BMS as it is now.
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
        let source = match &self.config.secret {
            SecretSetting::SecretsManager(id) => format!("read from Secrets Manager `{id}`"),
            SecretSetting::Fixed(_) => "given in KASEYA_CREDENTIALS".to_string(),
        };
        report(
            "secret",
            self.secrets
                .refresh()
                .await
                .map(|_| source)
                .map_err(|e| e.to_string()),
        );
        let login = self.bms.login_now().await.map_err(|e| e.to_string());
        let logged_in = login.is_ok();
        report(
            "BMS login",
            login.map(|()| format!("logged in at {}", self.config.api_url)),
        );
        if logged_in {
            *self.catch_all.write().await = None;
            self.bms.forget_lookups().await;
            let catch_all = self.catch_all().await.map_err(|p| p.detail);
            report(
                "catch-all contact",
                catch_all.map(|c| {
                    format!(
                        "`{}` is contact {} of account {}",
                        self.config.unregistered_email, c.id, c.account_id
                    )
                }),
            );
            report("default lookups", self.check_defaults().await);
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
            return Err(r.warnings.join("; "));
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

    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), Problem> {
        // The secret is needed for BMS either way; fetching it first makes a missing or
        // malformed secret a clear 500 before anything else happens.
        self.secrets.get().await?;
        if self.config.auth == ButtonAuth::None {
            return Ok(());
        }
        let key = presented_key(headers).ok_or_else(|| {
            Problem::unauthorized(
                "no button key: send it as `Authorization: Bearer <key>` or `X-Api-Key: <key>`",
            )
        })?;
        match self.secrets.check_key(key).await? {
            KeyCheck::Accepted => Ok(()),
            KeyCheck::Rejected => Err(Problem::unauthorized(
                "the button key is not one of the keys this function accepts",
            )),
            KeyCheck::NoKeysConfigured => Err(Problem::configuration(
                "BUTTON_AUTH is `key` but the secret lists no `buttonKeys`: add them to the \
                 secret (its JSON form), or set BUTTON_AUTH=none if the API in front \
                 authenticates callers",
            )),
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

    async fn create(&self, req: &Request) -> Result<Response<Body>, Problem> {
        let ev = self.evaluate(req)?;
        if let Some(rejection) = &ev.outcome.rejected {
            tracing::info!(rule = rejection.rule, "a rule rejected the ticket");
            return Err(Problem::rejected(rejection.message.clone()));
        }
        let mut plan = self.plan(&ev).await?;
        let created: CreatedTicket = self.bms.create_ticket(&plan.ticket).await?;
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
        let body = json!({
            "ticketId": created.id,
            "ticketNumber": created.ticket_number,
            "contactId": plan.requester.contact.id,
            "accountId": plan.requester.contact.account_id,
            "unregistered": plan.requester.unregistered,
            "warnings": plan.warnings,
        });
        Ok(json_response(StatusCode::CREATED, &body))
    }

    async fn preview(&self, req: &Request) -> Result<Response<Body>, Problem> {
        let ev = self.evaluate(req)?;
        let mut body = json!({
            "contextBefore": ev.before.vars(),
            "contextAfter": ev.after.vars(),
            "rules": &ev.outcome,
        });
        if ev.outcome.rejected.is_none() {
            let plan = self.plan(&ev).await?;
            body["contact"] = json!({
                "contactId": plan.requester.contact.id,
                "accountId": plan.requester.contact.account_id,
                "locationId": plan.requester.location_id,
                "unregistered": plan.requester.unregistered,
            });
            body["resolved"] = json!(plan.resolution);
            body["warnings"] = json!(plan.warnings);
            body["ticket"] = json!(plan.ticket);
            body["note"] = json!(plan.note);
        }
        Ok(json_response(StatusCode::OK, &body))
    }

    /// Contact, location and ids, looked up concurrently, and the ticket body.
    async fn plan(&self, ev: &Evaluated) -> Result<Plan, Problem> {
        let defaults = self.config.rules.defaults();
        let needed = resolve::needed(&ev.after, defaults);
        let (requester, tables) =
            tokio::join!(self.requester(&ev.button.email), self.tables(&needed));
        let requester = requester?;
        let resolution = resolve::resolve(&ev.after, defaults, &tables?)?;
        let mut warnings = ev.outcome.errors.clone();
        warnings.extend(resolution.warnings.iter().cloned());
        let ticket = ticket::ticket_input(
            &ev.button,
            &ev.after,
            &requester,
            &resolution,
            &warnings,
            ev.now,
        );
        let note = ticket::attachment_note(&ev.button, self.config.note_type_id, ev.now);
        Ok(Plan {
            requester,
            resolution,
            warnings,
            ticket,
            note,
        })
    }

    /// The contact for `email`, or the catch-all one, and the location the ticket goes to.
    async fn requester(&self, email: &Email) -> Result<Requester, Problem> {
        let (contact, unregistered) = match self.bms.find_contact(email).await? {
            Some(c) => (c, false),
            None => (self.catch_all().await?, true),
        };
        let location_id = match contact.location() {
            Some(id) => id,
            None => self.bms.main_location(contact.account_id).await?.ok_or_else(|| {
                Problem::from(BmsError::Failed {
                    what: "account locations".into(),
                    status: 200,
                    message: format!(
                        "contact {} has no location and account {} has no main location: set one in BMS",
                        contact.id, contact.account_id
                    ),
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
        if let Some(c) = self.catch_all.read().await.as_ref() {
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
        *self.catch_all.write().await = Some(contact.clone());
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
