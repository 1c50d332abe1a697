//! Repeats of one press: the `Idempotency-Key` header and the marker it leaves in the ticket.
//!
//! The function keeps no state between invocations, so BMS itself is the memory: the ticket a
//! keyed press creates carries a marker line in its details, and a later press with the same key
//! finds that ticket through BMS's ticket search.
//!
//! Anyone with a button key can write text into a ticket, so the marker must be something no
//! caller can compute: it is an HMAC of the e-mail and the key under a server secret
//! ([`MarkerKey`]). The raw key never reaches BMS, two users who happen to send the same key get
//! different markers, and user text can never hold a marker line ([`neutralise`]).

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use lambda_http::http::HeaderMap;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::button::Email;

pub(crate) type HmacSha256 = Hmac<Sha256>;

pub const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_CHARS: usize = 128;
/// How long a repeat answers with the first ticket instead of filing a new one.
pub const WINDOW: Duration = Duration::minutes(10);
/// How far back a repeat looks when its press may have been parked: the queue keeps a press up
/// to 14 days, and its ticket, filed when BMS is back, carries the press time as its open date.
pub const PARKED_WINDOW: Duration = Duration::days(14);
/// Hex digits of the HMAC kept in the marker: 96 bits, far beyond any chance collision among
/// one tenant's tickets of ten minutes or any guess, and short enough to read in the ticket.
const TOKEN_HEX_DIGITS: usize = 24;
const MARKER_PREFIX: &str = "[Button request ";

/// A client's `Idempotency-Key`: 1 to 128 printable ASCII characters. Not a secret, but an
/// opaque client value that stays out of logs all the same.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<IdempotencyKey, String> {
        if raw.is_empty() {
            return Err(format!(
                "the {HEADER} header is empty: send 1 to {MAX_KEY_CHARS} characters, or leave \
                 the header out"
            ));
        }
        let chars = raw.chars().count();
        if chars > MAX_KEY_CHARS {
            return Err(format!(
                "the {HEADER} header is {chars} characters long: at most {MAX_KEY_CHARS} are \
                 accepted (a UUID is 36)"
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(format!(
                "the {HEADER} header holds a character that is not printable ASCII: use letters, \
                 digits and punctuation (a UUID is a good key)"
            ));
        }
        Ok(IdempotencyKey(raw.to_string()))
    }

    /// The key itself: what a parked press keeps, so that its replay marks the ticket alike.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the request carries, if any. A header that is present but unusable is an error
    /// rather than "no key": ignoring it would silently file a repeat twice.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, String> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(format!(
                "the {HEADER} header is sent more than once: send it once"
            ));
        }
        let raw = value.to_str().map_err(|_| {
            format!("the {HEADER} header holds a character that is not printable ASCII")
        })?;
        IdempotencyKey::parse(raw).map(Some)
    }
}

/// What the marker of user text becomes: the same words, no longer a marker. A hyphen rather
/// than an escape, because BMS shows details as plain text where a backslash would be noise to
/// the technician reading it.
const NEUTRALISED: &str = "[Button-request";

/// Labels that keep the marker key apart from any other use of the same secret material.
const GIVEN_LABEL: &[u8] = b"kaseya-button idempotency marker key v1";
const DERIVED_LABEL: &[u8] = b"kaseya-button idempotency marker key v1, from the BMS login";

/// The server secret markers are computed under: 32 bytes, never printed.
#[derive(Clone)]
pub struct MarkerKey(SecretSlice<u8>);

impl fmt::Debug for MarkerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MarkerKey(..)")
    }
}

impl MarkerKey {
    /// From the secret's own `markerKey`: HMAC-SHA256(key = markerKey, message = a fixed label).
    pub fn given(marker_key: &str) -> MarkerKey {
        MarkerKey::hmac(marker_key.as_bytes(), &[GIVEN_LABEL])
    }

    /// From the BMS login when the secret has no `markerKey`: HMAC-SHA256(key = password,
    /// message = a fixed label, then the tenant and user name in lower case, each
    /// length-prefixed). The password is the secret part; tenant and user keep two logins that
    /// share a password apart.
    pub fn derived(tenant: &str, username: &str, password: &str) -> MarkerKey {
        let tenant = tenant.to_lowercase();
        let username = username.to_lowercase();
        let (tenant_len, username_len) = (tenant.len().to_string(), username.len().to_string());
        MarkerKey::hmac(
            password.as_bytes(),
            &[
                DERIVED_LABEL,
                b"\0",
                tenant_len.as_bytes(),
                b":",
                tenant.as_bytes(),
                username_len.as_bytes(),
                b":",
                username.as_bytes(),
            ],
        )
    }

    fn hmac(key: &[u8], message: &[&[u8]]) -> MarkerKey {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
        for part in message {
            mac.update(part);
        }
        MarkerKey(SecretSlice::from(mac.finalize().into_bytes().to_vec()))
    }

    /// A MAC under this key. Each use starts its message with bytes no other use does (the
    /// marker with the e-mail's length in digits, the follow-up token with its label).
    pub(crate) fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(self.0.expose_secret()).expect("HMAC takes a key of any length")
    }
}

/// The line a keyed press leaves in its ticket's details: `[Button request 3f9c0a1b2c3d4e5f60718293]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker(String);

/// Which caller a press came from, as far as its repeats are concerned: a digest of the key it
/// presented (never the key), so that one key's presses can neither answer nor reveal another
/// key's. Empty when no key was presented (`BUTTON_AUTH=none`: the API in front is the caller).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CallerScope(String);

impl fmt::Debug for CallerScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallerScope(..)")
    }
}

impl CallerScope {
    /// 128 bits of the key's SHA-256: enough to keep keys apart, nothing to guess a key from.
    pub fn of_key(key: &str) -> CallerScope {
        use sha2::Digest;
        let digest = Sha256::digest(key.as_bytes());
        CallerScope(digest.iter().take(16).map(|b| format!("{b:02x}")).collect())
    }

    /// A scope read back from a parked press (`docs/parked-press.md`).
    pub fn from_parked(digest: &str) -> CallerScope {
        CallerScope(digest.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Marker {
    /// A marker no other caller's press can carry: [`Marker::new`] over the press's e-mail and
    /// key, with the caller's scope mixed in. Without a scope it is `Marker::new`'s marker.
    pub fn scoped(
        key: &MarkerKey,
        email: &Email,
        idempotency_key: &IdempotencyKey,
        scope: &CallerScope,
    ) -> Marker {
        Marker::hashed(key, email, idempotency_key, scope.as_str())
    }

    /// The marker of a note a user adds to ticket `ticket_id` with an `Idempotency-Key`: the
    /// ticket and the purpose mixed in, so it is never a press's marker.
    pub fn for_note(
        key: &MarkerKey,
        email: &Email,
        idempotency_key: &IdempotencyKey,
        scope: &CallerScope,
        ticket_id: i64,
    ) -> Marker {
        let scope = format!("note {ticket_id} {}", scope.as_str());
        Marker::hashed(key, email, idempotency_key, &scope)
    }

    /// E-mails match contacts ignoring ASCII case, so they are hashed that way too; the length
    /// prefix keeps `a@b.c` + `x` apart from any other split of the same bytes.
    pub fn new(key: &MarkerKey, email: &Email, idempotency_key: &IdempotencyKey) -> Marker {
        Marker::hashed(key, email, idempotency_key, "")
    }

    fn hashed(
        key: &MarkerKey,
        email: &Email,
        idempotency_key: &IdempotencyKey,
        scope: &str,
    ) -> Marker {
        let email = email.as_str().to_ascii_lowercase();
        let mut mac = key.mac();
        mac.update(email.len().to_string().as_bytes());
        mac.update(b":");
        mac.update(email.as_bytes());
        mac.update(idempotency_key.0.as_bytes());
        // After the key, length-prefixed and behind a byte no key holds: no split of another
        // key and scope gives the same bytes.
        if !scope.is_empty() {
            mac.update(b"\0");
            mac.update(scope.len().to_string().as_bytes());
            mac.update(b":");
            mac.update(scope.as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        let token: String = digest
            .iter()
            .take(TOKEN_HEX_DIGITS / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        Marker(format!("{MARKER_PREFIX}{token}]"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `line` is a marker, any press's: what a note shown to its user leaves out.
    pub fn is_marker_line(line: &str) -> bool {
        line.strip_prefix(MARKER_PREFIX)
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|t| {
                t.len() == TOKEN_HEX_DIGITS && t.bytes().all(|b| b.is_ascii_hexdigit())
            })
    }

    /// Whether this marker closes a ticket's details: the last line, exactly, where
    /// [`crate::ticket::ticket_input`] writes it. Anywhere else it is text someone typed.
    pub fn closes(&self, details: &str) -> bool {
        details
            .trim_end()
            .lines()
            .next_back()
            .is_some_and(|last| last == self.0)
    }
}

/// `text` with every `[Button request` (in any ASCII case) turned into `[Button-request`, so no
/// text a user sends, nor anything a rule builds from it, can hold a marker line. The marker's
/// HMAC already cannot be guessed; this keeps even a leaked or previewed marker out of reach.
/// Any case, because BMS's details filter may ignore case.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    const NEEDLE: &str = "[button request";
    // ASCII lower-casing keeps every byte offset, so positions in `lower` are positions in `text`.
    let lower = text.to_ascii_lowercase();
    if !lower.contains(NEEDLE) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (at, _) in lower.match_indices(NEEDLE) {
        out.push_str(&text[from..at]);
        out.push_str(NEUTRALISED);
        from = at + NEEDLE.len();
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The earliest open date a ticket may have and still count as the first answer to a repeat.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - WINDOW
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn key(s: &str) -> IdempotencyKey {
        IdempotencyKey::parse(s).unwrap()
    }

    /// One key's press can neither find nor be found by another key's, whatever both send.
    #[test]
    fn markers_are_scoped_to_the_callers_key() {
        let mk = MarkerKey::given("m");
        let (e, k) = (email("dan.jump@fabrikam.com"), key("content-abc"));
        let a = Marker::scoped(&mk, &e, &k, &CallerScope::of_key("key-a"));
        let b = Marker::scoped(&mk, &e, &k, &CallerScope::of_key("key-b"));
        assert_ne!(a, b);
        assert_eq!(
            a,
            Marker::scoped(&mk, &e, &k, &CallerScope::of_key("key-a"))
        );
        assert_eq!(
            Marker::scoped(&mk, &e, &k, &CallerScope::default()),
            Marker::new(&mk, &e, &k),
            "without a key, the marker of presses parked before scopes existed"
        );
        assert_eq!(
            format!("{:?}", CallerScope::of_key("key-a")),
            "CallerScope(..)"
        );
    }

    #[test]
    fn key_length_limits() {
        assert!(IdempotencyKey::parse("k").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(128)).is_ok());
        let long = IdempotencyKey::parse(&"k".repeat(129)).unwrap_err();
        assert!(
            long.contains("Idempotency-Key") && long.contains("129"),
            "{long}"
        );
        let empty = IdempotencyKey::parse("").unwrap_err();
        assert!(empty.contains("Idempotency-Key"), "{empty}");
        assert!(IdempotencyKey::parse("tab\there").is_err());
    }

    fn marker_key() -> MarkerKey {
        MarkerKey::derived("Contoso MSP", "api.button", "s3cret")
    }

    #[test]
    fn marker_is_a_keyed_hash_of_email_and_key_ignoring_email_case() {
        let k = key("3f9c2b7e-retry");
        let mk = marker_key();
        let m = Marker::new(&mk, &email("Dan.Jump@fabrikam.com"), &k);
        assert_eq!(m, Marker::new(&mk, &email("dan.jump@FABRIKAM.com"), &k));
        assert!(m.as_str().starts_with("[Button request "), "{m}");
        assert_eq!(m.as_str().len(), "[Button request ]".len() + 24);
        assert!(!m.as_str().contains("3f9c2b7e-retry"));
        assert_ne!(m, Marker::new(&mk, &email("ann.beebe@northwind.com"), &k));
        assert_ne!(
            m,
            Marker::new(&mk, &email("dan.jump@fabrikam.com"), &key("other"))
        );
    }

    #[test]
    fn the_marker_key_decides_the_marker() {
        let (e, k) = (email("a@b.com"), key("k1"));
        let m = |mk: &MarkerKey| Marker::new(mk, &e, &k);
        let base = m(&marker_key());
        assert_eq!(
            base,
            m(&MarkerKey::derived("CONTOSO MSP", "API.Button", "s3cret"))
        );
        assert_ne!(
            base,
            m(&MarkerKey::derived("Contoso MSP", "api.button", "rotated"))
        );
        assert_ne!(
            base,
            m(&MarkerKey::derived("Contoso", "MSPapi.button", "s3cret"))
        );
        assert_ne!(base, m(&MarkerKey::given("s3cret")));
        assert_ne!(m(&MarkerKey::given("one")), m(&MarkerKey::given("two")));
        assert_eq!(format!("{:?}", marker_key()), "MarkerKey(..)");
    }

    #[test]
    fn the_marker_counts_only_as_the_last_line() {
        let m = Marker::new(&marker_key(), &email("a@b.com"), &key("k1"));
        assert!(m.closes(&format!("Broken\n\n{m}\n")));
        assert!(m.closes(&format!("Broken\r\n\r\n{m}\r\n\r\n")));
        assert!(!m.closes("Broken\n"));
        assert!(!m.closes(&format!("Broken\n{m}\nmore\n")));
        assert!(!m.closes(&format!("Broken\nsee {m}\n")));
        assert!(!m.closes(&format!("Broken\n {m}\n")));
        assert!(Marker::is_marker_line(m.as_str()));
        assert!(!Marker::is_marker_line(&format!("{m} ")));
        assert!(!Marker::is_marker_line("[Button request 00]"));
    }

    #[test]
    fn neutralise_breaks_every_marker_in_any_case() {
        assert_eq!(neutralise("plain text"), Cow::Borrowed("plain text"));
        assert_eq!(
            neutralise("a [Button request 00] b [BUTTON REQUEST 11]"),
            "a [Button-request 00] b [Button-request 11]"
        );
        assert_eq!(neutralise("é[button request"), "é[Button-request");
        assert_eq!(neutralise("[Button-request 00]"), "[Button-request 00]");
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", key("secret-ish")), "IdempotencyKey(..)");
    }
}
