//! `POST /v2/security/authenticate` and `POST /v2/security/refreshtoken`.

use std::sync::Arc;

use axum::extract::{Form, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};

use crate::envelope::Reply;
use crate::state::Shared;

pub(crate) async fn authenticate(State(shared): State<Arc<Shared>>, req: Request) -> Reply {
    let fields = match read_form(req).await {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let get = |name: &str| field(&fields, name);
    match get("GrantType") {
        None => return Reply::invalid(vec!["GrantType: required".to_owned()]),
        Some("password") => {}
        Some(other) => {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                400,
                "Unsupported grant type",
                Some(vec![format!(
                    "GrantType: '{other}' is not supported here; use 'password'"
                )]),
            );
        }
    }
    let mut state = shared.lock();
    let tenant = &state.tenant;
    // Company and user names are not case-sensitive in BMS; the password is.
    let valid = get("Tenant").is_some_and(|t| t.eq_ignore_ascii_case(&tenant.name))
        && get("UserName").is_some_and(|u| u.eq_ignore_ascii_case(&tenant.user_name))
        && get("Password").is_some_and(|p| p == tenant.password);
    if !valid {
        return Reply::fail(StatusCode::UNAUTHORIZED, "Invalid credentials");
    }
    Reply::ok(state.issue_tokens())
}

pub(crate) async fn refresh(State(shared): State<Arc<Shared>>, req: Request) -> Reply {
    let fields = match read_form(req).await {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let get = |name: &str| field(&fields, name);
    let Some(access) = get("AccessToken") else {
        return Reply::invalid(vec!["AccessToken: required".to_owned()]);
    };
    let renewed = get("RefreshToken").and_then(|refresh| shared.lock().refresh(access, refresh));
    match renewed {
        Some(tokens) => Reply::ok(tokens),
        None => Reply::fail(StatusCode::UNAUTHORIZED, "Invalid token"),
    }
}

/// The spec declares `multipart/form-data`; ASP.NET's `[FromForm]` takes url-encoded forms as
/// well, and most clients send those.
async fn read_form(req: Request) -> Result<Vec<(String, String)>, Reply> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bad_form = |message: String| Reply::invalid(vec![format!("body: {message}")]);
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, &())
            .await
            .map_err(|e| bad_form(e.body_text()))?;
        Ok(fields)
    } else if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| bad_form(e.body_text()))?;
        let mut fields = Vec::new();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| bad_form(e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let value = field.text().await.map_err(|e| bad_form(e.body_text()))?;
            fields.push((name, value));
        }
        Ok(fields)
    } else {
        Err(Reply::fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: send multipart/form-data or application/x-www-form-urlencoded",
        ))
    }
}

/// A non-empty form field, its name matched without regard to case as ASP.NET binds forms.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
        .map(|(_, v)| v.as_str())
}
