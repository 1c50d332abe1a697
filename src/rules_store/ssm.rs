//! Parameter Store's two calls the rules need: `GetParameter` for the function, `PutParameter`
//! for `button-rules publish`. Through the function's own HTTP client, like Secrets Manager and
//! SQS.

use std::time::Duration;

use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};

pub use aws_sdk_ssm::Client;

/// The largest value of a standard parameter (free); an advanced one (charged per month) holds
/// twice as much. AWS counts the value's bytes.
pub const STANDARD_LIMIT: usize = 4096;
pub const ADVANCED_LIMIT: usize = 8192;

/// A Parameter Store client whose calls give up after `timeout` (connect attempts at most 3 s).
pub fn client(sdk: &aws_types::SdkConfig, timeout: Duration) -> Client {
    let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(timeout.min(crate::net::CONNECT_TIMEOUT))
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout)
        .build();
    let mut conf = aws_sdk_ssm::config::Builder::from(sdk).timeout_config(timeouts);
    if let Some(url) = crate::net::aws::var("AWS_ENDPOINT_URL_SSM") {
        conf = conf.endpoint_url(url);
    }
    Client::from_conf(conf.build())
}

/// One version of the parameter as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub version: i64,
    pub value: String,
}

/// Why the parameter could not be read or written. Parameter Store's words are kept: they name
/// the parameter, the role and the permission, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error(
        "Parameter Store has no parameter `{name}`: publish the rules to it (`button-rules \
         publish --parameter {name} rules.json`) or correct BUTTON_RULES_PARAMETER"
    )]
    NotFound { name: String },
    #[error(
        "Parameter Store refused the parameter `{name}`: {reason}. The function's role needs \
         ssm:GetParameter on it (a publisher needs ssm:PutParameter)"
    )]
    Denied { name: String, reason: String },
    #[error("Parameter Store could not be reached for the parameter `{name}`: {reason}")]
    Unreachable { name: String, reason: String },
    #[error("Parameter Store did not take the value for `{name}`: {reason}")]
    Refused { name: String, reason: String },
}

impl ParameterError {
    /// Whether trying again later may work without anyone changing anything.
    pub fn time_cures(&self) -> bool {
        matches!(self, ParameterError::Unreachable { .. })
    }
}

/// The parameter's current version, decrypted if it is a SecureString.
pub async fn read(client: &Client, name: &str) -> Result<Read, ParameterError> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| failure(name, e))?;
    let parameter = out.parameter.ok_or_else(|| ParameterError::NotFound {
        name: name.to_string(),
    })?;
    Ok(Read {
        version: parameter.version,
        value: parameter.value.unwrap_or_default(),
    })
}

/// `value` put as the parameter's new version (a `String`, overwriting); the version it became.
pub async fn put(
    client: &Client,
    name: &str,
    value: &str,
    tier: ParameterTier,
) -> Result<i64, ParameterError> {
    let out = client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::String)
        .overwrite(true)
        .tier(tier)
        .description("kaseya-button rules document (button-rules publish)")
        .send()
        .await
        .map_err(|e| failure(name, e))?;
    Ok(out.version)
}

/// What an SDK failure means for the one who asked: the name is kept, the kind is told apart.
fn failure<E, R>(name: &str, e: SdkError<E, R>) -> ParameterError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let name = name.to_string();
    let SdkError::ServiceError(service) = &e else {
        return ParameterError::Unreachable {
            name,
            reason: DisplayErrorContext(&e).to_string(),
        };
    };
    let err = service.err();
    let reason = err.message().unwrap_or("no reason given").to_string();
    match err.code().unwrap_or_default() {
        "ParameterNotFound" | "ParameterVersionNotFound" => ParameterError::NotFound { name },
        "InternalServerError" | "ThrottlingException" | "ServiceUnavailable" => {
            ParameterError::Unreachable { name, reason }
        }
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidKeyId"
        | "ExpiredTokenException"
        | "InvalidSignatureException" => ParameterError::Denied { name, reason },
        code => ParameterError::Refused {
            name,
            reason: format!("{code}: {reason}"),
        },
    }
}
