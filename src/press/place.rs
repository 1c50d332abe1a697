//! Who a ticket is for: the e-mail's contact and the press's computer, searched side by side,
//! then the place the ticket goes (the contact's, the customer's main location, or the
//! catch-all contact's).

use super::*;
use lookup::location;

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
    // An unknown user's computer counts when no other customer has one of that name.
    let name = found
        .asset_for(account)
        .and_then(|a| a.name.clone())
        .unwrap_or_default();
    ev.before = ev.before.clone().with_asset(&name);
    ev.after = ev.before.clone();
    ev.outcome = ev.rules.apply(&mut ev.after);
    Ok(Some(found))
}

/// Where a ticket goes, and what the technicians should read about it.
pub(super) struct Placed {
    pub requester: Requester,
    /// For the ticket's `[Submission Errors]`: why it could not go where it belongs, a computer
    /// that could not be looked up.
    pub for_technicians: Vec<String>,
    /// For the internal note only: what names another customer.
    pub internal: Vec<String>,
}

/// The searches `found` did not already make, beside the catch-all contact: required for every
/// press, known e-mail or not, so that its absence fails every press alike and tells no caller
/// which e-mails BMS knows.
pub(super) async fn searched(
    p: Pipeline<'_>,
    button: &ButtonRequest,
    found: Option<Found>,
) -> Result<(Found, Contact), PressError> {
    let searched = async {
        match found {
            Some(found) => Ok(found),
            None => search(p.bms, button).await,
        }
    };
    let (found, catch_all) = tokio::join!(searched, p.catch_all.get(p.bms));
    Ok((found?, catch_all?))
}

/// Who the ticket is for and where it goes: 1. the e-mail's contact, whose own account always
/// wins; 2. for an unknown user, the customer `account` names, else the one the press's
/// computer belongs to, on its main location without a contact; 3. the catch-all contact. A
/// known contact whose ticket has no location to go to is filed under the catch-all contact, and
/// answered exactly as an unknown e-mail is.
pub(super) async fn place(
    p: Pipeline<'_>,
    email: &Email,
    found: Found,
    catch_all: Contact,
    account: Option<&Choice>,
) -> Result<Placed, PressError> {
    let mut placed = Placed {
        requester: Requester {
            contact: None,
            account_id: 0,
            location_id: 0,
            unregistered: true,
            asset: None,
        },
        for_technicians: found.asset_problem.clone().into_iter().collect(),
        internal: Vec::new(),
    };
    if let Some(contact) = found.contact.clone() {
        if let Some(a) = account.filter(|a| a.id != contact.account_id) {
            placed.internal.push(format!(
                "The press named account {}, but {email} is contact {} of account {}: the \
                 contact's own account was used.",
                shown(a),
                contact.id,
                contact.account_id
            ));
        }
        match location(p.bms, &contact).await? {
            Some(location_id) => {
                placed.requester = registered(contact, location_id);
                return Ok(linked(placed, &found));
            }
            None => placed.for_technicians.push(no_location(email, &contact)),
        }
    } else if let Some(account_id) = account
        .map(|a| a.id)
        .or_else(|| found.asset_for(None).map(|a| a.account_id))
    {
        match p.bms.main_location(account_id).await? {
            Some(location_id) => {
                placed.requester.account_id = account_id;
                placed.requester.location_id = location_id;
                return Ok(linked(placed, &found));
            }
            None => placed.for_technicians.push(format!(
                "Account {account_id} has no main location: the ticket was filed under the \
                 catch-all contact. Mark one of the account's locations as main."
            )),
        }
    }
    let location_id = location(p.bms, &catch_all)
        .await?
        .ok_or(PressError::NoLocation)?;
    placed.requester = Requester {
        account_id: catch_all.account_id,
        contact: Some(catch_all),
        location_id,
        // A known contact filed here is not an unknown user: the line above says why.
        unregistered: found.contact.is_none(),
        asset: None,
    };
    Ok(linked(placed, &found))
}

fn registered(contact: Contact, location_id: i64) -> Requester {
    Requester {
        account_id: contact.account_id,
        contact: Some(contact),
        location_id,
        unregistered: false,
        asset: None,
    }
}

/// The press's computer, when BMS knows it on the ticket's account.
fn linked(mut placed: Placed, found: &Found) -> Placed {
    placed.requester.asset = found.asset_for(Some(placed.requester.account_id)).cloned();
    placed
}

fn shown(c: &Choice) -> String {
    match &c.name {
        Some(n) => format!("`{}` ({})", crate::wording::escaped(n), c.id),
        None => c.id.to_string(),
    }
}

fn no_location(email: &Email, contact: &Contact) -> String {
    tracing::warn!(
        contact_id = contact.id,
        account_id = contact.account_id,
        "the contact has no location and its account no main location; filed under the \
         catch-all contact"
    );
    format!(
        "{email} is contact {} of account {}, which has no location and whose account has no \
         main location: the ticket was filed under the catch-all contact. Give the contact a \
         location or mark one of the account's locations as main.",
        contact.id, contact.account_id
    )
}
