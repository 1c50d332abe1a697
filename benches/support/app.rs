//! The function in-process against the BMS sandbox, as the benchmarks run it: no button keys,
//! the example rules, and no metric line per press (criterion's output stays readable; the init
//! benchmark runs the real binary with them, and measures their cost); `extra` adds settings,
//! or replaces these.

use bms_sandbox::{CREDENTIALS, Sandbox};
use kaseya_button::App;
use kaseya_button::config::Config;

pub async fn app(bms: &Sandbox, extra: &[(&str, String)]) -> App {
    let mut env = vec![
        ("KASEYA_API_URL", bms.url()),
        ("KASEYA_CREDENTIALS", CREDENTIALS.to_string()),
        ("BUTTON_AUTH", "none".to_string()),
        (
            "BUTTON_RULES",
            include_str!("../../docs/rules.example.json").to_string(),
        ),
        ("BUTTON_METRICS", "off".to_string()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    App::new(Config::from_lookup(|k| {
        env.iter()
            .rev()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
    }))
    .await
}
