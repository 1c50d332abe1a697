//! Caller authentication: the key a caller presents, checked against the secret's keys.

use lambda_http::http::{HeaderMap, header};

use crate::Ready;
use crate::config::ButtonAuth;
use crate::problem::Problem;
use crate::secret::KeyCheck;

/// `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
pub(crate) fn presented_key(headers: &HeaderMap) -> Option<&str> {
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

/// Let the caller in, or answer the one 401 every refusal gets.
pub(crate) async fn authenticate(app: &Ready, headers: &HeaderMap) -> Result<(), Problem> {
    // The secret is needed for BMS either way; fetching it first makes a missing or malformed
    // secret a clear 500 before anything else happens.
    let secret = app.secrets.get().await?;
    if app.config.auth == ButtonAuth::None {
        return Ok(());
    }
    let check = match presented_key(headers) {
        Some(key) => app.secrets.check_key(key).await?,
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
        KeyCheck::Accepted => Ok(()),
        KeyCheck::Rejected => Err(refused()),
        KeyCheck::NoKeysConfigured => {
            tracing::error!(
                "BUTTON_AUTH is `key` but the secret lists no `buttonKeys`, so every caller is \
                 refused: add them to the secret (its JSON form), or set BUTTON_AUTH=none if the \
                 API in front authenticates callers"
            );
            Err(refused())
        }
    }
}
