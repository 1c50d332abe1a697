//! Creating the ticket and its attachment note, and finding a ticket an earlier press created.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::Bms;
use super::envelope::{self, BmsError};
use crate::idempotency::Marker;

/// One page is all a marker search reads: with the details filter working, it holds one ticket.
const MARKED_PAGE_SIZE: usize = 100;

/// `TicketInputDto`, as much of it as a button press fills.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TicketInput {
    pub title: String,
    pub details: String,
    pub account_id: i64,
    pub location_id: i64,
    /// Left out for an unknown user filed on their customer's account: the spec makes it
    /// optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    pub status_id: i64,
    pub priority_id: i64,
    pub type_id: i64,
    pub source_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_type_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_issue_type_id: Option<i64>,
    /// The computer the press came from, when BMS knows it on the ticket's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware_asset_id: Option<i64>,
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
    /// Whose ticket it is: a marker found on another contact's ticket is not a repeat.
    #[serde(rename = "contactid", default)]
    pub contact_id: Option<i64>,
}

/// The `TicketListDto` fields a marker search reads.
#[derive(Debug, Deserialize)]
struct ListedTicket {
    id: i64,
    #[serde(rename = "ticketnumber", default)]
    ticket_number: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(rename = "opendate", default)]
    open_date: Option<String>,
    #[serde(rename = "contactid", default)]
    contact_id: Option<i64>,
}

impl ListedTicket {
    /// BMS documents neither whether `Filter.Details` means "contains" (it may be ignored, or
    /// mean something looser) nor the time zone it compares `Filter.OpenDateFrom` in. So what
    /// an item carries is checked again here; a field it leaves out is taken on the filter's word.
    fn matches(&self, marker: &Marker, since: DateTime<Utc>) -> bool {
        let marked = self.details.as_deref().is_none_or(|d| marker.closes(d));
        let recent = match self.open_date.as_deref() {
            None => true,
            Some(raw) => match DateTime::parse_from_rfc3339(raw) {
                Ok(opened) => opened >= since,
                // An offset-less date (as .NET writes a DateTime of unknown kind) is read as
                // UTC, the zone this client sends OpenDate in.
                Err(_) => chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                    .map(|n| n.and_utc() >= since)
                    .unwrap_or(true),
            },
        };
        marked && recent
    }
}

impl Bms {
    /// The oldest ticket opened since `since` whose details end with `marker`: what an earlier
    /// press with the same e-mail and `Idempotency-Key` created.
    ///
    /// Assumed about BMS, which documents none of it: `Filter.Details` narrows to tickets whose
    /// details contain the text (the sandbox does that); `Filter.OpenDateFrom` compares with the
    /// `OpenDate` this client sent, in UTC; a ticket is found by the search as soon as its create
    /// has answered. If the details filter were ignored, only the first
    /// [`MARKED_PAGE_SIZE`] tickets of the window are checked.
    /// Every ticket of the window that carries `marker`, oldest (lowest id) first: BMS ids grow
    /// with creation, so the first is the one a repeat answers with.
    pub async fn find_marked_tickets(
        &self,
        marker: &Marker,
        since: DateTime<Utc>,
    ) -> Result<Vec<CreatedTicket>, BmsError> {
        const WHAT: &str = "ticket search";
        let result = self
            .get(
                WHAT,
                "/v2/servicedesk/tickets",
                &[
                    ("Filter.Details", marker.as_str().to_string()),
                    (
                        "Filter.OpenDateFrom",
                        since.to_rfc3339_opts(SecondsFormat::Secs, true),
                    ),
                    ("PageSize", MARKED_PAGE_SIZE.to_string()),
                    ("PageNumber", "1".into()),
                ],
            )
            .await?;
        let listed: Vec<ListedTicket> = envelope::read_list(WHAT, result)?;
        let mut found: Vec<CreatedTicket> = listed
            .into_iter()
            .filter(|t| t.matches(marker, since))
            .map(|t| CreatedTicket {
                id: t.id,
                ticket_number: t.ticket_number,
                contact_id: t.contact_id,
            })
            .collect();
        found.sort_by_key(|t| t.id);
        Ok(found)
    }

    /// Resolve a ticket, with `comment` saying why. Used for the loser of two containers that
    /// filed one press at the same moment: nothing is deleted, and the comment names the
    /// ticket that stays.
    pub async fn resolve_ticket(&self, ticket_id: i64, comment: &str) -> Result<(), BmsError> {
        let body = serde_json::json!({"Comment": comment, "IsInternal": true});
        self.post(
            "resolve duplicate ticket",
            &format!("/v2/servicedesk/tickets/{ticket_id}/resolve"),
            &body,
        )
        .await
        .map(|_| ())
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::button::Email;
    use crate::idempotency::{IdempotencyKey, MarkerKey};

    fn listed(details: Option<&str>, open_date: Option<&str>) -> ListedTicket {
        ListedTicket {
            id: 1,
            ticket_number: None,
            details: details.map(str::to_string),
            open_date: open_date.map(str::to_string),
            contact_id: Some(101),
        }
    }

    #[test]
    fn a_listed_ticket_must_carry_the_marker_and_be_recent_when_it_says_so() {
        let marker = Marker::new(
            &MarkerKey::derived("C", "u", "p"),
            &Email::parse("a@b.com").unwrap(),
            &IdempotencyKey::parse("k").unwrap(),
        );
        let since = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .to_utc();
        let marked = format!("Broken\n\n{marker}\n");
        assert!(listed(Some(&marked), Some("2026-11-26T10:05:00Z")).matches(&marker, since));
        assert!(listed(Some(&marked), Some("2026-11-26T11:05:00+01:00")).matches(&marker, since));
        assert!(listed(Some(&marked), Some("2026-11-26T10:05:00")).matches(&marker, since));
        assert!(!listed(Some(&marked), Some("2026-11-26T09:59:59Z")).matches(&marker, since));
        assert!(!listed(Some("Broken\n"), Some("2026-11-26T10:05:00Z")).matches(&marker, since));
        // A list that leaves the fields out is taken on the filter's word.
        assert!(listed(None, None).matches(&marker, since));
    }
}
