//! kaseya-button: a press of a help-desk button becomes a Kaseya BMS ticket.
//!
//! Data flows one way: request -> context -> rules -> resolution -> ticket -> answer.
//!
//! - [`routes`] turns a request into the endpoint it asks for and authenticates the caller
//!   ([`keys`]); each endpoint adapts its wire format to a [`button::ButtonRequest`].
//! - [`press`] takes the press through the [`rules`] into a [`context::Context`], looks up the
//!   contact and the ids in BMS ([`kaseya`], [`resolve`]) and files the [`ticket`].
//! - [`problem`] turns every error into the answer the caller sees.
//! - [`web`] holds the help page and the rules playground, which the routes serve.
//! - [`queue`] parks a press BMS cannot take now; [`replay`] (the `kaseya-button-replay`
//!   function) files it from the queue later, through the same [`press`] pipeline.
//!
//! The [`App`] is built once per Lambda container and borrowed by every invocation; what it
//! caches (the secret, the BMS token, lookup lists, the catch-all contact) can be thrown away at
//! any time. `ARCHITECTURE.md` is the map.

pub mod button;
pub mod config;
pub mod context;
pub mod deadline;
pub mod idempotency;
pub mod kaseya;
mod keys;
pub mod metrics;
pub mod net;
pub mod osticket;
mod press;
pub mod problem;
pub mod queue;
pub mod replay;
pub mod resolve;
mod routes;
pub mod rules;
pub mod secret;
pub mod ticket;
pub mod web;
pub mod wording;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use tokio::sync::Mutex;

use crate::config::{Config, ConfigError, SecretSetting};
use crate::kaseya::Bms;
use crate::problem::Problem;
use crate::queue::Queue;
use crate::routes::Route;
use crate::secret::{SecretStore, Source};

/// The function: configuration and clients, built once.
pub struct App {
    ready: Result<Ready, ConfigError>,
}

/// A configuration that holds, and the clients built from it: what every route borrows.
pub(crate) struct Ready {
    config: Config,
    secrets: Arc<SecretStore>,
    bms: Arc<Bms>,
    /// `BUTTON_QUEUE_URL`: where a press BMS cannot take now is parked.
    queue: Option<Queue>,
    /// The catch-all contact, found once per container.
    catch_all: Mutex<Option<press::CatchAll>>,
    /// The last health report, answered again for a minute.
    health: Mutex<Option<routes::health::Cached>>,
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
        App::from_ready(ready)
    }

    /// The function as `main.rs` starts it: the App, and its warm-up already running. The
    /// secret's fetch, the first call, leaves before the rules are parsed and checked, so a long
    /// rules document does not hold it back; the rules are ready before this returns.
    pub async fn start() -> (App, Option<tokio::task::JoinHandle<()>>) {
        let (config, rules_text) = Config::from_env_but_rules();
        let (ready, warm_up) = match config {
            Ok(config) => match Ready::new(config).await {
                Ok(ready) => {
                    let warm_up = tokio::spawn(warm_up(ready.secrets.clone(), ready.bms.clone()));
                    (Ok(ready), Some(warm_up))
                }
                Err(e) => (Err(e), None),
            },
            Err(e) => (Err(e), None),
        };
        let ready = match (ready, Config::rules(rules_text.as_deref())) {
            (Ok(mut ready), Ok(rules)) => {
                ready.config.rules = rules;
                Ok(ready)
            }
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => Err(e),
            (Err(mut e), Err(rules)) => {
                e.problems.extend(rules.problems);
                Err(e)
            }
        };
        (App::from_ready(ready), warm_up)
    }

    fn from_ready(ready: Result<Ready, ConfigError>) -> App {
        if let Err(e) = &ready {
            tracing::error!(
                problems = %e,
                "configuration error: every request will be answered 500 until it is fixed"
            );
        }
        App { ready }
    }

    /// What must come one after the other before any press can reach BMS, done before the first
    /// one: the secret, then the BMS login. Lambda runs this in its init phase. Everything else a
    /// first press needs (the lookup lists, the catch-all contact) goes out beside its contact
    /// search, in one round trip, so it is not fetched here: a container that Lambda starts
    /// for a waiting request then answers in four round trips from spawn (secret, login,
    /// contact and lists together, create), and one started ahead of traffic answers its first
    /// press in two. Nothing is left in flight when init ends, so a container frozen between
    /// init and its first event has no half-done call to lose. Failures are logged and left to
    /// the request path, which fetches whatever is still missing.
    pub async fn warm_up(&self) {
        if let Ok(ready) = &self.ready {
            warm_up(ready.secrets.clone(), ready.bms.clone()).await;
        }
    }

    /// One invocation. Never fails: every error becomes a problem+json answer (plain text on
    /// osTicket's routes, which its clients read).
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let method = req.method().clone();
        let osticket = routes::osticket::answers_in_text(req.uri().path());
        // Lambda hands an event over before its deadline. One already past is not a real
        // deadline (local emulators send a duration, e.g. 600000, where the epoch time belongs)
        // and is ignored: API Gateway's budget still bounds the invocation.
        let lambda_deadline = req
            .lambda_context_ref()
            .filter(|c| c.deadline > 0)
            .map(|c| c.deadline())
            .filter(|&at| at > std::time::SystemTime::now());
        let deadline = deadline::for_api(started, lambda_deadline);
        let answer = match &self.ready {
            Ok(ready) => kaseya::within(deadline, ready.answer(&method, req)).await,
            Err(e) => Err(Problem::from(e)),
        };
        let response = answer.unwrap_or_else(|p| {
            if p.status >= 500 {
                tracing::error!(status = p.status, detail = ?p.detail, "request failed");
            } else {
                tracing::info!(status = p.status, detail = ?p.detail, "request refused");
            }
            if osticket {
                routes::osticket::error(&p)
            } else {
                p.to_response()
            }
        });
        tracing::info!(
            %method,
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        response
    }

    /// One batch of parked presses: the replay function's invocation. Never fails: a record
    /// that is not filed goes back to the queue (`batchItemFailures`).
    pub async fn replay(
        &self,
        event: SqsEvent,
        lambda_deadline: Option<SystemTime>,
    ) -> SqsBatchResponse {
        replay::batch(self.ready.as_ref(), event, lambda_deadline).await
    }
}

impl Ready {
    async fn new(config: Config) -> Result<Ready, ConfigError> {
        let net =
            net::Net::new(&config.extra_roots).map_err(|e| ConfigError { problems: vec![e] })?;
        // Region and credentials are read once, and only when an AWS service is used.
        let sdk = std::sync::OnceLock::new();
        let sdk = || sdk.get_or_init(|| net::aws::sdk_config(&net));
        let source = match &config.secret {
            SecretSetting::Fixed(secret) => Source::Fixed(secret.clone()),
            SecretSetting::SecretsManager(id) => Source::SecretsManager {
                id: id.clone(),
                client: secret::secrets_manager_client(sdk(), config.timeout),
            },
        };
        let secrets = Arc::new(SecretStore::new(source, config.secret_ttl));
        let bms = Arc::new(
            Bms::new(
                &net,
                &config.api_url,
                config.timeout,
                secrets.clone(),
                &config.ticket_type_table,
                &config.ticket_source_table,
            )
            .with_backoff(config.backoff)
            .with_lookup_ttl(config.lookup_ttl),
        );
        let queue = config
            .queue_url
            .as_ref()
            .map(|url| Queue::new(url, sdk(), &net));
        Ok(Ready {
            config,
            secrets,
            bms,
            queue,
            catch_all: Mutex::new(None),
            health: Mutex::new(None),
        })
    }

    /// Authenticate first: until the caller shows a key, nothing is said about the endpoints.
    /// The web pages alone are public: they hold no secret, and a page that needs a key gets it
    /// from the link that opened it.
    async fn answer(&self, method: &Method, req: Request) -> Result<Response<Body>, Problem> {
        let path = routes::route_path(&req, &self.config.base_path);
        if let Some(page) = path
            .as_deref()
            .and_then(|p| routes::Page::parse(method, p, self))
        {
            return Ok(page.answer(self));
        }
        let caller = keys::authenticate(self, &req).await?;
        let path = path.ok_or_else(Problem::not_found)?;
        Route::parse(method, &path, &caller, self.config.preview)?
            .apply(self, req, &caller)
            .await
    }
}

/// The secret and the login, which must come one after the other, while BMS's connections are
/// opened: the login's, and those of the first press's concurrent calls. Failures are logged and
/// left to the request path, which fetches whatever is still missing.
async fn warm_up(secrets: Arc<SecretStore>, bms: Arc<Bms>) {
    let secret_then_login = async {
        if let Err(e) = secrets.get().await {
            tracing::warn!(error = %e, "warm-up: the secret could not be read; requests will retry");
            return;
        }
        if let Err(e) = bms.login_now().await {
            tracing::warn!(error = %e, "warm-up: BMS login failed; requests will retry");
        }
    };
    tokio::join!(secret_then_login, bms.open_connections(OPENED_AHEAD));
}

/// The login, then a first press's contact search, catch-all contact and five lists at once,
/// one connection each (BMS speaks HTTP/1.1); the login's connection serves one of them.
const OPENED_AHEAD: usize = 7;
