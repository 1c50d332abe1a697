//! Who a ticket is for and which ids it carries: the contact (or the catch-all one), the
//! location, and the lookup lists resolution reads.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::Value;
use tokio::sync::Mutex;

use super::*;

/// What the searches that need only the press found: the e-mail's contact and the computers
/// its hostname (else its IP address) names.
pub(crate) struct Found {
    pub contact: Option<Contact>,
    pub assets: Vec<Asset>,
    /// Why the computers could not be searched for: the ticket is filed without one.
    pub asset_problem: Option<String>,
}

impl Found {
    /// The computer on `account`; without an account, the one account every match shares: a
    /// name two customers share decides nothing.
    pub fn asset_for(&self, account: Option<i64>) -> Option<&Asset> {
        let on = |a: i64| self.assets.iter().filter(move |x| x.account_id == a);
        match account {
            Some(a) => on(a).min_by_key(|x| x.id),
            None => {
                let first = self.assets.first()?.account_id;
                let shared = self.assets.iter().all(|x| x.account_id == first);
                shared.then(|| on(first).min_by_key(|x| x.id)).flatten()
            }
        }
    }
}

/// What a press names its computer by: the hostname, else the IP address.
pub(crate) fn asset_key(button: &ButtonRequest) -> Option<AssetKey> {
    let given = |t: &Option<Text>| {
        t.as_ref()
            .map(|t| t.as_str().trim().to_string())
            .filter(|t| !t.is_empty())
    };
    given(&button.hostname)
        .map(AssetKey::Name)
        .or_else(|| given(&button.ip).map(AssetKey::Ip))
}

/// The contact search and the computer search, side by side. A computer that cannot be looked
/// up (the API user may lack the permission) costs the ticket its link, never the ticket.
pub(crate) async fn search(bms: &Bms, button: &ButtonRequest) -> Result<Found, BmsError> {
    let key = asset_key(button);
    let assets = async {
        match &key {
            Some(k) => bms.find_assets(k).await,
            None => Ok(Vec::new()),
        }
    };
    let (contact, assets) = tokio::join!(bms.find_contact(&button.email), assets);
    let (assets, asset_problem) = match assets {
        Ok(assets) => (assets, None),
        Err(e) => {
            tracing::warn!(error = %e, "the computer could not be looked up; filed without it");
            (
                Vec::new(),
                Some(format!("The computer could not be looked up in BMS: {e}")),
            )
        }
    };
    Ok(Found {
        contact: contact?,
        assets,
        asset_problem,
    })
}

/// A document that reads `asset` needs the computer before its rules run: the contact and the
/// computer are searched first (a round trip more for such a document), and the rules run again
/// with `asset` known. Otherwise nothing is searched here.
pub(super) async fn asset_first(
    p: Pipeline<'_>,
    ev: &mut Evaluated,
) -> Result<Option<Found>, PressError> {
    if !ev.rules.reads("asset") || asset_key(&ev.button).is_none() {
        return Ok(None);
    }
    let found = search(p.bms, &ev.button).await?;
    let account = found.contact.as_ref().map(|c| c.account_id);
    let name = found
        .asset_for(account)
        .filter(|_| account.is_some())
        .and_then(|a| a.name.clone())
        .unwrap_or_default();
    ev.before = ev.before.clone().with_asset(&name);
    ev.after = ev.before.clone();
    ev.outcome = ev.rules.apply(&mut ev.after);
    Ok(Some(found))
}

/// The contact for the press's e-mail, or the catch-all one, the location the ticket goes to
/// and the computer it came from; and what the technicians should read about it (why the
/// ticket could not go where it belongs, a computer that could not be looked up). `found`:
/// what an earlier search found, when the rules needed it first.
///
/// The catch-all contact is required for every press, known e-mail or not, and errors name no
/// contact: otherwise an error would tell a caller which e-mails BMS knows. For the same reason a
/// known contact whose ticket has no location to go to is filed under the catch-all contact,
/// and answered exactly as an unknown e-mail is.
pub(super) async fn requester(
    p: Pipeline<'_>,
    button: &ButtonRequest,
    found: Option<Found>,
) -> Result<(Requester, Vec<String>), PressError> {
    let searched = async {
        match found {
            Some(found) => Ok(found),
            None => search(p.bms, button).await,
        }
    };
    let (found, catch_all) = tokio::join!(searched, p.catch_all.get(p.bms));
    let (found, catch_all) = (found?, catch_all?);
    let mut notes: Vec<String> = found.asset_problem.clone().into_iter().collect();
    let (mut requester, misfiled) =
        placed(p, &button.email, found.contact.clone(), &catch_all).await?;
    notes.extend(misfiled);
    requester.asset = found.asset_for(Some(requester.contact.account_id)).cloned();
    Ok((requester, notes))
}

/// Where the ticket goes: the contact's own location (or its account's main one), else the
/// catch-all contact's.
async fn placed(
    p: Pipeline<'_>,
    email: &Email,
    found: Option<Contact>,
    catch_all: &CatchAll,
) -> Result<(Requester, Option<String>), PressError> {
    let unregistered = |why: Option<String>| {
        let location_id = catch_all.location_id.ok_or(PressError::NoLocation)?;
        let requester = Requester {
            contact: catch_all.contact.clone(),
            location_id,
            unregistered: why.is_none(),
            asset: None,
        };
        Ok((requester, why))
    };
    let Some(contact) = found else {
        return unregistered(None);
    };
    match location(p.bms, &contact).await? {
        Some(location_id) => Ok((
            Requester {
                contact,
                location_id,
                unregistered: false,
                asset: None,
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

/// The lists a press needs; a `subIssueType` name is looked up among the sub-types of the
/// press's issue type, fetched once that is known (a round trip more the first time).
pub(super) async fn press_tables(
    bms: &Bms,
    needed: &[Lookup],
    ctx: &Context,
    defaults: &BTreeMap<String, Value>,
) -> Result<Tables, PressError> {
    let sub = Lookup::SubIssueType;
    let lists: Vec<Lookup> = needed.iter().copied().filter(|l| *l != sub).collect();
    let mut tables = tables(bms, &lists).await?;
    if needed.contains(&sub) {
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
