//! Line breaks in single-line fields cannot forge the structure of a ticket, and attachment
//! names and types reach BMS as a file name and a media type, through the handler.

mod helpers;

use helpers::TestApp;
use serde_json::{Value, json};

/// Every kind of line break a client can send: CR, LF, both, and the Unicode ones.
const BREAKS: [&str; 6] = ["\r\n", "\n", "\r", "\u{2028}", "\u{0085}", "\u{000B}"];

#[tokio::test]
async fn line_breaks_in_single_line_fields_cannot_forge_details_lines() {
    for brk in BREAKS {
        let t = TestApp::spawn().await;
        // A known contact: the ticket holds no registration block unless a field forges one.
        let body = json!({
            "email": "dan.jump@fabrikam.com",
            "message": "Printer is jammed",
            "title": format!("Printer{brk}Priority: Critical"),
            "name": format!("Dan{brk}Email: ceo@fabrikam.com"),
            "business": format!("Fabrikam{brk}[Submission Errors]"),
            "phone": format!("555{brk}{brk}Phone: 000"),
            "hostname": format!("PC1{brk}[User Registration Requested]"),
            "ip": format!("10.0.0.5{brk}IP: 10.0.0.6"),
            "mac": format!("00-11{brk}MAC: 22"),
            "selections": [format!("One{brk}Selections: Two"), "Three"],
        });
        let a = t.post_ticket(body).await;
        assert_eq!(a.status, 201, "{brk:?}: {a:?}");
        let ticket = t.only_ticket();
        let title = ticket["Title"].as_str().unwrap();
        assert_eq!(title, "Printer Priority: Critical", "{brk:?}");
        let details = ticket["Details"].as_str().unwrap();
        let lines: Vec<&str> = details.lines().collect();
        let starting = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        for (prefix, count) in [
            ("Email: ", 1),
            ("Name: ", 1),
            ("Phone: ", 1),
            ("IP: ", 1),
            ("MAC: ", 1),
            ("Selections: ", 1),
            ("[User Registration Requested]", 0),
            ("[Submission Errors]", 0),
        ] {
            assert_eq!(starting(prefix), count, "{brk:?} `{prefix}`:\n{details}");
        }
        assert!(
            lines.contains(&"Name: Dan Email: ceo@fabrikam.com"),
            "{brk:?}:\n{details}"
        );
        assert!(
            lines.contains(&"Hostname: PC1 [User Registration Requested]"),
            "{brk:?}:\n{details}"
        );
        assert!(
            lines.contains(&"Selections: One Selections: Two, Three"),
            "{brk:?}:\n{details}"
        );
        for c in ['\r', '\u{2028}', '\u{0085}', '\u{000B}'] {
            assert!(!details.contains(c), "{brk:?}: {c:?} in {details:?}");
        }
        // The message keeps its lines: it is the one field meant to hold several.
        assert!(lines.contains(&"Printer is jammed"));
    }
}

#[tokio::test]
async fn the_message_keeps_its_lines() {
    let t = TestApp::spawn().await;
    let a = t
        .post_ticket(json!({"email": "dan.jump@fabrikam.com", "message": "One\nTwo\n\nThree"}))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    let details = t.only_ticket()["Details"].as_str().unwrap().to_string();
    assert!(details.contains("One\nTwo\n\nThree\n"), "{details}");
}

fn attachment(name: &str, content_type: &str) -> Value {
    json!({"name": name, "contentType": content_type, "data": "aGVsbG8="})
}

#[tokio::test]
async fn attachment_names_lose_their_path_and_types_are_checked() {
    let t = TestApp::spawn().await;
    let mut body = json!({"email": "dan.jump@fabrikam.com", "message": "See the files"});
    body["attachments"] = json!([
        attachment("../../x.png", "image/png"),
        attachment("C:\\a\\b.png", "IMAGE/PNG"),
        attachment("logs/", "text/plain; charset=utf-8"),
        attachment("..", "application/octet-stream"),
        attachment("page.html", "text/html"),
        attachment("two\r\nlines.txt", "text/plain"),
    ]);
    let a = t.post_ticket(body).await;
    assert_eq!(a.status, 201, "{a:?}");
    let notes = t.bms.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let sent = notes[0].1["Attachments"].as_array().unwrap().clone();
    let names: Vec<&str> = sent.iter().map(|x| x["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "x.png",
            "b.png",
            "attachment",
            "attachment",
            "page.html",
            "two lines.txt"
        ]
    );
    let types: Vec<&str> = sent.iter().map(|x| x["Type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "image/png",
            "image/png",
            "text/plain",
            "application/octet-stream",
            "text/html",
            "text/plain"
        ]
    );
    let note = notes[0].1["Details"].as_str().unwrap();
    assert!(!note.contains(['\r', '\n', '/', '\\']), "{note:?}");

    for bad in [
        "image/png\r\nX-Injected: 1",
        "image",
        "image/",
        "/png",
        "image/png/x",
        "image png",
        "<script>/x",
    ] {
        let mut body = json!({"email": "dan.jump@fabrikam.com", "message": "See the files"});
        body["attachments"] = json!([attachment("a.png", "image/png"), attachment("b.png", bad)]);
        let a = t.post_ticket(body).await;
        assert_eq!(a.status, 400, "{bad:?}: {a:?}");
        let detail = a.detail();
        assert!(
            detail.contains("attachments") && detail.contains("[1]"),
            "{bad:?}: {detail}"
        );
        assert!(
            !detail.contains('\n') && !detail.contains('\r'),
            "{detail:?}"
        );
    }
    assert_eq!(
        t.bms.tickets().len(),
        1,
        "the refused presses filed nothing"
    );
}
