//! How a press is known again: the key its ticket is marked with, the search for what an
//! earlier try filed, and the settling of two tries filed at the same moment.

use super::*;

/// How a press finds the ticket an earlier try of it filed: the key both tries carry, and how
/// far back a ticket still answers a repeat.
#[derive(Debug, Clone)]
pub(crate) struct Repeat {
    pub key: IdempotencyKey,
    pub window: Duration,
}

impl Repeat {
    /// A client's own `Idempotency-Key`, over the usual window.
    pub fn keyed(key: IdempotencyKey) -> Repeat {
        Repeat {
            key,
            window: idempotency::WINDOW,
        }
    }
}

/// A fresh key for a press that came without one: 128 random bits, never a client's value.
pub(crate) fn intake_key() -> Option<IdempotencyKey> {
    IdempotencyKey::parse(&format!("{INTAKE_KEY_PREFIX}{:032x}", fastrand::u128(..))).ok()
}

/// How a key made at intake starts, so that a parked message says where its key came from.
pub(crate) const INTAKE_KEY_PREFIX: &str = "intake-";

/// What BMS holds from an earlier press with the same e-mail and `Idempotency-Key`.
pub(super) enum Earlier {
    /// No key, or no ticket of the last ten minutes carries the marker.
    Nothing,
    /// The tickets that carry the marker, oldest first.
    Found(Vec<CreatedTicket>),
    /// The search failed in a way no retry would cure; the reason goes into the warnings.
    Unchecked(Warning),
}

/// Two containers that take the same keyed press at the same moment both find nothing and both
/// file. Stateless, the race is closed after the fact: once filed, the marker is looked for
/// again, and the ticket with the lowest id wins (BMS ids grow with creation, so of two racing
/// containers at least the later one sees both tickets). A container whose own ticket lost
/// resolves it as a duplicate of the winner, nothing deleted, and answers with the winner.
///
/// `None`: this ticket stands (it won, or the search could not tell, which leaves at worst the
/// two tickets the race would have left anyway).
pub(super) async fn settle_race(
    bms: &Bms,
    ev: &Evaluated,
    plan: &Plan,
    created: &CreatedTicket,
    marker: Option<&Marker>,
) -> Option<CreatedTicket> {
    let marker = marker.filter(|_| ev.may_race)?;
    let since = idempotency::window_start(ev.now);
    let found = match bms.find_marked_tickets(marker, since).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(ticket_id = created.id, error = %e, "the search after filing failed");
            return None;
        }
    };
    let winner = found.into_iter().find(|t| plan.is_for(t))?;
    if winner.id >= created.id {
        return None;
    }
    let number = winner.ticket_number.as_deref().unwrap_or("?");
    let comment = format!(
        "Duplicate of ticket {number} (id {}): the same button press was filed twice at the same \
         moment. That ticket stays open; this one was resolved automatically.",
        winner.id
    );
    match bms.resolve_ticket(created.id, &comment).await {
        Ok(()) => tracing::info!(
            ticket_id = created.id,
            winner = winner.id,
            "a racing press filed this ticket twice: resolved as a duplicate"
        ),
        Err(e) => tracing::warn!(
            ticket_id = created.id,
            winner = winner.id,
            error = %e,
            "a racing press filed this ticket twice, and resolving the second failed"
        ),
    }
    Some(winner)
}

/// The ticket an earlier press with this marker created since `since`.
///
/// A failing search must neither file a repeat twice nor lose the press. So a failure a retry can
/// outlast (BMS unreachable, rate limiting, an HTTP 5xx) files nothing and answers 503: the client
/// sends the same key again. A failure every retry would meet (the API user may not list tickets,
/// an answer we cannot read) files the ticket with a warning, since refusing would lose every
/// keyed press until someone fixes BMS.
pub(super) async fn earlier_ticket(
    bms: &Bms,
    marker: Option<&Marker>,
    since: DateTime<Utc>,
) -> Result<Earlier, PressError> {
    let Some(marker) = marker else {
        return Ok(Earlier::Nothing);
    };
    match bms.find_marked_tickets(marker, since).await {
        Ok(found) if found.is_empty() => Ok(Earlier::Nothing),
        Ok(found) => Ok(Earlier::Found(found)),
        Err(
            e @ (BmsError::Unreachable { .. }
            | BmsError::RateLimited { .. }
            | BmsError::Unavailable { .. }
            | BmsError::Failed { status: 500.., .. }),
        ) => Err(PressError::SearchFailed(e)),
        // A ticket could not be created either: the same error as without a key.
        Err(e @ (BmsError::Secret(_) | BmsError::LoginRejected { .. })) => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "the duplicate search failed; filing the ticket");
            let unchecked = |why: &dyn std::fmt::Display| {
                format!(
                    "the {} could not be checked ({why}): if this press repeats an earlier one, \
                     BMS now holds the ticket twice",
                    idempotency::HEADER
                )
            };
            // BMS's own words stay with the technicians and the log.
            Ok(Earlier::Unchecked(Warning {
                ticket: unchecked(&e),
                told: unchecked(&"the function's log says why"),
            }))
        }
    }
}
