//! Contacts and locations: who pressed the button, and where.

use std::collections::HashSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Bms;
use super::envelope::{self, BmsError};
use crate::button::Email;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    #[serde(rename = "accountid")]
    pub account_id: i64,
    #[serde(rename = "accountname", default)]
    pub account_name: Option<String>,
    /// BMS sends `null` or `0` for a contact without a location.
    #[serde(rename = "locationid", default)]
    pub location_id: Option<i64>,
    #[serde(rename = "firstname", default)]
    pub first_name: Option<String>,
    #[serde(rename = "lastname", default)]
    pub last_name: Option<String>,
    #[serde(rename = "emailaddress", default)]
    pub email: Option<String>,
}

impl Contact {
    pub fn location(&self) -> Option<i64> {
        self.location_id.filter(|id| *id > 0)
    }
}

/// `ContactInputDto`: a new member of a customer's staff.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct NewContact {
    pub first_name: String,
    pub last_name: String,
    pub account_id: i64,
    pub location_id: i64,
    pub emails: Vec<NewEmail>,
}

/// `EmailInputDto`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct NewEmail {
    pub email_address: String,
    pub is_default: bool,
}

/// One item of an account's contacts lookup.
#[derive(Deserialize)]
struct AccountContact {
    #[serde(rename = "emailaddress", default)]
    email: Option<String>,
}

/// How many pages of an account's contacts are read for their e-mail domains: a customer's
/// staff use a handful of domains, seen long before the thousandth contact.
const ACCOUNT_CONTACT_PAGES: usize = 10;
const ACCOUNT_CONTACT_PAGE_SIZE: usize = 100;

#[derive(Deserialize)]
struct Location {
    id: i64,
    #[serde(rename = "ismain", default)]
    is_main: bool,
}

impl Bms {
    /// The active contact whose e-mail is exactly `email`, ignoring case. BMS does not document
    /// whether its filter is exact or "contains", so near matches it returns are dropped here.
    pub async fn find_contact(&self, email: &Email) -> Result<Option<Contact>, BmsError> {
        const WHAT: &str = "contact search";
        let result = self
            .get(
                WHAT,
                "/v2/crm/contacts/search",
                &[
                    ("Filter.EmailAddress", email.as_str().to_string()),
                    ("Filter.IsActive", "true".into()),
                    ("PageSize", "100".into()),
                ],
            )
            .await?;
        let contacts: Vec<Contact> = envelope::read_list(WHAT, result)?;
        Ok(contacts
            .into_iter()
            .filter(|c| c.email.as_deref().is_some_and(|e| email.eq_ignore_case(e)))
            // Duplicate contacts happen; the oldest is the one people have been using.
            .min_by_key(|c| c.id))
    }

    /// Whether one of the account's active contacts has an e-mail address at `domain` (compared
    /// without regard to case). The account's domains are read once and kept as long as a
    /// lookup list: a new hire's press then costs no call for them.
    pub async fn account_uses_domain(
        &self,
        account_id: i64,
        domain: &str,
    ) -> Result<bool, BmsError> {
        let domain = domain.trim().to_lowercase();
        let ttl = self.lookups.ttl();
        if let Some((read, domains)) = self.staff_domains.read().await.get(&account_id)
            && read.elapsed() < ttl
        {
            return Ok(domains.contains(&domain));
        }
        let domains = self.fetch_staff_domains(account_id).await?;
        let uses = domains.contains(&domain);
        self.staff_domains
            .write()
            .await
            .insert(account_id, (Instant::now(), domains));
        Ok(uses)
    }

    async fn fetch_staff_domains(&self, account_id: i64) -> Result<HashSet<String>, BmsError> {
        const WHAT: &str = "account contacts";
        let path = format!("/v2/crm/accounts/{account_id}/contacts/lookup");
        let mut domains = HashSet::new();
        for page in 1..=ACCOUNT_CONTACT_PAGES {
            let query = [
                ("PageSize", ACCOUNT_CONTACT_PAGE_SIZE.to_string()),
                ("PageNumber", page.to_string()),
            ];
            let result = self.get(WHAT, &path, &query).await?;
            let contacts: Vec<AccountContact> = envelope::read_list(WHAT, result)?;
            domains.extend(
                contacts
                    .iter()
                    .filter_map(|c| c.email.as_deref()?.rsplit_once('@'))
                    .map(|(_, d)| d.trim().to_lowercase()),
            );
            if contacts.len() < ACCOUNT_CONTACT_PAGE_SIZE {
                break;
            }
        }
        Ok(domains)
    }

    /// A new contact (`POST /v2/crm/contacts/summary`), as BMS answers it.
    /// Made once per container for an e-mail: a press that arrives while another makes it
    /// waits and files under the same contact. (Two containers may still each make one; BMS
    /// has no unique e-mail.)
    pub async fn create_contact(&self, contact: &NewContact) -> Result<Contact, BmsError> {
        const WHAT: &str = "create contact";
        let email = contact
            .emails
            .first()
            .map(|e| e.email_address.to_lowercase())
            .unwrap_or_default();
        let mut made = self.made_contacts.lock().await;
        if let Some(c) = made.get(&email) {
            return Ok(c.clone());
        }
        let result = self.post(WHAT, "/v2/crm/contacts/summary", contact).await?;
        let created: Contact = envelope::read(WHAT, result)?;
        made.insert(email, created.clone());
        Ok(created)
    }

    /// The account's main location, cached per container.
    pub async fn main_location(&self, account_id: i64) -> Result<Option<i64>, BmsError> {
        if let Some(found) = self.main_locations.read().await.get(&account_id) {
            return Ok(*found);
        }
        const WHAT: &str = "account locations";
        let result = self
            .get(
                WHAT,
                &format!("/v2/crm/accounts/{account_id}/locations/lookup"),
                &[],
            )
            .await?;
        let locations: Vec<Location> = envelope::read_list(WHAT, result)?;
        let main = locations.iter().find(|l| l.is_main).map(|l| l.id);
        self.main_locations.write().await.insert(account_id, main);
        Ok(main)
    }
}
