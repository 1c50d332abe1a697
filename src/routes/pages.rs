//! `GET /`, `GET /help` and `GET /playground`: the web pages, served to anyone (the pages hold
//! no secret; the key a page sends comes from the link that opened it).

use lambda_http::http::Method;
use lambda_http::{Body, Response};

use super::answer;
use crate::config::Config;
use crate::web;

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Help,
    Playground,
}

impl Page {
    /// The page `method` and `path` ask for, if it is switched on: the help page with
    /// `BUTTON_WEB=on` (the default), the playground only with `BUTTON_PREVIEW=on`. Anything
    /// else goes on to authentication like every other route.
    pub fn parse(method: &Method, path: &str, config: &Config) -> Option<Page> {
        if method != Method::GET {
            return None;
        }
        match path {
            "/" | "/help" if config.web.on => Some(Page::Help),
            "/playground" if config.preview => Some(Page::Playground),
            _ => None,
        }
    }

    /// The page; the help page offers `selections`, those of the rules in force.
    pub fn answer(self, config: &Config, selections: &[String]) -> Response<Body> {
        let html = match self {
            Page::Help => web::help_page(&config.web, selections),
            Page::Playground => web::playground_page(),
        };
        answer::page(html, web::csp())
    }
}
