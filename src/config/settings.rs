//! The settings read one by one, each with its words and its limits: what `Config::from_env`
//! is made of, apart from the secret and the rules.

use std::time::Duration;

use super::vars::Vars;
use super::*;

/// `BUTTON_AUTH`: `key` or `none`.
pub(super) fn auth(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<ButtonAuth> {
    vars.switch(
        "BUTTON_AUTH",
        &[("key", ButtonAuth::Key), ("none", ButtonAuth::None)],
        "use `key` (callers present a button key) or `none` (the API in front authenticates \
         them)",
    )
}

/// `BUTTON_PREVIEW`: off unless asked for, since the preview shows the contact an e-mail matches.
pub(super) fn preview(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<bool> {
    vars.switch(
        "BUTTON_PREVIEW",
        &[("off", false), ("on", true)],
        "use `on` (POST /tickets/preview shows what a press would file, including the contact \
         its e-mail matches) or `off`",
    )
}

/// `KASEYA_RETRY_BASE_MS` and `KASEYA_RETRY_CAP_MS` over [`Backoff::default`].
pub(super) fn backoff(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<Backoff> {
    let defaults = Backoff::default();
    let base = vars.millis("KASEYA_RETRY_BASE_MS", defaults.base, 1);
    let cap = vars.millis("KASEYA_RETRY_CAP_MS", defaults.cap, 1);
    Some(Backoff {
        base: base?,
        cap: cap?,
        ..defaults
    })
}

/// `BUTTON_WEB`, `BUTTON_WEB_TITLE`, `BUTTON_WEB_INTRO` and `BUTTON_WEB_PHONE`: the help page.
pub(super) fn web(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
) -> Option<crate::web::WebSettings> {
    let on = vars.switch(
        "BUTTON_WEB",
        &[("on", true), ("off", false)],
        "use `on` (GET / and GET /help serve the help page, the default) or `off`",
    );
    let phone = match vars.value("BUTTON_WEB_PHONE") {
        None => Some(None),
        Some(value) => vars.checked(phone(value)).map(Some),
    };
    Some(crate::web::WebSettings {
        on: on?,
        title: vars.text("BUTTON_WEB_TITLE", crate::web::DEFAULT_TITLE),
        intro: vars.text("BUTTON_WEB_INTRO", crate::web::DEFAULT_INTRO),
        phone: phone?,
    })
}

/// `BUTTON_WEB_PHONE`: shown to people as it is written, so one short line.
fn phone(value: String) -> Result<String, String> {
    const MAX: usize = 40;
    let value = value.trim();
    let length = value.chars().count();
    if length > MAX {
        return Err(format!(
            "BUTTON_WEB_PHONE is {length} characters long: at most {MAX}, a number people can \
             dial (such as `+1 555 0100`)"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(
            "BUTTON_WEB_PHONE holds a line break or another control character: write \
                    the number on one line"
                .into(),
        );
    }
    Ok(value.to_string())
}

/// `OSTICKET_ANSWER`: `id` or `number`.
pub(super) fn osticket_answer(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
) -> Option<OsTicketAnswer> {
    vars.switch(
        "OSTICKET_ANSWER",
        &[
            ("id", OsTicketAnswer::Id),
            ("number", OsTicketAnswer::Number),
        ],
        "use `id` (the BMS ticket id, digits only, which osTicket clients read) or `number` (the \
         BMS ticket number)",
    )
}

/// `BUTTON_METRICS`: `emf` or `off`.
pub(super) fn metrics(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<bool> {
    vars.switch(
        "BUTTON_METRICS",
        &[("emf", true), ("off", false)],
        "use `emf` (one CloudWatch Embedded Metric Format line per press) or `off`",
    )
}

/// `OSTICKET_DEDUPE_MINUTES`: 0 to a day.
pub(super) fn osticket_dedupe(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
) -> Option<Duration> {
    const NAME: &str = "OSTICKET_DEDUPE_MINUTES";
    let minutes = vars.number(NAME, DEFAULT_OSTICKET_DEDUPE_MINUTES, 0)?;
    if minutes > MAX_OSTICKET_DEDUPE_MINUTES {
        vars.problem(format!(
            "{NAME} is `{minutes}`: at most {MAX_OSTICKET_DEDUPE_MINUTES} (a day) is accepted; \
             a ticket sent again after that is a new one"
        ));
        return None;
    }
    Some(Duration::from_secs(minutes.unsigned_abs() * 60))
}

/// `BUTTON_FOLLOW_UP_DAYS`: 1 to a year.
pub(super) fn follow_up(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<Duration> {
    const NAME: &str = "BUTTON_FOLLOW_UP_DAYS";
    let days = vars.number(NAME, DEFAULT_FOLLOW_UP_DAYS, 1)?;
    if days > MAX_FOLLOW_UP_DAYS {
        vars.problem(format!(
            "{NAME} is `{days}`: at most {MAX_FOLLOW_UP_DAYS} days are accepted; a follow-up \
             token is a bearer credential and should not outlive its ticket"
        ));
        return None;
    }
    Some(Duration::from_secs(days.unsigned_abs() * 24 * 3600))
}

/// `/helpdesk`, `helpdesk/` and `/helpdesk/` all mean `/helpdesk`; nothing means no prefix.
pub(super) fn base_path(raw: &str) -> String {
    match raw.trim().trim_matches('/') {
        "" => String::new(),
        p => format!("/{p}"),
    }
}
