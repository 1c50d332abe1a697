//! What a ticket needs, short of creating it: who it is for, its ids, what was replaced on the
//! way (for the technicians and, in fewer words, for the caller), and the note that carries the
//! attachments. The preview shows it; `file` creates it.

use super::*;
use lookup::press_tables;
use place::{Found, place, searched};

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

/// Everything a ticket needs, short of creating it: what `/tickets/preview` shows.
pub(crate) struct Plan {
    pub requester: Requester,
    pub resolution: Resolution,
    /// Told to the caller, and listed in the ticket.
    pub warnings: Vec<Warning>,
    /// Listed in the ticket only: what the caller must not learn (that the e-mail is a contact).
    pub for_technicians: Vec<String>,
    /// For the internal note only: what names another customer, or the names BMS knows.
    pub internal: Vec<String>,
    /// A contact to make for an unknown member of the customer's staff: `file` makes it before
    /// the ticket, and files the ticket under it.
    pub new_contact: Option<NewContact>,
    pub note: Option<NoteInput>,
}

impl Plan {
    /// Who the ticket is for, as the preview shows it: the contact (`found`, `to be created`,
    /// `none`, or the `catch-all`), the account and location, the computer.
    pub fn decisions(&self, catch_all: &Email) -> serde_json::Value {
        let who = &self.requester;
        let contact = match (&who.contact, &self.new_contact) {
            (_, Some(_)) => "to be created",
            (None, None) => "none",
            (Some(c), None)
                if c.email
                    .as_deref()
                    .is_some_and(|e| catch_all.eq_ignore_case(e)) =>
            {
                "catch-all"
            }
            (Some(_), None) => "found",
        };
        let account_name = who
            .contact
            .as_ref()
            .and_then(|c| c.account_name.clone())
            .or_else(|| {
                let chosen = self.resolution.account.as_ref();
                chosen.filter(|a| a.id == who.account_id)?.name.clone()
            });
        serde_json::json!({
            "contact": contact,
            "contactId": who.contact.as_ref().map(|c| c.id),
            "newContact": self.new_contact,
            "account": {"id": who.account_id, "name": account_name},
            "locationId": who.location_id,
            "asset": who.asset.as_ref().map(|a| serde_json::json!({"id": a.id, "name": a.name})),
        })
    }

    /// The internal note that lists what the button could not use in full, with the names BMS
    /// knows: for the technicians only.
    pub fn known_names_note(&self, note_type_id: i64, now: DateTime<Utc>) -> Option<NoteInput> {
        let lines: Vec<String> = self
            .warnings
            .iter()
            .filter(|w| w.ticket != w.told)
            .map(|w| w.ticket.clone())
            .chain(self.internal.iter().cloned())
            .collect();
        ticket::known_names_note(&lines, note_type_id, now)
    }

    /// Whether a ticket an earlier press left is this press's: the marker alone is not enough,
    /// the ticket must also be for the same contact.
    pub(super) fn is_for(&self, earlier: &CreatedTicket) -> bool {
        earlier.contact_id == self.requester.contact.as_ref().map(|c| c.id)
    }

    /// The `POST /v2/servicedesk/tickets` body, built once the warnings are final: they are
    /// listed in the ticket too.
    pub fn ticket(&self, ev: &Evaluated, marker: Option<&Marker>) -> TicketInput {
        // The description is the customer's to read in the client portal: one line per replaced
        // value, without the names BMS knows (those go to the internal note).
        let errors: Vec<String> = self
            .warnings
            .iter()
            .map(|w| &w.told)
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

/// Contact, location and ids, looked up concurrently.
pub(super) async fn plan(
    p: Pipeline<'_>,
    ev: &Evaluated,
    found: Option<Found>,
) -> Result<Plan, PressError> {
    let defaults = ev.rules.defaults();
    let needed = resolve::needed(&ev.after, defaults);
    let (searched, tables) = tokio::join!(
        searched(p, &ev.button, found),
        press_tables(p.bms, &needed, &ev.after, defaults)
    );
    let (found, catch_all) = searched?;
    let resolution = resolve::resolve(&ev.after, defaults, &tables?)?;
    let placed = place(
        p,
        &ev.button,
        found,
        catch_all,
        resolution.account.as_ref(),
        ev.origin.create_contacts,
    )
    .await?;
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
    let note = ticket::attachment_note(&ev.button, p.note_type_id, ev.now);
    Ok(Plan {
        requester: placed.requester,
        resolution,
        warnings,
        for_technicians: placed.for_technicians,
        internal: placed.internal,
        new_contact: placed.new_contact,
        note,
    })
}

/// osTicket requires a name and its clients may not send one: the BMS contact's, else the
/// e-mail. Only for the ticket's details; the rules saw the request as it came.
pub(super) fn requester_name(email: &Email, plan: &Plan) -> Option<Text> {
    let contact = plan.requester.contact.as_ref();
    let is_the_user = contact
        .and_then(|c| c.email.as_deref())
        .is_some_and(|e| email.eq_ignore_case(e));
    let full = contact
        .into_iter()
        .flat_map(|c| [&c.first_name, &c.last_name])
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = if is_the_user && !full.is_empty() {
        full
    } else {
        email.as_str().to_string()
    };
    Text::parse("name", &name).ok().flatten()
}
