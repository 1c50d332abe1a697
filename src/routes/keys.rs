//! Caller authentication: the key a caller presents, checked against the secret's keys, and
//! what that key may do.

use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::{HeaderMap, header};

use super::Problem;
use crate::config::ButtonAuth;
use crate::context::{Channel, Origin};
use crate::idempotency::CallerScope;
use crate::secret::{self, KeyCheck, Role, SecretStore};

/// Who is calling, as far as the function can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// A button key files tickets and nothing else; an operator key may also read the health
    /// report and the preview. Under `BUTTON_AUTH=none` the API in front has authenticated the
    /// caller, and every endpoint answers.
    pub role: Role,
    /// The key's name in the secret: safe to log and to route by, unlike the key.
    pub name: Option<String>,
    /// Which key it was, for repeats: one key's presses never answer another's.
    pub scope: CallerScope,
    /// Which way the request came, and API Gateway's source address.
    pub origin: Origin,
}

/// A browser marks its own requests (`Sec-Fetch-Mode`); a desktop button or a script does not.
fn origin(req: &Request) -> Origin {
    let browser = req.headers().contains_key("sec-fetch-mode");
    Origin {
        channel: if browser { Channel::Web } else { Channel::Api },
        caller_ip: secret::source_ip(req),
        ..Origin::default()
    }
}

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

/// Let the caller in, or answer the one 401 every refusal gets. The address a key's `allowFrom`
/// is checked against is API Gateway's own source IP, never a header the caller can write.
pub(crate) async fn authenticate(
    secrets: &Arc<SecretStore>,
    auth: ButtonAuth,
    req: &Request,
) -> Result<Caller, Problem> {
    // The secret is needed for BMS either way; fetching it first makes a missing or malformed
    // secret an error before anything else happens.
    let secret = secrets.get().await?;
    if auth == ButtonAuth::None {
        return Ok(Caller {
            role: Role::Operator,
            name: None,
            scope: CallerScope::default(),
            origin: origin(req),
        });
    }
    let presented = presented_key(req.headers());
    let check = match presented {
        Some(key) => secrets.check_key(key, secret::source_ip(req)).await?,
        None if !secret.has_keys() => KeyCheck::NoKeysConfigured,
        None => KeyCheck::Rejected,
    };
    // One answer for every refusal: a caller learns nothing about which keys exist.
    let refused = || {
        Problem::unauthorized(
            "missing or wrong key: send one of the function's button keys as \
             `Authorization: Bearer <key>` or `X-Api-Key: <key>`",
        )
    };
    match check {
        KeyCheck::Accepted(m) => Ok(Caller {
            role: m.role,
            name: m.name,
            scope: presented.map(CallerScope::of_key).unwrap_or_default(),
            origin: Origin {
                account: m.customer.account,
                create_contacts: m.customer.create_contacts,
                ..origin(req)
            },
        }),
        KeyCheck::Rejected => {
            let address = secret::source_ip(req);
            if let Some(name) = presented.and_then(|key| secret.refused_from(key, address)) {
                tracing::warn!(
                    key = name.as_deref().unwrap_or("(a key without a name)"),
                    address = %address.map_or("unknown".into(), |a| a.to_string()),
                    "a caller key was used from an address its allowFrom does not list: refused"
                );
            }
            Err(refused())
        }
        KeyCheck::NoKeysConfigured => {
            tracing::error!(
                "BUTTON_AUTH is `key` but the secret lists no `buttonKeys` or `operatorKeys`, so \
                 every caller is refused: add them to the secret (its JSON form), or set \
                 BUTTON_AUTH=none if the API in front authenticates callers"
            );
            Err(refused())
        }
    }
}

/// Refuse a button key on an endpoint for technicians.
pub(crate) fn require_operator(caller: &Caller, endpoint: &str) -> Result<(), Problem> {
    match caller.role {
        Role::Operator => Ok(()),
        Role::Button => Err(Problem::forbidden(format!(
            "a button key files tickets and nothing else: {endpoint} needs one of the secret's \
             `operatorKeys`"
        ))),
    }
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
            include_str!("../../events/rest-v1-ticket.json"),
            include_str!("../../events/http-v2-ticket.json"),
        ] {
            let req = spoofed(event);
            assert_eq!(req.headers()["x-forwarded-for"], "34.202.14.153");
            assert_eq!(
                secret::source_ip(&req),
                Some("203.0.113.10".parse().unwrap())
            );
        }
        // No request context (not from API Gateway): no address, rather than a guess.
        let bare = Request::new(lambda_http::Body::Empty);
        assert_eq!(secret::source_ip(&bare), None);
    }
}
