//! `template.yaml` as `sam build` reads it: what `sam validate --lint` lets through but the SAM
//! transform refuses.

use serde_norway::Value;

/// Every `HttpApi` event of every function, as `(function, event, properties)`.
fn http_api_events(template: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_mapping) else {
        return found;
    };
    for (name, resource) in resources {
        let events = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping);
        for (event, body) in events.into_iter().flatten() {
            if body.get("Type").and_then(Value::as_str) == Some("HttpApi") {
                let properties = body.get("Properties").unwrap_or(&Value::Null);
                let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
                found.push((text(name), text(event), properties));
            }
        }
    }
    found
}

/// The `HttpApi` events that name a `Path` but no `Method`. SAM's transform refuses the whole
/// template for one of them ("Property 'Method' is required"), so `sam build` and `sam deploy`
/// fail although `sam validate --lint` passes.
fn events_without_method(template: &Value) -> Vec<String> {
    http_api_events(template)
        .into_iter()
        .filter(|(_, _, p)| p.get("Path").is_some() && p.get("Method").is_none())
        .map(|(function, event, _)| format!("{function}.Events.{event}"))
        .collect()
}

fn template() -> Value {
    serde_norway::from_str(include_str!("../../template.yaml")).expect("template.yaml is YAML")
}

#[test]
fn every_http_api_event_with_a_path_names_its_method() {
    let missing = events_without_method(&template());
    assert!(
        missing.is_empty(),
        "these HttpApi events have a Path and no Method, which `sam build` refuses: {missing:?}; \
         add `Method: ANY` (the function answers 405 itself) or the one method the route takes"
    );
}

#[test]
fn the_template_has_http_api_events_to_check() {
    // Guards the check above against a template it cannot read (a renamed key would leave it
    // nothing to look at, and an empty list passes).
    let template = template();
    let events = http_api_events(&template);
    assert!(events.len() >= 10, "found only {events:?}");
    assert!(events.iter().any(|(_, e, _)| e == "Tickets"));
}

/// API Gateway passes on only the routes the template names: the follow-up routes among them.
#[test]
fn the_follow_up_routes_reach_the_function() {
    let template = template();
    let routes: Vec<(String, String)> = http_api_events(&template)
        .into_iter()
        .map(|(_, _, p)| {
            let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
            (text("Path"), text("Method"))
        })
        .collect();
    for route in [
        ("/tickets/{ticketId}", "GET"),
        ("/tickets/{ticketId}/notes", "POST"),
    ] {
        let route = (route.0.to_string(), route.1.to_string());
        assert!(routes.contains(&route), "{route:?} is not among {routes:?}");
    }
}

#[test]
fn an_event_without_a_method_is_found() {
    let broken: Value = serde_norway::from_str(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        \
         Ok:\n          Type: HttpApi\n          Properties: {Path: /a, Method: GET}\n        \
         NoMethod:\n          Type: HttpApi\n          Properties: {Path: /b}\n",
    )
    .expect("YAML");
    assert_eq!(events_without_method(&broken), ["Fn.Events.NoMethod"]);
}

/// The parameters `samconfig.toml` gives `sam deploy` (`parameter_overrides`), by name.
fn samconfig_parameters() -> Vec<String> {
    let line = regex::Regex::new(r#"^\s*"(\w+)="#).expect("a pattern");
    include_str!("../../samconfig.toml")
        .lines()
        .filter_map(|l| line.captures(l).map(|c| c[1].to_string()))
        .collect()
}

/// `samconfig.toml` names every parameter of the template but `ButtonRules` (SAM's parameter
/// parser mangles a backslash before a quote, which a rules document may hold: docs/deploy.md
/// sets it through a file instead), and no parameter the template lacks.
#[test]
fn samconfig_names_every_template_parameter_but_the_rules() {
    let template = template();
    let declared: Vec<String> = template
        .get("Parameters")
        .and_then(Value::as_mapping)
        .expect("the template's Parameters")
        .keys()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let given = samconfig_parameters();
    let missing: Vec<&String> = declared
        .iter()
        .filter(|p| *p != "ButtonRules" && !given.contains(p))
        .collect();
    let unknown: Vec<&String> = given.iter().filter(|p| !declared.contains(p)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "samconfig.toml lacks {missing:?} and names {unknown:?}, which the template does not \
         declare"
    );
    assert!(declared.len() > 20, "{declared:?}");
}

/// A resource's properties, by its logical id.
fn properties<'a>(template: &'a Value, resource: &str) -> &'a Value {
    template
        .get("Resources")
        .and_then(|r| r.get(resource))
        .and_then(|r| r.get("Properties"))
        .unwrap_or_else(|| panic!("no {resource} in the template"))
}

/// The stack deploys on an account whose concurrency limit is 10, all of which Lambda keeps
/// unreserved: nothing is reserved unless `ApiReservedConcurrency` asks for it.
#[test]
fn no_concurrency_is_reserved_unless_asked_for() {
    let template = template();
    let default = template
        .get("Parameters")
        .and_then(|p| p.get("ApiReservedConcurrency"))
        .and_then(|p| p.get("Default"))
        .and_then(Value::as_u64);
    assert_eq!(default, Some(0));
    let reserved = properties(&template, "ButtonFunction").get("ReservedConcurrentExecutions");
    let Some(Value::Tagged(tagged)) = reserved else {
        panic!("the API function's reservation depends on the parameter: {reserved:?}");
    };
    assert_eq!(tagged.tag, "If", "{tagged:?}");
    let replay = properties(&template, "ReplayFunction");
    assert!(
        replay.get("ReservedConcurrentExecutions").is_none(),
        "the replay's event source mapping caps it; nothing is reserved"
    );
}

/// Both functions read the rules from the parameter, never from `BUTTON_RULES` beside it (the
/// function refuses the two together), and may read that one parameter and no other.
#[test]
fn both_functions_read_the_rules_parameter_and_only_it() {
    let template = template();
    let created = properties(&template, "RulesParameter");
    assert_eq!(created.get("Type").and_then(Value::as_str), Some("String"));
    for function in ["ButtonFunction", "ReplayFunction"] {
        let props = properties(&template, function);
        let env = &props["Environment"]["Variables"];
        assert!(env.get("BUTTON_RULES").is_none(), "{function}: {env:?}");
        assert!(
            env.get("BUTTON_RULES_PARAMETER").is_some(),
            "{function}: {env:?}"
        );
        let statements: Vec<&Value> = props["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("Statement").and_then(Value::as_sequence))
            .flatten()
            .collect();
        let reads: Vec<&&Value> = statements
            .iter()
            .filter(|s| format!("{:?}", s.get("Action")).contains("ssm:"))
            .collect();
        assert_eq!(reads.len(), 1, "{function}: {reads:?}");
        assert_eq!(
            reads[0].get("Action").and_then(Value::as_str),
            Some("ssm:GetParameter"),
            "{function}"
        );
        let resource = format!("{:?}", reads[0].get("Resource"));
        assert!(
            resource.contains("parameter/${AWS::StackName}/rules")
                && resource.contains("parameter${RulesParameterName}")
                && !resource.contains('*'),
            "{function}: {resource}"
        );
    }
}
