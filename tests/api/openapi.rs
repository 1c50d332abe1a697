//! docs/openapi.yaml against the function: real requests through the handler (every status it
//! can be made to answer here, the preview and the health check), each answer's status, content
//! type, body and headers validated against the schema the document gives for it.

use base64::Engine as _;
use bms_sandbox::Failure;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::helpers::{
    BUTTON_KEY, Gateway, TestApp, event, json_event, key_for, keyed_event, press,
};
use crate::support;

fn spec() -> Value {
    serde_norway::from_str(include_str!("../../docs/openapi.yaml"))
        .expect("docs/openapi.yaml is YAML")
}

/// `#/components/...` in the document.
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("a local $ref");
            resolve(
                spec,
                spec.pointer(pointer).unwrap_or_else(|| panic!("no {r}")),
            )
        }
        None => v,
    }
}

/// A validator for `schema`, whose `#/components/...` references resolve in the document.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.insert("components".into(), spec["components"].clone());
    } else {
        panic!("a schema object, not {schema}");
    }
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}\n{schema}"))
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The operation for a request path under any base path: the longest documented path it ends
/// with.
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> &'a Value {
    let paths = spec["paths"].as_object().expect("paths");
    let (_, item) = paths
        .iter()
        .filter(|(p, _)| ends_with_template(path.trim_end_matches('/'), p))
        // The longest, and of two as long, the one with fewer `{name}` segments.
        .max_by_key(|(p, _)| (p.split('/').count(), p.len() - 10 * p.matches('{').count()))
        .unwrap_or_else(|| panic!("no documented path for {path}"));
    &item[method.to_ascii_lowercase()]
}

/// Whether `path` ends with the documented `template`, whose `{name}` segments stand for any
/// one segment.
fn ends_with_template(path: &str, template: &str) -> bool {
    let path: Vec<&str> = path.split('/').collect();
    let template: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    path.len() >= template.len()
        && path[path.len() - template.len()..]
            .iter()
            .zip(&template)
            .all(|(p, t)| p == t || (t.starts_with('{') && t.ends_with('}')))
}

/// Checks one answer against the document; gives back the body, read.
fn conforms(spec: &Value, method: &str, path: &str, resp: &Response<Body>) -> Value {
    let op = operation(spec, method, path);
    assert!(op.is_object(), "{method} {path} is not documented");
    let status = resp.status().as_u16().to_string();
    let documented = op["responses"]
        .get(&status)
        .unwrap_or_else(|| panic!("{method} {path}: status {status} is not documented"));
    let documented = resolve(spec, documented);
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let schema = documented["content"]
        .get(media)
        .unwrap_or_else(|| {
            panic!("{method} {path} {status}: content type `{content_type}` is not documented")
        })
        .get("schema")
        .expect("a schema");
    let text = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8(b.clone()).expect("UTF-8"),
        Body::Empty => String::new(),
        _ => panic!("an unexpected body"),
    };
    let body = if media.ends_with("json") {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON: {e}"))
    } else {
        Value::String(text)
    };
    let problems = errors(&validator(spec, schema), &body);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: {problems:#?}\n{body:#}"
    );
    if let Some(headers) = documented.get("headers").and_then(Value::as_object) {
        for (name, h) in headers {
            let h = resolve(spec, h);
            if let Some(value) = resp.headers().get(name.as_str()) {
                let value = Value::String(value.to_str().expect("ASCII").to_string());
                let problems = errors(&validator(spec, &h["schema"]), &value);
                assert!(problems.is_empty(), "header {name}: {problems:?}");
            }
        }
    }
    body
}

async fn send(t: &TestApp, req: Request) -> Response<Body> {
    t.app.handle(req).await
}

fn keyed(gw: Gateway, method: &str, path: &str, content_type: &str, body: &str) -> Request {
    let auth = format!("Bearer {}", key_for(path));
    event(
        gw,
        method,
        path,
        &[("content-type", content_type), ("authorization", &auth)],
        body,
    )
}

#[tokio::test]
async fn created_tickets_conform_through_both_gateways_under_a_base_path() {
    let spec = spec();
    let t = TestApp::builder()
        .env("BUTTON_BASE_PATH", "/helpdesk")
        .spawn()
        .await;
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nnot really");
    let body = json!({
        "email": "dan.jump@fabrikam.com",
        "message": "Outlook asks for my password",
        "selections": ["Email"],
        "attachments": [{"name": "s.png", "contentType": "image/png", "data": png}],
    });
    for (gw, path) in [
        (Gateway::HttpV2, "/helpdesk/tickets"),
        (Gateway::RestV1, "/helpdesk/tickets"),
        (Gateway::HttpV2, "/helpdesk/tickets/"),
    ] {
        let resp = send(&t, json_event(gw, path, &body)).await;
        assert_eq!(resp.status(), 201, "{gw:?} {path}");
        let answer = conforms(&spec, "POST", path, &resp);
        assert!(
            answer["ticketNumber"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
        );
    }
    let form = "email=sam.new%40contoso.com&message=VPN+down&selections=VPN&selections=Home";
    let resp = send(
        &t,
        keyed(
            Gateway::HttpV2,
            "POST",
            "/helpdesk/tickets",
            "application/x-www-form-urlencoded",
            form,
        ),
    )
    .await;
    assert_eq!(resp.status(), 201);
    conforms(&spec, "POST", "/helpdesk/tickets", &resp);
}

#[tokio::test]
async fn a_repeated_press_conforms_as_a_duplicate() {
    let spec = spec();
    let t = TestApp::spawn().await;
    let body = json!({"email": "dan.jump@fabrikam.com", "message": "Printer jammed"});
    let key = Some("0b6f1f9e-6a5e-4f4e-9d1c-2f6c1d3b7a10");
    let first = send(&t, keyed_event(Gateway::HttpV2, "/tickets", &body, key)).await;
    assert_eq!(first.status(), 201);
    let first = conforms(&spec, "POST", "/tickets", &first);
    let again = send(&t, keyed_event(Gateway::HttpV2, "/tickets", &body, key)).await;
    assert_eq!(again.status(), 200);
    let again = conforms(&spec, "POST", "/tickets", &again);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["ticketId"], first["ticketId"]);
}

/// The function with rules that refuse every press from fabrikam.com, for the refusal's answer.
async fn rejecting_fabrikam() -> TestApp {
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [{"when": "email.endsWith('@fabrikam.com')", "reject": "Payment overdue."}],
    })
    .to_string();
    TestApp::builder().env("BUTTON_RULES", &rules).spawn().await
}

#[tokio::test]
async fn client_errors_conform() {
    let spec = spec();
    let t = rejecting_fabrikam().await;
    let json_body = |v: Value| v.to_string();
    let too_large = "x".repeat(6 * 1024 * 1024 + 1);
    let mut cases: Vec<(u16, Request, &str, &str)> = vec![
        (
            400,
            keyed(
                Gateway::HttpV2,
                "POST",
                "/tickets",
                "application/json",
                &json_body(press("not-an-email", "x")),
            ),
            "POST",
            "/tickets",
        ),
        (
            400,
            keyed(
                Gateway::RestV1,
                "POST",
                "/tickets/preview",
                "application/json",
                "{not json",
            ),
            "POST",
            "/tickets/preview",
        ),
        (
            401,
            event(
                Gateway::HttpV2,
                "POST",
                "/tickets",
                &[("content-type", "application/json")],
                &json_body(press("a@contoso.com", "x")),
            ),
            "POST",
            "/tickets",
        ),
        (
            401,
            event(
                Gateway::HttpV2,
                "GET",
                "/health",
                &[("x-api-key", "wrong")],
                "",
            ),
            "GET",
            "/health",
        ),
        (
            404,
            keyed(
                Gateway::HttpV2,
                "POST",
                "/tickets/preview/x",
                "application/json",
                "{}",
            ),
            "POST",
            "/tickets",
        ),
        (
            405,
            keyed(Gateway::HttpV2, "GET", "/tickets", "application/json", ""),
            "POST",
            "/tickets",
        ),
        (
            405,
            keyed(Gateway::RestV1, "POST", "/health", "application/json", "{}"),
            "GET",
            "/health",
        ),
        (
            413,
            keyed(
                Gateway::HttpV2,
                "POST",
                "/tickets",
                "application/json",
                &too_large,
            ),
            "POST",
            "/tickets",
        ),
        (
            415,
            keyed(Gateway::HttpV2, "POST", "/tickets", "text/plain", "help"),
            "POST",
            "/tickets",
        ),
        (
            422,
            keyed(
                Gateway::HttpV2,
                "POST",
                "/tickets",
                "application/json",
                &json_body(press("dan.jump@fabrikam.com", "x")),
            ),
            "POST",
            "/tickets",
        ),
    ];
    cases.push((400, not_utf8_json_body(), "POST", "/tickets"));
    for (status, req, method, documented_as) in cases {
        let resp = send(&t, req).await;
        assert_eq!(resp.status(), status, "{method} {documented_as}");
        let problem = conforms(&spec, method, documented_as, &resp);
        assert_eq!(problem["status"], status);
    }
    assert!(t.bms.tickets().is_empty());
}

/// A "JSON" body that is not UTF-8, as API Gateway passes it on: base64-encoded.
fn not_utf8_json_body() -> Request {
    let mut ev: Value = serde_json::from_str(include_str!("../../events/http-v2-ticket.json"))
        .expect("events/ holds valid JSON");
    ev["body"] = base64::engine::general_purpose::STANDARD
        .encode(b"\xff\xfe{\"email\": \"\xc3\x28\"}")
        .into();
    ev["isBase64Encoded"] = true.into();
    ev["headers"]["authorization"] = format!("Bearer {BUTTON_KEY}").into();
    lambda_http::request::from_str(&ev.to_string()).expect("a valid API Gateway event")
}

#[tokio::test]
async fn server_errors_conform() {
    let spec = spec();
    // 500: a configuration error, answered to every request.
    let t = TestApp::builder()
        .env("BUTTON_AUTH", "sometimes")
        .spawn()
        .await;
    for (method, path) in [
        ("POST", "/tickets"),
        ("POST", "/tickets/preview"),
        ("GET", "/health"),
    ] {
        let resp = send(
            &t,
            keyed(Gateway::HttpV2, method, path, "application/json", "{}"),
        )
        .await;
        assert_eq!(resp.status(), 500);
        conforms(&spec, method, path, &resp);
    }

    // 502: BMS says Success=false; 503: BMS rate limits, with Retry-After passed on.
    let t = TestApp::spawn().await;
    t.bms.fail_next(
        "POST",
        "/v2/servicedesk/tickets",
        Failure::SuccessFalse("Contract expired".into()),
    );
    let resp = send(
        &t,
        json_event(
            Gateway::HttpV2,
            "/tickets",
            &press("dan.jump@fabrikam.com", "x"),
        ),
    )
    .await;
    assert_eq!(resp.status(), 502);
    conforms(&spec, "POST", "/tickets", &resp);

    // A Retry-After beyond what the invocation has left is passed on at once, not waited for.
    t.bms.fail_next(
        "GET",
        "/v2/crm/contacts/search",
        Failure::StatusRetryAfter(429, "60".into()),
    );
    let resp = send(
        &t,
        json_event(
            Gateway::HttpV2,
            "/tickets/preview",
            &press("dan.jump@fabrikam.com", "x"),
        ),
    )
    .await;
    assert_eq!(resp.status(), 503);
    conforms(&spec, "POST", "/tickets/preview", &resp);
}

#[tokio::test]
async fn preview_and_health_conform() {
    let spec = spec();
    // Both health answers, 200 and 503, each made afresh.
    let t = TestApp::builder()
        .env("BUTTON_HEALTH_REUSE_SECONDS", "0")
        .spawn()
        .await;
    let resp = send(
        &t,
        json_event(
            Gateway::RestV1,
            "/tickets/preview",
            &json!({"email": "Ann.Beebe@Northwind.com", "message": "Printer jam", "selections": "Printer"}),
        ),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let preview = conforms(&spec, "POST", "/tickets/preview", &resp);
    assert!(preview["ticket"].is_object(), "{preview}");

    let health = |key: &str| {
        let auth = format!("Bearer {key}");
        event(
            Gateway::HttpV2,
            "GET",
            "/health",
            &[("authorization", &auth)],
            "",
        )
    };
    let resp = send(&t, health(key_for("/health"))).await;
    assert_eq!(resp.status(), 200);
    conforms(&spec, "GET", "/health", &resp);

    t.bms.set_password("changed");
    let resp = send(&t, health(key_for("/health"))).await;
    assert_eq!(resp.status(), 503);
    conforms(&spec, "GET", "/health", &resp);
}

/// The sample requests in events/ are what the document says a request is.
#[test]
fn the_sample_requests_conform_to_the_request_schemas() {
    let spec = spec();
    let body_schema = |media: &str| {
        validator(
            &spec,
            &spec["components"]["requestBodies"]["ButtonPress"]["content"][media]["schema"],
        )
    };
    let (json_schema, form_schema) = (
        body_schema("application/json"),
        body_schema("application/x-www-form-urlencoded"),
    );
    // osTicket's route reads JSON whatever the label.
    let osticket_schema = validator(
        &spec,
        &spec["components"]["requestBodies"]["OsTicket"]["content"]["application/json"]["schema"],
    );
    let note_schema = validator(&spec, &spec["components"]["schemas"]["NoteRequest"]);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("events/") {
        let path = entry.expect("an entry").path();
        let ev: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
        let Some(raw) = ev["body"].as_str() else {
            continue;
        };
        let raw = if ev["isBase64Encoded"] == true {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .expect("base64");
            String::from_utf8(bytes).expect("UTF-8")
        } else {
            raw.to_string()
        };
        let path_of_event = ev["path"].as_str().or(ev["rawPath"].as_str());
        let (v, body) = if path_of_event.is_some_and(|p| p.ends_with("/notes")) {
            (
                &note_schema,
                serde_json::from_str(&raw).expect("a JSON body"),
            )
        } else if path_of_event.is_some_and(|p| p.ends_with("tickets.json")) {
            (
                &osticket_schema,
                serde_json::from_str(&raw).expect("a JSON body"),
            )
        } else if raw.trim_start().starts_with('{') {
            (
                &json_schema,
                serde_json::from_str(&raw).expect("a JSON body"),
            )
        } else {
            let mut fields = serde_json::Map::new();
            for (k, val) in
                serde_urlencoded::from_str::<Vec<(String, String)>>(&raw).expect("a form")
            {
                match fields.get_mut(&k) {
                    Some(Value::Array(items)) => items.push(val.into()),
                    Some(first) => *first = json!([first.clone(), val]),
                    None => {
                        fields.insert(k, val.into());
                    }
                }
            }
            (&form_schema, Value::Object(fields))
        };
        let problems = errors(v, &body);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}

#[tokio::test]
async fn rules_try_and_the_pages_conform() {
    let spec = spec();
    let t = TestApp::spawn().await;
    let try_rules = |body: Value| {
        keyed(
            Gateway::HttpV2,
            "POST",
            "/rules/try",
            "application/json",
            &body.to_string(),
        )
    };
    let cases = [
        (
            json!({"rules": {"rules": [{"when": "prority == 'High'", "stop": true}]}}),
            200,
        ),
        (
            json!({
                "rules": "{\"rules\": [{\"when\": \"'Printer' in selections\", \"set\": {\"queue\": \"Printers\"}}]}",
                "press": {"email": "dan.jump@fabrikam.com", "message": "Jam", "selections": ["Printer"]},
            }),
            200,
        ),
        (
            json!({"rules": {}, "press": {"email": "not-an-email", "message": "x"}}),
            400,
        ),
        (json!({"press": {}}), 400),
    ];
    for (body, status) in cases {
        let resp = send(&t, try_rules(body.clone())).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let answer = conforms(&spec, "POST", "/rules/try", &resp);
        if status == 200 && body.get("press").is_some() {
            assert_eq!(answer["after"]["queue"], "Printers", "{answer}");
        }
    }
    for path in ["/help", "/playground"] {
        let resp = send(&t, event(Gateway::HttpV2, "GET", path, &[], "")).await;
        assert_eq!(resp.status(), 200, "{path}");
        conforms(&spec, "GET", path, &resp);
    }
    assert!(
        t.bms.calls().is_empty(),
        "neither the pages nor /rules/try call BMS"
    );
}

/// osTicket's route: answers in plain text, each as the document says.
#[tokio::test]
async fn osticket_answers_conform() {
    let spec = spec();
    let t = rejecting_fabrikam().await;
    let osticket = |method: &str, path: &str, key: Option<&str>, body: &Value| {
        let headers: Vec<(&str, &str)> = key.map(|k| ("X-API-Key", k)).into_iter().collect();
        event(Gateway::HttpV2, method, path, &headers, &body.to_string())
    };
    let ticket = |email: &str| {
        json!({"email": email, "subject": "Printer", "message": "data:text/html,<p>Jammed</p>",
               "attachments": [{"a.txt": "data:,x"}]})
    };
    let ok = Some(BUTTON_KEY);
    let too_large = Value::String("x".repeat(6 * 1024 * 1024 + 1));
    let cases = [
        (
            201,
            osticket(
                "POST",
                "/api/tickets.json",
                ok,
                &ticket("sam.new@contoso.com"),
            ),
        ),
        (
            201,
            osticket(
                "POST",
                "/api/http.php/tickets.json",
                ok,
                &ticket("a@contoso.com"),
            ),
        ),
        (
            400,
            osticket(
                "POST",
                "/api/tickets.json",
                ok,
                &json!({"subject": "s", "message": "m"}),
            ),
        ),
        (
            401,
            osticket("POST", "/api/tickets.json", None, &ticket("a@contoso.com")),
        ),
        (
            403,
            osticket(
                "POST",
                "/api/tickets.json",
                ok,
                &ticket("dan.jump@fabrikam.com"),
            ),
        ),
        (404, osticket("POST", "/x/api/tickets.json", ok, &json!({}))),
        (
            405,
            osticket("GET", "/api/http.php/tickets.json", ok, &json!({})),
        ),
        (413, osticket("POST", "/api/tickets.json", ok, &too_large)),
    ];
    for (status, req) in cases {
        let path = req.uri().path().to_string();
        let resp = send(&t, req).await;
        assert_eq!(resp.status(), status, "{path}");
        let documented_as = if path.contains("http.php") {
            "/api/http.php/tickets.json"
        } else {
            "/api/tickets.json"
        };
        let body = conforms(&spec, "POST", documented_as, &resp);
        assert!(body.is_string(), "{body}");
    }
    assert_eq!(t.bms.tickets().len(), 2);

    t.bms.fail_next(
        "GET",
        "/v2/crm/contacts/search",
        Failure::StatusRetryAfter(429, "60".into()),
    );
    let resp = send(
        &t,
        osticket("POST", "/api/tickets.json", ok, &ticket("b@contoso.com")),
    )
    .await;
    assert_eq!(resp.status(), 503);
    conforms(&spec, "POST", "/api/tickets.json", &resp);

    let broken = TestApp::builder()
        .env("BUTTON_AUTH", "sometimes")
        .spawn()
        .await;
    let resp = send(
        &broken,
        osticket("POST", "/api/tickets.json", ok, &json!({})),
    )
    .await;
    assert_eq!(resp.status(), 500);
    conforms(&spec, "POST", "/api/tickets.json", &resp);
}

#[tokio::test]
async fn a_parked_press_conforms() {
    let queue = support::sqs::Parking::create("openapi", 5).await;
    let bms = bms_sandbox::Sandbox::start().await;
    let app = support::parking::app_parking_on(&bms, &queue, &[]).await;
    bms.set_outage(Some(Failure::Status(503)));
    let resp = app
        .handle(json_event(
            Gateway::HttpV2,
            "/tickets",
            &press("a@b.com", "down"),
        ))
        .await;
    assert_eq!(resp.status(), 202);
    let body = conforms(&spec(), "POST", "/tickets", &resp);
    assert_eq!(body["status"], "queued");
}

#[tokio::test]
async fn follow_up_answers_conform() {
    let spec = spec();
    let t = TestApp::spawn().await;
    let filed = send(
        &t,
        json_event(
            Gateway::HttpV2,
            "/tickets",
            &press("sam.new@contoso.com", "VPN down"),
        ),
    )
    .await;
    let filed = conforms(&spec, "POST", "/tickets", &filed);
    let (id, token) = (
        filed["ticketId"].as_i64().unwrap(),
        filed["followUp"].as_str().unwrap(),
    );
    t.bms
        .add_staff_note(
            id,
            bms_sandbox::tenant::ASSIGNEE_JANE_TECH,
            "Restart the router",
            false,
        )
        .unwrap();
    let path = format!("/tickets/{id}");
    let read = send(
        &t,
        crate::follow_up::status_request(Gateway::RestV1, &id.to_string(), Some(token), true),
    )
    .await;
    assert_eq!(read.status(), 200);
    let read = conforms(&spec, "GET", &path, &read);
    assert_eq!(read["replies"][0]["from"], "help desk");
    let refused = send(
        &t,
        crate::follow_up::status_request(Gateway::HttpV2, &id.to_string(), Some("forged"), true),
    )
    .await;
    assert_eq!(refused.status(), 404);
    conforms(&spec, "GET", &path, &refused);
    let unkeyed = send(
        &t,
        crate::follow_up::status_request(Gateway::HttpV2, &id.to_string(), Some(token), false),
    )
    .await;
    assert_eq!(unkeyed.status(), 401);
    conforms(&spec, "GET", &path, &unkeyed);
    let notes = format!("{path}/notes");
    let note = json!({"message": "Forgot the screenshot"});
    for expected in [201, 200] {
        let added = send(
            &t,
            crate::follow_up::note_request(&id.to_string(), Some(token), Some("n-1"), &note),
        )
        .await;
        assert_eq!(added.status(), expected);
        conforms(&spec, "POST", &notes, &added);
    }
    let bad = send(
        &t,
        crate::follow_up::note_request(&id.to_string(), Some(token), None, &json!({})),
    )
    .await;
    assert_eq!(bad.status(), 400);
    conforms(&spec, "POST", &notes, &bad);
    let refused = send(
        &t,
        crate::follow_up::note_request(&id.to_string(), None, None, &note),
    )
    .await;
    assert_eq!(refused.status(), 404);
    conforms(&spec, "POST", &notes, &refused);
}
