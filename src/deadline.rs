//! When an invocation must be done: the earlier of its own budget and Lambda's deadline, less a
//! margin to answer in. Each kind of invocation has a budget named for what bounds it; the
//! deadline is then carried by [`crate::kaseya::within`] to every BMS call under it.

use std::time::{Duration, Instant, SystemTime};

/// API Gateway answers 504 for us after 29 s; the API function keeps this much of it, so that
/// the button gets our answer (and its `Retry-After`) rather than a 504.
pub const API_GATEWAY_BUDGET: Duration = Duration::from_secs(25);
/// One parked press in a replayed batch. No gateway waits on the replay, but a record that gets
/// more than this from BMS would only take the time of the records after it in the batch
/// (`template.yaml` gives each of up to ten records 25 s); Lambda's own deadline still bounds
/// the batch.
pub const REPLAYED_RECORD_BUDGET: Duration = Duration::from_secs(25);
/// Kept free before the deadline to build and send the answer (or send a record back).
pub const SAFETY_MARGIN: Duration = Duration::from_millis(750);

/// The deadline of an API invocation that started at `started`.
pub fn for_api(started: Instant, lambda_deadline: Option<SystemTime>) -> Instant {
    now_with(API_GATEWAY_BUDGET, started, lambda_deadline)
}

/// The deadline of one replayed record whose filing started at `started`.
pub fn for_replay(started: Instant, lambda_deadline: Option<SystemTime>) -> Instant {
    now_with(REPLAYED_RECORD_BUDGET, started, lambda_deadline)
}

fn now_with(budget: Duration, started: Instant, lambda_deadline: Option<SystemTime>) -> Instant {
    deadline_at(
        budget,
        started,
        lambda_deadline,
        Instant::now(),
        SystemTime::now(),
    )
}

/// The deadline with the clocks read at `now` and `wall_now` (the same moment): Lambda gives
/// its deadline in wall time, and the distance to it becomes a monotonic instant. A Lambda
/// deadline already past gives `now` less the margin, a deadline already past too.
fn deadline_at(
    budget: Duration,
    started: Instant,
    lambda_deadline: Option<SystemTime>,
    now: Instant,
    wall_now: SystemTime,
) -> Instant {
    let mut end = started + budget;
    if let Some(at) = lambda_deadline {
        let left = at.duration_since(wall_now).unwrap_or(Duration::ZERO);
        end = end.min(now + left);
    }
    end.checked_sub(SAFETY_MARGIN).unwrap_or(started)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_earlier_of_the_gateway_and_lambda() {
        let started = Instant::now();
        let wall = SystemTime::now();
        // read a little after the start, as a handler does
        let now = started + Duration::from_millis(40);
        let at = |lambda| deadline_at(API_GATEWAY_BUDGET, started, lambda, now, wall);
        let gateway = started + API_GATEWAY_BUDGET - SAFETY_MARGIN;
        assert_eq!(at(None), gateway);
        assert_eq!(for_api(started, None), gateway);
        assert_eq!(
            at(Some(wall + Duration::from_secs(60))),
            gateway,
            "a later Lambda deadline"
        );
        assert_eq!(
            at(Some(wall + Duration::from_secs(5))),
            now + Duration::from_secs(5) - SAFETY_MARGIN
        );
        let passed = at(Some(wall - Duration::from_secs(5)));
        assert_eq!(passed, now - SAFETY_MARGIN);
        assert!(passed < now, "no time is left to call BMS in");
    }

    #[test]
    fn a_replayed_record_has_its_own_budget_and_lambda_still_bounds_it() {
        let started = Instant::now();
        assert_eq!(
            for_replay(started, None),
            started + REPLAYED_RECORD_BUDGET - SAFETY_MARGIN
        );
        let wall = SystemTime::now();
        let now = started + Duration::from_millis(40);
        let near = deadline_at(
            REPLAYED_RECORD_BUDGET,
            started,
            Some(wall + Duration::from_secs(3)),
            now,
            wall,
        );
        assert_eq!(near, now + Duration::from_secs(3) - SAFETY_MARGIN);
    }
}
