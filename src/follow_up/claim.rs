//! A parked press's claim: the 202 of a press parked while BMS was down carries one instead of
//! a follow-up token, since there is no ticket yet. Once the replay has filed the press, the
//! claim is exchanged for the ticket and its token (`GET /tickets/parked`).
//!
//! It holds the press's e-mail and the `Idempotency-Key` its ticket is marked with (the
//! client's, or the one made at intake), MACed like a token but under a layout of its own: the
//! ticket is found again by that mark, through the search repeats already use, so the function
//! keeps nothing. A claim is good for the same days as a token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::Mac;

use super::{MAC_BYTES, fresh, mac, open};
use crate::button::Email;
use crate::idempotency::{IdempotencyKey, MAX_KEY_CHARS, MarkerKey};

/// A claim's layout; a token's is 1, so neither is ever read as the other.
const VERSION: u8 = 2;
/// Version, issue time and the e-mail's length before the e-mail.
const FIXED_BYTES: usize = 1 + 8 + 1;
const MAX_CLAIM_CHARS: usize = (FIXED_BYTES + 254 + 4 * MAX_KEY_CHARS + MAC_BYTES).div_ceil(3) * 4;

/// What a claim that holds says: whose press it was and how its ticket is marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub email: Email,
    pub key: IdempotencyKey,
    pub issued: DateTime<Utc>,
}

/// The claim for a press made with `email`, parked with `key`, at `at`.
pub fn issue_claim(
    marker_key: &MarkerKey,
    email: &Email,
    key: &IdempotencyKey,
    at: DateTime<Utc>,
) -> String {
    let email = email.as_str().to_ascii_lowercase();
    let mut bytes = Vec::with_capacity(FIXED_BYTES + email.len() + key.as_str().len() + MAC_BYTES);
    bytes.push(VERSION);
    bytes.extend_from_slice(&at.timestamp().to_be_bytes());
    // An e-mail is at most 254 bytes (`Email::parse`), so its length fits one byte.
    bytes.push(u8::try_from(email.len()).unwrap_or(u8::MAX));
    bytes.extend_from_slice(email.as_bytes());
    bytes.extend_from_slice(key.as_str().as_bytes());
    let tag = mac(marker_key, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..MAC_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What `claim` says, if this key issued it less than `valid` before `now`; the MAC is checked
/// in constant time before anything else is read.
pub fn verify_claim(
    marker_key: &MarkerKey,
    claim: &str,
    now: DateTime<Utc>,
    valid: Duration,
) -> Option<Claim> {
    let payload = open(marker_key, claim, VERSION, FIXED_BYTES, MAX_CLAIM_CHARS)?;
    let issued = i64::from_be_bytes(payload[1..9].try_into().ok()?);
    let issued = DateTime::<Utc>::from_timestamp(issued, 0)?;
    let email_end = FIXED_BYTES.checked_add(usize::from(payload[9]))?;
    let email = std::str::from_utf8(payload.get(FIXED_BYTES..email_end)?).ok()?;
    let key = std::str::from_utf8(payload.get(email_end..)?).ok()?;
    fresh(issued, now, valid).then_some(())?;
    Some(Claim {
        email: Email::parse(email).ok()?,
        key: IdempotencyKey::parse(key).ok()?,
        issued,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker_key() -> MarkerKey {
        MarkerKey::given("claim test key")
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_claim_says_whose_press_and_its_key_until_it_expires() {
        let email = Email::parse("Dan.Jump@fabrikam.com").unwrap();
        let key = IdempotencyKey::parse("intake-0c1f").unwrap();
        let claim = issue_claim(&marker_key(), &email, &key, now());
        let days = Duration::days(30);
        let said = verify_claim(&marker_key(), &claim, now(), days).expect("it holds");
        assert_eq!(said.email.as_str(), "dan.jump@fabrikam.com");
        assert_eq!(said.key.as_str(), "intake-0c1f");
        assert_eq!(said.issued, now());
        assert!(verify_claim(&marker_key(), &claim, now() + Duration::days(30), days).is_none());
        assert!(verify_claim(&marker_key(), &claim, now() - Duration::hours(1), days).is_none());
        let other = MarkerKey::given("another key");
        assert!(verify_claim(&other, &claim, now(), days).is_none());
    }

    #[test]
    fn no_changed_bit_and_no_token_passes_as_a_claim() {
        let email = Email::parse("dan.jump@fabrikam.com").unwrap();
        let key = IdempotencyKey::parse("k-42").unwrap();
        let claim = issue_claim(&marker_key(), &email, &key, now());
        let bytes = URL_SAFE_NO_PAD.decode(&claim).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[i / 8] ^= 1 << (i % 8);
            let forged = URL_SAFE_NO_PAD.encode(flipped);
            assert!(verify_claim(&marker_key(), &forged, now(), Duration::days(30)).is_none());
        }
        let token = super::super::issue(&marker_key(), 1001, &email, now());
        assert!(verify_claim(&marker_key(), &token, now(), Duration::days(30)).is_none());
        assert!(
            super::super::verify(&marker_key(), &claim, 1001, now(), Duration::days(30)).is_none()
        );
    }
}
