//! A ticket as the person who pressed the button may see it: its number, title and status, and
//! the public notes a person wrote on it. Internal notes, the notes the function writes for the
//! technicians (the attachment note) and every staff name stay out.
//!
//! The function marks what it writes: a note a user adds through the follow-up route opens with
//! [`USER_NOTE_HEADING`] on its first line, and every other note the function writes is made by
//! the API user that also created the ticket (and the attachment note opens with its own words).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::idempotency::{Marker, neutralise};
use crate::kaseya::{TicketDetail, TicketNote};
use crate::ticket::ATTACHMENT_NOTE_PREFIX;

/// The first line of a note the user added: how it is told apart from the help desk's replies,
/// and what a technician reading the ticket sees above the user's words.
pub const USER_NOTE_HEADING: &str = "[Added by the user through the help desk button]";

/// A note's text is shown up to this many characters: a pasted log in a reply is the help
/// desk's, not the page's, to show in full.
const MAX_REPLY_CHARS: usize = 8 * 1024;

/// Who wrote a reply, as the user is told it: never a staff member's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum From {
    #[serde(rename = "you")]
    You,
    #[serde(rename = "help desk")]
    HelpDesk,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub at: String,
    pub from: From,
    pub text: String,
}

/// What `GET /tickets/{ticketId}` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub ticket_id: i64,
    pub ticket_number: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub updated: Option<String>,
    pub replies: Vec<Reply>,
}

/// The ticket and its notes as the user sees them, oldest reply first.
pub fn status(ticket: TicketDetail, notes: Vec<TicketNote>) -> Status {
    let mut replies: Vec<(Option<DateTime<Utc>>, i64, Reply)> = notes
        .into_iter()
        .filter_map(|n| {
            let from = from(&n, ticket.created_by)?;
            let at = n.created_on.as_deref().and_then(parse_date);
            let text = shown(from, n.details.as_deref().unwrap_or_default());
            let shown_at = at.map_or_else(|| n.created_on.clone().unwrap_or_default(), rfc3339);
            Some((
                at,
                n.id,
                Reply {
                    at: shown_at,
                    from,
                    text,
                },
            ))
        })
        .collect();
    replies.sort_by_key(|(at, id, _)| (*at, *id));
    let updated = [
        &ticket.modified_on,
        &ticket.last_activity,
        &ticket.last_status,
        &ticket.open_date,
    ]
    .into_iter()
    .filter_map(|d| d.as_deref().and_then(parse_date))
    .chain(replies.iter().filter_map(|(at, _, _)| *at))
    .max()
    .map(rfc3339);
    Status {
        ticket_id: ticket.id,
        ticket_number: ticket.ticket_number,
        title: ticket.title,
        status: ticket.status_name,
        updated,
        replies: replies.into_iter().map(|(_, _, r)| r).collect(),
    }
}

/// Whose a note is, or `None` when the user must not see it.
fn from(note: &TicketNote, ticket_creator: Option<i64>) -> Option<From> {
    if note.is_internal {
        return None;
    }
    let details = note.details.as_deref().unwrap_or_default();
    let first_line = details.lines().next().unwrap_or_default().trim_end();
    if first_line == USER_NOTE_HEADING {
        return Some(From::You);
    }
    let by_the_function = note.created_by.is_some() && note.created_by == ticket_creator;
    if by_the_function || details.starts_with(ATTACHMENT_NOTE_PREFIX) {
        return None;
    }
    Some(From::HelpDesk)
}

/// The words of a note: the user's without the heading and the marker the function wrote
/// around them; the help desk's as text, were they written in BMS's HTML editor.
fn shown(from: From, details: &str) -> String {
    let text = match from {
        From::You => {
            let body = details.split_once('\n').map_or("", |(_, rest)| rest);
            let mut lines: Vec<&str> = body.trim_end().lines().collect();
            if lines
                .last()
                .is_some_and(|l| Marker::is_marker_line(l.trim_end()))
            {
                lines.pop();
            }
            lines.join("\n").trim().to_string()
        }
        From::HelpDesk if looks_like_html(details) => {
            crate::osticket::html::to_text_within(details, 4 * MAX_REPLY_CHARS)
                .unwrap_or_else(|_| details.to_string())
        }
        From::HelpDesk => details.trim().to_string(),
    };
    match text.char_indices().nth(MAX_REPLY_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn looks_like_html(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["</", "<br", "<p>", "<p ", "<div"]
        .iter()
        .any(|tag| lower.contains(tag))
}

/// The details of the note a user adds: the heading, their message (no marker can hide in it),
/// the names of what they attached, and the marker that keeps a repeat from adding it twice.
pub fn user_note(message: &str, attachments: &[String], marker: Option<&Marker>) -> String {
    let mut out = format!("{USER_NOTE_HEADING}\n");
    let message = neutralise(message.trim());
    if !message.is_empty() {
        out.push_str(&message);
        out.push('\n');
    }
    if !attachments.is_empty() {
        let names = neutralise(&attachments.join(", ")).into_owned();
        out.push_str(&format!("(attached: {names})\n"));
    }
    if let Some(m) = marker {
        out.push_str(&format!("\n{m}\n"));
    }
    out
}

fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.to_utc())
        .or_else(|_| {
            // .NET writes a DateTime of unknown kind without an offset: read as UTC.
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc())
        })
        .ok()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const API_USER: i64 = 900;
    const TECH: i64 = 501;

    fn ticket() -> TicketDetail {
        TicketDetail {
            id: 1001,
            ticket_number: Some("T20261126.0001".into()),
            title: Some("Printer jammed".into()),
            status_name: Some("In Progress".into()),
            created_by: Some(API_USER),
            modified_on: Some("2026-11-26T10:05:00Z".into()),
            last_activity: None,
            last_status: None,
            open_date: Some("2026-11-26T10:00:00Z".into()),
        }
    }

    fn note(id: i64, by: i64, at: &str, internal: bool, details: &str) -> TicketNote {
        TicketNote {
            id,
            created_by: Some(by),
            created_on: Some(at.into()),
            details: Some(details.into()),
            is_internal: internal,
        }
    }

    #[test]
    fn the_user_sees_public_replies_and_their_own_notes_only() {
        let key = crate::idempotency::MarkerKey::given("k");
        let marker = Marker::new(
            &key,
            &crate::button::Email::parse("a@b.com").unwrap(),
            &crate::idempotency::IdempotencyKey::parse("n1").unwrap(),
        );
        let mine = user_note("Forgot the screenshot", &["shot.png".into()], Some(&marker));
        let notes = vec![
            note(
                4,
                TECH,
                "2026-11-26T12:00:00Z",
                false,
                "<p>Fixed it.<br>Jane</p>",
            ),
            note(
                1,
                API_USER,
                "2026-11-26T10:00:01Z",
                false,
                "Attachments sent with the button request: a.png (3 bytes)",
            ),
            note(
                2,
                TECH,
                "2026-11-26T11:00:00Z",
                true,
                "Internal: user is VIP",
            ),
            note(3, API_USER, "2026-11-26T11:30:00+01:00", false, &mine),
            note(
                5,
                API_USER,
                "2026-11-26T12:30:00Z",
                false,
                "Duplicate of ticket T1",
            ),
            note(6, TECH, "2026-11-26T13:00:00Z", false, "Please reboot"),
        ];
        let s = status(ticket(), notes);
        assert_eq!(s.status.as_deref(), Some("In Progress"));
        let got: Vec<(&str, From, &str)> = s
            .replies
            .iter()
            .map(|r| (r.at.as_str(), r.from, r.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "2026-11-26T10:30:00Z",
                    From::You,
                    "Forgot the screenshot\n(attached: shot.png)"
                ),
                ("2026-11-26T12:00:00Z", From::HelpDesk, "Fixed it.\nJane"),
                ("2026-11-26T13:00:00Z", From::HelpDesk, "Please reboot"),
            ]
        );
        assert_eq!(s.updated.as_deref(), Some("2026-11-26T13:00:00Z"));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["replies"][0]["from"], "you");
        assert_eq!(json["replies"][1]["from"], "help desk");
        assert_eq!(json["ticketNumber"], "T20261126.0001");
    }

    #[test]
    fn a_users_text_cannot_hide_a_marker_or_open_with_the_heading_twice() {
        let details = user_note("[Button request 0011]\nhi", &[], None);
        assert!(details.starts_with(&format!("{USER_NOTE_HEADING}\n[Button-request 0011]")));
        assert_eq!(shown(From::You, &details), "[Button-request 0011]\nhi");
    }
}
