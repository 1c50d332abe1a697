//! The help page and the rules playground: self-contained HTML pages compiled into the binary.
//!
//! Each page is one HTML document with its style and script inline, so it needs nothing from
//! any other host. The Content-Security-Policy admits exactly those inline blocks by their
//! SHA-256 hashes, computed once from the compiled-in text; what the server puts into a page
//! (title, intro, check boxes) is HTML-escaped and lies outside them, so the hashes hold.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::button::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_BODY_BYTES};

const STYLE: &str = include_str!("page.css");
const HELP_HTML: &str = include_str!("help.html");
const HELP_JS: &str = include_str!("help.js");
/// "Your requests from this computer": a script of its own, run after the form's.
const REQUESTS_JS: &str = include_str!("requests.js");
const PLAYGROUND_HTML: &str = include_str!("playground.html");
const PLAYGROUND_JS: &str = include_str!("playground.js");

pub const DEFAULT_TITLE: &str = "Help desk";
pub const DEFAULT_INTRO: &str = "Tell us what is wrong. Your message goes straight to the help \
                                 desk as a ticket, and you get its number at once.";

/// `BUTTON_WEB`, `BUTTON_WEB_TITLE`, `BUTTON_WEB_INTRO`, `BUTTON_WEB_PHONE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// `BUTTON_WEB=on` (the default): `GET /` and `GET /help` serve the help page.
    pub on: bool,
    /// The page's title and heading, as plain text.
    pub title: String,
    /// The line under the heading, as plain text.
    pub intro: String,
    /// `BUTTON_WEB_PHONE`: the number a user calls when the page cannot help (a refused key,
    /// an urgent press that must wait for BMS), as plain text.
    pub phone: Option<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            on: true,
            title: DEFAULT_TITLE.into(),
            intro: DEFAULT_INTRO.into(),
            phone: None,
        }
    }
}

/// The help page, with the check boxes of the rules document's `selections`.
pub fn help_page(settings: &WebSettings, selections: &[String]) -> String {
    let boxes = if selections.is_empty() {
        String::new()
    } else {
        let mut html = String::from(
            "<fieldset>\n<legend>Tick what applies <span class=\"opt\">(optional)</span></legend>\n",
        );
        for s in selections {
            let s = escape(s);
            html += &format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"selections\" value=\"{s}\"> {s}</label>\n"
            );
        }
        html + "</fieldset>"
    };
    let html = HELP_HTML
        .replace("{{TITLE}}", &escape(&settings.title))
        .replace("{{INTRO}}", &escape(&settings.intro))
        .replace("{{SELECTIONS}}", &boxes)
        .replace("{{PHONE_LINE}}", &phone_line(settings.phone.as_deref()))
        .replace("{{MAX_FILES}}", &MAX_ATTACHMENTS.to_string())
        .replace("{{MAX_FILE_BYTES}}", &MAX_ATTACHMENT_BYTES.to_string())
        .replace("{{MAX_BODY_BYTES}}", &MAX_BODY_BYTES.to_string())
        .replace("{{MAX_FILE_MB}}", &megabytes(MAX_ATTACHMENT_BYTES))
        .replace("{{MAX_BODY_MB}}", &megabytes(MAX_BODY_BYTES));
    inline(&html, help_script())
}

/// The help page's one script block: the form's, then the requests'.
fn help_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| format!("{HELP_JS}\n{REQUESTS_JS}"))
}

/// The help desk's number under the form, when `BUTTON_WEB_PHONE` is set; the script repeats it
/// where a message cannot be sent (a refused key, an urgent press that must wait).
fn phone_line(phone: Option<&str>) -> String {
    let Some(phone) = phone else {
        return String::new();
    };
    // A `tel:` link dials the digits; the text shows the number as the MSP wrote it.
    let dial: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let phone = escape(phone);
    format!(
        "<p id=\"phone-line\" class=\"hint\" data-phone=\"{phone}\">Urgent, or this page does not \
         work? Call the help desk: <a href=\"tel:{dial}\">{phone}</a></p>"
    )
}

/// The rules playground.
pub fn playground_page() -> String {
    inline(PLAYGROUND_HTML, PLAYGROUND_JS)
}

/// The style and `script` put into `html`, last, so that nothing the server filled in can land
/// inside the hashed blocks.
fn inline(html: &str, script: &str) -> String {
    html.replace("{{STYLE}}", STYLE)
        .replace("{{SCRIPT}}", script)
}

/// The policy both pages share: nothing from anywhere, except the inline blocks by hash, calls
/// to the function's own origin, and images of pasted screenshots.
pub fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {} {}; style-src {}; connect-src 'self'; \
             img-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'none'",
            sha256(help_script()),
            sha256(PLAYGROUND_JS),
            sha256(STYLE)
        )
    })
}

fn sha256(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

fn megabytes(bytes: usize) -> String {
    format!("{} MB", bytes / (1024 * 1024))
}

/// `text` safe as HTML text and as a double-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // `{{…}}` marks where the server fills in a page: never let the filling carry one
            '{' => out.push_str("&#123;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_server_fills_in_is_escaped_and_outside_the_hashed_blocks() {
        let settings = WebSettings {
            on: true,
            title: "<script>alert(1)</script>".into(),
            intro: "Fish & \"chips\"".into(),
            phone: Some("+1 <555> 0100".into()),
        };
        let html = help_page(&settings, &["Wi-Fi <5 GHz>".into(), "a\"b".into()]);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("Fish &amp; &quot;chips&quot;"));
        assert!(html.contains("+1 &lt;555&gt; 0100"));
        assert!(html.contains("value=\"Wi-Fi &lt;5 GHz&gt;\""));
        assert!(html.contains("value=\"a&quot;b\""));
        assert!(!html.contains("{{"), "a placeholder was left");
        // the inline blocks are byte for byte the hashed ones
        assert!(html.contains(&format!("<script>{}</script>", help_script())));
        assert!(html.contains(&format!("<style>{STYLE}</style>")));
    }

    #[test]
    fn the_pages_are_small_and_strictly_framed() {
        let help = help_page(&WebSettings::default(), &["Network".into()]);
        let playground = playground_page();
        for page in [&help, &playground] {
            // Uncompressed: the help page with its requests list, the launcher's diagnostics and
            // every message it can show; gzipped it is about a third.
            assert!(page.len() < 40 * 1024, "{}", page.len());
            let csp = csp();
            for part in [
                "default-src 'none'",
                "connect-src 'self'",
                "frame-ancestors 'none'",
                "base-uri 'none'",
                "form-action 'none'",
                "img-src 'self' data: blob:",
            ] {
                assert!(csp.contains(part), "{csp}");
            }
            assert!(!csp.contains("unsafe"), "{csp}");
        }
        assert!(csp().contains(&sha256(help_script())));
        assert!(csp().contains(&sha256(STYLE)));
    }

    #[test]
    fn no_script_writes_html() {
        for js in [HELP_JS, REQUESTS_JS, PLAYGROUND_JS] {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
            ] {
                assert!(!js.contains(sink), "{sink}");
            }
        }
    }
}
