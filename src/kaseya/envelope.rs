//! BMS answers: the `{Success, Error, Result}` envelope, HTTP statuses, and field names in any
//! casing (the spec writes PascalCase; real tenants have been seen answering camelCase).

use serde::de::DeserializeOwned;
use serde_json::Value;

/// What went wrong talking to BMS. Messages come from BMS or from us, never from the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BmsError {
    #[error("BMS could not be reached ({what}): {reason}")]
    Unreachable { what: String, reason: String },
    /// 429.
    #[error("BMS is rate limiting this API user ({what}); try again later")]
    RateLimited {
        what: String,
        retry_after: Option<u64>,
    },
    /// 503: down or overloaded for a while, whoever asks.
    #[error("BMS is unavailable ({what}, HTTP 503); try again later")]
    Unavailable {
        what: String,
        retry_after: Option<u64>,
    },
    /// The token was refused; the client logs in again once before this escapes.
    #[error(
        "BMS answered 401 Unauthorized ({what}) after a fresh login: check that the API user has the permissions the integration needs"
    )]
    Unauthorized { what: String },
    #[error(
        "BMS refused the API user's credentials: {message}. Check the company, user name and password in the secret"
    )]
    LoginRejected { message: String },
    #[error("BMS answered an error ({what}, HTTP {status}): {message}")]
    Failed {
        what: String,
        status: u16,
        message: String,
    },
    /// A call that changes something (a create) failed in a way that leaves open whether BMS
    /// carried it out: it was not sent again, since that could file it twice.
    #[error(
        "BMS may have carried out `{what}` ({reason}); it was not sent again, so as not to do it twice"
    )]
    MaybeDone {
        what: String,
        /// BMS's HTTP status when it answered (5xx, or 2xx with an unreadable body), `None`
        /// when no answer came.
        status: Option<u16>,
        reason: String,
        retry_after: Option<u64>,
    },
    /// Redirects are never followed: a login re-posted to wherever a redirect points would carry
    /// the password there.
    #[error(
        "BMS answered with a redirect (HTTP {status}) to `{what}`; redirects are not followed, so that the password never goes to another address: set KASEYA_API_URL to your region's API host itself (https://api.bms.kaseya.com, https://api.bmsemea.kaseya.com or https://api.bmsapac.kaseya.com)"
    )]
    Redirected { what: String, status: u16 },
    #[error("BMS sent an answer we cannot read ({what}): {reason}")]
    BadAnswer { what: String, reason: String },
    /// The credentials for a login could not be read.
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
}

impl BmsError {
    /// Whether waiting would cure it: BMS unreachable or timed out, a 5xx (a login's too), a
    /// 429 or 503 whose wait did not fit the invocation, or a create whose fate is unknown (a
    /// later try finds it by its marker instead of filing it twice). Not: refused credentials,
    /// a 4xx, a redirect, an unreadable answer, or the secret.
    pub fn time_cures(&self) -> bool {
        match self {
            BmsError::Unreachable { .. }
            | BmsError::RateLimited { .. }
            | BmsError::Unavailable { .. }
            | BmsError::MaybeDone { .. } => true,
            BmsError::Failed { status, .. } => *status >= 500,
            BmsError::Unauthorized { .. }
            | BmsError::LoginRejected { .. }
            | BmsError::Redirected { .. }
            | BmsError::BadAnswer { .. }
            | BmsError::Secret(_) => false,
        }
    }
}

/// Lowercase every object key, recursively, so that structs can be read in any casing.
pub fn lowercase_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), lowercase_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lowercase_keys).collect()),
        other => other,
    }
}

/// Check the HTTP status and the envelope; give back `Result` with lowercased keys.
pub fn open(
    what: &str,
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
) -> Result<Value, BmsError> {
    if (300..400).contains(&status) {
        return Err(BmsError::Redirected {
            what: what.to_string(),
            status,
        });
    }
    let parsed = serde_json::from_slice::<Value>(body).map(lowercase_keys);
    if status == 401 {
        return Err(BmsError::Unauthorized {
            what: what.to_string(),
        });
    }
    if status == 429 {
        return Err(BmsError::RateLimited {
            what: what.to_string(),
            retry_after,
        });
    }
    if status == 503 {
        return Err(BmsError::Unavailable {
            what: what.to_string(),
            retry_after,
        });
    }
    let envelope = match parsed {
        Ok(Value::Object(map)) => map,
        Ok(_) | Err(_) if !(200..300).contains(&status) => {
            return Err(BmsError::Failed {
                what: what.to_string(),
                status,
                message: format!("HTTP {status} without a BMS error message"),
            });
        }
        Ok(_) => {
            return Err(BmsError::BadAnswer {
                what: what.to_string(),
                reason: "the answer is not a JSON object".into(),
            });
        }
        Err(e) => {
            return Err(BmsError::BadAnswer {
                what: what.to_string(),
                reason: format!("the answer is not JSON: {e}"),
            });
        }
    };
    let success = envelope.get("success").and_then(Value::as_bool);
    if success != Some(true) || !(200..300).contains(&status) {
        return Err(BmsError::Failed {
            what: what.to_string(),
            status,
            message: error_message(envelope.get("error")),
        });
    }
    Ok(envelope.get("result").cloned().unwrap_or(Value::Null))
}

/// `Error.Message` with any `SubErrors`, or a fallback that says there was none.
fn error_message(error: Option<&Value>) -> String {
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .unwrap_or("Success=false without an error message")
        .to_string();
    let subs: Vec<&str> = error
        .and_then(|e| e.get("suberrors"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if subs.is_empty() {
        message
    } else {
        format!("{message} ({})", subs.join("; "))
    }
}

/// Read a `Result` (already lowercased) into a type whose serde names are lowercase.
pub fn read<T: DeserializeOwned>(what: &str, result: Value) -> Result<T, BmsError> {
    serde_json::from_value(result).map_err(|e| BmsError::BadAnswer {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

/// Read a `Result` that is a list. BMS may answer `null` where nothing matched: that is an
/// empty list.
pub fn read_list<T: DeserializeOwned>(what: &str, result: Value) -> Result<Vec<T>, BmsError> {
    match result {
        Value::Null => Ok(Vec::new()),
        other => read(what, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_casings_open() {
        let pascal = br#"{"Success":true,"Error":null,"Result":{"AccessToken":"t"}}"#;
        let camel = br#"{"success":true,"error":null,"result":{"accessToken":"t"}}"#;
        for body in [&pascal[..], &camel[..]] {
            let r = open("login", 200, None, body).unwrap();
            assert_eq!(r["accesstoken"], "t");
        }
    }

    #[test]
    fn success_false_under_200_is_an_error() {
        let body = br#"{"Success":false,"Error":{"Code":3,"Message":"Queue is closed","SubErrors":["QueueId"]}}"#;
        match open("create ticket", 200, None, body) {
            Err(BmsError::Failed {
                status: 200,
                message,
                ..
            }) => {
                assert_eq!(message, "Queue is closed (QueueId)")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses() {
        assert!(matches!(
            open("x", 401, None, b""),
            Err(BmsError::Unauthorized { .. })
        ));
        assert!(matches!(
            open("x", 429, Some(30), b""),
            Err(BmsError::RateLimited {
                retry_after: Some(30),
                ..
            })
        ));
        assert!(matches!(
            open("x", 503, Some(30), b"<html>"),
            Err(BmsError::Unavailable {
                retry_after: Some(30),
                ..
            })
        ));
        assert!(matches!(
            open("x", 500, None, b"<html>"),
            Err(BmsError::Failed { status: 500, .. })
        ));
        assert!(matches!(
            open("x", 200, None, b"<html>"),
            Err(BmsError::BadAnswer { .. })
        ));
    }

    #[test]
    fn a_null_list_is_an_empty_one() {
        let none: Vec<i64> = read_list("x", Value::Null).unwrap();
        assert!(none.is_empty());
        let some: Vec<i64> = read_list("x", serde_json::json!([1, 2])).unwrap();
        assert_eq!(some, [1, 2]);
        assert!(read_list::<i64>("x", serde_json::json!({"a": 1})).is_err());
    }
}
