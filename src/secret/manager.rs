//! Secrets Manager's two calls on the secret's value: read it (the function, `button-keys`) and
//! write a new one (`button-keys`). Errors name the secret and pass on what Secrets Manager
//! said, which never quotes the value.

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::*;

/// The secret's text, as Secrets Manager holds it now.
pub async fn read_value(client: &SecretsClient, id: &str) -> Result<SecretString, SecretError> {
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

    let out = client.get_secret_value().secret_id(id).send().await;
    let out = match out {
        Ok(out) => out,
        Err(SdkError::ServiceError(e)) => {
            let err = e.err();
            return Err(match err {
                GetSecretValueError::ResourceNotFoundException(_) => {
                    SecretError::NotFound { id: id.to_string() }
                }
                // Secrets Manager's own trouble passes: the caller should try again later.
                GetSecretValueError::InternalServiceError(_) => SecretError::Unreachable {
                    id: id.to_string(),
                    reason: DisplayErrorContext(err).to_string(),
                },
                other if other.code() == Some("ThrottlingException") => SecretError::Unreachable {
                    id: id.to_string(),
                    reason: "Secrets Manager is throttling this function".into(),
                },
                other => SecretError::Denied {
                    id: id.to_string(),
                    reason: DisplayErrorContext(other).to_string(),
                },
            });
        }
        Err(e) => {
            return Err(SecretError::Unreachable {
                id: id.to_string(),
                reason: DisplayErrorContext(&e).to_string(),
            });
        }
    };
    out.secret_string().map(SecretString::from).ok_or_else(|| {
        SecretError::Format(format!(
            "secret `{id}` has no text value (a binary secret?)"
        ))
    })
}

/// Secrets Manager did not store a new value: what it said, or why it could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("Secrets Manager did not store the new value of secret `{id}`: {reason}")]
pub struct NotStored {
    pub id: String,
    pub reason: String,
}

/// `value` stored as the secret's new current version.
pub async fn write_value(
    client: &SecretsClient,
    id: &str,
    value: &SecretString,
) -> Result<(), NotStored> {
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(value.expose_secret())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| NotStored {
            id: id.to_string(),
            reason: DisplayErrorContext(&e).to_string(),
        })
}
