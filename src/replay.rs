//! The replay: parked presses, delivered by Lambda's SQS event source mapping, filed once BMS
//! takes them (`kaseya-button-replay`).
//!
//! Each record runs the deployed rules with the press time as the clock and files the ticket
//! marked with the press's idempotency key, so that whatever SQS delivers twice, and whatever
//! the button parked twice, becomes one ticket: an earlier try's ticket is found, not filed
//! again. A record that fails goes back to the queue (`batchItemFailures`): after a wait that
//! doubles with each receive, or at once when no wait can help (a poison message, a rule that
//! now rejects it), so that it reaches the dead-letter queue without delay. Once BMS
//! fails a record for a reason time cures, the rest of the batch is not tried: it would only
//! spend BMS's hourly allowance on the same failure.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::FutureExt;

use crate::config::ConfigError;
use crate::context::Origin;
use crate::idempotency::{self, CallerScope};
use crate::kaseya;
use crate::metrics::Counts;
use crate::press::{self, Failed, Filed, Pipeline, Pressed, Repeat, Submitted};
use crate::queue::{ParkedPress, Queue, Replayable};

/// No wait between retries grows longer than this.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(15 * 60);

/// What the replay works with: the pipeline every press goes through, the queue its records
/// go back to, and how long the first wait after a failure is.
#[derive(Clone, Copy)]
pub(crate) struct Replay<'a> {
    pub pipeline: Pipeline<'a>,
    pub queue: Option<&'a Queue>,
    /// `BUTTON_REPLAY_RETRY_SECONDS`: the wait after a first failure, doubled with each receive.
    pub first_retry: Duration,
    /// `BUTTON_METRICS`: a metric line per record.
    pub metrics: bool,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Filed, or found filed by an earlier try: deleted from the queue.
    Done,
    /// Back to the queue, to be tried again after `wait`. `bms_down`: BMS failed it for a reason
    /// time cures, so the rest of the batch waits too.
    Later {
        why: String,
        wait: Duration,
        bms_down: bool,
    },
    /// Back to the queue at once: no retry will file it, and the dead-letter queue is where an
    /// operator reads it.
    Stuck { why: String },
}

/// One batch. Never fails: every record that is not done is reported back by its message id.
pub(crate) async fn batch(
    app: Result<Replay<'_>, &ConfigError>,
    event: SqsEvent,
    lambda_deadline: Option<SystemTime>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(
                problems = %e,
                "configuration error: every parked press goes back to the queue until it is fixed"
            );
            for record in &event.records {
                response.add_failure(record.message_id.clone().unwrap_or_default());
            }
            return response;
        }
    };
    let mut bms_down: Option<String> = None;
    for record in &event.records {
        let verdict = match &bms_down {
            Some(why) => Verdict::Later {
                why: format!("not tried: BMS failed an earlier record of this batch ({why})"),
                wait: retry_wait(app.first_retry, receive_count(record)),
                bms_down: true,
            },
            None => {
                let deadline = crate::deadline::for_replay(Instant::now(), lambda_deadline);
                // No record may fail another: one that panics is set apart for an operator, and
                // the rest of the batch goes on (the release profile unwinds for this).
                AssertUnwindSafe(kaseya::within(deadline, replay(app, record)))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Verdict::Stuck {
                        why: "replaying this record failed (the log above has the panic); it is \
                              kept for an operator"
                            .into(),
                    })
            }
        };
        if let Verdict::Later {
            why,
            bms_down: true,
            ..
        } = &verdict
        {
            bms_down.get_or_insert_with(|| why.clone());
        }
        if verdict != Verdict::Done {
            send_back(app, record, &verdict).await;
            response.add_failure(record.message_id.clone().unwrap_or_default());
        }
    }
    response
}

/// Say why a record was not filed, and put it back on the queue for its next try.
async fn send_back(app: Replay<'_>, record: &SqsMessage, verdict: &Verdict) {
    let id = record.message_id.as_deref().unwrap_or_default();
    let wait = match verdict {
        Verdict::Done => return,
        Verdict::Later { why, wait, .. } => {
            tracing::warn!(message_id = %id, wait_s = wait.as_secs(), reason = %why, "parked press not filed yet; back to the queue");
            *wait
        }
        Verdict::Stuck { why } => {
            tracing::error!(message_id = %id, reason = %why, "parked press cannot be filed; it goes to the dead-letter queue");
            Duration::ZERO
        }
    };
    back_to_queue(app, record, wait).await;
}

/// Read, prepare and file one record, and write its metric line.
async fn replay(app: Replay<'_>, record: &SqsMessage) -> Verdict {
    let started = Instant::now();
    let mut counts = Counts::default();
    let verdict = match ParkedPress::read(record.body.as_deref().unwrap_or_default()) {
        Err(poison) => Verdict::Stuck {
            why: format!("poison message: {poison}"),
        },
        Ok(parked) => file(app, record, parked, &mut counts).await,
    };
    counts.bms_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    if app.metrics {
        counts.emit();
    }
    verdict
}

async fn file(
    app: Replay<'_>,
    record: &SqsMessage,
    replayable: Replayable,
    counts: &mut Counts,
) -> Verdict {
    let Replayable {
        parked,
        button,
        key,
    } = replayable;
    let reference = record.message_id.as_deref().unwrap_or("unknown");
    let key_name = parked.key_name.clone();
    let pressed = Pressed {
        at: parked.pressed_at,
        // The press may have been parked more than once (its client repeated it during the
        // outage): any earlier try's ticket counts, however long the queue kept it.
        repeat: Some(Repeat {
            key,
            window: idempotency::PARKED_WINDOW,
        }),
        scope: CallerScope::from_parked(&parked.caller),
        // Every try may follow one whose create answer was lost, or a repeat parked before it.
        may_be_filed: true,
        late: Some(late_note(parked.pressed_at, Utc::now(), reference)),
        key_name,
        origin: Origin {
            channel: parked.channel,
            caller_ip: parked.caller_ip,
            account: parked.account.clone(),
            create_contacts: parked.create_contacts,
        },
        name_from_contact: false,
    };
    match press::submit(app.pipeline, button, pressed).await {
        Ok(Submitted::Filed(filed)) => {
            *counts = filed_late(reference, parked.pressed_at, &filed);
            Verdict::Done
        }
        Ok(Submitted::Duplicate(first)) => {
            tracing::info!(
                message_id = %reference,
                ticket_id = first.id,
                "parked press already filed by an earlier try; not filed again"
            );
            counts.replayed = 1;
            counts.duplicates = 1;
            Verdict::Done
        }
        Ok(Submitted::Rejected(rejection)) => Verdict::Stuck {
            why: format!(
                "rules[{}] now rejects the press ({}); the button was told it would be filed",
                rejection.rule, rejection.message
            ),
        },
        // Whatever else fails (a configuration error, refused credentials, BMS refusing the
        // ticket) is fixed by an operator, not by the message: it waits like an outage, without
        // holding back the rest of the batch unless time may cure it.
        Err(Failed { error, .. }) => Verdict::Later {
            wait: retry_wait(app.first_retry, receive_count(record)),
            bms_down: error.time_cures(),
            why: error.to_string(),
        },
    }
}

/// Log a parked press filed, and count it.
fn filed_late(reference: &str, pressed_at: DateTime<Utc>, filed: &Filed) -> Counts {
    tracing::info!(
        message_id = %reference,
        ticket_id = filed.ticket.id,
        pressed_at = %pressed_at,
        "parked press filed"
    );
    // No button hears these: an attachment note BMS refused is said here, with the ticket it
    // belongs to (the rest are in the ticket's [Submission Errors] too).
    for warning in &filed.warnings {
        tracing::warn!(message_id = %reference, ticket_id = filed.ticket.id, %warning, "parked press filed with a warning");
    }
    Counts {
        filed: 1,
        replayed: 1,
        unknown_users: u64::from(filed.unregistered),
        fallbacks: filed.fallbacks as u64,
        ..Counts::default()
    }
}

/// Put a record back on the queue after `wait`. When that fails, the queue's own visibility
/// timeout brings it back instead.
async fn back_to_queue(app: Replay<'_>, record: &SqsMessage, wait: Duration) {
    let (Some(queue), Some(handle)) = (app.queue, record.receipt_handle.as_deref()) else {
        return;
    };
    if let Err(e) = queue.retry_in(handle, wait).await {
        tracing::warn!(
            message_id = record.message_id.as_deref().unwrap_or_default(),
            error = %e,
            "could not set when the record comes back; the queue's visibility timeout applies"
        );
    }
}

/// How often SQS has delivered the record, this time included.
fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The wait before the next try of a record received `receives` times: `first`, doubled for each
/// receive after the first, at most [`MAX_RETRY_WAIT`].
pub fn retry_wait(first: Duration, receives: u32) -> Duration {
    let doublings = receives.saturating_sub(1).min(20);
    first.saturating_mul(1 << doublings).min(MAX_RETRY_WAIT)
}

/// The first line of a ticket filed late: technicians see at once that its open date is the
/// press time, not when it reached BMS.
pub fn late_note(pressed_at: DateTime<Utc>, filed_at: DateTime<Utc>, reference: &str) -> String {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    format!(
        "[Filed late] Pressed at {}, when Kaseya BMS could not take it; kept on the queue as \
         {reference} and filed at {}.",
        at(pressed_at),
        at(filed_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_with_each_receive_up_to_fifteen_minutes() {
        let first = Duration::from_secs(60);
        let waits: Vec<u64> = (1..=6).map(|n| retry_wait(first, n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
        assert_eq!(
            retry_wait(first, 0),
            first,
            "a missing count is the first receive"
        );
        assert_eq!(retry_wait(first, u32::MAX), MAX_RETRY_WAIT);
        assert_eq!(retry_wait(Duration::ZERO, 5), Duration::ZERO);
    }

    #[test]
    fn the_late_note_names_both_times_and_the_reference() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let note = late_note(t("2026-11-26T22:15:00Z"), t("2026-11-27T01:02:03Z"), "m-1");
        assert_eq!(
            note,
            "[Filed late] Pressed at 2026-11-26T22:15:00Z, when Kaseya BMS could not take it; \
             kept on the queue as m-1 and filed at 2026-11-27T01:02:03Z."
        );
    }
}
