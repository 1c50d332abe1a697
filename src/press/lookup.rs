//! Who a ticket is for and which ids it carries: the contact (or the catch-all one), the
//! location, and the lookup lists resolution reads.

use futures_util::future::join_all;
use tokio::sync::Mutex;

use super::*;

/// The contact for `email`, or the catch-all one, and the location the ticket goes to; and, when
/// the ticket could not go where it belongs, the line that tells the technicians why.
///
/// The catch-all contact is required for every press, known e-mail or not, and errors name no
/// contact: otherwise an error would tell a caller which e-mails BMS knows. For the same reason a
/// known contact whose ticket has no location to go to is filed under the catch-all contact,
/// and answered exactly as an unknown e-mail is.
pub(super) async fn requester(
    p: Pipeline<'_>,
    email: &Email,
) -> Result<(Requester, Option<String>), PressError> {
    let (found, catch_all) = tokio::join!(p.bms.find_contact(email), p.catch_all.get(p.bms));
    let catch_all = catch_all?;
    let unregistered = |why: Option<String>| {
        let location_id = catch_all.location_id.ok_or(PressError::NoLocation)?;
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
    match location(p.bms, &contact).await? {
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
pub(crate) async fn location(bms: &Bms, contact: &Contact) -> Result<Option<i64>, BmsError> {
    match contact.location() {
        Some(id) => Ok(Some(id)),
        None => bms.main_location(contact.account_id).await,
    }
}

/// The catch-all contact for unregistered users and where its tickets go.
#[derive(Debug, Clone)]
pub(crate) struct CatchAll {
    pub contact: Contact,
    /// `None`: neither the contact nor its account has a location, and its tickets cannot be
    /// filed (the health report says so).
    pub location_id: Option<i64>,
}

/// The catch-all contact (`KASEYA_UNREGISTERED_EMAIL`), found once per container and kept.
pub(crate) struct CatchAllCache {
    email: Email,
    found: Mutex<Option<CatchAll>>,
}

impl CatchAllCache {
    pub fn new(email: Email) -> CatchAllCache {
        CatchAllCache {
            email,
            found: Mutex::new(None),
        }
    }

    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The contact, searched for in BMS the first time.
    pub async fn get(&self, bms: &Bms) -> Result<CatchAll, PressError> {
        // Held across the search: concurrent cold presses wait for one search, not one each.
        let mut slot = self.found.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let contact = bms
            .find_contact(&self.email)
            .await?
            .ok_or_else(|| PressError::NoCatchAll(self.email.clone()))?;
        let location_id = location(bms, &contact).await?;
        let found = CatchAll {
            contact,
            location_id,
        };
        *slot = Some(found.clone());
        Ok(found)
    }

    /// Search again on the next use (the health report looks at BMS as it is now).
    pub async fn forget(&self) {
        *self.found.lock().await = None;
    }
}

/// The lookup lists resolution needs, fetched concurrently: one call per list of
/// [`Lookup::ALL`] that `needed` names (the first request of a container pays for them; later
/// ones reuse them for `KASEYA_LOOKUP_TTL_SECONDS`).
pub(crate) async fn tables(bms: &Bms, needed: &[Lookup]) -> Result<Tables, PressError> {
    let wanted = Lookup::ALL.into_iter().filter(|l| needed.contains(l));
    let fetched = join_all(wanted.map(|l| async move { (l, bms.lookup(l).await) })).await;
    let mut tables = Tables::new();
    for (l, result) in fetched {
        let entry = match result {
            Ok(items) => Ok(items),
            // Ticket type and source tables are undocumented: a wrong table name must not stop a
            // ticket whose rules give ids, so it is kept as a reason, not an error.
            Err(BmsError::Failed { message, .. }) if bms.lookup_table(l).is_some() => {
                Err(unreadable_table(bms, l, &message))
            }
            Err(e) => return Err(e.into()),
        };
        tables.insert(l, entry);
    }
    Ok(tables)
}

/// Why an undocumented lookup table could not be read, and the setting that names it.
fn unreadable_table(bms: &Bms, l: Lookup, message: &str) -> String {
    let var = match l {
        Lookup::TicketType => "KASEYA_TICKET_TYPE_TABLE",
        _ => "KASEYA_TICKET_SOURCE_TABLE",
    };
    format!(
        "BMS could not read the {} lookup table `{}` ({message}): set {var} to the right table \
         name, or give `{}` as an integer id",
        l.label(),
        bms.lookup_table(l).unwrap_or_default(),
        l.variable()
    )
}
