//! The cookbook of docs/rules.md, tested from the document itself: every recipe's JSON is read
//! out of the Markdown, so the documentation and the behaviour cannot drift apart.

use chrono::{DateTime, Utc};
use kaseya_button::button::ButtonRequest;
use kaseya_button::context::Context;
use kaseya_button::rules::{Outcome, Rules};
use serde_json::{Value, json};

const DOC: &str = include_str!("../../../docs/rules.md");

/// The fenced ```json blocks of `text`.
fn json_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```json\n") {
        let body = &rest[start + "```json\n".len()..];
        let end = body.find("\n```").expect("an unclosed ```json block");
        blocks.push(&body[..end]);
        rest = &body[end + 4..];
    }
    blocks
}

/// The `### ` entries of the section `## {title}` of docs/rules.md: (heading, its text).
fn entries(title: &str) -> Vec<(&'static str, &'static str)> {
    let start = DOC
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("docs/rules.md has a `## {title}` section"));
    let section = &DOC[start + 1..];
    let section = match section[3..].find("\n## ") {
        Some(end) => &section[..end + 3],
        None => section,
    };
    section
        .split("\n### ")
        .skip(1)
        .map(|entry| (entry.lines().next().unwrap_or_default().trim(), entry))
        .collect()
}

/// The one ```json block of an entry.
fn only_json(heading: &str, entry: &'static str) -> &'static str {
    let blocks = json_blocks(entry);
    assert_eq!(blocks.len(), 1, "`{heading}` has one ```json block");
    blocks[0]
}

/// The recipes of the `## Cookbook` section: (heading, JSON document).
fn cookbook() -> Vec<(&'static str, &'static str)> {
    entries("Cookbook")
        .into_iter()
        .map(|(heading, recipe)| (heading, only_json(heading, recipe)))
        .collect()
}

/// The rules of the recipe whose heading starts with `number.`.
fn recipe(number: usize) -> Rules {
    let prefix = format!("{number}.");
    let (heading, json) = cookbook()
        .into_iter()
        .find(|(h, _)| h.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no recipe numbered {number} in docs/rules.md"));
    Rules::parse(json).unwrap_or_else(|e| panic!("recipe `{heading}` does not load:\n{e}"))
}

const MONDAY_AFTERNOON: &str = "2024-05-06T14:30:00Z";

/// A button press with `body` at `at`, through `rules`; a recipe must not cause runtime errors.
fn press_at(rules: &Rules, body: Value, at: &str) -> (Context, Outcome) {
    let req = ButtonRequest::parse(Some("application/json"), body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("bad test request {body}: {e}"));
    let at: DateTime<Utc> = at.parse().unwrap();
    let mut ctx = Context::new(&req, at);
    let outcome = rules.apply(&mut ctx);
    assert!(
        outcome.errors.is_empty(),
        "runtime errors: {:?}",
        outcome.errors
    );
    (ctx, outcome)
}

fn press(rules: &Rules, body: Value) -> (Context, Outcome) {
    press_at(rules, body, MONDAY_AFTERNOON)
}

fn text(ctx: &Context, name: &str) -> String {
    ctx.text(name).to_string()
}

#[test]
fn the_cookbook_has_the_promised_recipes() {
    let recipes = cookbook();
    assert!(recipes.len() >= 6, "{} recipes", recipes.len());
    for (i, (heading, _)) in recipes.iter().enumerate() {
        assert!(
            heading.starts_with(&format!("{}.", i + 1)),
            "recipe {i}: `{heading}`"
        );
    }
}

#[test]
fn every_json_example_in_the_documentation_loads() {
    let blocks = json_blocks(DOC);
    assert!(
        blocks.len() > cookbook().len(),
        "the reference has examples too"
    );
    for block in blocks {
        let rules = Rules::parse(block).unwrap_or_else(|e| panic!("{block}\n---\n{e}"));
        assert!(!rules.is_empty(), "{block}");
    }
}

#[test]
fn recipe_1_emergency_check_box() {
    let rules = recipe(1);
    let (ctx, out) = press(
        &rules,
        json!({"email": "a@contoso.com", "message": "Server room is flooding", "title": "Flood",
               "selections": ["This is an emergency"]}),
    );
    assert_eq!(text(&ctx, "priority"), "Critical");
    assert!(text(&ctx, "title").starts_with("**EMERGENCY** "));
    assert_eq!(text(&ctx, "title"), "**EMERGENCY** Flood");
    assert_eq!(out.matched, vec![0]);

    let (ctx, out) = press(
        &rules,
        json!({"email": "a@contoso.com", "message": "Mouse is slow", "title": "Mouse",
               "selections": ["Something else"]}),
    );
    assert_eq!(text(&ctx, "priority"), "Medium");
    assert_eq!(text(&ctx, "title"), "Mouse");
    assert!(out.matched.is_empty());
}

#[test]
fn recipe_2_route_by_email_domain_ignoring_case() {
    let rules = recipe(2);
    for email in ["DAN@FABRIKAM.COM", "dan@fabrikam.com", "Dan@Fabrikam.Com"] {
        let (ctx, _) = press(&rules, json!({"email": email, "message": "Help"}));
        assert_eq!(text(&ctx, "queue"), "Escalations", "{email}");
    }
    for email in [
        "dan@contoso.com",
        "dan@notfabrikam.com",
        "fabrikam.com@contoso.com",
    ] {
        let (ctx, _) = press(&rules, json!({"email": email, "message": "Help"}));
        assert_eq!(text(&ctx, "queue"), "Service Desk", "{email}");
    }
}

#[test]
fn recipe_3_vip_gets_their_technician() {
    let rules = recipe(3);
    for name in ["Dan Jump", "  DAN JUMP ", "ana trujillo"] {
        let (ctx, out) = press(
            &rules,
            json!({"email": "x@contoso.com", "name": name, "message": "Help",
                   "selections": ["This is an emergency"]}),
        );
        assert_eq!(text(&ctx, "assignee"), "Jane Tech", "{name}");
        assert_eq!(
            text(&ctx, "priority"),
            "High",
            "stop keeps the emergency rule out"
        );
        assert_eq!(out.matched, vec![0]);
    }
    let (ctx, _) = press(
        &rules,
        json!({"email": "x@contoso.com", "name": "Danny Jumper", "message": "Help",
               "selections": ["This is an emergency"]}),
    );
    assert_eq!(text(&ctx, "assignee"), "");
    assert_eq!(text(&ctx, "priority"), "Critical");
}

#[test]
fn recipe_4_impact_urgency_matrix() {
    let rules = recipe(4);
    let cases = [
        (Some("High"), Some("High"), "Critical"),
        (Some("High"), Some("Medium"), "High"),
        (Some("Medium"), Some("High"), "High"),
        (Some("High"), Some("Low"), "Medium"),
        (Some("Low"), Some("High"), "Medium"),
        (Some("Medium"), Some("Medium"), "Medium"),
        (Some("Medium"), Some("Low"), "Low"),
        (Some("Low"), Some("Medium"), "Low"),
        (Some("Low"), Some("Low"), "Low"),
        (None, None, "Medium"),
        (Some("High"), None, "High"),
    ];
    for (impact, urgency, want) in cases {
        let mut selections = vec!["Other".to_string()];
        selections.extend(impact.map(|i| format!("Impact: {i}")));
        selections.extend(urgency.map(|u| format!("Urgency: {u}")));
        let (ctx, _) = press(
            &rules,
            json!({"email": "x@contoso.com", "message": "Help", "selections": selections}),
        );
        assert_eq!(
            text(&ctx, "priority"),
            want,
            "impact {impact:?}, urgency {urgency:?}"
        );
    }
}

#[test]
fn recipe_5_refuse_one_customer() {
    let rules = recipe(5);
    let (_, out) = press(
        &rules,
        json!({"email": "Dan@Fabrikam.com", "message": "Help"}),
    );
    let rejection = out.rejected.expect("fabrikam is refused");
    assert_eq!(rejection.rule, 0);
    assert!(
        rejection.message.contains("555-0100"),
        "{}",
        rejection.message
    );

    let (ctx, out) = press(
        &rules,
        json!({"email": "dan@contoso.com", "message": "Help"}),
    );
    assert!(out.rejected.is_none());
    assert_eq!(text(&ctx, "queue"), "Service Desk");
}

#[test]
fn recipe_6_title_flag_only_for_exclamation_marks() {
    let rules = recipe(6);
    let (ctx, _) = press(
        &rules,
        json!({"email": "x@contoso.com", "message": "Printer is on fire!", "title": "Printer"}),
    );
    assert_eq!(text(&ctx, "title"), "[!] Printer");
    let (ctx, _) = press(
        &rules,
        json!({"email": "x@contoso.com", "message": "Printer is slow.", "title": "Printer"}),
    );
    assert_eq!(text(&ctx, "title"), "Printer");
}

#[test]
fn recipe_7_after_hours_queue() {
    let rules = recipe(7);
    let body = json!({"email": "x@contoso.com", "message": "Help"});
    for (at, want) in [
        ("2024-05-06T14:30:00Z", "Service Desk"), // Monday 10:30 in New York
        ("2024-05-06T12:00:00Z", "Service Desk"), // Monday 8:00
        ("2024-05-06T11:59:00Z", "After Hours"),  // Monday 7:59
        ("2024-05-06T22:00:00Z", "After Hours"),  // Monday 18:00
        ("2024-05-07T02:00:00Z", "After Hours"),  // Monday 22:00 (Tuesday in UTC)
        ("2024-05-04T16:00:00Z", "After Hours"),  // Saturday noon
        ("2024-05-05T16:00:00Z", "After Hours"),  // Sunday noon
        ("2024-01-08T15:00:00Z", "Service Desk"), // a winter Monday, 10:00 EST
    ] {
        let (ctx, _) = press_at(&rules, body.clone(), at);
        assert_eq!(text(&ctx, "queue"), want, "{at}");
    }
}

#[test]
fn recipe_8_hostname_in_the_title() {
    let rules = recipe(8);
    let (ctx, _) = press(
        &rules,
        json!({"email": "x@contoso.com", "message": "Printer down", "title": "Printer down",
               "hostname": "pc-0042"}),
    );
    assert_eq!(text(&ctx, "title"), "Printer down (PC-0042)");
    let (ctx, out) = press(
        &rules,
        json!({"email": "x@contoso.com", "message": "Printer down", "title": "Printer down"}),
    );
    assert_eq!(text(&ctx, "title"), "Printer down");
    assert!(out.matched.is_empty());
}

/// The `### ` examples of the section headed `## {title}`: (heading, JSON document).
fn section_examples(title: &str) -> Vec<(&'static str, &'static str)> {
    entries(title)
        .into_iter()
        .map(|(heading, example)| {
            assert!(
                example.contains("```python\n"),
                "example `{heading}` shows the Python it replaces"
            );
            (heading, only_json(heading, example))
        })
        .collect()
}

/// The rules of the example of `## Coming from Python rules` whose heading starts with `start`.
fn from_python(start: &str) -> Rules {
    let (heading, json) = section_examples("Coming from Python rules")
        .into_iter()
        .find(|(h, _)| h.starts_with(start))
        .unwrap_or_else(|| panic!("no example `{start}…` in docs/rules.md"));
    let rules =
        Rules::parse(json).unwrap_or_else(|e| panic!("example `{heading}` does not load:\n{e}"));
    assert!(
        rules.warnings().is_empty(),
        "{heading}: {:?}",
        rules.warnings()
    );
    rules
}

#[test]
fn no_documented_example_draws_a_warning() {
    for block in json_blocks(DOC) {
        let rules = Rules::parse(block).unwrap_or_else(|e| panic!("{block}\n---\n{e}"));
        assert!(
            rules.warnings().is_empty(),
            "{block}\n---\n{:?}",
            rules.warnings()
        );
    }
}

#[test]
fn the_first_example_can_be_copied_as_it_is() {
    let start = DOC.find("\n## A first example\n").unwrap();
    let json = json_blocks(&DOC[start..])[0];
    let doc: Value = serde_json::from_str(json).unwrap();
    assert!(doc.get("let").is_none(), "no `let` nothing reads");
    for rule in doc["rules"].as_array().unwrap() {
        assert!(
            rule.get("reject").is_none(),
            "no rule refuses tickets: {rule}"
        );
    }
    let rules = Rules::parse(json).unwrap();
    assert!(rules.warnings().is_empty(), "{:?}", rules.warnings());

    let (ctx, _) = press(
        &rules,
        json!({"email": "Dan@Fabrikam.com", "message": "Server room is flooding",
               "title": "Flood", "selections": ["This is an emergency"], "hostname": "PC-0042"}),
    );
    assert_eq!(text(&ctx, "priority"), "Critical");
    assert_eq!(text(&ctx, "queue"), "Escalations");
    assert_eq!(text(&ctx, "title"), "**EMERGENCY** Flood (PC-0042)");
    assert_eq!(text(&ctx, "ticketType"), "Service Request");

    let (ctx, out) = press(
        &rules,
        json!({"email": "ana@contoso.com", "message": "Printer down", "title": "Printer down"}),
    );
    assert_eq!(text(&ctx, "priority"), "Medium");
    assert_eq!(text(&ctx, "queue"), "Service Desk");
    assert_eq!(text(&ctx, "title"), "Printer down");
    assert!(out.matched.is_empty() && out.rejected.is_none());
}

#[test]
fn the_python_examples_are_all_tested() {
    let headings: Vec<&str> = section_examples("Coming from Python rules")
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        headings,
        [
            "Emergency selection sets the priority",
            "Route by e-mail domain",
            "After-hours routing",
            "The computer's name appended to the title",
            "Refusing a customer on hold",
        ],
        "each example below has its test"
    );
}

#[test]
fn python_emergency_selection() {
    let rules = from_python("Emergency selection");
    let (ctx, _) = press(
        &rules,
        json!({"email": "a@contoso.com", "message": "Flood", "title": "Flood",
               "selections": ["This is an emergency"]}),
    );
    assert_eq!(text(&ctx, "priority"), "Critical");
    assert_eq!(text(&ctx, "title"), "EMERGENCY: Flood");
    let (ctx, _) = press(
        &rules,
        json!({"email": "a@contoso.com", "message": "Slow", "title": "Slow"}),
    );
    assert_eq!(text(&ctx, "priority"), "Medium");
    assert_eq!(text(&ctx, "title"), "Slow");
}

#[test]
fn python_route_by_email_domain() {
    let rules = from_python("Route by e-mail domain");
    for (email, want) in [
        ("Dan@Fabrikam.com", "Escalations"),
        ("ana@northwind.com", "Escalations"),
        ("pupil@springfield.edu", "Schools"),
        ("dan@notfabrikam.com", "Service Desk"),
        ("dan@contoso.com", "Service Desk"),
    ] {
        let (ctx, _) = press(&rules, json!({"email": email, "message": "Help"}));
        assert_eq!(text(&ctx, "queue"), want, "{email}");
    }
}

#[test]
fn python_after_hours_routing() {
    let rules = from_python("After-hours routing");
    let body = json!({"email": "x@contoso.com", "message": "Help"});
    for (at, queue, priority) in [
        ("2024-05-06T14:30:00Z", "Service Desk", "Medium"), // Monday 9:30 in Chicago
        ("2024-05-06T12:59:00Z", "After Hours", "High"),    // Monday 7:59
        ("2024-05-06T13:00:00Z", "Service Desk", "Medium"), // Monday 8:00
        ("2024-05-06T22:00:00Z", "After Hours", "High"),    // Monday 17:00
        ("2024-05-04T17:00:00Z", "After Hours", "High"),    // Saturday noon
        ("2024-01-08T16:00:00Z", "Service Desk", "Medium"), // a winter Monday, 10:00 CST
    ] {
        let (ctx, _) = press_at(&rules, body.clone(), at);
        assert_eq!(text(&ctx, "queue"), queue, "{at}");
        assert_eq!(text(&ctx, "priority"), priority, "{at}");
    }
}

#[test]
fn python_hostname_appended_to_the_title() {
    let rules = from_python("The computer's name");
    let (ctx, _) = press(
        &rules,
        json!({"email": "x@contoso.com", "message": "m", "title": "Printer down",
               "hostname": "pc-0042"}),
    );
    assert_eq!(text(&ctx, "title"), "Printer down - PC-0042");
    let (ctx, _) = press(
        &rules,
        json!({"email": "x@contoso.com", "message": "m", "title": "Printer down"}),
    );
    assert_eq!(text(&ctx, "title"), "Printer down");
}

#[test]
fn python_exception_becomes_a_rejection() {
    let rules = from_python("Refusing a customer");
    let (_, out) = press(
        &rules,
        json!({"email": "Bob@Contoso.com", "message": "Help"}),
    );
    let rejection = out.rejected.expect("contoso is refused");
    assert_eq!(
        rejection.message,
        "Ticket submission is paused for Contoso. Please call 555-0100."
    );
    let (ctx, out) = press(
        &rules,
        json!({"email": "bob@fabrikam.com", "message": "Help"}),
    );
    assert!(out.rejected.is_none());
    assert_eq!(text(&ctx, "queue"), "Service Desk");
}
