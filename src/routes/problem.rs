//! What a caller is told when a request fails: each layer's own error (the request's, the
//! pipeline's, BMS's, the secret's, the configuration's) becomes a `Problem` here, at the edge,
//! and [`super::answer`] writes it as `application/problem+json` (RFC 9457), or as one line of
//! text on osTicket's routes.
//!
//! Details come from our own messages, which never hold a credential, a key or a stack trace.

use serde_json::{Value, json};

use crate::button::RequestError;
use crate::config::ConfigError;
use crate::kaseya::{BmsError, UNAVAILABLE_RETRY_AFTER};
use crate::press::PressError;
use crate::resolve::ResolveError;
use crate::secret::SecretError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    /// Short, stable name of the kind of problem; `type` is a URN built from it.
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub retry_after: Option<u64>,
    /// BMS may have created the ticket although the request failed: the button must not file
    /// it again blindly. Answered as the extension member `"ticketMayExist": true`.
    pub ticket_may_exist: bool,
}

impl Problem {
    fn new(
        status: u16,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            retry_after: None,
            ticket_may_exist: false,
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(401, "unauthorized", "Missing or wrong button key", detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(403, "forbidden", "This key may not do that", detail)
    }

    pub fn rejected(message: impl Into<String>) -> Self {
        Problem::new(422, "rejected", "The ticket was not accepted", message)
    }

    pub fn configuration(detail: impl Into<String>) -> Self {
        Problem::new(
            500,
            "configuration",
            "The function is not configured correctly",
            detail,
        )
    }

    /// The contact has no location and its account no main one: BMS holds no place to file
    /// the ticket under.
    pub fn no_location() -> Self {
        Problem::new(
            502,
            "bms-error",
            "Kaseya BMS answered with an error",
            "the ticket's contact has no location and its account has no main location: set one \
             in BMS (the function's log names the account)",
        )
    }

    /// The path is not echoed: it is the caller's text, and says nothing the caller needs.
    pub fn not_found() -> Self {
        Problem::new(
            404,
            "not-found",
            "No such endpoint",
            "no such endpoint: use POST /tickets, POST /tickets/preview, GET /health or \
             POST /rules/try",
        )
    }

    /// Every follow-up the token does not open: no token, a forged, expired or another
    /// ticket's one, or a ticket BMS does not have. One answer, word for word, for all of them.
    pub fn no_such_ticket() -> Self {
        Problem::new(
            404,
            "not-found",
            "No such ticket",
            "no ticket here for this follow-up token: send the `X-Follow-Up` token the ticket was \
             filed with, within the days it holds; past them, press the button again",
        )
    }

    pub fn method_not_allowed(method: &str, endpoint: &str, allowed: &str) -> Self {
        Problem::new(
            405,
            "method-not-allowed",
            "Method not allowed",
            format!("{method} is not accepted on {endpoint}: use {allowed}"),
        )
    }

    /// The problem+json document.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": format!("urn:kaseya-button:problem:{}", self.kind),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        });
        if self.ticket_may_exist {
            body["ticketMayExist"] = true.into();
        }
        body
    }
}

impl From<RequestError> for Problem {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::TooLarge { .. } => {
                Problem::new(413, "too-large", "Request too large", e.to_string())
            }
            RequestError::UnsupportedMediaType(_) => Problem::new(
                415,
                "unsupported-media-type",
                "Unsupported content type",
                e.to_string(),
            ),
            RequestError::Malformed(_) | RequestError::Invalid { .. } => Problem::new(
                400,
                "bad-request",
                "The button request is not valid",
                e.to_string(),
            ),
        }
    }
}

/// Answered before anyone could be authenticated, so to every caller: that the function is
/// misconfigured, and nothing of what (a rule's source, a URL with its password). The log says
/// each problem and its fix, once, when the function starts.
impl From<&ConfigError> for Problem {
    fn from(_: &ConfigError) -> Self {
        Problem::configuration(
            "the function is not configured correctly: its log names each problem and how to fix \
             it (look for \"configuration error\" where the function started)",
        )
    }
}

/// The secret's own error names the secret and quotes Secrets Manager; an answer is seen by
/// callers whose key could not even be checked, so it says only where to look. The health
/// report, which needs an operator key, shows the whole error.
impl From<SecretError> for Problem {
    fn from(e: SecretError) -> Self {
        tracing::error!(error = %e, "the function's secret could not be used");
        match e {
            SecretError::Unreachable { .. } => Problem {
                retry_after: Some(UNAVAILABLE_RETRY_AFTER),
                ..Problem::new(
                    503,
                    "secret-unavailable",
                    "Secrets Manager is unavailable",
                    "Secrets Manager could not be reached for the function's secret: try again \
                     later (the function's log has the details)",
                )
            },
            _ => Problem::configuration(
                "the function's secret could not be used: the function's log says what is wrong \
                 and how to fix it",
            ),
        }
    }
}

/// One arm per kind of BMS failure, each deciding what the caller may learn of it. BMS's own
/// words can name a contact or a technician: they go to the log, never into an answer.
impl From<BmsError> for Problem {
    fn from(e: BmsError) -> Self {
        match e {
            BmsError::Unreachable { .. } => Problem {
                retry_after: Some(UNAVAILABLE_RETRY_AFTER),
                ..Problem::new(
                    503,
                    "bms-unavailable",
                    "Kaseya BMS is unavailable",
                    e.to_string(),
                )
            },
            BmsError::MaybeDone { .. } => maybe_done(&e),
            BmsError::RateLimited { retry_after, .. } => {
                refused_for_now("Kaseya BMS is rate limiting", retry_after, &e)
            }
            BmsError::Unavailable { retry_after, .. } => {
                refused_for_now("Kaseya BMS is unavailable", retry_after, &e)
            }
            BmsError::Secret(e) => Problem::from(e),
            BmsError::Failed {
                ref what, status, ..
            } => {
                tracing::error!(error = ?e.to_string(), "BMS answered an error");
                bms_error(format!(
                    "BMS refused the request ({what}, HTTP {status}); its message is in the \
                     function's log"
                ))
            }
            BmsError::LoginRejected { .. } => {
                tracing::error!(error = ?e.to_string(), "BMS refused the login");
                bms_error(
                    "BMS refused the API user's credentials: check the company, user name and \
                     password in the secret (BMS's message is in the function's log)",
                )
            }
            BmsError::Unauthorized { .. }
            | BmsError::Redirected { .. }
            | BmsError::BadAnswer { .. } => bms_error(e.to_string()),
        }
    }
}

fn bms_error(detail: impl Into<String>) -> Problem {
    Problem::new(
        502,
        "bms-error",
        "Kaseya BMS answered with an error",
        detail,
    )
}

/// A create whose fate is unknown. The button may file again only after it has looked for this
/// one; with the Idempotency-Key it sent, a repeat finds the ticket instead of creating another.
/// When BMS answered, what it said stays in the log: the caller learns its status.
fn maybe_done(e: &BmsError) -> Problem {
    let BmsError::MaybeDone {
        what,
        status,
        reason,
        retry_after,
    } = e
    else {
        return bms_error(e.to_string());
    };
    let why = match status {
        Some(s) if *s >= 300 => {
            tracing::error!(error = ?e.to_string(), "BMS failed while creating the ticket");
            format!("BMS answered HTTP {s}; its message is in the function's log")
        }
        _ => reason.clone(),
    };
    let detail = format!(
        "BMS may have carried out `{what}` ({why}); it was not sent again, so as not to do it \
         twice. BMS may have created the ticket: retry with the same Idempotency-Key to find it \
         instead of filing it twice"
    );
    let (code, kind, title) = match status {
        Some(s) if *s != 503 => (
            502,
            "bms-error-ticket-may-exist",
            "Kaseya BMS failed while creating the ticket",
        ),
        _ => (
            503,
            "bms-unavailable-ticket-may-exist",
            "Kaseya BMS did not confirm the ticket",
        ),
    };
    Problem {
        retry_after: Some(retry_after.unwrap_or(UNAVAILABLE_RETRY_AFTER)),
        ticket_may_exist: true,
        ..Problem::new(code, kind, title, detail)
    }
}

/// BMS refused for a while (429 or 503), after the retries: come back after `Retry-After`.
/// Both share the type `bms-rate-limited`, which buttons already know to mean just that.
fn refused_for_now(title: &'static str, retry_after: Option<u64>, e: &BmsError) -> Problem {
    Problem {
        retry_after: Some(retry_after.unwrap_or(UNAVAILABLE_RETRY_AFTER)),
        ..Problem::new(503, "bms-rate-limited", title, e.to_string())
    }
}

impl From<PressError> for Problem {
    fn from(e: PressError) -> Self {
        match e {
            PressError::Bms(e) => Problem::from(e),
            PressError::Secret(e) => Problem::from(e),
            PressError::Resolve(e) => Problem::from(e),
            e @ PressError::NoCatchAll(_) => Problem::configuration(e.to_string()),
            PressError::NoLocation => Problem::no_location(),
            PressError::Rules(e) => {
                // The parameter's name and Parameter Store's words are for the log and /health.
                tracing::error!(error = %e, "a press found no rules in force");
                Problem {
                    retry_after: Some(UNAVAILABLE_RETRY_AFTER),
                    ..Problem::new(
                        503,
                        "rules-unavailable",
                        "The rules could not be read",
                        "the function's rules could not be read from Parameter Store, so the \
                         ticket was not filed: try again later (GET /health and the function's \
                         log say what is wrong)",
                    )
                }
            }
            // Nothing was filed: the client sends the same key again, and a repeat finds the
            // ticket instead of filing it twice.
            PressError::SearchFailed(e) => {
                let refused = Problem::from(e);
                let detail = format!(
                    "{}. Nothing was filed: send the request again with the same {}",
                    refused.detail.trim_end_matches('.'),
                    crate::idempotency::HEADER
                );
                Problem {
                    status: 503,
                    detail,
                    ..refused
                }
            }
        }
    }
}

impl From<ResolveError> for Problem {
    fn from(e: ResolveError) -> Self {
        Problem::configuration(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;
    use lambda_http::http::header;

    #[test]
    fn problem_json_shape() {
        let r = crate::routes::answer::problem(&Problem::rejected("Payment overdue"));
        assert_eq!(r.status(), 422);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let Body::Text(t) = r.body() else {
            panic!("text body")
        };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["status"], 422);
        assert_eq!(v["detail"], "Payment overdue");
        assert_eq!(v["type"], "urn:kaseya-button:problem:rejected");
    }

    #[test]
    fn statuses_by_cause() {
        let unreachable = BmsError::Unreachable {
            what: "x".into(),
            reason: "timed out".into(),
        };
        assert_eq!(Problem::from(unreachable).status, 503);
        let failed = BmsError::Failed {
            what: "x".into(),
            status: 200,
            message: "no".into(),
        };
        assert_eq!(Problem::from(failed).status, 502);
        assert_eq!(
            Problem::from(SecretError::NotFound { id: "s".into() }).status,
            500
        );
        assert_eq!(
            Problem::from(RequestError::TooLarge { size: 1 }).status,
            413
        );
        let lost = |status| BmsError::MaybeDone {
            what: "create ticket".into(),
            status,
            reason: "timed out".into(),
            retry_after: None,
        };
        for (status, answered) in [(None, 503), (Some(503), 503), (Some(500), 502)] {
            let p = Problem::from(lost(status));
            assert_eq!((p.status, p.ticket_may_exist), (answered, true));
            assert_eq!(p.retry_after, Some(UNAVAILABLE_RETRY_AFTER));
        }
    }

    #[test]
    fn only_what_time_cures_may_be_parked() {
        let what = || "x".to_string();
        let failed = |status| BmsError::Failed {
            what: what(),
            status,
            message: "no".into(),
        };
        let cured = [
            BmsError::Unreachable {
                what: what(),
                reason: "timed out".into(),
            },
            BmsError::RateLimited {
                what: what(),
                retry_after: Some(60),
            },
            BmsError::Unavailable {
                what: what(),
                retry_after: None,
            },
            BmsError::MaybeDone {
                what: what(),
                status: None,
                reason: "timed out".into(),
                retry_after: None,
            },
            failed(500),
            failed(502),
        ];
        for e in cured {
            assert!(PressError::Bms(e.clone()).time_cures(), "{e}");
        }
        let lasting = [
            failed(400),
            failed(200),
            BmsError::LoginRejected {
                message: "Invalid credentials".into(),
            },
            BmsError::Unauthorized { what: what() },
            BmsError::Redirected {
                what: what(),
                status: 307,
            },
            BmsError::BadAnswer {
                what: what(),
                reason: "not JSON".into(),
            },
            BmsError::Secret(SecretError::NotFound { id: "s".into() }),
        ];
        for e in lasting {
            assert!(!PressError::Bms(e.clone()).time_cures(), "{e}");
        }
        let no_queue = ResolveError::NoQueueOrAssignee(String::new());
        assert!(!PressError::Resolve(no_queue).time_cures());
        assert!(!PressError::NoLocation.time_cures());
    }

    /// BMS's own words may name a contact or a technician: a caller is told what failed, the
    /// log keeps what BMS said.
    #[test]
    fn bms_words_never_reach_the_caller() {
        let said = "Contact Jane Doe (jane@fabrikam.com) is locked by tech Bob";
        let failed = BmsError::Failed {
            what: "create ticket".into(),
            status: 500,
            message: said.into(),
        };
        let lost = BmsError::MaybeDone {
            what: "create ticket".into(),
            status: Some(500),
            reason: failed.to_string(),
            retry_after: None,
        };
        let searched = PressError::SearchFailed(failed.clone());
        for p in [
            Problem::from(failed),
            Problem::from(lost),
            Problem::from(searched),
        ] {
            assert!(!p.detail.contains("Jane"), "{p:?}");
            assert!(p.detail.contains("HTTP 500"), "{p:?}");
        }
    }

    #[test]
    fn ticket_may_exist_is_an_extension_member_only_when_true() {
        let body = |p: &Problem| match crate::routes::answer::problem(p).into_body() {
            Body::Text(t) => serde_json::from_str::<serde_json::Value>(&t).unwrap(),
            _ => panic!("text body"),
        };
        let mut p = Problem::unauthorized("no");
        assert!(body(&p).get("ticketMayExist").is_none());
        p.ticket_may_exist = true;
        assert_eq!(body(&p)["ticketMayExist"], true);
    }
}
