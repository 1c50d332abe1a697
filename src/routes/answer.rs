//! Every HTTP answer the function gives is built here: JSON, problem+json, plain text and the
//! web pages. One place decides the headers each kind carries (no caching of anything a key
//! opened, `nosniff` on every body a browser might guess at).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::Value;

use super::problem::Problem;

const TEXT: &str = "text/plain; charset=utf-8";

/// A JSON answer, never cached.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response<Body> {
    build(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store"),
        body.to_string(),
    )
}

/// A problem+json answer (RFC 9457), with its `Retry-After` when it has one.
pub(crate) fn problem(p: &Problem) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status(p.status))
        .header(header::CONTENT_TYPE, "application/problem+json")
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(secs) = p.retry_after {
        builder = builder.header(header::RETRY_AFTER, secs.to_string());
    }
    build(builder, p.body().to_string())
}

/// Plain text: osTicket's answers and the health report.
pub(crate) fn text(status: StatusCode, body: String, retry_after: Option<u64>) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, TEXT)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(secs) = retry_after {
        builder = builder.header(header::RETRY_AFTER, secs.to_string());
    }
    build(builder, body)
}

/// A web page under its Content-Security-Policy. Public and the same for everyone, so it may
/// be cached for a few minutes.
pub(crate) fn page(html: String, csp: &str) -> Response<Body> {
    build(
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CONTENT_SECURITY_POLICY, csp)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::REFERRER_POLICY, "no-referrer")
            .header(header::CACHE_CONTROL, "public, max-age=300"),
        html,
    )
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The headers above are all valid: building cannot fail, and if it did, an empty answer is
/// still an answer.
fn build(builder: lambda_http::http::response::Builder, body: String) -> Response<Body> {
    builder
        .body(Body::Text(body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web;

    #[test]
    fn pages_are_strictly_framed() {
        let help = web::help_page(&web::WebSettings::default(), &["Network".into()]);
        for html in [help, web::playground_page()] {
            let page = page(html, web::csp());
            let h = page.headers();
            assert_eq!(h["content-security-policy"], web::csp());
            assert_eq!(h["x-content-type-options"], "nosniff");
            assert_eq!(h["referrer-policy"], "no-referrer");
            assert_eq!(h["cache-control"], "public, max-age=300");
        }
    }

    #[test]
    fn text_answers_are_not_sniffed_or_cached() {
        let h = text(StatusCode::OK, "ok".into(), Some(30))
            .headers()
            .clone();
        assert_eq!(h[header::CONTENT_TYPE], TEXT);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::RETRY_AFTER], "30");
    }
}
