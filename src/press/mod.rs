//! A press on its way to a ticket: `prepare` takes a parsed press through the rules and looks up
//! everything the ticket needs, `file` creates it.
//!
//! Every route that files a ticket calls [`submit`] (`prepare`, then `file`); the preview calls
//! only `prepare` and shows what it found. A route is a thin adapter: it turns its wire format
//! into a [`ButtonRequest`] and a [`Pressed`] (when, which key, how repeats are found), and the
//! outcome into its own answer. The replay runs the same [`submit`] on a parked press, with the
//! press time as the clock.

mod error;
mod evaluate;
mod lookup;
mod place;
mod plan;
mod repeats;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::button::{ButtonRequest, Email, Text};
use crate::context::{Context, Lookup, Origin};
use crate::idempotency::{self, CallerScope, IdempotencyKey, Marker};
use crate::kaseya::{
    Asset, AssetKey, Bms, BmsError, Contact, CreatedTicket, NewContact, NewEmail, NoteInput,
    TicketInput,
};
use crate::metrics::Counts;
use crate::resolve::{self, Choice, Resolution, Tables};
use crate::rules::{Outcome, Rejection, Rules};
use crate::rules_store::RulesStore;
use crate::secret::SecretStore;
use crate::ticket::{self, Requester};

pub(crate) use error::{Failed, PressError, is_urgent};
use evaluate::evaluate;
pub(crate) use lookup::{CatchAllCache, location, tables};
use place::{asset_first, make_contact};
pub(crate) use plan::{Plan, Warning};
use plan::{plan, requester_name};
use repeats::{Earlier, earlier_ticket, settle_race};
pub(crate) use repeats::{INTAKE_KEY_PREFIX, Repeat, intake_key};

/// What the pipeline works with, handed to it by whoever runs a press (a route, the replay):
/// it names no application type, and each piece is borrowed for the one press.
#[derive(Clone, Copy)]
pub(crate) struct Pipeline<'a> {
    /// Where each press borrows the rules in force from.
    pub rules: &'a Arc<RulesStore>,
    pub bms: &'a Bms,
    pub secrets: &'a Arc<SecretStore>,
    pub catch_all: &'a CatchAllCache,
    /// The note type of the note that carries the attachments (`KASEYA_NOTE_TYPE_ID`).
    pub note_type_id: i64,
}

/// A press taken through the rules.
pub(crate) struct Evaluated {
    /// The rules this press went by, kept for its whole way: a version put in force meanwhile
    /// does not change its defaults halfway.
    pub rules: Arc<Rules>,
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
    /// See [`Pressed::scope`].
    pub scope: CallerScope,
    /// See [`Pressed::origin`].
    pub origin: Origin,
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
    /// The key the caller presented, as far as repeats go: its ticket's marker is the caller's
    /// own, so no other key's press finds it.
    pub scope: CallerScope,
    /// Which way the press came in, and from which address.
    pub origin: Origin,
    /// A press without a name takes the BMS contact's (or the e-mail) into the ticket's details:
    /// osTicket requires a name and its clients may not send one. The rules see the press as it
    /// came.
    pub name_from_contact: bool,
}

impl Pressed {
    /// A press arriving now, repeats found by `repeat` if it has one. With a queue
    /// (`mark_every_press`) a press without one gets a key made here: its ticket then carries a
    /// marker too, and a replay after a create whose answer was lost finds it.
    pub fn arriving(
        repeat: Option<Repeat>,
        mark_every_press: bool,
        key_name: Option<&str>,
        scope: &CallerScope,
    ) -> Pressed {
        let may_be_filed = repeat.is_some();
        let repeat = match repeat {
            // With a queue, an earlier try may have been parked and filed later under its press
            // time: a repeat looks back as far as the queue keeps a press.
            Some(repeat) if mark_every_press => Some(Repeat {
                window: repeat.window.max(idempotency::PARKED_WINDOW),
                ..repeat
            }),
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
            scope: scope.clone(),
            origin: Origin::default(),
            name_from_contact: false,
        }
    }

    /// The press as it came: its channel and the caller's address.
    pub fn from(self, origin: Origin) -> Pressed {
        Pressed { origin, ..self }
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

impl Submitted {
    /// What the press did, for its metric line.
    pub fn counts(&self) -> Counts {
        match self {
            Submitted::Filed(filed) => Counts {
                filed: 1,
                unknown_users: u64::from(filed.unregistered),
                fallbacks: filed.fallbacks as u64,
                ..Counts::default()
            },
            Submitted::Duplicate(_) => Counts {
                duplicates: 1,
                ..Counts::default()
            },
            Submitted::Rejected(_) => Counts::default(),
        }
    }
}

/// Prepare the press and file its ticket, unless the rules reject it or an earlier try filed it.
/// A failure gives the press back with the error, so that it can be parked.
pub(crate) async fn submit(
    p: Pipeline<'_>,
    button: ButtonRequest,
    pressed: Pressed,
) -> Result<Submitted, Failed> {
    let name_from_contact = pressed.name_from_contact;
    let rules = match p.rules.current().await {
        Ok(rules) => rules,
        Err(e) => {
            // Without the rules nothing says how urgent the press is.
            return Err(Failed {
                error: e.into(),
                button,
                urgent: false,
            });
        }
    };
    let (mut ev, repeat) = evaluate(rules, button, pressed);
    let (marker, next) = match look_up(p, &mut ev, repeat).await {
        Ok(found) => found,
        Err(error) => return Err(ev.failed(error)),
    };
    let plan = match next {
        Next::Rejected(rejection) => return Ok(Submitted::Rejected(rejection)),
        Next::Duplicate { first, .. } => return Ok(Submitted::Duplicate(first)),
        Next::File(plan) => plan,
    };
    if name_from_contact && ev.button.name.is_none() {
        ev.button.name = requester_name(&ev.button.email, &plan);
    }
    match file(p, &ev, plan, marker.as_ref()).await {
        Ok(filed) if filed.duplicate => Ok(Submitted::Duplicate(filed.ticket)),
        Ok(filed) => Ok(Submitted::Filed(filed)),
        Err(error) => Err(ev.failed(error)),
    }
}

/// Run the rules on `button` at the press time; unless they reject it, look up the contact, the
/// ids and (when BMS may hold it already) the ticket an earlier try created, side by side.
pub(crate) async fn prepare(
    p: Pipeline<'_>,
    button: ButtonRequest,
    pressed: Pressed,
) -> Result<Prepared, PressError> {
    let rules = p.rules.current().await?;
    let (mut ev, repeat) = evaluate(rules, button, pressed);
    let (marker, next) = look_up(p, &mut ev, repeat).await?;
    Ok(Prepared { ev, marker, next })
}

/// What BMS holds for a press the rules have taken: the marker its ticket will carry, and where
/// it goes next.
async fn look_up(
    p: Pipeline<'_>,
    ev: &mut Evaluated,
    repeat: Option<Repeat>,
) -> Result<(Option<Marker>, Next), PressError> {
    let found = asset_first(p, ev).await?;
    let ev = &*ev;
    if let Some(rejection) = ev.outcome.rejected.clone() {
        return Ok((None, Next::Rejected(rejection)));
    }
    let secret = p.secrets.get().await?;
    let marker = repeat
        .as_ref()
        .map(|r| Marker::scoped(secret.marker_key(), &ev.button.email, &r.key, &ev.scope));
    // A replay hours later searches back from the press time, so it still finds what an earlier
    // try of the same press filed (its open date is that press time).
    let window = repeat.map_or(idempotency::WINDOW, |r| r.window);
    let since = ev
        .now
        .checked_sub_signed(window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let search = marker.as_ref().filter(|_| ev.may_race);
    // Boxed: side by side, the two futures are too large for a debug build's test thread.
    let (earlier, plan) = tokio::join!(
        Box::pin(earlier_ticket(p.bms, search, since)),
        Box::pin(plan(p, ev, found))
    );
    let next = match earlier? {
        // The oldest ticket of this press's contact: the answer the client lost. Another
        // contact's ticket is not this press's, whoever put the marker there. Without this
        // press's contact it cannot be told whose the ticket is.
        Earlier::Found(found) => {
            let plan = plan?;
            match found.into_iter().find(|t| plan.is_for(t)) {
                Some(first) => Next::Duplicate { first, plan },
                None => {
                    tracing::warn!(
                        "a ticket of another contact carries this press's marker: filing anew"
                    );
                    Next::File(plan)
                }
            }
        }
        Earlier::Nothing => Next::File(plan?),
        Earlier::Unchecked(warning) => {
            let mut plan = plan?;
            plan.warnings.push(warning);
            Next::File(plan)
        }
    };
    Ok((marker, next))
}

/// Create the planned ticket and add its attachments; for a keyed press, then make sure it is
/// the only ticket of this press.
pub(crate) async fn file(
    p: Pipeline<'_>,
    ev: &Evaluated,
    mut plan: Plan,
    marker: Option<&Marker>,
) -> Result<Filed, PressError> {
    make_contact(p, &mut plan).await;
    let input = plan.ticket(ev, marker);
    let created = p.bms.create_ticket(&input).await?;
    tracing::info!(
        ticket_id = created.id,
        contact_id = plan.requester.contact.as_ref().map(|c| c.id),
        unregistered = plan.requester.unregistered,
        "ticket created"
    );
    let attach = async {
        let note = plan.note.as_ref()?;
        // The ticket exists: failing the request now would make the button retry and file it
        // twice. The attachments are reported lost instead.
        let e = p.bms.add_note(created.id, note).await.err()?;
        tracing::warn!(ticket_id = created.id, error = %e, "attachments not added");
        // BMS's own words stay with the technicians and the log.
        Some(Warning {
            ticket: format!("the attachments could not be added to the ticket: {e}"),
            told: "the attachments could not be added to the ticket (the function's log says why)"
                .into(),
        })
    };
    let known_names = async {
        let note = plan.known_names_note(p.note_type_id, ev.now)?;
        let e = p.bms.add_note(created.id, &note).await.err()?;
        tracing::warn!(ticket_id = created.id, error = %e, "the note of known names not added");
        None::<()>
    };
    // Side by side: the search that closes the race costs a call, not a round trip more than
    // the notes do.
    let (lost_attachments, _, winner) = tokio::join!(
        attach,
        known_names,
        settle_race(p.bms, ev, &plan, &created, marker)
    );
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
    plan.warnings.extend(lost_attachments);
    Ok(Filed {
        ticket: created,
        warnings: plan.warnings.into_iter().map(|w| w.told).collect(),
        duplicate: false,
        unregistered,
        fallbacks,
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
        let state = crate::state::State::new(config).await.unwrap();
        let p = state.pipeline();
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
            let pressed = Pressed::arriving(None, false, key_name, &CallerScope::default());
            let prepared = prepare(p, button(), pressed).await.unwrap();
            assert_eq!(prepared.ev.after.text("button"), key_name.unwrap_or(""));
            let Next::File(plan) = prepared.next else {
                panic!("{key_name:?}: a ticket to file");
            };
            let filed = file(p, &prepared.ev, plan, None).await.unwrap();
            let tickets = bms.tickets();
            let ticket = tickets.iter().find(|t| t["Id"] == filed.ticket.id).unwrap();
            assert_eq!(ticket["QueueId"], queue, "{key_name:?}");
        }
    }
}
