//! The request-body schemas the fake enforces, written from Kaseya's OpenAPI v2 description
//! (`TicketInputDto`, `TicketNotePostInputDto`, `ResolveTicketDto` and the DTOs they nest).
//!
//! It checks what ASP.NET model binding and validation would reject, a little stricter where the
//! real server is lenient (numbers in strings, date-times without an offset) so a client that
//! passes here sends what the spec describes. Property names are matched case-insensitively, as
//! ASP.NET's JSON input does; unknown properties are ignored, as it does too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

const INT32_MAX: i64 = i32::MAX as i64;
const INT32_MIN: i64 = i32::MIN as i64;

enum Kind {
    /// A string; when the property is required, empty or blank is "required" (ASP.NET's
    /// `[Required]` rejects whitespace-only strings).
    Str,
    /// A string that must decode as standard, padded base64 (whitespace ignored, as .NET does).
    Base64,
    Int {
        min: i64,
    },
    /// Any int64.
    Long,
    /// An int32 restricted to the listed values (an OpenAPI integer `enum`).
    IntEnum(&'static [i64]),
    Bool,
    DateTime,
    Object(&'static [Prop]),
    ArrayOf(&'static [Prop]),
    StrArray,
}

struct Prop {
    name: &'static str,
    kind: Kind,
    required: bool,
    nullable: bool,
}

const fn req(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: true,
        nullable: false,
    }
}

/// Optional, but `null` is a type error (a non-nullable value type in the DTO).
const fn opt(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: false,
        nullable: false,
    }
}

const fn nullable(name: &'static str, kind: Kind) -> Prop {
    Prop {
        name,
        kind,
        required: false,
        nullable: true,
    }
}

const ID: Kind = Kind::Int { min: 1 };
const ANY_INT: Kind = Kind::Int { min: INT32_MIN };

const SECONDARY_ASSIGNEE: &[Prop] = &[req("UserId", ID), nullable("FullName", Kind::Str)];

const CC: &[Prop] = &[
    nullable("EmailAddress", Kind::Str),
    opt("EntityType", Kind::IntEnum(&[0, 1])),
    nullable("Id", ANY_INT),
];

const TEMP_ATTACHMENT: &[Prop] = &[
    opt("Id", ANY_INT),
    nullable("Name", Kind::Str),
    nullable("Alias", Kind::Str),
    nullable("IsUploadedToBlob", Kind::Bool),
];

const CUSTOM_FIELD_DATA: &[Prop] = &[
    opt("Id", ANY_INT),
    opt("CustomFieldId", ANY_INT),
    nullable("Data", Kind::Str),
    nullable("SettingsId", ANY_INT),
];

const TICKET_INPUT: &[Prop] = &[
    req("Title", Kind::Str),
    req("Details", Kind::Str),
    req("AccountId", ID),
    req("LocationId", ID),
    nullable("ContactId", ID),
    nullable("SoftwareAssetId", ID),
    nullable("HardwareAssetId", ID),
    nullable("QueueId", ID),
    req("StatusId", ID),
    req("PriorityId", ID),
    req("TypeId", ID),
    nullable("IssueTypeId", ID),
    nullable("SubIssueTypeId", ID),
    nullable("ContractId", ID),
    nullable("AssigneeId", ID),
    nullable("WorkTypeId", ID),
    req("SourceId", ANY_INT),
    nullable("SLAId", ID),
    req("OpenDate", Kind::DateTime),
    nullable("DueDate", Kind::DateTime),
    nullable("SecondaryAssignees", Kind::ArrayOf(SECONDARY_ASSIGNEE)),
    nullable("Ccs", Kind::ArrayOf(CC)),
    nullable("TempAttachments", Kind::ArrayOf(TEMP_ATTACHMENT)),
    nullable("CustomFieldsData", Kind::ArrayOf(CUSTOM_FIELD_DATA)),
    opt("UseDefaultContract", Kind::Bool),
];

const ATTACHMENT_INPUT: &[Prop] = &[
    opt("Id", ANY_INT),
    req("Name", Kind::Str),
    nullable("Alias", Kind::Str),
    req("Base64Data", Kind::Base64),
    req("Type", Kind::Str),
];

const EMAIL_NOTIFICATION: &[Prop] = &[
    nullable("ContactIds", Kind::Str),
    nullable("ResourcesIds", Kind::Str),
    nullable("TemplateId", ANY_INT),
    nullable("OtherEmails", Kind::StrArray),
];

const NOTE_INPUT: &[Prop] = &[
    opt("Id", ANY_INT),
    req("Details", Kind::Str),
    req("IsInternal", Kind::Bool),
    req("TypeId", Kind::Int { min: 0 }),
    nullable("StatusId", ANY_INT),
    req("NoteDate", Kind::DateTime),
    nullable("Attachments", Kind::ArrayOf(ATTACHMENT_INPUT)),
    nullable("TempAttachments", Kind::ArrayOf(TEMP_ATTACHMENT)),
    // A `$ref` in the spec, so not marked nullable, but a reference type ASP.NET binds from null.
    nullable("EmailNotification", Kind::Object(EMAIL_NOTIFICATION)),
    nullable("AttachmentIds", Kind::StrArray),
];

const RESOLVE_TICKET: &[Prop] = &[
    opt("Id", Kind::Long),
    // `minLength: 1`, and `[Required]` refuses a blank one too.
    req("Comment", Kind::Str),
    opt("StatusId", ANY_INT),
    opt("IsPublishToKnowledgeBase", Kind::Bool),
    opt("IsInternal", Kind::Bool),
    nullable("KnowledgeBaseCategoryId", ANY_INT),
];

const PHONE_INPUT: &[Prop] = &[
    nullable("PhoneNumber", Kind::Str),
    opt("PhoneTypeId", ANY_INT),
    opt("IsDefault", Kind::Bool),
];

/// The spec requires nothing of an e-mail entry; a contact created without its address would
/// never be found again, so the fake insists on it.
const EMAIL_INPUT: &[Prop] = &[
    req("EmailAddress", Kind::Str),
    opt("EmailTypeId", ANY_INT),
    opt("IsDefault", Kind::Bool),
];

/// `ContactInputDto`. The spec marks nothing required; a real tenant refuses a contact without
/// names, account or location, and so does the fake.
const CONTACT_INPUT: &[Prop] = &[
    req("FirstName", Kind::Str),
    req("LastName", Kind::Str),
    req("AccountId", ID),
    req("LocationId", ID),
    nullable("Phones", Kind::ArrayOf(PHONE_INPUT)),
    req("Emails", Kind::ArrayOf(EMAIL_INPUT)),
    nullable("CustomFieldsData", Kind::ArrayOf(CUSTOM_FIELD_DATA)),
];

/// Checks a `POST /v2/crm/contacts/summary` body against `ContactInputDto`.
pub fn validate_contact_input(body: &Value) -> Vec<String> {
    validate_root(body, CONTACT_INPUT)
}

/// Checks a `POST /v2/servicedesk/tickets` body against `TicketInputDto`; one message per
/// problem, each starting with the property's spec name (`"Title: required"`). Empty when valid.
pub fn validate_ticket_input(body: &Value) -> Vec<String> {
    validate_root(body, TICKET_INPUT)
}

/// Checks a `POST /v2/servicedesk/tickets/{id}/notes` body against `TicketNotePostInputDto`.
pub fn validate_note_input(body: &Value) -> Vec<String> {
    validate_root(body, NOTE_INPUT)
}

/// Checks a `POST /v2/servicedesk/tickets/{id}/resolve` body against `ResolveTicketDto`.
pub fn validate_resolve_ticket(body: &Value) -> Vec<String> {
    validate_root(body, RESOLVE_TICKET)
}

fn validate_root(body: &Value, props: &[Prop]) -> Vec<String> {
    let mut errors = Vec::new();
    match body {
        Value::Object(obj) => check_object("", obj, props, &mut errors),
        other => errors.push(format!(
            "body: must be a JSON object, got {}",
            type_name(other)
        )),
    }
    errors
}

/// Finds a property as ASP.NET does: exact name first, then ignoring ASCII case.
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A property read as an integer, `None` when absent, null or not an integer.
pub fn int_field(obj: &Map<String, Value>, name: &str) -> Option<i64> {
    field(obj, name).and_then(Value::as_i64)
}

pub fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    field(obj, name).and_then(Value::as_str)
}

fn check_object(prefix: &str, obj: &Map<String, Value>, props: &[Prop], errors: &mut Vec<String>) {
    for prop in props {
        let path = format!("{prefix}{}", prop.name);
        match field(obj, prop.name) {
            None if prop.required => errors.push(format!("{path}: required")),
            None => {}
            Some(Value::Null) if prop.required => errors.push(format!("{path}: required")),
            Some(Value::Null) if prop.nullable => {}
            Some(value) => check_value(&path, value, prop, errors),
        }
    }
}

fn check_value(path: &str, value: &Value, prop: &Prop, errors: &mut Vec<String>) {
    let mut problem = |msg: String| errors.push(format!("{path}: {msg}"));
    match &prop.kind {
        Kind::Str | Kind::Base64 => match value.as_str() {
            None => problem(format!("must be a string, got {}", type_name(value))),
            Some(s) if prop.required && s.trim().is_empty() => problem("required".to_owned()),
            Some(s) if matches!(prop.kind, Kind::Base64) && !is_base64(s) => {
                problem("not valid base64".to_owned())
            }
            Some(_) => {}
        },
        Kind::Int { min } => match int32(value) {
            Err(msg) => problem(msg),
            Ok(n) if n < *min => problem(format!("must be between {min} and {INT32_MAX}, got {n}")),
            Ok(_) => {}
        },
        Kind::Long => {
            if value.as_i64().is_none() {
                problem(format!("must be an int64 integer, got {value}"));
            }
        }
        Kind::IntEnum(allowed) => match int32(value) {
            Err(msg) => problem(msg),
            Ok(n) if !allowed.contains(&n) => {
                let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
                problem(format!("must be one of {}, got {n}", list.join(", ")));
            }
            Ok(_) => {}
        },
        Kind::Bool => {
            if !value.is_boolean() {
                problem(format!("must be a boolean, got {}", type_name(value)));
            }
        }
        Kind::DateTime => match value.as_str() {
            None => problem(format!(
                "must be a date-time string, got {}",
                type_name(value)
            )),
            Some(s) if chrono::DateTime::parse_from_rfc3339(s).is_err() => problem(format!(
                "must be an RFC 3339 date-time with an offset, got {s:?}"
            )),
            Some(_) => {}
        },
        Kind::Object(props) => match value.as_object() {
            None => problem(format!("must be an object, got {}", type_name(value))),
            Some(obj) => check_object(&format!("{path}."), obj, props, errors),
        },
        Kind::ArrayOf(props) => match value.as_array() {
            None => problem(format!("must be an array, got {}", type_name(value))),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_object() {
                        Some(obj) => check_object(&format!("{path}[{i}]."), obj, props, errors),
                        None => errors.push(format!(
                            "{path}[{i}]: must be an object, got {}",
                            type_name(item)
                        )),
                    }
                }
            }
        },
        Kind::StrArray => match value.as_array() {
            None => problem(format!("must be an array, got {}", type_name(value))),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_string() && !item.is_null() {
                        errors.push(format!(
                            "{path}[{i}]: must be a string, got {}",
                            type_name(item)
                        ));
                    }
                }
            }
        },
    }
}

fn int32(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) if (INT32_MIN..=INT32_MAX).contains(&i) => Ok(i),
            Some(_) => Err(format!("{n} is out of the int32 range")),
            None if n.is_u64() => Err(format!("{n} is out of the int32 range")),
            None => Err(format!("must be an integer, got {n}")),
        },
        other => Err(format!("must be an integer, got {}", type_name(other))),
    }
}

fn is_base64(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    !compact.is_empty() && STANDARD.decode(compact).is_ok()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ticket() -> Value {
        json!({
            "Title": "Printer on fire",
            "Details": "Button pressed in room 4",
            "AccountId": 1,
            "LocationId": 12,
            "ContactId": 101,
            "StatusId": 1,
            "PriorityId": 2,
            "TypeId": 1,
            "SourceId": 0,
            "QueueId": 1,
            "AssigneeId": null,
            "OpenDate": "2026-11-26T09:30:00Z",
            "DueDate": null
        })
    }

    fn with(mut body: Value, key: &str, value: Value) -> Value {
        body[key] = value;
        body
    }

    fn without(mut body: Value, key: &str) -> Value {
        if let Some(obj) = body.as_object_mut() {
            obj.remove(key);
        }
        body
    }

    #[test]
    fn a_complete_ticket_passes() {
        assert_eq!(validate_ticket_input(&ticket()), Vec::<String>::new());
    }

    #[test]
    fn every_required_property_is_reported_when_missing() {
        for key in [
            "Title",
            "Details",
            "AccountId",
            "LocationId",
            "StatusId",
            "PriorityId",
            "TypeId",
            "SourceId",
            "OpenDate",
        ] {
            assert_eq!(
                validate_ticket_input(&without(ticket(), key)),
                vec![format!("{key}: required")]
            );
        }
    }

    #[test]
    fn blank_strings_are_missing_and_null_required_fields_too() {
        assert_eq!(
            validate_ticket_input(&with(ticket(), "Title", json!(""))),
            ["Title: required"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "Details", json!("  \n"))),
            ["Details: required"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "AccountId", Value::Null)),
            ["AccountId: required"]
        );
    }

    #[test]
    fn ids_must_be_positive_int32() {
        assert_eq!(
            validate_ticket_input(&with(ticket(), "AccountId", json!(0))),
            ["AccountId: must be between 1 and 2147483647, got 0"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "ContactId", json!(-3))),
            ["ContactId: must be between 1 and 2147483647, got -3"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "LocationId", json!(2_147_483_648_i64))),
            ["LocationId: 2147483648 is out of the int32 range"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "SLAId", json!(0))),
            ["SLAId: must be between 1 and 2147483647, got 0"]
        );
    }

    #[test]
    fn source_id_zero_and_negative_are_allowed() {
        assert!(validate_ticket_input(&with(ticket(), "SourceId", json!(0))).is_empty());
        assert!(validate_ticket_input(&with(ticket(), "SourceId", json!(-1))).is_empty());
    }

    #[test]
    fn wrong_types_are_reported() {
        assert_eq!(
            validate_ticket_input(&with(ticket(), "AccountId", json!("1"))),
            ["AccountId: must be an integer, got a string"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "PriorityId", json!(2.5))),
            ["PriorityId: must be an integer, got 2.5"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "Title", json!(42))),
            ["Title: must be a string, got a number"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "UseDefaultContract", json!("yes"))),
            ["UseDefaultContract: must be a boolean, got a string"]
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "UseDefaultContract", Value::Null)),
            ["UseDefaultContract: must be a boolean, got null"]
        );
    }

    #[test]
    fn date_times_need_an_offset() {
        assert_eq!(
            validate_ticket_input(&with(ticket(), "OpenDate", json!("2026-11-26 09:30"))),
            ["OpenDate: must be an RFC 3339 date-time with an offset, got \"2026-11-26 09:30\""]
        );
        assert!(
            validate_ticket_input(&with(
                ticket(),
                "DueDate",
                json!("2026-11-27T09:30:00+01:00")
            ))
            .is_empty()
        );
        assert_eq!(
            validate_ticket_input(&with(ticket(), "DueDate", json!(5))),
            ["DueDate: must be a date-time string, got a number"]
        );
    }

    #[test]
    fn names_match_case_insensitively() {
        let camel = json!({
            "title": "t", "details": "d", "accountId": 1, "locationId": 11, "statusId": 1,
            "priorityId": 1, "typeId": 1, "sourceId": 4, "openDate": "2026-01-01T00:00:00Z"
        });
        assert!(validate_ticket_input(&camel).is_empty());
    }

    #[test]
    fn nested_arrays_are_checked() {
        let body = with(
            ticket(),
            "SecondaryAssignees",
            json!([{"UserId": 501}, {"FullName": "x"}, 7]),
        );
        assert_eq!(
            validate_ticket_input(&body),
            [
                "SecondaryAssignees[1].UserId: required",
                "SecondaryAssignees[2]: must be an object, got a number",
            ]
        );
        let body = with(ticket(), "Ccs", json!([{"EntityType": 2}]));
        assert_eq!(
            validate_ticket_input(&body),
            ["Ccs[0].EntityType: must be one of 0, 1, got 2"]
        );
    }

    #[test]
    fn several_problems_are_all_reported() {
        let body = json!({"Title": "", "AccountId": 0});
        let errors = validate_ticket_input(&body);
        assert!(errors.contains(&"Title: required".to_owned()));
        assert!(errors.contains(&"AccountId: must be between 1 and 2147483647, got 0".to_owned()));
        assert!(errors.contains(&"OpenDate: required".to_owned()));
        assert_eq!(errors.len(), 9);
    }

    #[test]
    fn a_non_object_body_is_rejected() {
        assert_eq!(
            validate_ticket_input(&json!([1])),
            ["body: must be a JSON object, got an array"]
        );
    }

    fn note() -> Value {
        json!({
            "Details": "Photo attached",
            "IsInternal": false,
            "TypeId": 0,
            "NoteDate": "2026-11-26T09:31:00Z",
            "Attachments": [{"Name": "a.txt", "Base64Data": "aGVsbG8=", "Type": "text/plain"}]
        })
    }

    #[test]
    fn a_complete_note_passes() {
        assert!(validate_note_input(&note()).is_empty());
    }

    #[test]
    fn note_type_id_may_be_zero_but_not_negative() {
        assert_eq!(
            validate_note_input(&with(note(), "TypeId", json!(-1))),
            ["TypeId: must be between 0 and 2147483647, got -1"]
        );
    }

    #[test]
    fn attachments_need_real_base64_and_all_three_fields() {
        let body = with(
            note(),
            "Attachments",
            json!([{"Name": "a", "Base64Data": "not base64!", "Type": "txt"}, {"Base64Data": "aGk="}]),
        );
        assert_eq!(
            validate_note_input(&body),
            [
                "Attachments[0].Base64Data: not valid base64",
                "Attachments[1].Name: required",
                "Attachments[1].Type: required",
            ]
        );
        let unpadded = with(
            note(),
            "Attachments",
            json!([{"Name": "a", "Base64Data": "aGk", "Type": "t"}]),
        );
        assert_eq!(
            validate_note_input(&unpadded),
            ["Attachments[0].Base64Data: not valid base64"]
        );
        let wrapped = with(
            note(),
            "Attachments",
            json!([{"Name": "a", "Base64Data": "aGVs\r\nbG8=", "Type": "t"}]),
        );
        assert!(validate_note_input(&wrapped).is_empty());
    }

    #[test]
    fn note_required_fields() {
        let errors = validate_note_input(&json!({}));
        assert_eq!(
            errors,
            [
                "Details: required",
                "IsInternal: required",
                "TypeId: required",
                "NoteDate: required"
            ]
        );
    }

    #[test]
    fn resolve_needs_a_comment_and_typed_fields() {
        assert!(validate_resolve_ticket(&json!({"Comment": "Duplicate of T1"})).is_empty());
        let full = json!({
            "Id": 5_000_000_000_i64, "Comment": "c", "StatusId": 4,
            "IsPublishToKnowledgeBase": false, "IsInternal": true, "KnowledgeBaseCategoryId": null
        });
        assert!(validate_resolve_ticket(&full).is_empty());
        assert_eq!(
            validate_resolve_ticket(&json!({"Comment": "", "Id": 1.5, "StatusId": null})),
            [
                "Id: must be an int64 integer, got 1.5",
                "Comment: required",
                "StatusId: must be an integer, got null"
            ]
        );
    }
}
