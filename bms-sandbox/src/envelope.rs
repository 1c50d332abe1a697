//! The BMS answer envelope and the two key casings real deployments answer in.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// How object keys are written in answers.
///
/// The spec writes PascalCase; clients in the wild read camelCase answers, so a client must cope
/// with both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Casing {
    #[default]
    Pascal,
    Camel,
}

impl Casing {
    /// Rewrites every object key (recursively) in this casing; the fake builds answers in Pascal.
    pub fn apply(self, value: Value) -> Value {
        match self {
            Casing::Pascal => value,
            Casing::Camel => camel_keys(value),
        }
    }
}

fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (to_camel(&k), camel_keys(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// ASP.NET's camelCase policy, not just "lowercase the first letter": a leading run of capitals
/// is lowercased up to the one that starts the next word, so `SLAId` becomes `slaId` and
/// `PictureURL` becomes `pictureURL`.
pub fn to_camel(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = chars.clone();
    for i in 0..chars.len() {
        if i == 1 && !chars[i].is_uppercase() {
            break;
        }
        let next_is_lower = chars.get(i + 1).is_some_and(|c| !c.is_uppercase());
        if i > 0 && next_is_lower {
            if chars[i + 1] == ' ' {
                out[i] = lower(chars[i]);
            }
            break;
        }
        out[i] = lower(chars[i]);
    }
    out.into_iter().collect()
}

fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// One answer of the fake, still in PascalCase: the casing is applied on the way out, where the
/// current mode is known.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn ok(result: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: json!({"Success": true, "Error": null, "Result": result}),
        }
    }

    /// A list answer of a `...PagedResponse` operation, which adds the unpaged count.
    pub fn paged(result: Vec<Value>, total_records: usize) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: json!({
                "Success": true,
                "Error": null,
                "Result": result,
                "TotalRecords": total_records,
            }),
        }
    }

    /// `Success=false` with `Error.Code` equal to the HTTP status.
    pub fn fail(status: StatusCode, message: &str) -> Reply {
        Reply::error(status, i64::from(status.as_u16()), message, None)
    }

    /// ASP.NET's model-validation failure: HTTP 400, one sub-error per problem.
    pub fn invalid(sub_errors: Vec<String>) -> Reply {
        Reply::error(
            StatusCode::BAD_REQUEST,
            400,
            "One or more validation errors occurred.",
            Some(sub_errors),
        )
    }

    pub fn error(
        status: StatusCode,
        code: i64,
        message: &str,
        sub_errors: Option<Vec<String>>,
    ) -> Reply {
        Reply {
            status,
            body: json!({
                "Success": false,
                "Error": {
                    "Code": code,
                    "Message": message,
                    "Details": null,
                    "SubErrors": sub_errors,
                },
                "Result": null,
            }),
        }
    }
}

impl IntoResponse for Reply {
    /// The body travels in an extension so the outer layer can apply the casing and record the
    /// status; that layer serialises it.
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_follows_aspnet() {
        for (pascal, camel) in [
            ("Success", "success"),
            ("AccessToken", "accessToken"),
            ("IsDefault", "isDefault"),
            ("SLAId", "slaId"),
            ("PictureURL", "pictureURL"),
            ("ID", "id"),
            ("Id", "id"),
            ("TotalRecords", "totalRecords"),
            ("already", "already"),
            ("", ""),
        ] {
            assert_eq!(to_camel(pascal), camel, "{pascal}");
        }
    }

    #[test]
    fn camel_rewrites_nested_keys_but_not_values() {
        let v = json!({"Result": [{"Name": "Name", "Inner": {"IsMain": true}}]});
        assert_eq!(
            Casing::Camel.apply(v.clone()),
            json!({"result": [{"name": "Name", "inner": {"isMain": true}}]})
        );
        assert_eq!(Casing::Pascal.apply(v.clone()), v);
    }
}
