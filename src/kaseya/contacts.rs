//! Contacts and locations: who pressed the button, and where.

use serde::Deserialize;

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
