//! A press on its way to a ticket: `prepare` takes a parsed press through the rules and looks up
//! everything the ticket needs, `file` creates it.
//!
//! Every route that files a ticket calls [`submit`] (`prepare`, then `file`); the preview calls
//! only `prepare` and shows what it found. A route is a thin adapter: it turns its wire format
//! into a [`ButtonRequest`] and a [`Pressed`] (when, which key, how repeats are found), and the
//! outcome into its own answer. The replay runs the same [`submit`] on a parked press, with the
//! press time as the clock.

mod lookup;
mod repeats;

use chrono::{DateTime, Duration, Utc};

use crate::Ready;
use crate::button::{ButtonRequest, Email};
use crate::context::{Context, Lookup};
use crate::idempotency::{self, IdempotencyKey, Marker};
use crate::kaseya::{BmsError, Contact, CreatedTicket, NoteInput, TicketInput};
use crate::problem::Problem;
use crate::resolve::{self, Resolution, Tables};
use crate::rules::{Outcome, Rejection};
use crate::ticket::{self, Requester};

use lookup::requester;
pub(crate) use lookup::{CatchAll, catch_all, location, tables};
use repeats::{Earlier, earlier_ticket, settle_race};
pub(crate) use repeats::{INTAKE_KEY_PREFIX, Repeat, intake_key};

/// Something that went wrong with a press that still makes a ticket: the whole text for the
/// ticket, the log and the preview, and what the caller is told, which never names what BMS
/// holds (a replaced queue's text lists the queues BMS knows; the caller learns only that a
/// value was replaced).
#[derive(Debug, Clone)]
pub(crate) struct Warning {
    pub ticket: String,
    pub told: String,
}

impl From<String> for Warning {
    /// A warning the caller may read in full.
    fn from(text: String) -> Warning {
        Warning {
            told: text.clone(),
            ticket: text,
        }
    }
}

/// A press taken through the rules.
pub(crate) struct Evaluated {
    pub button: ButtonRequest,
    pub before: Context,
    pub after: Context,
    pub outcome: Outcome,
    pub now: DateTime<Utc>,
    /// See [`Pressed::late`].
    pub late: Option<String>,
    /// Another try of the same press may be filing it at this moment ([`Pressed::may_be_filed`]):
    /// a client's key, or a replay. A key made at intake is this press's alone, so there is no
    /// race to settle and the happy path keeps its two BMS calls.
    pub may_race: bool,
}

/// Everything a ticket needs, short of creating it: what `/tickets/preview` shows.
pub(crate) struct Plan {
    pub requester: Requester,
    pub resolution: Resolution,
    /// Told to the caller, and listed in the ticket.
    pub warnings: Vec<Warning>,
    /// Listed in the ticket only: what the caller must not learn (that the e-mail is a contact).
    pub for_technicians: Vec<String>,
    pub note: Option<NoteInput>,
}

/// When a press was made and how its repeats are known: what the pipeline needs besides the
/// press itself.
#[derive(Debug, Clone)]
pub(crate) struct Pressed {
    /// The rules' clock and the ticket's open date: now for a live press, the press time for a
    /// replayed one (after-hours rules route it as they would have then).
    pub at: DateTime<Utc>,
    /// The key the ticket is marked with, so that a repeat finds it, and how far back (before
    /// `at`) a ticket still answers a repeat.
    pub repeat: Option<Repeat>,
    /// Whether BMS may hold the ticket already, so that it is searched for first: a client's
    /// key may repeat an earlier press, and a replay may follow a create whose answer was lost.
    /// A key made at intake belongs to a press never filed before: nothing to search for.
    pub may_be_filed: bool,
    /// A replayed press's first line in the ticket: that it was filed late, and when.
    pub late: Option<String>,
    /// The name of the key the caller presented: the rules' `button`.
    pub key_name: Option<String>,
}

impl Pressed {
    /// A press arriving now, repeats found by `repeat` if it has one. With a queue
    /// (`mark_every_press`) a press without one gets a key made here: its ticket then carries a
    /// marker too, and a replay after a create whose answer was lost finds it.
    pub fn arriving(
        repeat: Option<Repeat>,
        mark_every_press: bool,
        key_name: Option<&str>,
    ) -> Pressed {
        let may_be_filed = repeat.is_some();
        let repeat = match repeat {
            Some(repeat) => Some(repeat),
            None if mark_every_press => intake_key().map(Repeat::keyed),
            None => None,
        };
        Pressed {
            at: Utc::now(),
            repeat,
            may_be_filed,
            late: None,
            key_name: key_name.map(str::to_string),
        }
    }
}

/// A press, prepared: where it goes next.
pub(crate) struct Prepared {
    pub ev: Evaluated,
    /// The line a keyed press leaves in its ticket, so that a repeat can find it.
    pub marker: Option<Marker>,
    pub next: Next,
}

pub(crate) enum Next {
    /// A rule refused the ticket; nothing was looked up in BMS.
    Rejected(Rejection),
    /// An earlier press with the same key filed this ticket, for the same contact. The plan is
    /// kept for the preview.
    Duplicate { first: CreatedTicket, plan: Plan },
    /// Nothing filed yet: the ticket to create.
    File(Plan),
}

/// A ticket created in BMS.
pub(crate) struct Filed {
    pub ticket: CreatedTicket,
    /// What the caller is told (see [`Warning`]).
    pub warnings: Vec<String>,
    /// Another container filed the same press at the same moment, and its ticket stands.
    pub duplicate: bool,
    /// Filed under the catch-all contact: the e-mail matched no contact.
    pub unregistered: bool,
    /// Names BMS did not know, replaced by defaults.
    pub fallbacks: usize,
}

/// What became of a press that was to be filed.
pub(crate) enum Submitted {
    /// A rule refused the ticket.
    Rejected(Rejection),
    /// An earlier try of the same press filed this ticket (or a racing one did, at the same
    /// moment).
    Duplicate(CreatedTicket),
    Filed(Filed),
}

impl Plan {
    /// Whether a ticket an earlier press left is this press's: the marker alone is not enough,
    /// the ticket must also be for the same contact.
    fn is_for(&self, earlier: &CreatedTicket) -> bool {
        earlier.contact_id == Some(self.requester.contact.id)
    }

    /// The `POST /v2/servicedesk/tickets` body, built once the warnings are final: they are
    /// listed in the ticket too.
    pub fn ticket(&self, ev: &Evaluated, marker: Option<&Marker>) -> TicketInput {
        let errors: Vec<String> = self
            .warnings
            .iter()
            .map(|w| &w.ticket)
            .chain(&self.for_technicians)
            .cloned()
            .collect();
        let mut input = ticket::ticket_input(
            &ev.button,
            &ev.after,
            &self.requester,
            &self.resolution,
            &errors,
            ev.now,
            marker,
        );
        // A press filed late says so first.
        if let Some(late) = &ev.late {
            input.details = format!("{late}\n\n{}", input.details);
        }
        input
    }
}

/// Prepare the press and file its ticket, unless the rules reject it or an earlier try filed it.
pub(crate) async fn submit(
    app: &Ready,
    button: ButtonRequest,
    pressed: Pressed,
) -> Result<Submitted, Problem> {
    let prepared = prepare_at(app, button, pressed).await?;
    match prepared.next {
        Next::Rejected(rejection) => Ok(Submitted::Rejected(rejection)),
        Next::Duplicate { first, .. } => Ok(Submitted::Duplicate(first)),
        Next::File(plan) => {
            let filed = file(app, &prepared.ev, plan, prepared.marker.as_ref()).await?;
            Ok(if filed.duplicate {
                Submitted::Duplicate(filed.ticket)
            } else {
                Submitted::Filed(filed)
            })
        }
    }
}

/// [`prepare_at`] for a press arriving now, repeats found by `repeat` if it has one. `key_name`
/// is the name of the key the caller presented, the rules' `button`.
pub(crate) async fn prepare(
    app: &Ready,
    button: ButtonRequest,
    repeat: Option<Repeat>,
    key_name: Option<&str>,
) -> Result<Prepared, Problem> {
    prepare_at(app, button, Pressed::arriving(repeat, false, key_name)).await
}

/// Run the rules on `button` at the press time; unless they reject it, look up the contact, the
/// ids and (when BMS may hold it already) the ticket an earlier try created, side by side.
pub(crate) async fn prepare_at(
    app: &Ready,
    button: ButtonRequest,
    pressed: Pressed,
) -> Result<Prepared, Problem> {
    let mut ev = evaluate(app, button, pressed.at, pressed.key_name.as_deref());
    ev.late = pressed.late;
    ev.may_race = pressed.may_be_filed;
    if let Some(rejection) = ev.outcome.rejected.clone() {
        return Ok(Prepared {
            ev,
            marker: None,
            next: Next::Rejected(rejection),
        });
    }
    let secret = app.secrets.get().await?;
    let repeat = pressed.repeat;
    let marker = repeat
        .as_ref()
        .map(|r| Marker::new(secret.marker_key(), &ev.button.email, &r.key));
    // A replay hours later searches back from the press time, so it still finds what an earlier
    // try of the same press filed (its open date is that press time).
    let since = ev.now - repeat.map_or(idempotency::WINDOW, |r| r.window);
    let search = marker.as_ref().filter(|_| pressed.may_be_filed);
    // Boxed: side by side, the two futures are too large for a debug build's test thread.
    let (earlier, plan) = tokio::join!(
        Box::pin(earlier_ticket(app, search, since)),
        Box::pin(plan(app, &ev))
    );
    let next = match earlier? {
        Earlier::Found(found) => match plan {
            // The oldest ticket of this press's contact: the answer the client lost. Another
            // contact's ticket is not this press's, whoever put the marker there.
            Ok(plan) => match found.into_iter().find(|t| plan.is_for(t)) {
                Some(first) => Next::Duplicate { first, plan },
                None => {
                    tracing::warn!(
                        "a ticket of another contact carries this press's marker: filing anew"
                    );
                    Next::File(plan)
                }
            },
            // Without this press's contact it cannot be told whose the ticket is.
            Err(p) => return Err(p),
        },
        Earlier::Nothing => Next::File(plan?),
        Earlier::Unchecked(warning) => {
            let mut plan = plan?;
            plan.warnings.push(warning.into());
            Next::File(plan)
        }
    };
    Ok(Prepared { ev, marker, next })
}

/// Create the planned ticket and add its attachments; for a keyed press, then make sure it is
/// the only ticket of this press.
pub(crate) async fn file(
    app: &Ready,
    ev: &Evaluated,
    mut plan: Plan,
    marker: Option<&Marker>,
) -> Result<Filed, Problem> {
    let input = plan.ticket(ev, marker);
    let created = app.bms.create_ticket(&input).await?;
    tracing::info!(
        ticket_id = created.id,
        contact_id = plan.requester.contact.id,
        unregistered = plan.requester.unregistered,
        "ticket created"
    );
    let attach = async {
        let note = plan.note.as_ref()?;
        // The ticket exists: failing the request now would make the button retry and file it
        // twice. The attachments are reported lost instead.
        let e = app.bms.add_note(created.id, note).await.err()?;
        tracing::warn!(ticket_id = created.id, error = %e, "attachments not added");
        Some(format!(
            "the attachments could not be added to the ticket: {e}"
        ))
    };
    // Side by side: the search that closes the race costs a call, not a round trip more than
    // the attachments do.
    let (lost_attachments, winner) =
        tokio::join!(attach, settle_race(app, ev, &plan, &created, marker));
    let unregistered = plan.requester.unregistered;
    let fallbacks = plan.resolution.warnings.len();
    if let Some(winner) = winner {
        return Ok(Filed {
            ticket: winner,
            warnings: Vec::new(),
            duplicate: true,
            unregistered,
            fallbacks,
        });
    }
    plan.warnings.extend(lost_attachments.map(Warning::from));
    Ok(Filed {
        ticket: created,
        warnings: plan.warnings.into_iter().map(|w| w.told).collect(),
        duplicate: false,
        unregistered,
        fallbacks,
    })
}

fn evaluate(
    app: &Ready,
    button: ButtonRequest,
    now: DateTime<Utc>,
    key_name: Option<&str>,
) -> Evaluated {
    let before = Context::new(&button, now).with_key_name(key_name);
    let mut after = before.clone();
    let outcome = app.config.rules.apply(&mut after);
    Evaluated {
        button,
        before,
        after,
        outcome,
        now,
        late: None,
        may_race: false,
    }
}

/// Contact, location and ids, looked up concurrently.
async fn plan(app: &Ready, ev: &Evaluated) -> Result<Plan, Problem> {
    let defaults = app.config.rules.defaults();
    let needed = resolve::needed(&ev.after, defaults);
    let (requester, tables) = tokio::join!(requester(app, &ev.button.email), tables(app, &needed));
    let (requester, misfiled) = requester?;
    let resolution = resolve::resolve(&ev.after, defaults, &tables?)?;
    let mut warnings: Vec<Warning> = ev
        .outcome
        .errors
        .iter()
        .cloned()
        .map(Warning::from)
        .collect();
    for (ticket, told) in resolution.warnings.iter().zip(&resolution.told) {
        tracing::warn!(warning = %ticket, "a value the rules or the request gave was replaced");
        warnings.push(Warning {
            ticket: ticket.clone(),
            told: told.clone(),
        });
    }
    let note = ticket::attachment_note(&ev.button, app.config.note_type_id, ev.now);
    Ok(Plan {
        requester,
        resolution,
        warnings,
        for_technicians: misfiled.into_iter().collect(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bms_sandbox::tenant::{QUEUE_ESCALATIONS, QUEUE_SERVICE_DESK};
    use bms_sandbox::{CREDENTIALS, Sandbox};
    use serde_json::json;

    use super::*;
    use crate::config::Config;

    /// The rules' `button` is the name of the caller's key: a rule routes one key's tickets.
    #[tokio::test]
    async fn the_key_name_routes_a_ticket() {
        let bms = Sandbox::start().await;
        let rules = json!({
            "defaults": {"queue": "Service Desk"},
            "rules": [{"when": "button == 'contoso-office'", "set": {"queue": "Escalations"}}],
        });
        let env = HashMap::from([
            ("KASEYA_API_URL", bms.url()),
            (
                "KASEYA_CREDENTIALS",
                json!({"credentials": CREDENTIALS}).to_string(),
            ),
            ("BUTTON_RULES", rules.to_string()),
        ]);
        let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        let app = Ready::new(config).await.unwrap();
        let button = || {
            ButtonRequest::parse(
                Some("application/json"),
                br#"{"email": "dan.jump@fabrikam.com", "message": "Printer jammed"}"#,
            )
            .unwrap()
        };
        for (key_name, queue) in [
            (Some("contoso-office"), QUEUE_ESCALATIONS),
            (Some("tier2"), QUEUE_SERVICE_DESK),
            (None, QUEUE_SERVICE_DESK),
        ] {
            let prepared = prepare(&app, button(), None, key_name).await.unwrap();
            assert_eq!(prepared.ev.after.text("button"), key_name.unwrap_or(""));
            let Next::File(plan) = prepared.next else {
                panic!("{key_name:?}: a ticket to file");
            };
            let filed = file(&app, &prepared.ev, plan, None).await.unwrap();
            let tickets = bms.tickets();
            let ticket = tickets.iter().find(|t| t["Id"] == filed.ticket.id).unwrap();
            assert_eq!(ticket["QueueId"], queue, "{key_name:?}");
        }
    }
}
