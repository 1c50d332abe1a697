//! The follow-up token: what lets the person who pressed the button read their ticket again and
//! add to it, while the function stores nothing.
//!
//! A 201 (or a duplicate's 200) of `/tickets` carries one. It is opaque to the caller: base64url
//! of the ticket id, the issue time and the e-mail, then an HMAC-SHA256 over them (its first
//! 128 bits) under the marker key ([`MarkerKey`]), the server secret the idempotency markers
//! use. No caller can make one, change the ticket it names, or stretch its life; the server
//! checks it with nothing but the key. [`verify`] gives the same `None` to every token it
//! refuses, so the answer can never say which check failed.
//!
//! What it proves: that the function answered a press for this ticket, made with this e-mail,
//! less than [`BUTTON_FOLLOW_UP_DAYS`](crate::config::Config::follow_up) ago. It does not prove
//! who holds it now (it is a bearer token, kept in the browser that pressed), nor that the
//! e-mail is the person's own.

mod cache;
mod claim;
mod view;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::Mac;

use crate::button::Email;
use crate::idempotency::MarkerKey;

pub use cache::{MAX_TICKETS, StatusCache};
pub use claim::{Claim, issue_claim, verify_claim};
pub use view::{From, Reply, Status, USER_NOTE_HEADING, status, user_note};

/// The header a follow-up request carries the token in.
pub const HEADER: &str = "X-Follow-Up";

/// Keeps follow-up MACs apart from the markers' under the same key: a marker's message starts
/// with a digit, this one with a letter.
const LABEL: &[u8] = b"kaseya-button follow-up token\0";
/// The layout's version, first byte of the token: a later layout is refused, never misread.
const VERSION: u8 = 1;
/// 128 bits of the MAC: beyond any guess, and it keeps the token short.
const MAC_BYTES: usize = 16;
/// Version, ticket id and issue time before the e-mail.
const FIXED_BYTES: usize = 1 + 8 + 8;
/// An e-mail is at most 254 bytes: a longer token is refused before it is decoded.
const MAX_TOKEN_CHARS: usize = (FIXED_BYTES + 254 + MAC_BYTES).div_ceil(3) * 4;
/// A token issued this far ahead of the clock is refused: clocks of two containers differ by
/// less.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// What a token that holds says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub ticket_id: i64,
    /// As pressed, lower-cased: it names who wrote a note the user adds.
    pub email: String,
    pub issued: DateTime<Utc>,
}

/// The token for `ticket_id`, pressed with `email`, issued `at`.
pub fn issue(key: &MarkerKey, ticket_id: i64, email: &Email, at: DateTime<Utc>) -> String {
    let mut bytes = payload(ticket_id, &email.as_str().to_ascii_lowercase(), at);
    let tag = mac(key, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What `token` says, if it is one this key issued for `ticket_id`, less than `valid` before
/// `now`. The MAC is compared in constant time, before anything the token says is believed.
pub fn verify(
    key: &MarkerKey,
    token: &str,
    ticket_id: i64,
    now: DateTime<Utc>,
    valid: Duration,
) -> Option<FollowUp> {
    let payload = open(key, token, VERSION, FIXED_BYTES, MAX_TOKEN_CHARS)?;
    let payload = payload.as_slice();
    let id = i64::from_be_bytes(payload[1..9].try_into().ok()?);
    let issued = i64::from_be_bytes(payload[9..17].try_into().ok()?);
    let issued = DateTime::<Utc>::from_timestamp(issued, 0)?;
    let email = std::str::from_utf8(&payload[FIXED_BYTES..]).ok()?;
    (id == ticket_id && fresh(issued, now, valid)).then(|| FollowUp {
        ticket_id: id,
        email: email.to_string(),
        issued,
    })
}

/// The payload of `token`, if it is of layout `version`, longer than `fixed` bytes, and its MAC
/// holds under `key` (compared in constant time, before anything in it is read).
fn open(
    key: &MarkerKey,
    token: &str,
    version: u8,
    fixed: usize,
    max_chars: usize,
) -> Option<Vec<u8>> {
    if token.len() > max_chars {
        return None;
    }
    let mut bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let split = bytes.len().checked_sub(MAC_BYTES)?;
    let (payload, tag) = bytes.split_at(split);
    if payload.len() <= fixed || payload[0] != version {
        return None;
    }
    mac(key, payload).verify_truncated_left(tag).ok()?;
    bytes.truncate(split);
    Some(bytes)
}

/// A fresh token or claim: issued no later than the clocks allow, and less than `valid` ago.
fn fresh(issued: DateTime<Utc>, now: DateTime<Utc>, valid: Duration) -> bool {
    issued <= now + CLOCK_SKEW && now.signed_duration_since(issued) < valid
}

fn payload(ticket_id: i64, email: &str, at: DateTime<Utc>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(FIXED_BYTES + email.len() + MAC_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(&ticket_id.to_be_bytes());
    bytes.extend_from_slice(&at.timestamp().to_be_bytes());
    bytes.extend_from_slice(email.as_bytes());
    bytes
}

fn mac(key: &MarkerKey, payload: &[u8]) -> crate::idempotency::HmacSha256 {
    let mut mac = key.mac();
    mac.update(LABEL);
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MarkerKey {
        MarkerKey::given("follow-up test key")
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    const DAYS_30: Duration = Duration::days(30);

    fn token() -> String {
        let email = Email::parse("Dan.Jump@Fabrikam.com").unwrap();
        issue(&key(), 1001, &email, at("2026-11-26T10:00:00Z"))
    }

    #[test]
    fn a_token_holds_for_its_ticket_until_it_expires() {
        let t = token();
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{t}"
        );
        let now = at("2026-12-01T00:00:00Z");
        let said = verify(&key(), &t, 1001, now, DAYS_30).unwrap();
        assert_eq!(said.ticket_id, 1001);
        assert_eq!(said.email, "dan.jump@fabrikam.com");
        assert_eq!(said.issued, at("2026-11-26T10:00:00Z"));
        // Another ticket's id, the same token: refused.
        assert_eq!(verify(&key(), &t, 1002, now, DAYS_30), None);
        // 30 days on: refused; a second before: held.
        assert_eq!(
            verify(&key(), &t, 1001, at("2026-12-26T10:00:00Z"), DAYS_30),
            None
        );
        assert!(verify(&key(), &t, 1001, at("2026-12-26T09:59:59Z"), DAYS_30).is_some());
        // Issued in the future (beyond clock skew): refused.
        assert_eq!(
            verify(&key(), &t, 1001, at("2026-11-26T09:50:00Z"), DAYS_30),
            None
        );
    }

    #[test]
    fn only_the_key_makes_a_token() {
        let t = token();
        let now = at("2026-11-27T00:00:00Z");
        assert_eq!(
            verify(&MarkerKey::given("another key"), &t, 1001, now, DAYS_30),
            None
        );
        // Every single bit flipped, anywhere, is refused.
        let bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut forged = bytes.clone();
            forged[i / 8] ^= 1 << (i % 8);
            let forged = URL_SAFE_NO_PAD.encode(forged);
            assert_eq!(verify(&key(), &forged, 1001, now, DAYS_30), None, "bit {i}");
        }
        // A token for another ticket, its id rewritten to this one's and the MAC kept: refused.
        let mut moved = bytes.clone();
        moved[1..9].copy_from_slice(&1002i64.to_be_bytes());
        let moved = URL_SAFE_NO_PAD.encode(moved);
        assert_eq!(verify(&key(), &moved, 1002, now, DAYS_30), None);
        for junk in ["", "x", "!!!!", &"A".repeat(10_000), &t[..t.len() - 2]] {
            assert_eq!(verify(&key(), junk, 1001, now, DAYS_30), None, "{junk:.20}");
        }
    }

    #[test]
    fn an_idempotency_marker_is_no_token() {
        // The same key makes markers; a marker's digest never passes for a token's.
        let email = Email::parse("a@b.com").unwrap();
        let k = crate::idempotency::IdempotencyKey::parse("k").unwrap();
        let m = crate::idempotency::Marker::new(&key(), &email, &k);
        assert_eq!(verify(&key(), m.as_str(), 1, Utc::now(), DAYS_30), None);
    }
}
