//! The rules in force, which each press borrows for its whole way (one `Arc<Rules>`, so that a
//! new version arriving meanwhile never mixes two documents in one ticket).
//!
//! `BUTTON_RULES` puts one checked document in force for the container's life. With
//! `BUTTON_RULES_PARAMETER` the document is read from Parameter Store at start and read again
//! every `BUTTON_RULES_TTL_SECONDS`, beside a press, never in its way. A new version is checked
//! as `BUTTON_RULES` is; one with problems is refused and the version in force stays, and so it
//! does when the parameter cannot be read. Only a container that never read a good version has
//! no rules: its presses fail with [`RulesUnavailable`], which time may cure (the parked press
//! is replayed once a good version can be read), rather than be filed without the MSP's rules.

pub mod ssm;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, RwLock};

use crate::rules::Rules;
use ssm::ParameterError;

/// How long a container without rules answers presses with its last read's failure before it
/// reads again: an outage costs a read every few seconds, not one per press.
const RETRY_WITHOUT_RULES: Duration = Duration::from_secs(5);

/// Where the rules come from.
enum Source {
    /// `BUTTON_RULES` (or none): put in force once.
    Fixed,
    /// `BUTTON_RULES_PARAMETER`.
    Parameter { name: String, client: ssm::Client },
}

/// The rules in force and where they came from.
#[derive(Clone)]
pub struct InForce {
    pub rules: Arc<Rules>,
    /// The parameter's version; `None` for `BUTTON_RULES`.
    pub version: Option<i64>,
}

/// A version of the parameter that failed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub version: i64,
    pub problems: Vec<String>,
}

/// What the store knows, as `/health` shows it.
#[derive(Clone, Default)]
pub struct Status {
    /// `BUTTON_RULES_PARAMETER`, when the rules come from Parameter Store.
    pub parameter: Option<String>,
    pub in_force: Option<InForce>,
    /// The newest version that was refused, when it is newer than the one in force.
    pub refused: Option<Refused>,
    /// The last read, when it failed.
    pub failure: Option<ParameterError>,
}

/// Why a press has no rules to go by.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesUnavailable {
    #[error("the rules could not be read: {0}")]
    Unreadable(ParameterError),
    #[error(
        "version {version} of the rules parameter `{name}` was refused and no earlier version \
         was read: {}. Correct the document and publish it again (`button-rules publish`)",
        .problems.join("; ")
    )]
    Refused {
        name: String,
        version: i64,
        problems: Vec<String>,
    },
}

#[derive(Default)]
struct Held {
    status: Status,
    /// When the parameter was last read, whatever came of it: the next read is due a TTL later.
    read_at: Option<Instant>,
}

/// The rules in force, swapped when a new good version is read.
pub struct RulesStore {
    source: Source,
    ttl: Duration,
    held: RwLock<Held>,
    /// Whether a background read is running, so that a burst of presses starts only one.
    refreshing: AtomicBool,
    /// Held by the read that presses without rules wait for, so that they share it.
    first_read: Mutex<()>,
}

impl RulesStore {
    /// `BUTTON_RULES`: this document, for the container's life.
    pub fn fixed(rules: Rules) -> RulesStore {
        let status = Status {
            in_force: Some(InForce {
                rules: Arc::new(rules),
                version: None,
            }),
            ..Status::default()
        };
        RulesStore::new(Source::Fixed, Duration::MAX, status)
    }

    /// `BUTTON_RULES_PARAMETER`: read on first use (or at warm-up) and every `ttl`.
    pub fn parameter(name: String, client: ssm::Client, ttl: Duration) -> RulesStore {
        let status = Status {
            parameter: Some(name.clone()),
            ..Status::default()
        };
        RulesStore::new(Source::Parameter { name, client }, ttl, status)
    }

    fn new(source: Source, ttl: Duration, status: Status) -> RulesStore {
        RulesStore {
            source,
            ttl,
            held: RwLock::new(Held {
                status,
                read_at: None,
            }),
            refreshing: AtomicBool::new(false),
            first_read: Mutex::new(()),
        }
    }

    fn parameter_name(&self) -> Option<&str> {
        match &self.source {
            Source::Fixed => None,
            Source::Parameter { name, .. } => Some(name),
        }
    }

    /// The rules a press goes by. With a copy in hand this never waits for Parameter Store: a
    /// copy older than the TTL is answered, and its next version read beside the press.
    pub async fn current(self: &Arc<Self>) -> Result<Arc<Rules>, RulesUnavailable> {
        if let Some(rules) = self.in_hand().await {
            return Ok(rules);
        }
        self.first_rules().await
    }

    /// The rules in hand, with no read waited for (the help page's list of selections); a read
    /// is started beside the caller when one is due.
    pub async fn in_hand(self: &Arc<Self>) -> Option<Arc<Rules>> {
        let held = self.held.read().await;
        let in_force = held.status.in_force.as_ref()?;
        if held.read_at.is_none_or(|at| at.elapsed() >= self.ttl) {
            self.refresh_in_background();
        }
        Some(in_force.rules.clone())
    }

    /// What the store knows now, for `/health`.
    pub async fn status(&self) -> Status {
        self.held.read().await.status.clone()
    }

    /// A container that never read a good version: one read shared by the presses waiting for
    /// it, and its failure answered for a few seconds rather than read again per press.
    async fn first_rules(&self) -> Result<Arc<Rules>, RulesUnavailable> {
        let _turn = self.first_read.lock().await;
        let fresh = {
            let held = self.held.read().await;
            if let Some(in_force) = &held.status.in_force {
                return Ok(in_force.rules.clone());
            }
            held.read_at
                .is_some_and(|at| at.elapsed() < self.ttl.min(RETRY_WITHOUT_RULES))
        };
        if !fresh {
            self.refresh().await;
        }
        let held = self.held.read().await;
        match (&held.status, self.parameter_name()) {
            (
                Status {
                    in_force: Some(f), ..
                },
                _,
            ) => Ok(f.rules.clone()),
            (
                Status {
                    refused: Some(r), ..
                },
                Some(name),
            ) => Err(RulesUnavailable::Refused {
                name: name.to_string(),
                version: r.version,
                problems: r.problems.clone(),
            }),
            (
                Status {
                    failure: Some(e), ..
                },
                _,
            ) => Err(RulesUnavailable::Unreadable(e.clone())),
            // Unreachable: a read leaves rules, a refusal or a failure behind.
            _ => Err(RulesUnavailable::Unreadable(ParameterError::NotFound {
                name: self.parameter_name().unwrap_or_default().to_string(),
            })),
        }
    }

    fn refresh_in_background(self: &Arc<Self>) {
        if matches!(self.source, Source::Fixed) || self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = Arc::clone(self);
        tokio::spawn(async move {
            store.refresh().await;
            store.refreshing.store(false, Ordering::Release);
        });
    }

    /// Read the parameter now and put a new good version in force; a version with problems is
    /// refused and logged once, a failed read logged, and either leaves the rules in force as
    /// they are. Warm-up, the background and `/health` call this.
    pub async fn refresh(&self) {
        let Source::Parameter { name, client } = &self.source else {
            return;
        };
        let read = ssm::read(client, name).await;
        let read_at = Instant::now();
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                let mut held = self.held.write().await;
                let in_force = held.status.in_force.as_ref().and_then(|f| f.version);
                tracing::error!(
                    parameter = %name,
                    in_force = ?in_force,
                    error = %e,
                    "the rules parameter could not be read; the rules in force stay"
                );
                held.status.failure = Some(e);
                held.read_at = Some(read_at);
                return;
            }
        };
        let known = {
            let held = self.held.read().await;
            let in_force = held.status.in_force.as_ref().and_then(|f| f.version);
            let refused = held.status.refused.as_ref().map(|r| r.version);
            in_force == Some(read.version) || refused == Some(read.version)
        };
        // A version seen before is not checked again: checking a long document costs more than
        // the read.
        let checked = (!known).then(|| check(&read.value));
        let mut held = self.held.write().await;
        held.read_at = Some(read_at);
        held.status.failure = None;
        match checked {
            None => {}
            Some(Ok(rules)) => install(&mut held.status, name, read.version, rules),
            Some(Err(problems)) => refuse(&mut held.status, name, read.version, problems),
        }
    }
}

/// The parameter's value checked as `BUTTON_RULES` is: plain or packed, every problem at once.
fn check(value: &str) -> Result<Rules, Vec<String>> {
    if value.trim().is_empty() {
        return Err(vec!["the parameter's value is blank".into()]);
    }
    Rules::parse(value).map_err(|e| e.problems)
}

fn install(status: &mut Status, name: &str, version: i64, rules: Rules) {
    // An older version read late (a slow read that lost a race) never replaces a newer one.
    if status
        .in_force
        .as_ref()
        .and_then(|f| f.version)
        .is_some_and(|v| v > version)
    {
        return;
    }
    for warning in rules.warnings() {
        tracing::warn!(parameter = %name, version, warning = %warning, "rules warning");
    }
    tracing::info!(
        parameter = %name,
        version,
        rules = rules.len(),
        "rules from the parameter put in force"
    );
    status.in_force = Some(InForce {
        rules: Arc::new(rules),
        version: Some(version),
    });
    status.refused = status.refused.take().filter(|r| r.version > version);
}

fn refuse(status: &mut Status, name: &str, version: i64, problems: Vec<String>) {
    if status
        .refused
        .as_ref()
        .is_some_and(|r| r.version >= version)
    {
        return;
    }
    let in_force = status.in_force.as_ref().and_then(|f| f.version);
    tracing::error!(
        parameter = %name,
        version,
        in_force = ?in_force,
        problems = %problems.join("; "),
        "the rules parameter's new version has problems and was refused; the rules in force stay"
    );
    status.refused = Some(Refused { version, problems });
}
