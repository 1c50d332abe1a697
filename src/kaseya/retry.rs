//! When a failed BMS call is sent again: the backoff, and the decision itself as a pure
//! function of the fault, the request's kind and what the invocation has left. The loop that
//! sends, sleeps and logs is [`Bms::retrying`](super::Bms).

use std::time::Duration;

use super::envelope::BmsError;

/// A retry that would have less than this for its call is not started.
pub(super) const MIN_CALL_TIME: Duration = Duration::from_millis(500);

/// Retries of calls that failed for a passing reason (429, 503, a lost connection): exponential
/// backoff with full jitter, at most `attempts` calls in all, and never past the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first pause is up to this long; each one after up to twice the one before.
    pub base: Duration,
    /// No pause is longer, unless BMS asks for more with `Retry-After`.
    pub cap: Duration,
    /// Calls in all, the first included.
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(3),
            attempts: 4,
        }
    }
}

impl Backoff {
    /// The pause before call number `next` (2 for the first retry): a random time between zero
    /// and the exponential bound, so that many buttons refused at once do not come back at once.
    pub(super) fn pause(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(16);
        let bound = self.base.saturating_mul(1 << doublings).min(self.cap);
        let bound_ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=bound_ms))
    }
}

/// Whether a request may be sent again when its fate is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resend {
    /// Reads and logins: sending twice does no harm.
    Safe,
    /// Creates: sent again only when BMS surely did not act on it, that is when the connection
    /// was never made or BMS refused it with 429. Anything else might file a second ticket.
    OnlyIfUnseen,
}

/// How one attempt went wrong.
#[derive(Debug)]
pub(super) enum Fault {
    /// The connection was never made: BMS saw nothing.
    NotSent(BmsError),
    /// The request left, but no answer came back (timeout, reset): BMS may have acted on it.
    Lost { error: BmsError, timed_out: bool },
    /// BMS answered with this error.
    Answered { status: u16, error: BmsError },
}

impl Fault {
    pub(super) fn timed_out(&self) -> bool {
        matches!(
            self,
            Fault::Lost {
                timed_out: true,
                ..
            }
        )
    }

    pub(super) fn into_error(self) -> BmsError {
        match self {
            Fault::NotSent(error) | Fault::Lost { error, .. } | Fault::Answered { error, .. } => {
                error
            }
        }
    }
}

/// Where a call stands after a failed attempt: all the decision needs besides the fault, so
/// that it reads no clock and draws no random number itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Standing {
    /// Calls made so far, the failed one included.
    pub attempt: u32,
    /// Calls allowed in all.
    pub attempts: u32,
    /// Calls so far that timed out, the failed one included.
    pub timeouts: u32,
    /// What the invocation has left.
    pub left: Duration,
    /// The backoff's pause before the next call, taken when BMS asks for no wait of its own.
    pub backoff: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Wait this long, then send the request again.
    Retry(Duration),
    /// Answer with the attempt's error.
    GiveUp(GiveUp),
    /// Answer that BMS may have done the work (`BmsError::MaybeDone`), with BMS's HTTP status
    /// when it answered.
    MaybeDone(Option<u16>),
}

/// Why a failure is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GiveUp {
    /// Not a passing failure: the same request would meet it again.
    Lasting,
    /// A second timeout: BMS hangs, and each more try would cost the button a whole timeout.
    TimedOutTwice,
    /// Every allowed call has been made.
    NoRetriesLeft,
    /// The pause and a call after it do not fit in the time left.
    NoTimeLeft { pause: Duration },
}

/// The retry policy: whether the failure passes, whether the request may be repeated, and
/// whether a repeat fits the attempts and the time left.
pub(super) fn next_step(fault: &Fault, resend: Resend, now: Standing) -> Step {
    let asked_wait = match (fault, resend) {
        (Fault::NotSent(_), _) => None,
        (Fault::Lost { .. }, Resend::OnlyIfUnseen) => return Step::MaybeDone(None),
        (Fault::Lost { .. }, Resend::Safe) if now.timeouts > 1 => {
            return Step::GiveUp(GiveUp::TimedOutTwice);
        }
        (Fault::Lost { .. }, Resend::Safe) => None,
        // A 429 was refused before any work: even a create may go again.
        (
            Fault::Answered {
                error: BmsError::RateLimited { retry_after, .. },
                ..
            },
            _,
        ) => *retry_after,
        (
            Fault::Answered {
                error: BmsError::Unavailable { retry_after, .. },
                ..
            },
            Resend::Safe,
        ) => *retry_after,
        (Fault::Answered { status, .. }, Resend::OnlyIfUnseen) if *status >= 500 => {
            return Step::MaybeDone(Some(*status));
        }
        // A success whose body cannot be read: the work was most likely done.
        (
            Fault::Answered {
                status,
                error: BmsError::BadAnswer { .. },
            },
            Resend::OnlyIfUnseen,
        ) => return Step::MaybeDone(Some(*status)),
        (Fault::Answered { .. }, _) => return Step::GiveUp(GiveUp::Lasting),
    };
    if now.attempt >= now.attempts {
        return Step::GiveUp(GiveUp::NoRetriesLeft);
    }
    let pause = asked_wait.map_or(now.backoff, Duration::from_secs);
    if pause + MIN_CALL_TIME > now.left {
        return Step::GiveUp(GiveUp::NoTimeLeft { pause });
    }
    Step::Retry(pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_the_cap_and_are_jittered_below_it() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(350),
            attempts: 10,
        };
        for _ in 0..200 {
            assert!(b.pause(2) <= Duration::from_millis(100));
            assert!(b.pause(3) <= Duration::from_millis(200));
            assert!(b.pause(9) <= Duration::from_millis(350));
            assert!(b.pause(u32::MAX) <= Duration::from_millis(350));
        }
        let distinct: std::collections::HashSet<Duration> = (0..50).map(|_| b.pause(9)).collect();
        assert!(distinct.len() > 1, "full jitter varies the pause");
    }

    fn not_sent() -> Fault {
        Fault::NotSent(BmsError::Unreachable {
            what: "x".into(),
            reason: "connection failed".into(),
        })
    }

    fn lost(timed_out: bool) -> Fault {
        Fault::Lost {
            error: BmsError::Unreachable {
                what: "x".into(),
                reason: "timed out".into(),
            },
            timed_out,
        }
    }

    fn answered(status: u16, retry_after: Option<u64>) -> Fault {
        let what = "x".to_string();
        let error = match status {
            429 => BmsError::RateLimited { what, retry_after },
            503 => BmsError::Unavailable { what, retry_after },
            401 => BmsError::Unauthorized { what },
            200 => BmsError::BadAnswer {
                what,
                reason: "not JSON".into(),
            },
            _ => BmsError::Failed {
                what,
                status,
                message: "no".into(),
            },
        };
        Fault::Answered { status, error }
    }

    const BACKOFF: Duration = Duration::from_millis(100);

    const PLENTY: Duration = Duration::from_secs(20);

    /// After call `attempt` of 4 failed, with `timeouts` timeouts so far and `left` to go.
    fn after(attempt: u32, timeouts: u32, left: Duration) -> Standing {
        Standing {
            attempt,
            attempts: 4,
            timeouts,
            left,
            backoff: BACKOFF,
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn every_fault_for_both_kinds_of_request() {
        use GiveUp::*;
        use Resend::{OnlyIfUnseen, Safe};
        use Step::{GiveUp as Stop, MaybeDone, Retry};
        let first = after(1, 0, PLENTY);
        let timed_out_once = after(1, 1, PLENTY);
        let last = after(4, 0, PLENTY);
        let out_of_time = after(1, 0, Duration::ZERO);
        let just_enough = after(1, 0, BACKOFF + MIN_CALL_TIME);
        let just_short = after(1, 0, BACKOFF + MIN_CALL_TIME - Duration::from_millis(1));
        #[rustfmt::skip]
        let table: Vec<(&str, Fault, Resend, Standing, Step)> = vec![
            // never sent: BMS saw nothing, so even a create goes again
            ("not sent, read", not_sent(), Safe, first, Retry(BACKOFF)),
            ("not sent, create", not_sent(), OnlyIfUnseen, first, Retry(BACKOFF)),
            // lost on the way back
            ("lost, read", lost(false), Safe, first, Retry(BACKOFF)),
            ("first timeout, read", lost(true), Safe, timed_out_once, Retry(BACKOFF)),
            ("reset after a timeout, read", lost(false), Safe, timed_out_once, Retry(BACKOFF)),
            ("second timeout, read", lost(true), Safe, after(1, 2, PLENTY), Stop(TimedOutTwice)),
            ("second timeout on the last call", lost(true), Safe, after(4, 2, PLENTY), Stop(TimedOutTwice)),
            ("lost, create", lost(false), OnlyIfUnseen, first, MaybeDone(None)),
            ("timeout, create", lost(true), OnlyIfUnseen, timed_out_once, MaybeDone(None)),
            // 429: refused before any work
            ("429, read", answered(429, None), Safe, first, Retry(BACKOFF)),
            ("429 with Retry-After, read", answered(429, Some(2)), Safe, first, Retry(secs(2))),
            ("429, create", answered(429, None), OnlyIfUnseen, first, Retry(BACKOFF)),
            ("429 with Retry-After, create", answered(429, Some(2)), OnlyIfUnseen, first, Retry(secs(2))),
            ("429 with Retry-After 0", answered(429, Some(0)), Safe, first, Retry(Duration::ZERO)),
            // 503: passing, but a create may have been carried out
            ("503, read", answered(503, None), Safe, first, Retry(BACKOFF)),
            ("503 with Retry-After, read", answered(503, Some(2)), Safe, first, Retry(secs(2))),
            ("503, create", answered(503, Some(7)), OnlyIfUnseen, first, MaybeDone(Some(503))),
            // other errors BMS answers
            ("500, read", answered(500, None), Safe, first, Stop(Lasting)),
            ("500, create", answered(500, None), OnlyIfUnseen, first, MaybeDone(Some(500))),
            ("502, create", answered(502, None), OnlyIfUnseen, first, MaybeDone(Some(502))),
            ("400, read", answered(400, None), Safe, first, Stop(Lasting)),
            ("400, create", answered(400, None), OnlyIfUnseen, first, Stop(Lasting)),
            ("401, read", answered(401, None), Safe, first, Stop(Lasting)),
            ("401, create", answered(401, None), OnlyIfUnseen, first, Stop(Lasting)),
            ("unreadable success, read", answered(200, None), Safe, first, Stop(Lasting)),
            ("unreadable success, create", answered(200, None), OnlyIfUnseen, first, MaybeDone(Some(200))),
            // calls left
            ("third of four calls", not_sent(), Safe, after(3, 0, PLENTY), Retry(BACKOFF)),
            ("last call, not sent", not_sent(), Safe, last, Stop(NoRetriesLeft)),
            ("last call, 429", answered(429, Some(1)), OnlyIfUnseen, last, Stop(NoRetriesLeft)),
            ("last call, 503", answered(503, None), Safe, last, Stop(NoRetriesLeft)),
            ("last call and no time", not_sent(), Safe, after(4, 0, Duration::ZERO), Stop(NoRetriesLeft)),
            ("last call, lasting error", answered(400, None), Safe, last, Stop(Lasting)),
            ("last call, create lost", lost(false), OnlyIfUnseen, last, MaybeDone(None)),
            // time left
            ("no time left", not_sent(), Safe, out_of_time, Stop(NoTimeLeft { pause: BACKOFF })),
            ("pause and call just fit", not_sent(), Safe, just_enough, Retry(BACKOFF)),
            ("pause and call just miss", not_sent(), Safe, just_short, Stop(NoTimeLeft { pause: BACKOFF })),
            ("Retry-After past the deadline", answered(429, Some(60)), Safe, first, Stop(NoTimeLeft { pause: secs(60) })),
            ("Retry-After past the deadline, 503", answered(503, Some(30)), Safe, first, Stop(NoTimeLeft { pause: secs(30) })),
            ("no time, but a create is lost", lost(false), OnlyIfUnseen, out_of_time, MaybeDone(None)),
            ("no time, lasting error", answered(400, None), Safe, out_of_time, Stop(Lasting)),
        ];
        for (case, fault, resend, standing, expected) in table {
            assert_eq!(next_step(&fault, resend, standing), expected, "{case}");
        }
    }
}
