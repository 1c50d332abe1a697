//! How many BMS calls a press makes, and how many of them it waits for one after another.
//!
//! The sandbox answers every call after an injected latency and records when each started and
//! ended; calls a request makes concurrently overlap, so the sandbox's round-trip count (the
//! longest chain of calls each starting after the previous one ended) is deterministic. No wall
//! time is asserted.

use std::time::Duration;

use bms_sandbox::{CREDENTIALS, Failure, Options, Sandbox};
use kaseya_button::App;
use serde_json::Value;

use crate::helpers::{Gateway, app_for, keyed_event, post_ticket, press, read};
use crate::support::lambda::{self, Function, Runtime};
use crate::support::moto;

/// Long enough that calls started together always overlap, however busy the machine.
const LATENCY: Duration = Duration::from_millis(60);

const KNOWN: &str = "dan.jump@fabrikam.com";
/// A contact without a location: the ticket goes to the account's main location.
const NO_LOCATION: &str = "ann.beebe@northwind.com";
const UNKNOWN: &str = "stranger@example.com";

/// What the helpers' rules need besides the contact: statuses, priorities, queues (the default
/// queue is a name), ticket types and sources.
const DEFAULT_LOOKUPS: usize = 5;
/// The catch-all contact is looked up beside the first contact search of a container, whoever
/// presses, so that a missing one cannot tell known e-mails from unknown ones.
const CATCH_ALL: usize = 1;
/// The calls of a cold press of a contact with a location: login, contact, catch-all contact,
/// lookups, create.
const COLD_PRESS: usize = 1 + 1 + CATCH_ALL + DEFAULT_LOOKUPS + 1;

async fn sandbox() -> Sandbox {
    Sandbox::start_with(Options {
        latency: LATENCY,
        ..Options::default()
    })
    .await
}

/// One press, and the (calls, round trips) it made.
async fn press_counted(app: &App, bms: &Sandbox, email: &str) -> (usize, usize) {
    bms.reset_calls();
    let a = post_ticket(app, &press(email, "Round trips")).await;
    assert_eq!(a.status, 201, "{a:?}");
    (bms.calls().len(), bms.round_trips())
}

fn paths(bms: &Sandbox) -> Vec<String> {
    bms.calls()
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test]
async fn cold_press_logs_in_then_searches_and_looks_up_at_once_then_creates() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    assert_eq!(
        press_counted(&app, &bms, KNOWN).await,
        (COLD_PRESS, 3),
        "{:#?}",
        paths(&bms)
    );
}

#[tokio::test]
async fn warm_press_is_a_contact_search_then_the_create() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    press_counted(&app, &bms, KNOWN).await;
    assert_eq!(press_counted(&app, &bms, KNOWN).await, (2, 2));
    assert_eq!(
        paths(&bms),
        [
            "GET /v2/crm/contacts/search",
            "POST /v2/servicedesk/tickets"
        ]
    );
}

/// The computer search rides beside the contact search: a warm press with a hostname is still
/// two round trips, three calls.
#[tokio::test]
async fn a_warm_press_with_a_hostname_is_still_two_round_trips() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    press_counted(&app, &bms, KNOWN).await;
    bms.reset_calls();
    let body = serde_json::json!({"email": KNOWN, "message": "x", "hostname": "FAB-PC-0042"});
    let a = post_ticket(&app, &body).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(bms.round_trips(), 2, "{:#?}", paths(&bms));
    let mut got = paths(&bms);
    got.sort();
    assert_eq!(
        got,
        [
            "GET /v2/crm/contacts/search",
            "GET /v2/servicedesk/hardwareasset/searchselect",
            "POST /v2/servicedesk/tickets"
        ]
    );
    assert_eq!(bms.tickets()[1]["HardwareAssetId"], 601);
}

#[tokio::test]
async fn a_contact_without_location_adds_one_round_trip_once_per_account() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    assert_eq!(
        press_counted(&app, &bms, NO_LOCATION).await,
        (COLD_PRESS + 1, 4),
        "cold: login, contact, locations, create: {:#?}",
        paths(&bms)
    );
    // Warm, but the account's locations already known.
    assert_eq!(press_counted(&app, &bms, NO_LOCATION).await, (2, 2));

    let fresh = app_for(&bms, &[]).await;
    press_counted(&fresh, &bms, KNOWN).await;
    assert_eq!(
        press_counted(&fresh, &bms, NO_LOCATION).await,
        (3, 3),
        "warm, first press of this account: {:#?}",
        paths(&bms)
    );
    assert_eq!(bms.count("GET", "/v2/crm/accounts/"), 1);
}

#[tokio::test]
async fn warm_up_leaves_a_cold_press_two_round_trips() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    app.warm_up().await;
    // The login only: nothing else has to come before a press, so nothing else is waited for.
    assert_eq!(paths(&bms), ["POST /v2/security/authenticate"]);
    assert_eq!(bms.round_trips(), 1);

    // The lists and the catch-all contact go out beside the contact search.
    assert_eq!(
        press_counted(&app, &bms, KNOWN).await,
        (COLD_PRESS - 1, 2),
        "{:#?}",
        paths(&bms)
    );
    assert_eq!(press_counted(&app, &bms, UNKNOWN).await, (2, 2));
}

#[tokio::test]
async fn a_failed_warm_up_is_made_good_by_the_first_press() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    // A Retry-After longer than warm-up may take: not waited for, so the login fails at once.
    bms.fail_next(
        "POST",
        "/v2/security/authenticate",
        Failure::StatusRetryAfter(503, "60".into()),
    );
    app.warm_up().await;
    assert_eq!(bms.calls().len(), 1, "nothing after a failed login");
    assert_eq!(
        press_counted(&app, &bms, KNOWN).await,
        (COLD_PRESS, 3),
        "{:#?}",
        paths(&bms)
    );
}

#[tokio::test]
async fn concurrent_cold_presses_share_one_login_and_one_fetch_of_each_list() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    let (first, second) = (press(KNOWN, "first"), press(NO_LOCATION, "second"));
    let (a, b) = tokio::join!(post_ticket(&app, &first), post_ticket(&app, &second));
    assert_eq!((a.status, b.status), (201, 201), "{a:?}\n{b:?}");
    for path in [
        "/v2/security/authenticate",
        "/v2/system/statuses/lookup",
        "/v2/system/priorities/lookup",
        "/v2/system/queues/lookup",
        "/v2/system/lookup/TicketType",
        "/v2/system/lookup/TicketSource",
    ] {
        let method = if path.starts_with("/v2/security") {
            "POST"
        } else {
            "GET"
        };
        assert_eq!(bms.count(method, path), 1, "{path}: {:#?}", paths(&bms));
    }
    assert_eq!(
        bms.count("GET", "/v2/crm/contacts/search"),
        2 + CATCH_ALL,
        "one search each, and one for the catch-all contact"
    );
    assert_eq!(bms.count("POST", "/v2/servicedesk/tickets"), 2);
    assert_eq!(
        bms.round_trips(),
        4,
        "the slower press waits for a location"
    );
}

#[tokio::test]
async fn lists_are_read_again_once_their_lifetime_is_over() {
    let bms = sandbox().await;
    // A lifetime of zero: every press reads the lists again.
    let app = app_for(&bms, &[("KASEYA_LOOKUP_TTL_SECONDS", "0")]).await;
    press_counted(&app, &bms, KNOWN).await;
    let (calls, trips) = press_counted(&app, &bms, KNOWN).await;
    assert_eq!(calls, 1 + DEFAULT_LOOKUPS + 1, "{:#?}", paths(&bms));
    assert_eq!(trips, 2, "the lists are read beside the contact search");
}

#[tokio::test]
async fn an_aged_list_stands_in_when_bms_cannot_give_a_new_one() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[("KASEYA_LOOKUP_TTL_SECONDS", "0")]).await;
    press_counted(&app, &bms, KNOWN).await;
    bms.fail_next(
        "GET",
        "/v2/system/queues/lookup",
        Failure::SuccessFalse("Database is busy".into()),
    );
    bms.reset_calls();
    let a = post_ticket(&app, &press(KNOWN, "queue list unreadable")).await;
    assert_eq!(a.status, 201, "{a:?}");
    let tickets = bms.tickets();
    assert_eq!(tickets.last().map(|t| t["QueueId"].clone()), Some(1.into()));
}

#[tokio::test]
async fn a_list_only_a_rule_names_is_fetched_beside_the_contact_search() {
    let bms = sandbox().await;
    let rules = r#"{"defaults": {"queue": "Service Desk"},
                    "rules": [{"when": "name == 'Dan Jump'", "set": {"assignee": "Jane Tech"}}]}"#;
    let app = app_for(&bms, &[("BUTTON_RULES", rules)]).await;
    // Warm, by a press the rule does not touch.
    press_counted(&app, &bms, UNKNOWN).await;
    assert_eq!(
        bms.count("GET", "/v2/hr/assignees/lookup"),
        0,
        "not a default"
    );
    bms.reset_calls();
    let mut body = press(KNOWN, "Assigned by a rule");
    body["name"] = "Dan Jump".into();
    let a = post_ticket(&app, &body).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(bms.calls().len(), 3, "{:#?}", paths(&bms));
    assert_eq!(bms.round_trips(), 2, "{:#?}", paths(&bms));
    assert!(
        bms.tickets()[1]["AssigneeId"].is_number(),
        "the second ticket, by the rule"
    );
}

#[tokio::test]
async fn an_idempotency_key_adds_a_search_beside_the_contact_and_one_after_the_create() {
    let bms = sandbox().await;
    let app = app_for(&bms, &[]).await;
    press_counted(&app, &bms, KNOWN).await;
    let body = press(KNOWN, "Keyed");
    let keyed = || {
        keyed_event(
            Gateway::HttpV2,
            "/tickets",
            &body,
            Some("9b2e6c1a-keyed-press"),
        )
    };

    bms.reset_calls();
    let first = read(app.handle(keyed()).await);
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(
        (bms.calls().len(), bms.round_trips()),
        (4, 3),
        "contact and ticket searches together, the create, then the search that makes sure no \
         racing container filed the same press: {:#?}",
        paths(&bms)
    );

    bms.reset_calls();
    let again = read(app.handle(keyed()).await);
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(
        (bms.calls().len(), bms.round_trips()),
        (2, 1),
        "a repeat is answered from the searches alone: {:#?}",
        paths(&bms)
    );
}

/// The real binary started as Lambda starts it, its secret in Secrets Manager (moto) relayed
/// through the sandbox so that the fetch is counted with the BMS calls: the sandbox, the
/// Runtime API and the function's environment.
async fn lambda(name: &str) -> (Sandbox, Runtime, Vec<(&'static str, String)>) {
    lambda_with(name, false).await
}

/// The same, the sandbox in TLS mode when `tls` (Secrets Manager's relay too), trusted
/// through `BUTTON_EXTRA_CA_FILE`.
async fn lambda_with(name: &str, tls: bool) -> (Sandbox, Runtime, Vec<(&'static str, String)>) {
    moto::moto();
    let bms = lambda::sandbox(LATENCY, tls).await;
    let id = moto::create_secret(name, CREDENTIALS).await;
    let env = lambda::env(&bms, id, include_str!("../../docs/rules.example.json"));
    (bms, Runtime::start().await, env)
}

/// A container started for a press already waiting: the binary spawned with `env`, and the
/// answer to that press.
async fn cold_press(runtime: &mut Runtime, env: &[(&str, String)]) -> (Function, Value) {
    runtime.hand_over(lambda::press_event(KNOWN));
    let function = Function::spawn(BINARY, runtime, env);
    runtime.asked().await;
    let (_, answer) = runtime.answered().await;
    (function, answer)
}

const BINARY: &str = env!("CARGO_BIN_EXE_kaseya-button");

/// The binary a deployment runs: `BUTTON_BOOTSTRAP` names one built elsewhere (`sam build`'s
/// `.aws-sam/build/ButtonFunction/bootstrap`), else the one this test was built with.
fn deployed_binary() -> String {
    std::env::var("BUTTON_BOOTSTRAP").unwrap_or_else(|_| BINARY.to_string())
}

/// What `sam build` makes is what Lambda runs: the binary, started by the Runtime API with
/// Lambda's environment only, files one press as one ticket.
#[tokio::test]
async fn the_deployed_bootstrap_files_a_press_through_the_runtime_api() {
    let (bms, mut runtime, env) = lambda("deployed-bootstrap").await;
    runtime.hand_over(lambda::press_event(KNOWN));
    let _function = Function::spawn(&deployed_binary(), &runtime, &env);
    runtime.asked().await;
    let (_, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    let body: Value =
        serde_json::from_str(answer["body"].as_str().unwrap_or_default()).expect("a JSON answer");
    let tickets = bms.tickets();
    assert_eq!(tickets.len(), 1, "one press, one ticket: {tickets:#?}");
    assert_eq!(tickets[0]["Id"], body["ticketId"], "{answer}");
}

#[tokio::test]
async fn a_container_started_for_a_waiting_press_answers_it_in_four_round_trips() {
    let (bms, mut runtime, env) = lambda("request-triggered").await;
    let (_function, answer) = cold_press(&mut runtime, &env).await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    // The secret; the login; the contact search beside the lists and the catch-all; the create.
    assert_eq!(bms.round_trips(), 4, "{:#?}", paths(&bms));
    assert_eq!(bms.count("POST", "/secretsmanager.GetSecretValue"), 1);
    assert_eq!(bms.count("POST", "/v2/security/authenticate"), 1);
}

/// The catch-all contact's location is looked up only for a press filed under it: a tenant whose
/// catch-all contact has no location of its own (its account's main one serves) keeps the
/// four round trips for a known contact's press.
#[tokio::test]
async fn a_catch_all_without_a_location_of_its_own_adds_no_round_trip_to_a_cold_start() {
    moto::moto();
    let mut tenant = bms_sandbox::Tenant::default();
    for c in &mut tenant.contacts {
        if c.id == bms_sandbox::tenant::CONTACT_UNREGISTERED {
            c.location_id = None;
        }
    }
    let bms = Sandbox::start_with(Options {
        latency: LATENCY,
        secrets_manager: Some(moto::moto().url.clone()),
        tenant,
        ..Options::default()
    })
    .await;
    let id = moto::create_secret("catch-all-without-location", CREDENTIALS).await;
    let env = lambda::env(&bms, id, include_str!("../../docs/rules.example.json"));
    let mut runtime = Runtime::start().await;
    let (_function, answer) = cold_press(&mut runtime, &env).await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    assert_eq!(bms.round_trips(), 4, "{:#?}", paths(&bms));
    assert_eq!(bms.count("GET", "/v2/crm/accounts/3/locations"), 0);
}

#[tokio::test]
async fn a_container_started_ahead_of_traffic_answers_its_first_press_in_two_round_trips() {
    let (bms, mut runtime, env) = lambda("pre-initialised").await;
    let _function = Function::spawn(BINARY, &runtime, &env);
    runtime.asked().await;
    // Init is over: the secret is read and BMS logged in to, nothing else.
    assert_eq!(paths(&bms).len(), 2, "{:#?}", paths(&bms));
    bms.reset_calls();
    runtime.hand_over(lambda::press_event(KNOWN));
    let (_, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    assert_eq!(bms.round_trips(), 2, "{:#?}", paths(&bms));
}

#[tokio::test]
async fn a_container_frozen_after_init_answers_its_first_press_on_new_connections() {
    let (bms, mut runtime, env) = lambda("frozen").await;
    let function = Function::spawn(BINARY, &runtime, &env);
    runtime.asked().await;
    // Frozen with its login's connection open; BMS closes it meanwhile, as a server closes
    // connections idle too long.
    function.freeze();
    let before = bms.connections();
    bms.drop_connections();
    tokio::time::sleep(Duration::from_millis(300)).await;
    function.thaw();
    runtime.hand_over(lambda::press_event(KNOWN));
    let (_, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    assert_eq!(bms.tickets().len(), 1, "one press, one ticket");
    // No call met a closed connection and had to be sent again.
    assert_eq!(
        bms.count("GET", "/v2/crm/contacts/search"),
        2,
        "the contact and the catch-all, once each: {:#?}",
        paths(&bms)
    );
    assert!(
        bms.connections() > before,
        "the press did not open a new connection"
    );
    assert_eq!(
        bms.count("POST", "/v2/security/authenticate"),
        1,
        "the token outlives the connection: no second login"
    );
}

#[tokio::test]
async fn over_tls_no_bms_handshake_waits_on_the_critical_path() {
    let (bms, mut runtime, env) = lambda_with("handshakes", true).await;
    let (_function, answer) = cold_press(&mut runtime, &env).await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    assert_eq!(bms.round_trips(), 4, "{:#?}", paths(&bms));
    // Secrets Manager's connection is opened when its call is made: its two handshakes come
    // first. BMS's connections were opened beside it: none of theirs is waited for.
    assert_eq!(
        bms.round_trips_with_setups(),
        4 + 2,
        "calls {:#?}\nset-ups {:#?}",
        paths(&bms),
        bms.connection_setups()
    );
}

/// The rules are parsed once the secret's fetch is on its way; a document that does not parse
/// still refuses every press, and its problems are listed with any other setting's in the log
/// (the caller, not yet authenticated, learns only that the function is misconfigured).
#[tokio::test]
async fn rules_parsed_after_the_first_call_still_refuse_every_press_when_broken() {
    for (i, (broken, expected)) in [
        (vec![], vec!["BUTTON_RULES"]),
        (
            vec![("KASEYA_TIMEOUT_SECONDS", "soon".to_string())],
            vec!["BUTTON_RULES", "KASEYA_TIMEOUT_SECONDS"],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (bms, mut runtime, mut env) = lambda(&format!("broken-rules-{i}")).await;
        env.retain(|(k, _)| *k != "BUTTON_RULES");
        env.push((
            "BUTTON_RULES",
            r#"{"rules": [{"when": "selections.contains("}]}"#.into(),
        ));
        env.extend(broken);
        let log = std::env::temp_dir().join(format!(
            "kaseya-button-broken-rules-{i}-{}.log",
            std::process::id()
        ));
        let file = std::fs::File::create(&log).expect("a temporary file");
        runtime.hand_over(lambda::press_event(KNOWN));
        let _function = Function::spawn_logging_to(BINARY, &runtime, &env, file);
        runtime.asked().await;
        let (_, answer) = runtime.answered().await;
        assert_eq!(lambda::status(&answer), 500, "{answer}");
        let body = answer["body"].as_str().unwrap_or_default();
        assert!(body.contains("not configured correctly"), "{body}");
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        for name in expected {
            assert!(!body.contains(name), "{name} told to the caller: {body}");
            assert!(logged.contains(name), "{name} not logged: {logged}");
        }
        let _ = std::fs::remove_file(&log);
        assert!(bms.tickets().is_empty());
    }
}

/// Every press writes its metric line, whichever API it came through: a `/tickets` press and
/// an osTicket request filed by the real binary each leave one CloudWatch EMF document with
/// `TicketsFiled` on stdout, where Lambda sends it to CloudWatch Logs.
#[tokio::test]
async fn every_filed_press_writes_its_metric_line_osticket_too() {
    let (bms, mut runtime, mut env) = lambda("metric-lines").await;
    env.retain(|(k, _)| *k != "BUTTON_METRICS");
    env.push(("BUTTON_METRICS", "emf".into()));
    let out =
        std::env::temp_dir().join(format!("kaseya-button-metrics-{}.log", std::process::id()));
    let file = std::fs::File::create(&out).expect("a temporary file");
    let _function = Function::spawn_logging_to(BINARY, &runtime, &env, file);
    runtime.asked().await;
    runtime.hand_over(lambda::press_event(KNOWN));
    let (_, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    runtime.asked().await;
    runtime.hand_over(include_str!("../../events/http-v2-osticket.json").to_string());
    let (_, answer) = runtime.answered().await;
    assert_eq!(lambda::status(&answer), 201, "{answer}");
    runtime.asked().await;
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let filed: Vec<Value> = written
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|doc| doc.get("_aws").is_some())
        .collect();
    assert_eq!(filed.len(), 2, "{written}");
    assert!(
        filed.iter().all(|doc| doc["TicketsFiled"] == 1),
        "{filed:?}"
    );
    assert_eq!(bms.tickets().len(), 2);
}
