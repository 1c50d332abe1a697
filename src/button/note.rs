//! What a user adds to a ticket they filed: a message, files, or both, with the limits and
//! checks of a press.

use super::attachment::attachments;
use super::{
    Attachment, MAX_BODY_BYTES, RequestError, Text, form_fields, json_fields, media_type, text,
};

/// The body of `POST /tickets/{ticketId}/notes`, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRequest {
    pub message: Option<Text>,
    pub attachments: Vec<Attachment>,
}

impl NoteRequest {
    /// JSON (or a form, without files); a note says something or carries a file, or both.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, RequestError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(RequestError::TooLarge { size: body.len() });
        }
        let media = match content_type {
            Some(ct) => media_type(ct),
            None => "application/json".into(),
        };
        let mut fields = match media.as_str() {
            "application/json" | "text/json" => json_fields(body)?,
            m if m.ends_with("+json") => json_fields(body)?,
            "application/x-www-form-urlencoded" => form_fields(body)?,
            other => return Err(RequestError::UnsupportedMediaType(other.to_string())),
        };
        let message = text(&fields, "message")?;
        let attachments = attachments(fields.remove("attachments"))?;
        if message.is_none() && attachments.is_empty() {
            return Err(RequestError::invalid(
                "message",
                "is required unless the note carries attachments: send a message, a file, or both",
            ));
        }
        Ok(NoteRequest {
            message,
            attachments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<NoteRequest, RequestError> {
        NoteRequest::parse(Some("application/json"), body.as_bytes())
    }

    #[test]
    fn a_note_needs_a_message_or_a_file() {
        let n = parse(r#"{"message": "Forgot the screenshot"}"#).unwrap();
        assert_eq!(n.message.unwrap().as_str(), "Forgot the screenshot");
        let n = parse(
            r#"{"attachments": [{"name": "s.png", "contentType": "image/png", "data": "iVBORw0KGgo="}]}"#,
        )
        .unwrap();
        assert!(n.message.is_none());
        assert_eq!(n.attachments[0].name, "s.png");
        for bad in [r#"{}"#, r#"{"message": "   "}"#, r#"{"message": 3}"#, "[]"] {
            let e = parse(bad).unwrap_err();
            assert!(
                matches!(e, RequestError::Invalid { .. } | RequestError::Malformed(_)),
                "{bad}: {e}"
            );
        }
        let e = NoteRequest::parse(Some("text/plain"), b"hi").unwrap_err();
        assert!(matches!(e, RequestError::UnsupportedMediaType(_)));
    }
}
