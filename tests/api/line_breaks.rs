//! Line breaks in single-line fields cannot forge the structure of a ticket, through the
//! handler.

use serde_json::json;

use crate::helpers::TestApp;

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
