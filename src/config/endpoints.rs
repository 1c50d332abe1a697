//! The settings that say where the function connects, and whom TLS trusts there: BMS's URL,
//! the parking queue's, and the extra roots.

use std::io::Read as _;

use super::DEFAULT_API_URL;
use super::vars::Vars;

/// `BUTTON_QUEUE_URL`: unset is no queue; set, it must be a queue URL
/// (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or a local one for tests).
pub(super) fn queue_url(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
) -> Option<Option<String>> {
    let Some(raw) = vars.value("BUTTON_QUEUE_URL") else {
        return Some(None);
    };
    let raw = raw.trim().to_string();
    let usable = reqwest::Url::parse(&raw).is_ok_and(|u| {
        matches!(u.scheme(), "https" | "http") && u.host_str().is_some() && u.path().len() > 1
    });
    if usable {
        Some(Some(raw))
    } else {
        vars.problem(format!(
            "BUTTON_QUEUE_URL is `{raw}`: it must be the queue's URL, such as \
             https://sqs.us-east-1.amazonaws.com/123456789012/kaseya-button-parked (the stack's \
             ParkedPressQueueUrl output), or unset for no parking"
        ));
        None
    }
}

/// Whether `raw` has an `@` before its path, query or fragment: user info, whether or not it
/// would parse as a URL.
fn has_user_info(raw: &str) -> bool {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    authority.contains('@')
}

/// The most of `BUTTON_EXTRA_CA_FILE` that is read: a bundle of every public root is about
/// 200 KB, and a path such as `/dev/zero` must not fill the memory.
pub const MAX_EXTRA_CA_BYTES: u64 = 1024 * 1024;

/// `BUTTON_EXTRA_CA_FILE`: a PEM file of certificates to trust besides the built-in roots.
pub(super) fn extra_roots(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
) -> Option<Vec<rustls::pki_types::CertificateDer<'static>>> {
    let Some(path) = vars.value("BUTTON_EXTRA_CA_FILE") else {
        return Some(Vec::new());
    };
    let path = path.trim().to_string();
    let read = read_bounded(&path).and_then(|pem| crate::net::read_roots(&pem));
    vars.checked(read.map_err(|e| {
        format!(
            "BUTTON_EXTRA_CA_FILE is `{path}`, which {e}: point it at a PEM file of the root \
             certificates to trust besides the built-in ones, or unset it"
        )
    }))
}

/// An http(s) URL with a host and no user info; a trailing `/` or `/v2` (copied from Kaseya's
/// docs) is dropped.
pub(super) fn parse_api_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    // Refused before anything else, and never echoed: the messages below show the URL.
    let user_info = "the URL holds a user name or password (before an `@`), not shown here: \
                     BMS credentials belong in the secret (KASEYA_SECRET_ID), never in the URL; \
                     set it to the API host alone, such as https://api.bms.kaseya.com";
    if has_user_info(raw) {
        return Err(user_info.into());
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| format!("`{raw}` is not a URL ({e}); use e.g. {DEFAULT_API_URL}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(user_info.into());
    }
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!(
            "`{raw}` must be an https:// URL such as {DEFAULT_API_URL}"
        ));
    }
    // The login posts the password: plain http only to this machine (the sandbox, a tunnel).
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "http" && !loopback {
        return Err(format!(
            "`{raw}` is plain http: the login sends the BMS password, so use https:// (plain \
             http is accepted only for a loopback host such as 127.0.0.1)"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{raw}` must not have a query or a fragment"));
    }
    let mut s = url.as_str().trim_end_matches('/').to_string();
    if let Some(stripped) = s.strip_suffix("/v2") {
        s = stripped.to_string();
    }
    Ok(s)
}

/// The file at `path`, read only up to one byte past [`MAX_EXTRA_CA_BYTES`]: a longer file is
/// refused, never read whole.
fn read_bounded(path: &str) -> Result<Vec<u8>, String> {
    let unreadable = |e: std::io::Error| format!("cannot be read ({e})");
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut pem = Vec::new();
    file.take(MAX_EXTRA_CA_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(unreadable)?;
    if pem.len() as u64 > MAX_EXTRA_CA_BYTES {
        return Err(format!(
            "is larger than {} MiB, the most that is read of it (a bundle of every public root \
             is about 200 KB)",
            MAX_EXTRA_CA_BYTES / (1024 * 1024)
        ));
    }
    Ok(pem)
}
