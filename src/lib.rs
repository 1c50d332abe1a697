//! kaseya-button: a press of a help-desk button becomes a Kaseya BMS ticket.
//!
//! Data flows one way: request -> context -> rules -> resolution -> ticket -> answer.
//!
//! - [`routes`] turns a request into the endpoint it asks for, authenticates the caller, and
//!   turns each layer's error into the answer the caller sees; each endpoint adapts its wire
//!   format to a [`button::ButtonRequest`].
//! - [`press`] takes the press through the [`rules`] into a [`context::Context`], looks up the
//!   contact and the ids in BMS ([`kaseya`], [`resolve`]) and files the [`ticket`].
//! - [`web`] holds the help page and the rules playground, which the routes serve.
//! - [`queue`] parks a press BMS cannot take now; [`replay`] (the `kaseya-button-replay`
//!   function) files it from the queue later, through the same [`press`] pipeline.
//!
//! The [`App`] holds the [`state`] the handlers share, built once per Lambda container and
//! borrowed by every invocation; this file only wires it to the routes and the replay. What it
//! caches (the secret, the BMS token, lookup lists, the catch-all contact) can be thrown away at
//! any time. `ARCHITECTURE.md` is the map.

pub mod button;
pub mod config;
pub mod context;
pub mod deadline;
pub mod follow_up;
pub mod idempotency;
pub mod kaseya;
pub mod metrics;
pub mod net;
pub mod osticket;
mod press;
pub mod queue;
pub mod replay;
pub mod resolve;
mod routes;
pub mod rules;
pub mod rules_store;
pub mod secret;
mod state;
pub mod ticket;
pub mod web;
pub mod wording;

use std::sync::Arc;
use std::time::SystemTime;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::{Body, Request, Response};

use crate::config::{Config, ConfigError};
use crate::kaseya::Bms;
use crate::rules_store::RulesStore;
use crate::secret::SecretStore;
use crate::state::State;

/// The function: configuration and clients, built once.
pub struct App {
    state: Result<State, ConfigError>,
}

impl App {
    /// Read the environment and build the clients. A configuration error is logged here, once,
    /// and answered to every request.
    pub async fn from_env() -> App {
        App::new(Config::from_env()).await
    }

    pub async fn new(config: Result<Config, ConfigError>) -> App {
        let state = match config {
            Ok(config) => State::new(config).await,
            Err(e) => Err(e),
        };
        App::from_state(state)
    }

    /// The function as `main.rs` starts it: the App, and its warm-up already running. The
    /// secret's fetch, the first call, leaves before the rules are parsed and checked, so a long
    /// rules document does not hold it back; `BUTTON_RULES` is ready before this returns, and
    /// the rules parameter is read by the warm-up, beside the secret.
    pub async fn start() -> (App, Option<tokio::task::JoinHandle<()>>) {
        let (config, rules_text) = Config::from_env_but_rules();
        let (state, warm_up) = match config {
            Ok(config) => match State::new(config).await {
                Ok(state) => {
                    let warm_up = tokio::spawn(warm_up(
                        state.secrets.clone(),
                        state.bms.clone(),
                        state.rules.clone(),
                    ));
                    (Ok(state), Some(warm_up))
                }
                Err(e) => (Err(e), None),
            },
            Err(e) => (Err(e), None),
        };
        let state = match (state, Config::rules(rules_text.as_deref())) {
            (Ok(mut state), Ok(rules)) if rules_text.is_some() => {
                state.rules = Arc::new(RulesStore::fixed(rules));
                Ok(state)
            }
            (Ok(state), Ok(_)) => Ok(state),
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => Err(e),
            (Err(mut e), Err(rules)) => {
                e.problems.extend(rules.problems);
                Err(e)
            }
        };
        (App::from_state(state), warm_up)
    }

    fn from_state(state: Result<State, ConfigError>) -> App {
        if let Err(e) = &state {
            tracing::error!(
                problems = %e,
                "configuration error: every request will be answered 500 until it is fixed"
            );
        }
        App { state }
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
        if let Ok(state) = &self.state {
            warm_up(
                state.secrets.clone(),
                state.bms.clone(),
                state.rules.clone(),
            )
            .await;
        }
    }

    /// One invocation. Never fails: every error becomes a problem+json answer (plain text on
    /// osTicket's routes, which its clients read).
    pub async fn handle(&self, req: Request) -> Response<Body> {
        routes::handle(self.state.as_ref(), req).await
    }

    /// One batch of parked presses: the replay function's invocation. Never fails: a record
    /// that is not filed goes back to the queue (`batchItemFailures`).
    pub async fn replay(
        &self,
        event: SqsEvent,
        lambda_deadline: Option<SystemTime>,
    ) -> SqsBatchResponse {
        replay::batch(
            self.state.as_ref().map(State::replay),
            event,
            lambda_deadline,
        )
        .await
    }
}

/// The secret and the login, which must come one after the other, while BMS's connections are
/// opened and the rules parameter (when there is one) is read: the login's, and those of the
/// first press's concurrent calls. Failures are logged and left to the request path, which
/// fetches whatever is still missing.
async fn warm_up(secrets: Arc<SecretStore>, bms: Arc<Bms>, rules: Arc<RulesStore>) {
    let secret_then_login = async {
        if let Err(e) = secrets.get().await {
            tracing::warn!(error = %e, "warm-up: the secret could not be read; requests will retry");
            return;
        }
        if let Err(e) = bms.login_now().await {
            tracing::warn!(error = %e, "warm-up: BMS login failed; requests will retry");
        }
    };
    tokio::join!(
        secret_then_login,
        bms.open_connections(OPENED_AHEAD),
        rules.refresh()
    );
}

/// The login, then a first press's contact search, computer search, catch-all contact and five
/// lists at once, one connection each (BMS speaks HTTP/1.1); the login's connection serves one
/// of them.
const OPENED_AHEAD: usize = 8;
