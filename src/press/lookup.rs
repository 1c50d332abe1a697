//! Who a ticket is for and which ids it carries: the contact (or the catch-all one), the
//! location, and the lookup lists resolution reads.

use super::*;

/// The contact for `email`, or the catch-all one, and the location the ticket goes to; and, when
/// the ticket could not go where it belongs, the line that tells the technicians why.
///
/// The catch-all contact is required for every press, known e-mail or not, and errors name no
/// contact: otherwise an error would tell a caller which e-mails BMS knows. For the same reason a
/// known contact whose ticket has no location to go to is filed under the catch-all contact,
/// and answered exactly as an unknown e-mail is.
pub(super) async fn requester(
    app: &Ready,
    email: &Email,
) -> Result<(Requester, Option<String>), Problem> {
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
