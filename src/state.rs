//! What the handlers share in a container: the configuration and the clients built from it,
//! built once and borrowed by every invocation. The routes read it; the pipeline, the queue and
//! the replay are handed the parts they use ([`State::pipeline`], [`State::replay`]) and never
//! see it whole.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Mutex;

use crate::config::{Config, ConfigError, RulesSetting, SecretSetting};
use crate::follow_up::{self, StatusCache};
use crate::kaseya::Bms;
use crate::net;
use crate::press::{CatchAllCache, Pipeline};
use crate::queue::Queue;
use crate::replay::Replay;
use crate::rules_store::{self, RulesStore};
use crate::secret::{self, SecretStore, Source};

/// A configuration that holds, and the clients built from it.
pub(crate) struct State {
    pub config: Config,
    /// The rules in force, which each press borrows (`BUTTON_RULES` or the parameter's).
    pub rules: Arc<RulesStore>,
    pub secrets: Arc<SecretStore>,
    pub bms: Arc<Bms>,
    /// `BUTTON_QUEUE_URL`: where a press BMS cannot take now is parked.
    pub queue: Option<Queue>,
    /// The catch-all contact, found once per container.
    pub catch_all: CatchAllCache,
    /// The last health report (when it was made, its status and its text), answered again for
    /// `BUTTON_HEALTH_REUSE_SECONDS`.
    pub health: Mutex<Option<(Instant, u16, String)>>,
    /// Follow-up status reads, reused for a minute per ticket.
    pub statuses: StatusCache,
}

impl State {
    pub async fn new(config: Config) -> Result<State, ConfigError> {
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
        let rules = Arc::new(match &config.rules {
            RulesSetting::Document(rules) => RulesStore::fixed(rules.clone()),
            RulesSetting::Parameter { name, ttl } => RulesStore::parameter(
                name.clone(),
                rules_store::ssm::client(sdk(), config.timeout),
                *ttl,
            ),
        });
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
        // `BUTTON_FOLLOW_UP_REUSE_SECONDS`: a minute unless set.
        let statuses = StatusCache::new(config.status_reuse, follow_up::MAX_TICKETS);
        Ok(State {
            catch_all: CatchAllCache::new(config.unregistered_email.clone()),
            config,
            rules,
            secrets,
            bms,
            queue,
            health: Mutex::new(None),
            statuses,
        })
    }

    /// What a press needs on its way to a ticket.
    pub fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            rules: &self.rules,
            bms: &self.bms,
            secrets: &self.secrets,
            catch_all: &self.catch_all,
            note_type_id: self.config.note_type_id,
        }
    }

    /// What the replay needs besides the pipeline.
    pub fn replay(&self) -> Replay<'_> {
        Replay {
            pipeline: self.pipeline(),
            queue: self.queue.as_ref(),
            first_retry: self.config.replay_retry,
            metrics: self.config.metrics,
        }
    }
}
