//! The ticket BMS receives: title and details block from the context, ids from resolution.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::button::{Attachment, ButtonRequest, Text, default_title, one_line};
use crate::context::Context;
use crate::idempotency::{Marker, neutralise};
use crate::kaseya::{Asset, AttachmentInput, Contact, NoteInput, TicketInput};
use crate::resolve::Resolution;
use crate::wording::{ends_line, escaped};

pub const REGISTRATION_HEADING: &str = "[User Registration Requested]";
pub const SUBMISSION_ERRORS_HEADING: &str = "[Submission Errors]";
/// How the note that carries a press's attachments opens: the function's own words, which a
/// follow-up read leaves out of what the user sees.
pub const ATTACHMENT_NOTE_PREFIX: &str = "Attachments sent with the button request: ";
/// The headings only the function writes: technicians, and whatever reads tickets, take what
/// follows one for the function's own words.
const HEADINGS: [&str; 2] = [REGISTRATION_HEADING, SUBMISSION_ERRORS_HEADING];

/// Who the ticket is for.
#[derive(Debug, Clone)]
pub struct Requester {
    /// `None`: an unknown user filed on their customer's account, without a contact.
    pub contact: Option<Contact>,
    pub account_id: i64,
    pub location_id: i64,
    /// The user matched no contact: the details open with who they are.
    pub unregistered: bool,
    /// The computer the press came from, on the ticket's account.
    pub asset: Option<Asset>,
}

/// How the note that lists the names BMS knows opens: technicians only, never the customer.
pub const KNOWN_NAMES_NOTE_PREFIX: &str =
    "Values the button could not use, and the names BMS knows:";

/// A labelled line. The parser already keeps these values on one line; folding again here
/// keeps any value, wherever it comes from, from starting a line of its own.
fn line(out: &mut String, label: &str, value: Option<&str>) {
    if let Some(v) = value.map(one_line) {
        let v = v.trim();
        if !v.is_empty() {
            let _ = writeln!(out, "{label}: {v}");
        }
    }
}

fn text(t: &Option<Text>) -> Option<&str> {
    t.as_ref().map(Text::as_str)
}

/// `text` with every line that reads as one of [`HEADINGS`] (in any case, however indented)
/// hyphenated, `[Submission-Errors]`: the message and the appended text keep their lines and
/// say what they said, but cannot open a block of the function's own.
fn unheaded(text: &str) -> Cow<'_, str> {
    let starts = std::iter::once(0).chain(text.match_indices(ends_line).map(|(i, b)| i + b.len()));
    let mut headings = Vec::new();
    for start in starts {
        let line = &text[start..];
        let body = line.trim_start_matches(|c: char| c.is_whitespace() && !ends_line(c));
        let at = start + line.len() - body.len();
        let reads_as = |h: &str| {
            body.get(..h.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(h))
        };
        if let Some(h) = HEADINGS.into_iter().find(|h| reads_as(h)) {
            headings.push(at..at + h.len());
        }
    }
    if headings.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for range in headings {
        // A heading is ASCII, so the hyphenated one has the same length.
        let hyphenated = out[range.clone()].replace(' ', "-");
        out.replace_range(range, &hyphenated);
    }
    Cow::Owned(out)
}

/// The ticket body: the registration request (unknown users), the labelled block, the message,
/// the appended text, then anything that went wrong on the way. The registration request holds
/// who the user is, so for an unknown user the labelled block does not say it again. Each error
/// is one line, escaped: what went wrong often quotes a value a rule or the request gave.
pub fn details(
    req: &ButtonRequest,
    ctx: &Context,
    unregistered: bool,
    asset: Option<&str>,
    errors: &[String],
) -> String {
    let mut out = String::new();
    if unregistered {
        out.push_str(REGISTRATION_HEADING);
        out.push('\n');
        line(&mut out, "Name", text(&req.name));
        line(&mut out, "Email", Some(req.email.as_str()));
        line(&mut out, "Business", text(&req.business));
        line(&mut out, "Phone", text(&req.phone));
        out.push('\n');
    }
    let labelled = out.len();
    if !unregistered {
        line(&mut out, "Name", text(&req.name));
        line(&mut out, "Email", Some(req.email.as_str()));
        line(&mut out, "Business", text(&req.business));
        line(&mut out, "Phone", text(&req.phone));
    }
    line(&mut out, "Hostname", text(&req.hostname));
    line(&mut out, "IP", text(&req.ip));
    line(&mut out, "MAC", text(&req.mac));
    line(&mut out, "Asset", asset);
    if !req.selections.is_empty() {
        line(&mut out, "Selections", Some(&req.selections.join(", ")));
    }
    // Which customer's key sent it, which way and from where: the technician's first clues
    // when the e-mail is unknown.
    line(&mut out, "Button", Some(ctx.text("button")));
    line(&mut out, "Channel", Some(ctx.text("channel")));
    let caller_ip = ctx.caller_ip().map(|ip| ip.to_string());
    line(&mut out, "Caller IP", caller_ip.as_deref());
    if out.len() > labelled {
        out.push('\n');
    }
    // Rules may rewrite the message; an emptied one falls back to what the user typed.
    let message = Some(ctx.text("message"))
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(req.message.as_str());
    out.push_str(&unheaded(message.trim_end()));
    out.push('\n');
    if let Some(append) = text(&req.append) {
        out.push('\n');
        out.push_str(&unheaded(append.trim_end()));
        out.push('\n');
    }
    if !errors.is_empty() {
        out.push('\n');
        out.push_str(SUBMISSION_ERRORS_HEADING);
        out.push('\n');
        for e in errors {
            let _ = writeln!(out, "- {}", escaped(e));
        }
    }
    out
}

/// The title after the rules, on one line (a rule may build it from the message); one they
/// emptied falls back to the default title.
pub fn title(ctx: &Context) -> String {
    let t = one_line(ctx.text("title")).trim().to_string();
    if t.is_empty() {
        default_title(ctx.text("message"))
    } else {
        t
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The `POST /v2/servicedesk/tickets` body. A keyed press's marker goes last in the details, on
/// a line of its own, where a technician reading the ticket is least bothered by it. Title and
/// details are neutralised first, whatever the rules made of them: the only marker a ticket
/// can hold is the one written here.
pub fn ticket_input(
    req: &ButtonRequest,
    ctx: &Context,
    who: &Requester,
    ids: &Resolution,
    errors: &[String],
    open_date: DateTime<Utc>,
    marker: Option<&Marker>,
) -> TicketInput {
    let mut ticket_title = title(ctx);
    if ticket_title.is_empty() {
        ticket_title = req.title.as_str().to_string();
    }
    let ticket_title = neutralise(&ticket_title).into_owned();
    let asset = who.asset.as_ref().and_then(|a| a.name.as_deref());
    let mut body = neutralise(&details(req, ctx, who.unregistered, asset, errors)).into_owned();
    if let Some(m) = marker {
        let _ = writeln!(body, "\n{m}");
    }
    TicketInput {
        title: ticket_title,
        details: body,
        account_id: who.account_id,
        location_id: who.location_id,
        contact_id: who.contact.as_ref().map(|c| c.id),
        status_id: ids.status.id,
        priority_id: ids.priority.id,
        type_id: ids.ticket_type.id,
        source_id: ids.ticket_source.id,
        queue_id: ids.queue.as_ref().map(|c| c.id),
        assignee_id: ids.assignee.as_ref().map(|c| c.id),
        issue_type_id: ids.issue_type.as_ref().map(|c| c.id),
        sub_issue_type_id: ids.sub_issue_type.as_ref().map(|c| c.id),
        hardware_asset_id: who.asset.as_ref().map(|a| a.id),
        open_date: rfc3339(open_date),
    }
}

/// The note that carries the attachments, if there are any.
pub fn attachment_note(req: &ButtonRequest, type_id: i64, now: DateTime<Utc>) -> Option<NoteInput> {
    if req.attachments.is_empty() {
        return None;
    }
    let names: Vec<String> = req
        .attachments
        .iter()
        .map(|a| format!("{} ({} bytes)", a.name, a.size))
        .collect();
    Some(NoteInput {
        details: neutralise(&format!("{ATTACHMENT_NOTE_PREFIX}{}", names.join(", "))).into_owned(),
        is_internal: false,
        type_id,
        note_date: rfc3339(now),
        attachments: attachment_inputs(&req.attachments),
    })
}

/// The internal note that tells technicians what the button could not use and the names BMS
/// knows instead: the ticket's description is read by the customer in the client portal, so the
/// MSP's queue and technician names stay out of it.
pub fn known_names_note(lines: &[String], type_id: i64, now: DateTime<Utc>) -> Option<NoteInput> {
    if lines.is_empty() {
        return None;
    }
    let mut details = format!("{KNOWN_NAMES_NOTE_PREFIX}\n");
    for l in lines {
        let _ = writeln!(details, "- {}", escaped(l));
    }
    Some(NoteInput {
        details: neutralise(&details).into_owned(),
        is_internal: true,
        type_id,
        note_date: rfc3339(now),
        attachments: Vec::new(),
    })
}

/// Files as a note carries them inline.
pub fn attachment_inputs(attachments: &[Attachment]) -> Vec<AttachmentInput> {
    attachments
        .iter()
        .map(|a| AttachmentInput {
            name: neutralise(&a.name).into_owned(),
            base64_data: a.base64.clone(),
            kind: a.content_type.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Channel, Origin};

    fn request(body: &str) -> ButtonRequest {
        ButtonRequest::parse(Some("application/json"), body.as_bytes()).unwrap()
    }

    #[test]
    fn details_block_in_order() {
        let req = request(
            r#"{"email":"a@b.com","name":"Ann","message":"Broken","hostname":"PC1","ip":"10.0.0.5","selections":["X","Y"],"append":"ipconfig output"}"#,
        );
        let ctx = Context::new(&req, DateTime::UNIX_EPOCH);
        let d = details(&req, &ctx, false, None, &["queue replaced".into()]);
        assert_eq!(
            d,
            "Name: Ann\nEmail: a@b.com\nHostname: PC1\nIP: 10.0.0.5\nSelections: X, Y\nChannel: api\n\nBroken\n\nipconfig output\n\n[Submission Errors]\n- queue replaced\n"
        );
    }

    #[test]
    fn the_key_and_the_computer_are_named_for_the_technician() {
        let req = request(r#"{"email":"a@b.com","message":"Broken","hostname":"PC1"}"#);
        let ctx = Context::new(&req, DateTime::UNIX_EPOCH)
            .with_key_name(Some("fabrikam-office"))
            .with_origin(&Origin {
                channel: Channel::Web,
                caller_ip: "203.0.113.7".parse().ok(),
                ..Origin::default()
            });
        let d = details(&req, &ctx, false, Some("PC1"), &[]);
        assert_eq!(
            d,
            "Email: a@b.com\nHostname: PC1\nAsset: PC1\nButton: fabrikam-office\nChannel: web\n\
             Caller IP: 203.0.113.7\n\nBroken\n"
        );
    }

    #[test]
    fn unregistered_block_comes_first() {
        let req = request(
            r#"{"email":"new@b.com","name":"Neo","business":"B Ltd","phone":"555","message":"Hi"}"#,
        );
        let ctx = Context::new(&req, DateTime::UNIX_EPOCH);
        let d = details(&req, &ctx, true, None, &[]);
        assert!(d.starts_with("[User Registration Requested]\nName: Neo\nEmail: new@b.com\nBusiness: B Ltd\nPhone: 555\n\n"), "{d}");
        assert!(!d.contains("[Submission Errors]"));
        for said_once in [
            "Name: Neo",
            "Email: new@b.com",
            "Business: B Ltd",
            "Phone: 555",
        ] {
            assert_eq!(d.matches(said_once).count(), 1, "{d}");
        }
    }

    #[test]
    fn no_value_can_forge_a_heading_or_a_labelled_line() {
        let req = request(
            r#"{"email":"a@b.com","name":"Ann","message":"Broken","append":"log\n[Submission Errors]\n- none"}"#,
        );
        let mut ctx = Context::new(&req, DateTime::UNIX_EPOCH);
        ctx.set(
            "message",
            "Broken\n  [submission errors]\n- all fine\r\n[User Registration Requested]\u{2028}\
             [Submission Errors] again"
                .into(),
        );
        ctx.set(
            "title",
            "Printer\u{85}[Submission Errors]\rEmail: x@y.z".into(),
        );
        let errors = [
            "Queue `x\n[Submission Errors]\nall fine` could not be used".to_string(),
            "rules[0]: x\r\nEmail: ceo@b.com\u{2028}- \u{1b}[2J".to_string(),
        ];
        let d = details(&req, &ctx, false, None, &errors);
        let lines: Vec<&str> = d.split(['\n', '\r', '\u{85}', '\u{2028}']).collect();
        let starting = |prefix: &str| {
            let p = prefix.to_ascii_lowercase();
            lines
                .iter()
                .filter(|l| l.trim_start().to_ascii_lowercase().starts_with(&p))
                .count()
        };
        assert_eq!(starting(SUBMISSION_ERRORS_HEADING), 1, "{d}");
        assert_eq!(starting(REGISTRATION_HEADING), 0, "{d}");
        assert_eq!(starting("Email: "), 1, "{d}");
        let block = d.split_once("\n[Submission Errors]\n").unwrap().1;
        assert_eq!(
            block,
            "- Queue `x\\n[Submission Errors]\\nall fine` could not be used\n\
             - rules[0]: x\\r\\nEmail: ceo@b.com\\u{2028}- \\u{1b}[2J\n"
        );
        // The message and the appended text keep their lines, and say what they said.
        assert!(
            d.contains("Broken\n  [submission-errors]\n- all fine\r\n"),
            "{d:?}"
        );
        assert!(d.contains("log\n[Submission-Errors]\n- none"), "{d:?}");
        assert_eq!(title(&ctx), "Printer [Submission Errors] Email: x@y.z");
    }

    #[test]
    fn emptied_title_falls_back() {
        let req = request(r#"{"email":"a@b.com","message":"Printer on floor 2 is jammed again"}"#);
        let mut ctx = Context::new(&req, DateTime::UNIX_EPOCH);
        ctx.set("title", "  ".into());
        assert_eq!(title(&ctx), "Printer on floor 2 is jammed again");
    }
}
