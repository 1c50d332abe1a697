//! Reading a ticket back: the ticket itself (its number, title and status) and its notes, and
//! adding a note that answers with its id.

use serde::Deserialize;

use super::Bms;
use super::envelope::{self, BmsError};
use super::tickets::NoteInput;

/// One page of notes is all a status read takes: a ticket with more than this is a long
/// conversation, and the newest are what the user needs (BMS lists notes newest first).
const NOTES_PAGE_SIZE: usize = 100;

/// The `TicketOutputDto` fields a status read uses. Staff names (`AssigneeName`,
/// `CreatedByName`) are not read at all, so they cannot leak into an answer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct TicketDetail {
    pub id: i64,
    #[serde(rename = "ticketnumber", default)]
    pub ticket_number: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(rename = "statusname", default)]
    pub status_name: Option<String>,
    /// Who created the ticket: for a button's ticket, the API user the function logs in as,
    /// which tells the function's own notes from a technician's.
    #[serde(rename = "createdby", default)]
    pub created_by: Option<i64>,
    #[serde(rename = "modifiedon", default)]
    pub modified_on: Option<String>,
    #[serde(rename = "lastactivityupdate", default)]
    pub last_activity: Option<String>,
    #[serde(rename = "laststatusupdate", default)]
    pub last_status: Option<String>,
    #[serde(rename = "opendate", default)]
    pub open_date: Option<String>,
}

/// The `TicketNoteOutputDto` fields a status read uses; again no names.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct TicketNote {
    pub id: i64,
    #[serde(rename = "createdby", default)]
    pub created_by: Option<i64>,
    #[serde(rename = "createdon", default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    /// A note that does not say is taken for internal: hidden is the safe side.
    #[serde(rename = "isinternal", default = "internal_unless_said")]
    pub is_internal: bool,
}

fn internal_unless_said() -> bool {
    true
}

#[derive(Deserialize)]
struct AddedNote {
    id: i64,
}

impl Bms {
    /// `GET /v2/servicedesk/tickets/{id}`.
    pub async fn get_ticket(&self, ticket_id: i64) -> Result<TicketDetail, BmsError> {
        const WHAT: &str = "read ticket";
        let result = self
            .get(WHAT, &format!("/v2/servicedesk/tickets/{ticket_id}"), &[])
            .await?;
        envelope::read(WHAT, result)
    }

    /// `GET /v2/servicedesk/tickets/{id}/notes`, the first page.
    pub async fn ticket_notes(&self, ticket_id: i64) -> Result<Vec<TicketNote>, BmsError> {
        const WHAT: &str = "read ticket notes";
        let result = self
            .get(
                WHAT,
                &format!("/v2/servicedesk/tickets/{ticket_id}/notes"),
                &[
                    ("PageSize", NOTES_PAGE_SIZE.to_string()),
                    ("PageNumber", "1".into()),
                ],
            )
            .await?;
        envelope::read_list(WHAT, result)
    }

    /// Add a note and answer its id. Like every POST it is never sent twice blindly.
    pub async fn add_note_for_id(&self, ticket_id: i64, note: &NoteInput) -> Result<i64, BmsError> {
        const WHAT: &str = "add note";
        let result = self
            .post(
                WHAT,
                &format!("/v2/servicedesk/tickets/{ticket_id}/notes"),
                note,
            )
            .await?;
        envelope::read::<AddedNote>(WHAT, result).map(|n| n.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_note_that_does_not_say_is_internal() {
        let read = |v| envelope::read::<TicketNote>("x", envelope::lowercase_keys(v)).unwrap();
        assert!(read(json!({"Id": 1})).is_internal);
        assert!(!read(json!({"Id": 1, "IsInternal": false})).is_internal);
        assert!(!read(json!({"id": 1, "isInternal": false})).is_internal);
    }
}
