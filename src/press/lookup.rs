//! Who a ticket is for and which ids it carries: the contact (or the catch-all one), the
//! location, and the lookup lists resolution reads.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::Value;
use tokio::sync::Mutex;

use super::*;

/// Where a contact's tickets go: the contact's own location, else its account's main one. `None`
/// when BMS has neither.
pub(crate) async fn location(bms: &Bms, contact: &Contact) -> Result<Option<i64>, BmsError> {
    match contact.location() {
        Some(id) => Ok(Some(id)),
        None => bms.main_location(contact.account_id).await,
    }
}

/// The catch-all contact (`KASEYA_UNREGISTERED_EMAIL`), found once per container and kept.
/// Where its tickets go is looked up only for a press filed under it (and kept per account with
/// the other main locations): a press of a known contact never waits for it.
pub(crate) struct CatchAllCache {
    email: Email,
    found: Mutex<Option<Contact>>,
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
    pub async fn get(&self, bms: &Bms) -> Result<Contact, PressError> {
        // Held across the search: concurrent cold presses wait for one search, not one each.
        let mut slot = self.found.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let contact = bms
            .find_contact(&self.email)
            .await?
            .ok_or_else(|| PressError::NoCatchAll(self.email.clone()))?;
        *slot = Some(contact.clone());
        Ok(contact)
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

/// The lists a press needs; a `subIssueType` (name or id) is looked up among the sub-types of
/// the press's issue type, fetched once that is known (a round trip more the first time).
pub(super) async fn press_tables(
    bms: &Bms,
    needed: &[Lookup],
    ctx: &Context,
    defaults: &BTreeMap<String, Value>,
) -> Result<Tables, PressError> {
    let sub = Lookup::SubIssueType;
    let lists: Vec<Lookup> = needed.iter().copied().filter(|l| *l != sub).collect();
    let mut tables = tables(bms, &lists).await?;
    // An id too: BMS refuses a sub-type of another issue type, and a refused create would
    // lose the ticket.
    if needed.contains(&sub) || ctx.lookup(sub).is_some() {
        let entry = match resolve::issue_type_id(ctx, defaults, &tables) {
            // Without an issue type, resolution says why the sub-type was left out.
            None => Ok(Arc::default()),
            Some(id) => bms.sub_issue_types(id).await.map_err(|e| {
                format!("BMS could not read the sub-issue types of issue type {id} ({e})")
            }),
        };
        tables.insert(sub, entry);
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
