//! A press on its way to a ticket: `prepare` takes a parsed press through the rules and looks up
//! everything the ticket needs, `file` creates it.
//!
//! Every route that files a ticket calls [`submit`] (`prepare`, then `file`); the preview calls
//! only `prepare` and shows what it found. A route is a thin adapter: it turns its wire format
//! into a [`ButtonRequest`] and a [`Pressed`] (when, which key, how repeats are found), and the
//! outcome into its own answer. The replay runs the same [`submit`] on a parked press, with the
//! press time as the clock.

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

/// A fresh key for a press that came without one: 128 random bits, never a client's value.
pub(crate) fn intake_key() -> Option<IdempotencyKey> {
    IdempotencyKey::parse(&format!("{INTAKE_KEY_PREFIX}{:032x}", fastrand::u128(..))).ok()
}

/// How a key made at intake starts, so that a parked message says where its key came from.
pub(crate) const INTAKE_KEY_PREFIX: &str = "intake-";

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

/// What BMS holds from an earlier press with the same e-mail and `Idempotency-Key`.
enum Earlier {
    /// No key, or no ticket of the last ten minutes carries the marker.
    Nothing,
    /// The tickets that carry the marker, oldest first.
    Found(Vec<CreatedTicket>),
    /// The search failed in a way no retry would cure; the reason goes into the warnings.
    Unchecked(String),
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

/// Two containers that take the same keyed press at the same moment both find nothing and both
/// file. Stateless, the race is closed after the fact: once filed, the marker is looked for
/// again, and the ticket with the lowest id wins (BMS ids grow with creation, so of two racing
/// containers at least the later one sees both tickets). A container whose own ticket lost
/// resolves it as a duplicate of the winner, nothing deleted, and answers with the winner.
///
/// `None`: this ticket stands (it won, or the search could not tell, which leaves at worst the
/// two tickets the race would have left anyway).
async fn settle_race(
    app: &Ready,
    ev: &Evaluated,
    plan: &Plan,
    created: &CreatedTicket,
    marker: Option<&Marker>,
) -> Option<CreatedTicket> {
    let marker = marker.filter(|_| ev.may_race)?;
    let since = idempotency::window_start(ev.now);
    let found = match app.bms.find_marked_tickets(marker, since).await {
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
    match app.bms.resolve_ticket(created.id, &comment).await {
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

/// The ticket an earlier press with this marker created since `since`.
///
/// A failing search must neither file a repeat twice nor lose the press. So a failure a retry can
/// outlast (BMS unreachable, rate limiting, an HTTP 5xx) files nothing and answers 503: the client
/// sends the same key again. A failure every retry would meet (the API user may not list tickets,
/// an answer we cannot read) files the ticket with a warning, since refusing would lose every
/// keyed press until someone fixes BMS.
async fn earlier_ticket(
    app: &Ready,
    marker: Option<&Marker>,
    since: DateTime<Utc>,
) -> Result<Earlier, Problem> {
    let Some(marker) = marker else {
        return Ok(Earlier::Nothing);
    };
    match app.bms.find_marked_tickets(marker, since).await {
        Ok(found) if found.is_empty() => Ok(Earlier::Nothing),
        Ok(found) => Ok(Earlier::Found(found)),
        Err(
            e @ (BmsError::Unreachable { .. }
            | BmsError::RateLimited { .. }
            | BmsError::Unavailable { .. }
            | BmsError::Failed { status: 500.., .. }),
        ) => {
            let detail = format!(
                "{e}. Nothing was filed: send the request again with the same {}",
                idempotency::HEADER
            );
            Err(Problem {
                status: 503,
                detail,
                ..Problem::from(e)
            })
        }
        // A ticket could not be created either: the same error as without a key.
        Err(e @ (BmsError::Secret(_) | BmsError::LoginRejected { .. })) => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "the duplicate search failed; filing the ticket");
            Ok(Earlier::Unchecked(format!(
                "the {} could not be checked ({e}): if this press repeats an earlier one, BMS \
                 now holds the ticket twice",
                idempotency::HEADER
            )))
        }
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

/// The contact for `email`, or the catch-all one, and the location the ticket goes to; and, when
/// the ticket could not go where it belongs, the line that tells the technicians why.
///
/// The catch-all contact is required for every press, known e-mail or not, and errors name no
/// contact: otherwise an error would tell a caller which e-mails BMS knows. For the same reason a
/// known contact whose ticket has no location to go to is filed under the catch-all contact,
/// and answered exactly as an unknown e-mail is.
async fn requester(app: &Ready, email: &Email) -> Result<(Requester, Option<String>), Problem> {
    let (found, catch_all) = tokio::join!(app.bms.find_contact(email), catch_all(app));
    let catch_all = catch_all?;
    let unregistered = |why: Option<String>| {
        let location_id = catch_all.location_id.ok_or_else(Problem::no_location)?;
        let requester = Requester {
            contact: catch_all.contact.clone(),
            location_id,
            unregistered: why.is_none(),
        };
        Ok((requester, why))
    };
    let Some(contact) = found? else {
        return unregistered(None);
    };
    match location(app, &contact).await? {
        Some(location_id) => Ok((
            Requester {
                contact,
                location_id,
                unregistered: false,
            },
            None,
        )),
        None => {
            tracing::warn!(
                contact_id = contact.id,
                account_id = contact.account_id,
                "the contact has no location and its account no main location; filed under the \
                 catch-all contact"
            );
            unregistered(Some(format!(
                "{email} is contact {} of account {}, which has no location and whose account has \
                 no main location: the ticket was filed under the catch-all contact. Give the \
                 contact a location or mark one of the account's locations as main.",
                contact.id, contact.account_id
            )))
        }
    }
}

/// Where a contact's tickets go: the contact's own location, else its account's main one. `None`
/// when BMS has neither.
pub(crate) async fn location(app: &Ready, contact: &Contact) -> Result<Option<i64>, BmsError> {
    match contact.location() {
        Some(id) => Ok(Some(id)),
        None => app.bms.main_location(contact.account_id).await,
    }
}

/// The catch-all contact for unregistered users and where its tickets go, found once per
/// container (in the warm-up, so that a press does not wait for its location).
#[derive(Debug, Clone)]
pub(crate) struct CatchAll {
    pub contact: Contact,
    /// `None`: neither the contact nor its account has a location, and its tickets cannot be
    /// filed (the health report says so).
    pub location_id: Option<i64>,
}

pub(crate) async fn catch_all(app: &Ready) -> Result<CatchAll, Problem> {
    // Held across the search: concurrent cold presses wait for one search, not one each.
    let mut slot = app.catch_all.lock().await;
    if let Some(c) = slot.as_ref() {
        return Ok(c.clone());
    }
    let email = &app.config.unregistered_email;
    let contact = app.bms.find_contact(email).await?.ok_or_else(|| {
        Problem::configuration(format!(
            "the catch-all contact `{email}` for unregistered users is not an active contact in \
             BMS: create it (under an account with a main location), or set \
             KASEYA_UNREGISTERED_EMAIL to the one you use"
        ))
    })?;
    let location_id = location(app, &contact).await?;
    let found = CatchAll {
        contact,
        location_id,
    };
    *slot = Some(found.clone());
    Ok(found)
}

/// The lookup lists resolution needs, fetched concurrently (the first request of a container
/// pays for them; later ones reuse them for `KASEYA_LOOKUP_TTL_SECONDS`).
pub(crate) async fn tables(app: &Ready, needed: &[Lookup]) -> Result<Tables, Problem> {
    let fetch = |l: Lookup| async move {
        if needed.contains(&l) {
            Some((l, app.bms.lookup(l).await))
        } else {
            None
        }
    };
    let (a, b, c, d, e, f) = tokio::join!(
        fetch(Lookup::Status),
        fetch(Lookup::Priority),
        fetch(Lookup::Queue),
        fetch(Lookup::Assignee),
        fetch(Lookup::TicketType),
        fetch(Lookup::TicketSource),
    );
    let mut tables = Tables::new();
    for (l, result) in [a, b, c, d, e, f].into_iter().flatten() {
        let entry = match result {
            Ok(items) => Ok(items),
            // Ticket type and source tables are undocumented: a wrong table name must not stop a
            // ticket whose rules give ids, so it is kept as a reason, not an error.
            Err(BmsError::Failed { message, .. })
                if matches!(l, Lookup::TicketType | Lookup::TicketSource) =>
            {
                Err(unreadable_table(app, l, &message))
            }
            Err(e) => return Err(e.into()),
        };
        tables.insert(l, entry);
    }
    Ok(tables)
}

/// Why an undocumented lookup table could not be read, and the setting that names it.
fn unreadable_table(app: &Ready, l: Lookup, message: &str) -> String {
    let (table, var) = if l == Lookup::TicketType {
        (&app.config.ticket_type_table, "KASEYA_TICKET_TYPE_TABLE")
    } else {
        (
            &app.config.ticket_source_table,
            "KASEYA_TICKET_SOURCE_TABLE",
        )
    };
    format!(
        "BMS could not read the {} lookup table `{table}` ({message}): set {var} to the right \
         table name, or give `{}` as an integer id",
        l.label(),
        l.variable()
    )
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
