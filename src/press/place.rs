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
    /// The contact to make for an unknown member of the customer's staff, before the ticket.
    pub new_contact: Option<NewContact>,
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
    button: &ButtonRequest,
    found: Found,
    catch_all: Contact,
    account: Option<&Choice>,
    create_contacts: bool,
) -> Result<Placed, PressError> {
    let email = &button.email;
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
        new_contact: None,
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
        match on_account(p, button, account_id, create_contacts).await? {
            Some((requester, to_create, notes)) => {
                placed.requester = requester;
                placed.new_contact = to_create;
                placed.for_technicians.extend(notes);
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

/// An unknown user on their customer's main location, without a contact; and the contact to
/// make for them when the key allows it and the customer's staff use their e-mail's domain
/// (made when the ticket is filed, never by a preview). `None` when the account has no main
/// location. The domain check rides beside the location.
async fn on_account(
    p: Pipeline<'_>,
    button: &ButtonRequest,
    account_id: i64,
    create_contacts: bool,
) -> Result<Option<(Requester, Option<NewContact>, Vec<String>)>, PressError> {
    let email = &button.email;
    let domain = email.as_str().rsplit_once('@').map_or("", |(_, d)| d);
    let staff_domain = async {
        match create_contacts && !domain.is_empty() {
            true => Some(p.bms.account_uses_domain(account_id, domain).await),
            false => None,
        }
    };
    let (main, staff_domain) = tokio::join!(p.bms.main_location(account_id), staff_domain);
    let Some(location_id) = main? else {
        return Ok(None);
    };
    let mut notes = Vec::new();
    let to_create = match staff_domain {
        Some(Ok(true)) => Some(new_contact(button, account_id, location_id)),
        Some(Err(e)) => {
            notes.push(format!(
                "The contacts of account {account_id} could not be read ({e}): no contact was \
                 created for {email}."
            ));
            None
        }
        Some(Ok(false)) | None => None,
    };
    let requester = Requester {
        account_id,
        location_id,
        unregistered: true,
        contact: None,
        asset: None,
    };
    Ok(Some((requester, to_create, notes)))
}

/// The contact the plan would make, made: the ticket is then filed under it. One BMS refuses
/// (the API user may lack CRM Contacts: add) leaves the ticket on the account, saying why.
pub(super) async fn make_contact(p: Pipeline<'_>, plan: &mut Plan) {
    let Some(new) = plan.new_contact.take() else {
        return;
    };
    match p.bms.create_contact(&new).await {
        Ok(contact) => {
            tracing::info!(
                contact_id = contact.id,
                account_id = new.account_id,
                "contact created"
            );
            plan.requester.contact = Some(Contact {
                // BMS's answer may leave out where the contact is; it is where it was made.
                location_id: contact.location().or(Some(new.location_id)),
                account_id: new.account_id,
                ..contact
            });
            plan.requester.unregistered = false;
        }
        Err(e) => {
            tracing::warn!(account_id = new.account_id, error = %e, "the contact could not be created");
            let email = new.emails.first().map_or("", |e| e.email_address.as_str());
            plan.for_technicians.push(format!(
                "A contact for {email} could not be created in account {} ({e}): give the API \
                 user CRM Contacts: add, or create it by hand.",
                new.account_id
            ));
        }
    }
}

/// The contact for a new member of a customer's staff: first and last name from `name`, else
/// from the e-mail (`new.hire@` is New Hire); the account's main location; the e-mail.
fn new_contact(button: &ButtonRequest, account_id: i64, location_id: i64) -> NewContact {
    let email = button.email.as_str();
    let (first, last) = contact_names(button.name.as_ref().map(Text::as_str), email);
    NewContact {
        first_name: first,
        last_name: last,
        account_id,
        location_id,
        emails: vec![NewEmail {
            email_address: email.to_string(),
            is_default: true,
        }],
    }
}

/// A first and a last name: the name's last word is the last name; one word, or an e-mail's
/// local part without separators, is both (BMS asks for both).
fn contact_names(name: Option<&str>, email: &str) -> (String, String) {
    let capitalised = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    };
    let words: Vec<String> = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.split_whitespace().map(str::to_string).collect(),
        None => email
            .split('@')
            .next()
            .unwrap_or(email)
            .split(['.', '_', '-', '+'])
            .filter(|w| !w.is_empty())
            .map(capitalised)
            .collect(),
    };
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => (rest.join(" "), last.clone()),
        Some((only, _)) => (only.clone(), only.clone()),
        None => (email.to_string(), email.to_string()),
    }
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

#[cfg(test)]
mod tests {
    use super::contact_names;

    #[test]
    fn a_new_contact_is_named_from_the_name_else_the_email() {
        let names = |n: Option<&str>, e: &str| contact_names(n, e);
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            names(Some("Mary Ann Smith"), "x@y.z"),
            pair("Mary Ann", "Smith")
        );
        assert_eq!(names(Some(" Cher "), "x@y.z"), pair("Cher", "Cher"));
        assert_eq!(names(None, "new.hire@fabrikam.com"), pair("New", "Hire"));
        assert_eq!(names(None, "jo_ann.o-neil@x.com"), pair("Jo Ann O", "Neil"));
        assert_eq!(names(None, "jdoe@x.com"), pair("Jdoe", "Jdoe"));
    }
}
