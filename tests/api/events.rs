//! Every sample event in `events/`, as Lambda delivers it, against the BMS sandbox with the
//! demo's settings (its button key, `docs/rules.example.json`, the preview on); and the health
//! report, check by check.

use std::path::{Path, PathBuf};

use bms_sandbox::tenant::{
    ACCOUNT_FABRIKAM, ACCOUNT_UNREGISTERED, ASSET_FAB_PC_0042, ASSIGNEE_JANE_TECH,
    CONTACT_ANN_BEEBE, CONTACT_DAN_JUMP, CONTACT_UNREGISTERED, LOCATION_FABRIKAM_BRANCH,
    LOCATION_FABRIKAM_HQ, LOCATION_NORTHWIND_MAIN, LOCATION_UNREGISTERED, PRIORITY_CRITICAL,
    PRIORITY_MEDIUM, QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK,
};
use bms_sandbox::{CREDENTIALS, Options, Tenant};
use serde_json::{Value, json};

use crate::helpers::{
    Answer, Gateway, OPERATOR_KEY, TestApp, TestAppBuilder, closed_port_url, event, get,
};
use crate::support::moto;

/// The key the events carry, as `scripts/demo` configures it.
const DEMO_KEY: &str = "demo-button-key";
const DEMO_OPERATOR_KEY: &str = "demo-operator-key";

/// The function with the demo's settings, on top of the helpers' (which point at the sandbox).
fn demo() -> TestAppBuilder {
    TestApp::builder()
        .env(
            "KASEYA_CREDENTIALS",
            &json!({"credentials": CREDENTIALS, "buttonKeys": [DEMO_KEY], "operatorKeys": [DEMO_OPERATOR_KEY]}).to_string(),
        )
        .env("BUTTON_RULES", include_str!("../../docs/rules.example.json"))
        .env("BUTTON_PREVIEW", "on")
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// What each kind of sample event must give; both gateway formats of a kind give the same.
/// Checked against the answer and against what BMS received.
fn expect(kind: &str, a: &Answer, t: &TestApp, event: &Value) {
    let tickets = t.bms.tickets();
    let details = |ticket: &Value| ticket["Details"].as_str().unwrap_or_default().to_string();
    match kind {
        "ticket" => {
            assert_eq!(a.status, 201, "{a:?}");
            let ticket = t.only_ticket();
            assert_eq!(a.body["ticketNumber"], ticket["TicketNumber"]);
            assert_eq!(ticket["ContactId"], CONTACT_DAN_JUMP);
            assert_eq!(ticket["LocationId"], LOCATION_FABRIKAM_BRANCH);
            assert_eq!(ticket["QueueId"], QUEUE_SERVICE_DESK);
            assert_eq!(ticket["PriorityId"], PRIORITY_MEDIUM);
            assert_eq!(
                ticket["AssigneeId"], ASSIGNEE_JANE_TECH,
                "the rule for Dan Jump"
            );
            assert!(
                details(&ticket).contains("Hostname: FAB-LT-042"),
                "{ticket}"
            );
            assert!(!details(&ticket).contains("[User Registration Requested]"));
        }
        "unknown-user" => {
            assert_eq!(a.status, 201, "{a:?}");
            let ticket = t.only_ticket();
            assert_eq!(ticket["ContactId"], CONTACT_UNREGISTERED);
            assert_eq!(ticket["AccountId"], ACCOUNT_UNREGISTERED);
            assert_eq!(ticket["LocationId"], LOCATION_UNREGISTERED);
            let body = details(&ticket);
            assert!(
                body.starts_with("[User Registration Requested]")
                    && body.contains("Email: sam.new@contoso.com")
                    && body.contains("Business: Contoso Retail"),
                "{body}"
            );
        }
        "new-hire" => {
            // A person BMS does not know yet, at a known customer: a rule of the example
            // document places Fabrikam's e-mails on Fabrikam, with the computer they pressed from.
            assert_eq!(a.status, 201, "{a:?}");
            let ticket = t.only_ticket();
            assert_eq!(ticket["AccountId"], ACCOUNT_FABRIKAM);
            assert_eq!(ticket["LocationId"], LOCATION_FABRIKAM_HQ);
            assert!(
                ticket.get("ContactId").is_none_or(Value::is_null),
                "{ticket}"
            );
            assert_eq!(ticket["HardwareAssetId"], ASSET_FAB_PC_0042);
            let body = details(&ticket);
            assert!(
                body.starts_with("[User Registration Requested]\nName: New Hire\n")
                    && body.contains("Asset: FAB-PC-0042"),
                "{body}"
            );
        }
        "form" => {
            assert_eq!(a.status, 201, "{a:?}");
            assert_eq!(
                event["isBase64Encoded"], true,
                "a form arrives base64-encoded"
            );
            let ticket = t.only_ticket();
            assert_eq!(ticket["ContactId"], CONTACT_ANN_BEEBE);
            assert_eq!(
                ticket["LocationId"], LOCATION_NORTHWIND_MAIN,
                "Ann has no location: her account's main one"
            );
            assert_eq!(ticket["QueueId"], QUEUE_ESCALATIONS, "the Northwind rule");
            assert!(
                details(&ticket).contains("Selections: Printer, Scanner"),
                "{ticket}"
            );
        }
        "selections" => {
            assert_eq!(a.status, 201, "{a:?}");
            let ticket = t.only_ticket();
            assert_eq!(
                ticket["PriorityId"], PRIORITY_CRITICAL,
                "the emergency rule"
            );
            let title = ticket["Title"].as_str().unwrap_or_default();
            assert!(
                title.starts_with("**EMERGENCY** The file server"),
                "{title}"
            );
            assert!(
                details(&ticket).contains("Selections: Network, This is an emergency"),
                "{ticket}"
            );
        }
        "attachment" => {
            assert_eq!(a.status, 201, "{a:?}");
            let ticket = t.only_ticket();
            let notes = t.bms.notes();
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert_eq!(Some(notes[0].0), ticket["Id"].as_i64());
            let sent: Value =
                serde_json::from_str(event["body"].as_str().unwrap_or_default()).unwrap();
            let note = notes[0].1.to_string();
            assert!(
                note.contains("error.png")
                    && note.contains(sent["attachments"][0]["data"].as_str().unwrap()),
                "{note}"
            );
        }
        "preview" => {
            assert_eq!(a.status, 200, "{a:?}");
            assert!(tickets.is_empty(), "a preview files nothing: {tickets:?}");
            assert_eq!(a.body["ticket"]["PriorityId"], PRIORITY_CRITICAL, "{a:?}");
            assert_eq!(a.body["ticket"]["QueueId"], QUEUE_ESCALATIONS, "{a:?}");
            let title = a.body["contextAfter"]["title"].as_str().unwrap_or_default();
            assert!(title.starts_with("**EMERGENCY** "), "{a:?}");
        }
        "health" => {
            assert_eq!(a.status, 200, "{a:?}");
            assert!(a.content_type.starts_with("text/plain"), "{a:?}");
            let text = a.body.as_str().unwrap_or_default();
            assert_eq!(text.lines().count(), 5, "{text}");
            assert!(text.lines().all(|l| l.starts_with("ok   ")), "{text}");
            assert!(tickets.is_empty());
        }
        // osTicket's API documentation's example: an HTML message and two files.
        "osticket" => {
            assert_eq!(a.status, 201, "{a:?}");
            assert_eq!(a.content_type, "text/plain; charset=utf-8");
            let ticket = t.only_ticket();
            assert_eq!(a.body, ticket["Id"], "the ticket id, in digits");
            assert_eq!(ticket["Title"], "Testing API");
            assert_eq!(ticket["ContactId"], CONTACT_UNREGISTERED);
            let body = details(&ticket);
            assert!(
                body.contains("\nMESSAGE HERE\n") && !body.contains('<'),
                "{body}"
            );
            let notes = t.bms.notes();
            assert_eq!(notes.len(), 1, "{notes:?}");
            let names: Vec<&Value> = notes[0].1["Attachments"]
                .as_array()
                .map(|a| a.iter().map(|f| &f["Name"]).collect())
                .unwrap_or_default();
            assert_eq!(names, ["file.txt", "image.png"]);
        }
        // osTicket's PHP client: JSON labelled as a form, to osTicket's path without rewriting.
        "osticket-php" => {
            assert_eq!(a.status, 201, "{a:?}");
            assert_eq!(
                event["headers"]
                    .as_object()
                    .and_then(|h| h
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-type")))
                    .map(|(_, v)| v.clone()),
                Some(json!("application/x-www-form-urlencoded"))
            );
            let ticket = t.only_ticket();
            assert_eq!(a.body, ticket["Id"]);
            assert_eq!(ticket["ContactId"], CONTACT_ANN_BEEBE);
            assert_eq!(ticket["QueueId"], QUEUE_ESCALATIONS, "the Northwind rule");
            assert!(
                details(&ticket).contains("says \"Paper jam\" but there is no paper in it."),
                "{ticket}"
            );
        }
        "follow-up" => {
            assert_eq!(a.status, 200, "{a:?}");
            assert_eq!(a.body["ticketId"], 1001);
            assert_eq!(a.body["status"], "New");
            assert_eq!(a.body["replies"], json!([]));
        }
        "add-note" => {
            assert_eq!(a.status, 201, "{a:?}");
            let notes = t.bms.notes();
            assert_eq!(notes.len(), 1, "{notes:?}");
            assert_eq!(notes[0].0, 1001);
            assert_eq!(notes[0].1["IsInternal"], false);
            assert_eq!(notes[0].1["Attachments"][0]["Name"], "screenshot.png");
        }
        other => panic!(
            "events/: no expectation for the kind `{other}`: add it to `expect` in tests/api/events.rs"
        ),
    }
}

/// `rest-v1-ticket.json` -> (`rest-v1`, `ticket`).
fn kind_of(file: &str) -> (&str, &str) {
    let stem = file.strip_suffix(".json").unwrap_or(file);
    ["rest-v1-", "http-v2-"]
        .iter()
        .find_map(|p| stem.strip_prefix(p).map(|k| (&p[..7], k)))
        .unwrap_or_else(|| {
            panic!("events/{file}: name it rest-v1-<kind>.json or http-v2-<kind>.json")
        })
}

/// What a follow-up event holds in place of a token, which expires.
const TOKEN_PLACE: &str = "<the followUp of the answer that filed ticket 1001>";

/// A follow-up event's text with a real token: the ticket `events/http-v2-ticket.json` files,
/// its token in place of [`TOKEN_PLACE`]. Any other event as it is.
async fn with_follow_up_token(t: &TestApp, kind: &str, text: String) -> String {
    if !matches!(kind, "follow-up" | "add-note") {
        return text;
    }
    let press = include_str!("../../events/http-v2-ticket.json");
    let filed = t
        .send(lambda_http::request::from_str(press).expect("an event"))
        .await;
    assert_eq!(filed.body["ticketId"], 1001, "{filed:?}");
    let token = filed.body["followUp"].as_str().expect("a token");
    assert!(
        text.contains(TOKEN_PLACE),
        "events/…-{kind}.json holds {TOKEN_PLACE}"
    );
    text.replace(TOKEN_PLACE, token)
}

const KINDS: [&str; 12] = [
    "follow-up",
    "add-note",
    "ticket",
    "unknown-user",
    "new-hire",
    "form",
    "selections",
    "attachment",
    "preview",
    "health",
    "osticket",
    "osticket-php",
];

#[tokio::test]
async fn every_event_file_gives_its_expected_answer() {
    let mut files: Vec<String> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .map(|e| {
            e.expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        // The SQS events are the replay function's: tests/api/replay.rs runs them.
        .filter(|f| !f.starts_with("sqs-"))
        .collect();
    files.sort();
    let mut covered = Vec::new();
    for file in &files {
        let (format, kind) = kind_of(file);
        let text = std::fs::read_to_string(events_dir().join(file)).expect("readable");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("events/{file} is not JSON: {e}"));
        let t = demo().spawn().await;
        let text = with_follow_up_token(&t, kind, text).await;
        let req = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("events/{file} is not an API Gateway event: {e}"));
        let a = t.send(req).await;
        expect(kind, &a, &t, &json);
        covered.push((format.to_string(), kind.to_string()));
    }
    // Every kind in both formats, so that neither format's sample goes missing or stale.
    for kind in KINDS {
        for format in ["rest-v1", "http-v2"] {
            assert!(
                covered.contains(&(format.to_string(), kind.to_string())),
                "events/{format}-{kind}.json is missing"
            );
        }
    }
    assert_eq!(files.len(), KINDS.len() * 2, "{files:?}");
}

#[tokio::test]
async fn both_gateway_formats_of_a_kind_carry_the_same_request() {
    for kind in KINDS {
        let read_event = |format: &str| -> Value {
            let path = events_dir().join(format!("{format}-{kind}.json"));
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON")
        };
        let (v1, v2) = (read_event("rest-v1"), read_event("http-v2"));
        assert_eq!(v1["body"], v2["body"], "{kind}");
        assert_eq!(v1["isBase64Encoded"], v2["isBase64Encoded"], "{kind}");
        assert_eq!(
            v1["httpMethod"], v2["requestContext"]["http"]["method"],
            "{kind}"
        );
        assert_eq!(v1["path"], v2["rawPath"], "{kind}");
    }
}

// ---- GET /health, check by check ----

fn health_request(key: Option<&str>) -> lambda_http::Request {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    event(Gateway::HttpV2, "GET", "/health", &headers, "")
}

async fn health(t: &TestApp) -> (u16, String) {
    let a = t.send(health_request(Some(DEMO_OPERATOR_KEY))).await;
    assert!(a.content_type.starts_with("text/plain"), "{a:?}");
    (a.status, a.body.as_str().unwrap_or_default().to_string())
}

/// The report's line for `check`.
fn line<'a>(text: &'a str, check: &str) -> &'a str {
    text.lines()
        .find(|l| {
            l.get(5..)
                .is_some_and(|rest| rest.starts_with(&format!("{check}:")))
        })
        .unwrap_or_else(|| panic!("no line for `{check}` in:\n{text}"))
}

#[tokio::test]
async fn health_reports_each_check_on_its_own_line() {
    let t = demo().spawn().await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        line(&text, "secret"),
        "ok   secret: given in KASEYA_CREDENTIALS (local runs only)"
    );
    assert!(line(&text, "BMS login").starts_with("ok   BMS login: logged in at http://127.0.0.1:"));
    assert_eq!(
        line(&text, "catch-all contact"),
        "ok   catch-all contact: `unregistered@helpdeskbuttons.com` is contact 104 of account 3, \
         tickets go to its location 31"
    );
    assert_eq!(
        line(&text, "rules defaults"),
        "ok   rules defaults: status `New` (1), priority `Medium` (2), type `Service Request` (1), \
         source `Other` (8), queue `Service Desk` (1)"
    );
    assert_eq!(
        line(&text, "rules names"),
        "ok   rules names: each of the 9 names the rules and keys set is active in BMS"
    );
    assert!(t.bms.tickets().is_empty());
}

#[tokio::test]
async fn health_names_a_secret_that_went_bad_and_how_to_fix_it() {
    let good = json!({"credentials": CREDENTIALS, "buttonKeys": [DEMO_KEY], "operatorKeys": [DEMO_OPERATOR_KEY]}).to_string();
    let id = moto::create_secret("health", &good).await;
    // Reports are reused for a minute unless told otherwise: this one must see the secret change.
    let t = demo()
        .secret_id(&id)
        .env("BUTTON_HEALTH_REUSE_SECONDS", "0")
        .spawn()
        .await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        line(&text, "secret"),
        format!("ok   secret: read from Secrets Manager `{id}`")
    );

    moto::put_secret(&id, "not a secret in any known form").await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    let l = line(&text, "secret");
    assert!(
        l.starts_with("FAIL secret: the secret is not in a known format")
            && l.contains("Use `Company+username:password`"),
        "{text}"
    );
    assert!(!text.contains("not a secret in any known form"), "{text}");
}

#[tokio::test]
async fn health_names_refused_credentials_and_skips_what_needs_the_login() {
    let t = demo().spawn().await;
    t.bms.set_password("changed-in-bms");
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    let l = line(&text, "BMS login");
    assert!(
        l.starts_with("FAIL BMS login: BMS refused the API user's credentials")
            && l.contains("Check the company, user name and password in the secret"),
        "{text}"
    );
    assert_eq!(
        line(&text, "catch-all contact"),
        "skip catch-all contact: needs the BMS login"
    );
    assert_eq!(
        line(&text, "rules defaults"),
        "skip rules defaults: needs the BMS login"
    );
    assert_eq!(
        line(&text, "rules names"),
        "skip rules names: needs the BMS login"
    );
    assert!(!text.contains("s3cret") && !text.contains("changed-in-bms"));
}

#[tokio::test]
async fn health_names_an_unreachable_bms_and_its_setting() {
    let url = closed_port_url();
    let t = demo().env("KASEYA_API_URL", &url).spawn().await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    let l = line(&text, "BMS login");
    assert!(
        l.starts_with("FAIL BMS login: BMS could not be reached")
            && l.contains(&format!(
                "check that KASEYA_API_URL ({url}) is your region's"
            )),
        "{text}"
    );
}

#[tokio::test]
async fn health_names_a_missing_catch_all_contact_and_how_to_create_it() {
    let t = demo()
        .env("KASEYA_UNREGISTERED_EMAIL", "nobody@nowhere.example")
        .spawn()
        .await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(
        line(&text, "catch-all contact"),
        "FAIL catch-all contact: the catch-all contact `nobody@nowhere.example` for unregistered \
         users is not an active contact in BMS: create it (under an account with a main \
         location), or set KASEYA_UNREGISTERED_EMAIL to the one you use"
    );
    assert!(line(&text, "BMS login").starts_with("ok   "), "{text}");
    assert!(line(&text, "rules defaults").starts_with("ok   "), "{text}");
}

#[tokio::test]
async fn health_names_a_catch_all_contact_whose_tickets_have_no_location() {
    let mut tenant = Tenant::default();
    for c in tenant
        .contacts
        .iter_mut()
        .filter(|c| c.id == CONTACT_UNREGISTERED)
    {
        c.location_id = None;
    }
    for l in tenant
        .locations
        .iter_mut()
        .filter(|l| l.account_id == ACCOUNT_UNREGISTERED)
    {
        l.is_main = false;
    }
    let t = demo()
        .sandbox(Options {
            tenant,
            ..Options::default()
        })
        .spawn()
        .await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    assert_eq!(
        line(&text, "catch-all contact"),
        "FAIL catch-all contact: the catch-all contact `unregistered@helpdeskbuttons.com` \
         (contact 104) has no location and its account 3 has no main location: give the contact \
         a location or mark one of the account's locations as main"
    );
}

#[tokio::test]
async fn health_names_defaults_that_bms_does_not_know() {
    // A name that falls back: the ticket would be filed, but not as the document says.
    let rules = json!({"defaults": {"queue": "Service Desk", "priority": "Urgent"}}).to_string();
    let t = demo().env("BUTTON_RULES", &rules).spawn().await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    let l = line(&text, "rules defaults");
    assert!(
        l.starts_with("FAIL rules defaults: ")
            && l.contains(
                "`Urgent` is not an active priority in BMS (known: Low, Medium, High, Critical)"
            )
            && l.ends_with("correct `defaults` in BUTTON_RULES to names BMS knows (docs/rules.md)"),
        "{text}"
    );

    // A name without which no ticket can be filed at all.
    let rules = json!({"defaults": {"queue": "Servise Desk"}}).to_string();
    let t = demo().env("BUTTON_RULES", &rules).spawn().await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    let l = line(&text, "rules defaults");
    assert!(
        l.starts_with(
            "FAIL rules defaults: the ticket has neither a queue nor an assignee: set \
             `defaults.queue`"
        ) && l.contains("`Servise Desk` is not an active queue in BMS"),
        "{text}"
    );
}

#[tokio::test]
async fn health_names_every_name_the_rules_set_that_bms_does_not_know() {
    // The defaults are sound; a rule that seldom matches sets a misspelt queue and an assignee
    // who left.
    let rules = json!({
        "defaults": {"queue": "Service Desk"},
        "rules": [
            {"when": "'Network' in selections", "set": {"queue": "Escalation", "priority": "High"}},
            {"when": "email.endsWith('@northwind.com')", "set": {"assignee": "Jon Tech"}}
        ]
    })
    .to_string();
    let t = demo().env("BUTTON_RULES", &rules).spawn().await;
    let (status, text) = health(&t).await;
    assert_eq!(status, 503, "{text}");
    assert!(line(&text, "rules defaults").starts_with("ok   "), "{text}");
    let l = line(&text, "rules names");
    assert!(
        l.starts_with(
            "FAIL rules names: rules[0].set.queue: `Escalation` is not an active queue in BMS \
             (known: Service Desk, Escalations"
        ) && l.contains(
            "; rules[1].set.assignee: `Jon Tech` is not an active assignee in BMS (known: "
        ) && l.contains("Jane Tech")
            && !l.contains("`High`")
            && l.ends_with("correct them in BUTTON_RULES to names BMS knows (docs/rules.md)"),
        "{text}"
    );

    let t = demo()
        .env("BUTTON_RULES", "{\"defaults\": {\"queue\": 1}}")
        .spawn()
        .await;
    let (_, text) = health(&t).await;
    assert_eq!(
        line(&text, "rules names"),
        "ok   rules names: the rules and keys set no names"
    );
}

#[tokio::test]
async fn health_takes_only_an_operator_key() {
    let t = demo().spawn().await;
    assert_eq!(t.send(health_request(None)).await.status, 401);
    assert_eq!(t.send(health_request(Some("wrong"))).await.status, 401);
    // A button key files tickets and nothing else.
    let a = t.send(health_request(Some(DEMO_KEY))).await;
    assert_eq!(a.status, 403, "{a:?}");
    assert!(a.detail().contains("operatorKeys"), "{a:?}");
    assert!(t.bms.calls().is_empty());
}

#[tokio::test]
async fn health_is_no_amplifier_a_report_is_reused_for_a_minute() {
    let t = TestApp::spawn().await;
    let first = t.send(get("/health", Some(OPERATOR_KEY))).await;
    assert_eq!(first.status, 200, "{first:?}");
    let calls = t.bms.calls().len();
    assert!(calls > 0);
    for _ in 0..5 {
        let again = t.send(get("/health", Some(OPERATOR_KEY))).await;
        assert_eq!(again.status, first.status);
        assert_eq!(again.body, first.body);
    }
    assert_eq!(
        t.bms.calls().len(),
        calls,
        "a repeated report called BMS again"
    );
}
