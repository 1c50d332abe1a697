//! `POST /rules/try`: a rules document checked, and tried on a sample press, as the function
//! would run it; the rules playground's endpoint. Nothing leaves the function: no BMS call, no
//! secret, no network. Bounded in size and in time.

use std::time::Duration;

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::Problem;
use super::answer;
use crate::button::{ButtonRequest, RequestError};
use crate::context::Context;
use crate::rules::{self, Rules};

/// The rules document, as given or unpacked: the most the rules take anywhere.
pub const MAX_DOCUMENT_BYTES: usize = rules::MAX_DOCUMENT_BYTES;
/// The whole request: a document, a press and their JSON around them.
pub const MAX_REQUEST_BYTES: usize = 3 * MAX_DOCUMENT_BYTES;
/// How long the answer waits for checking and applying. The work itself is bounded where the
/// rules are read and run (the document's size, its `let` lists and expressions, and the steps
/// and bytes one press may spend); this bounds the wait on top, on a machine slower than hoped,
/// and past it the answer is a 422.
pub const TIME_LIMIT: Duration = Duration::from_secs(1);

const VAR_PREFIX: &str = "BUTTON_RULES=";

#[derive(Deserialize)]
struct TryRequest<'a> {
    /// The document: JSON, or a string holding JSON text or a packed `gz:…` document.
    #[serde(borrow)]
    rules: &'a RawValue,
    /// A button request, as `POST /tickets` takes it; without one, the document is only checked.
    #[serde(borrow, default)]
    press: Option<&'a RawValue>,
}

pub(super) async fn answer(req: &Request) -> Result<Response<Body>, Problem> {
    let body = req.body().as_ref();
    if body.len() > MAX_REQUEST_BYTES {
        return Err(Problem {
            detail: format!(
                "the request is {} bytes; /rules/try takes at most {MAX_REQUEST_BYTES} (a rules \
                 document of up to {MAX_DOCUMENT_BYTES} bytes and a press)",
                body.len()
            ),
            ..Problem::from(RequestError::TooLarge { size: body.len() })
        });
    }
    let (text, press) = read_request(body)?;
    let work = tokio::task::spawn_blocking(move || evaluate(&text, press.as_ref()));
    match tokio::time::timeout(TIME_LIMIT, work).await {
        Ok(Ok(Ok(result))) => Ok(answer::json(StatusCode::OK, &Value::Object(result))),
        Ok(Ok(Err(p))) => Err(p),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "trying the rules failed");
            Err(Problem::configuration(
                "trying the rules failed inside the function (its log has the details)",
            ))
        }
        Err(_) => Err(too_slow()),
    }
}

/// The document's text and the press, from the request's JSON.
fn read_request(body: &[u8]) -> Result<(String, Option<ButtonRequest>), Problem> {
    let request: TryRequest = serde_json::from_slice(body).map_err(|e| {
        bad_request(format!(
            "the body must be JSON such as {{\"rules\": {{…}}, \"press\": {{\"email\": …, \
             \"message\": …}}}}: {e}"
        ))
    })?;
    let text = match request.rules.get().trim_start().starts_with('"') {
        true => serde_json::from_str::<String>(request.rules.get())
            .map_err(|e| bad_request(format!("`rules`: {e}")))?,
        // Verbatim: key order, duplicate keys and all, as the author wrote it.
        false => request.rules.get().to_string(),
    };
    let press = match request.press {
        None => None,
        Some(raw) => Some(
            ButtonRequest::parse(Some("application/json"), raw.get().as_bytes()).map_err(|e| {
                bad_request(format!(
                    "`press` would be refused (400) before any rule runs: {e}"
                ))
            })?,
        ),
    };
    Ok((text, press))
}

fn too_slow() -> Problem {
    Problem {
        status: 422,
        kind: "rules-too-slow",
        title: "The rules took too long",
        detail: format!(
            "checking and applying the rules took longer than {} s: shorten the document or \
             the press",
            TIME_LIMIT.as_secs()
        ),
        retry_after: None,
        ticket_may_exist: false,
    }
}

/// The checker's report, the sizes and, when the document holds and a press is given, what the
/// rules do to it.
fn evaluate(text: &str, press: Option<&ButtonRequest>) -> Result<Map<String, Value>, Problem> {
    let unpacked = rules::unpack(text).ok();
    let unpacked_len = unpacked.as_ref().map_or(text.len(), |u| u.len());
    // in the checker's words, but answered as a request too large
    if let Some(detail) = rules::document_size_problem(unpacked_len.max(text.len())) {
        return Err(Problem {
            detail,
            ..Problem::from(RequestError::TooLarge { size: unpacked_len })
        });
    }
    let parsed = Rules::parse(text);
    let mut out = Map::new();
    out.insert(
        "report".into(),
        json!(rules::check_report("the document", &parsed)),
    );
    let errors = match &parsed {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.clone(),
    };
    out.insert("errors".into(), json!(errors));
    if let Some(minified) = unpacked.as_deref().and_then(rules::minify) {
        out.insert("size".into(), sizes(text, &minified));
    }
    if let (Ok(rules), Some(press)) = (parsed, press) {
        applied(&rules, press, &mut out);
    }
    Ok(out)
}

/// The document's sizes, given, minified and packed, and the packed document itself.
fn sizes(text: &str, minified: &str) -> Value {
    let packed = rules::pack(minified);
    json!({
        "given": text.len(),
        "minified": minified.len(),
        "packed": packed.len(),
        "variable": VAR_PREFIX.len() + packed.len(),
        "packedDocument": packed,
    })
}

/// What the rules do to the press: the variables before and after, and the outcome.
fn applied(rules: &Rules, press: &ButtonRequest, out: &mut Map<String, Value>) {
    out.insert("warnings".into(), json!(rules.warnings()));
    let mut ctx = Context::new(press, Utc::now());
    let before = ctx.vars().clone();
    let outcome = rules.apply(&mut ctx);
    let lets = rules.lets();
    out.insert("before".into(), json!(before));
    out.insert("after".into(), json!(ctx.vars()));
    out.insert(
        "changed".into(),
        json!(
            ctx.vars()
                .iter()
                .filter(|(name, after)| before.get(*name) != Some(*after))
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        ),
    );
    out.insert(
        "letVariables".into(),
        json!(lets.keys().collect::<Vec<_>>()),
    );
    out.insert("matched".into(), json!(outcome.matched));
    out.insert("runtimeErrors".into(), json!(outcome.errors));
    out.insert("rejected".into(), json!(outcome.rejected));
}

fn bad_request(detail: String) -> Problem {
    Problem {
        detail,
        ..Problem::from(RequestError::Malformed(String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(v: Value) -> ButtonRequest {
        ButtonRequest::parse(Some("application/json"), v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_misspelt_variable_is_reported_as_the_checker_reports_it() {
        let out = evaluate(
            r#"{"rules": [{"when": "prority == 'High'", "set": {"queue": "Escalations"}}]}"#,
            Some(&press(json!({"email": "a@b.com", "message": "x"}))),
        )
        .unwrap();
        let report = out["report"].as_array().unwrap();
        assert_eq!(report[0], "the document: 1 problem found:");
        let line = report[1].as_str().unwrap();
        assert!(line.starts_with("error: rules[0].when"), "{line}");
        assert!(line.contains("did you mean `priority`?"), "{line}");
        assert_eq!(out["errors"].as_array().unwrap().len(), 1);
        assert!(
            out.get("after").is_none(),
            "rules with problems are not run"
        );
    }

    #[test]
    fn a_valid_document_shows_before_after_matched_and_rejected() {
        let doc = json!({"rules": [
            {"when": "'Printer' in selections", "set": {"queue": "Printers"}},
            {"when": "email.endsWith('@fabrikam.com')", "reject": "Call us."},
        ]})
        .to_string();
        let p =
            press(json!({"email": "dan@fabrikam.com", "message": "x", "selections": ["Printer"]}));
        let out = evaluate(&doc, Some(&p)).unwrap();
        assert_eq!(out["errors"], json!([]));
        assert_eq!(out["before"]["queue"], "");
        assert_eq!(out["after"]["queue"], "Printers");
        assert_eq!(out["changed"], json!(["queue"]));
        assert_eq!(out["matched"], json!([0, 1]));
        assert_eq!(out["rejected"], json!({"rule": 1, "message": "Call us."}));
        assert!(
            out["size"]["packedDocument"]
                .as_str()
                .unwrap()
                .starts_with("gz:")
        );
        // the packed form is a document too
        let packed = out["size"]["packedDocument"].as_str().unwrap().to_string();
        let again = evaluate(&packed, Some(&p)).unwrap();
        assert_eq!(again["after"], out["after"]);
    }

    #[test]
    fn a_document_over_the_limit_is_refused_even_packed() {
        let big = format!("{{\"x\": \"{}\"}}", " ".repeat(MAX_DOCUMENT_BYTES));
        assert_eq!(evaluate(&big, None).unwrap_err().status, 413);
        let packed = rules::pack(&big);
        assert!(packed.len() < MAX_DOCUMENT_BYTES);
        assert_eq!(evaluate(&packed, None).unwrap_err().status, 413);
    }

    /// The finding: an 80×80 `map` over a 64 KB message answered 200 after building 757 MB.
    /// The evaluation stops at the bytes a press may build, and the answer says why.
    #[test]
    fn a_map_of_maps_over_a_long_message_is_stopped_not_built() {
        let xs: Vec<String> = (0..80).map(|i| i.to_string()).collect();
        let xs = format!("[{}]", xs.join(", "));
        let doc = json!({
            "let": {"v": null},
            "rules": [{"compute": {"v": format!("{xs}.map(i, {xs}.map(j, message))")}}]
        })
        .to_string();
        let p = press(json!({"email": "a@b.com", "message": "m".repeat(64 * 1024)}));
        let out = evaluate(&doc, Some(&p)).unwrap();
        assert_eq!(out["matched"], json!([]));
        let errors = out["runtimeErrors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].as_str().unwrap().contains("1048576 bytes"),
            "{errors:?}"
        );
        assert_eq!(out["after"]["v"], Value::Null);
    }

    /// The finding: three nested loops over a 2,000-item `let` list kept a core busy for
    /// hours. The document is refused as the checker refuses it, in the same words.
    #[test]
    fn a_long_let_list_is_refused_in_the_checkers_words() {
        let xs: Vec<usize> = (0..2000).collect();
        let doc = json!({
            "let": {"xs": xs},
            "rules": [{"when": "xs.exists(a, xs.exists(b, xs.exists(c, a + b + c < 0)))",
                       "set": {"queue": "Never"}}]
        })
        .to_string();
        // only checked: running it is what must not happen
        let out = evaluate(&doc, None).unwrap();
        let checker = rules::check_report("the document", &Rules::parse(&doc));
        assert_eq!(out["report"], json!(checker));
        let errors = out["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e.as_str().unwrap().starts_with("let.xs: holds 2000 items")),
            "{errors:?}"
        );
    }
}
