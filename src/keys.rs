//! Caller authentication: the key a caller presents, checked against the secret's keys.

use std::net::IpAddr;

use lambda_http::http::{HeaderMap, header};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

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

/// The caller's address as API Gateway saw the connection, from the request context. Never a
/// header such as `X-Forwarded-For`: the caller writes those, and a key limited to some
/// addresses must not be usable from others by writing one of them.
#[allow(dead_code)] // read by the key check once keys may be limited to addresses
pub(crate) fn caller_ip(req: &Request) -> Option<IpAddr> {
    let ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(c) => c.identity.source_ip.as_deref(),
        RequestContext::ApiGatewayV2(c) => c.http.source_ip.as_deref(),
        _ => None,
    }?;
    ip.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// A sample event whose `X-Forwarded-For` says one address and whose connection came from
    /// another.
    fn spoofed(event: &str) -> Request {
        let mut ev: Value = serde_json::from_str(event).unwrap();
        let headers = ev["headers"].as_object_mut().unwrap();
        headers.retain(|k, _| !k.eq_ignore_ascii_case("x-forwarded-for"));
        headers.insert("X-Forwarded-For".into(), "34.202.14.153".into());
        if let Some(multi) = ev["multiValueHeaders"].as_object_mut() {
            multi.retain(|k, _| !k.eq_ignore_ascii_case("x-forwarded-for"));
            multi.insert(
                "X-Forwarded-For".into(),
                serde_json::json!(["34.202.14.153"]),
            );
        }
        lambda_http::request::from_str(&ev.to_string()).unwrap()
    }

    #[test]
    fn the_callers_address_is_the_connections_not_a_header() {
        for event in [
            include_str!("../events/rest-v1-ticket.json"),
            include_str!("../events/http-v2-ticket.json"),
        ] {
            let req = spoofed(event);
            assert_eq!(req.headers()["x-forwarded-for"], "34.202.14.153");
            assert_eq!(caller_ip(&req), Some("203.0.113.10".parse().unwrap()));
        }
        // No request context (not from API Gateway): no address, rather than a guess.
        let bare = Request::new(lambda_http::Body::Empty);
        assert_eq!(caller_ip(&bare), None);
    }
}
