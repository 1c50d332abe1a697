//! Creating the ticket and its attachment note.

use serde::{Deserialize, Serialize};

use super::Bms;
use super::envelope::{self, BmsError};

/// `TicketInputDto`, as much of it as a button press fills.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TicketInput {
    pub title: String,
    pub details: String,
    pub account_id: i64,
    pub location_id: i64,
    pub contact_id: i64,
    pub status_id: i64,
    pub priority_id: i64,
    pub type_id: i64,
    pub source_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    /// RFC 3339, UTC.
    pub open_date: String,
}

/// `TicketNotePostInputDto` with inline attachments.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct NoteInput {
    pub details: String,
    pub is_internal: bool,
    pub type_id: i64,
    pub note_date: String,
    pub attachments: Vec<AttachmentInput>,
}

/// `AttachmentInputDto`.
#[derive(Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AttachmentInput {
    pub name: String,
    pub base64_data: String,
    /// BMS does not document whether this is a MIME type or an extension; the MIME type is
    /// what the button sends.
    #[serde(rename = "Type")]
    pub kind: String,
}

impl std::fmt::Debug for AttachmentInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentInput")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base64_len", &self.base64_data.len())
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct CreatedTicket {
    pub id: i64,
    #[serde(rename = "ticketnumber", default)]
    pub ticket_number: Option<String>,
}

impl Bms {
    pub async fn create_ticket(&self, ticket: &TicketInput) -> Result<CreatedTicket, BmsError> {
        const WHAT: &str = "create ticket";
        let result = self.post(WHAT, "/v2/servicedesk/tickets", ticket).await?;
        envelope::read(WHAT, result)
    }

    pub async fn add_note(&self, ticket_id: i64, note: &NoteInput) -> Result<(), BmsError> {
        self.post(
            "add attachment note",
            &format!("/v2/servicedesk/tickets/{ticket_id}/notes"),
            note,
        )
        .await
        .map(|_| ())
    }
}
