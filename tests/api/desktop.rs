//! The desktop button as a user meets it: the launcher of `clients/unix/`, installed by its
//! install script into a temporary home, pressed; the help page it opens, in Chromium, filing
//! the ticket with the facts read at the press, `diagnostics.txt` and the screenshot it put on
//! the clipboard.
//!
//! The pressed button needs an X display: Xvfb, ImageMagick's `import` and `xclip` (Debian's
//! `xvfb`, `imagemagick`, `xclip`; `scripts/test` installs them). Chromium runs on that display,
//! not headless, so that Ctrl+V pastes from the X clipboard as it would on a desk.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use fantoccini::Locator;
use serde_json::Value;

use crate::browser::{click, set_value, stage, wait_for, wait_for_text, with_browser};
use crate::clients::{diag_text, exec_path, fragment};
use crate::helpers::BUTTON_KEY;

/// A temporary home the install script writes into, removed when dropped.
struct Home(PathBuf);

impl Home {
    fn new(tag: &str) -> Home {
        let dir = std::env::temp_dir().join(format!("kb-desktop-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary home");
        Home(dir)
    }

    /// Run the shell script `program` with `args` here, with `env` added; its standard output.
    fn sh(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = Command::new("sh")
            .arg(program)
            .args(args)
            .env("HOME", &self.0)
            .env_remove("XDG_DESKTOP_DIR")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("KASEYA_BUTTON_CONFIG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("sh runs the script");
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The install script, for this user, then the launcher its desktop shortcut runs.
    fn install(&self, args: &[&str]) -> PathBuf {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/unix/install-button.sh");
        let mut all = vec!["--user"];
        all.extend(args);
        self.sh(&script, &all, &[]);
        exec_path(&self.0.join("Desktop/Get IT help.desktop"))
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The page reads the launcher's `diag`: a file the user sees, `diagnostics.txt` on the ticket,
/// and one summary line in its details; the screenshot on the clipboard is announced.
#[tokio::test]
async fn the_launchers_diagnostics_reach_the_ticket_as_a_file_and_a_line() {
    let s = stage(&[]).await;
    let home = Home::new("diag");
    let launcher = home.install(&["--url", &s.front.url, "--key", BUTTON_KEY]);
    let link = home.sh(&launcher, &["--print-link"], &[]);
    let diag = diag_text(&fragment(&link));
    let said = |label: &str| {
        diag.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} in {diag}"))
            .to_string()
    };
    let summary = format!(
        "Diagnostics: {}; up {}; {} (diagnostics.txt attached)",
        said("OS: "),
        said("Uptime: "),
        said("Disk: ")
    );
    // As the launcher opens it after taking a screenshot.
    let link = format!("{}&screenshot=1", link.trim_end());
    with_browser(&s, 1280, 1000, move |c| async move {
        c.goto(&link).await.expect("the page loads");
        wait_for(&c, "email").await;
        let hint = wait_for_text(&c, "clipboard-hint", "Ctrl+V").await;
        assert!(hint.contains("on the clipboard"), "{hint}");
        let list = wait_for_text(&c, "filelist", "diagnostics.txt").await;
        assert!(list.contains("Remove"), "the user may leave it out: {list}");
        set_value(&c, "email", "dan.jump@fabrikam.com").await;
        set_value(&c, "message", "Everything is slow since this morning.").await;
        click(&c, "send").await;
        wait_for_text(&c, "status", "Ticket T").await;
    })
    .await;
    let tickets = s.bms.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let details = tickets[0]["Details"].as_str().unwrap_or_default();
    assert!(
        details.contains(&summary),
        "{summary:?} missing from {details}"
    );
    assert_eq!(
        details.matches("Diagnostics:").count(),
        1,
        "one line: {details}"
    );
    let files = attachments(&s.bms.notes());
    let (_, text) = files
        .iter()
        .find(|(name, _)| name == "diagnostics.txt")
        .unwrap_or_else(|| panic!("no diagnostics.txt in {files:?}"));
    assert_eq!(String::from_utf8_lossy(text), diag);
}

/// A link without `diag` files as before: no file, no summary line.
#[tokio::test]
async fn a_link_without_diagnostics_files_as_before() {
    let s = stage(&[]).await;
    let link = format!(
        "{}/help#key={BUTTON_KEY}&email=dan.jump%40fabrikam.com&hostname=PC1",
        s.front.url
    );
    with_browser(&s, 1280, 900, move |c| async move {
        c.goto(&link).await.expect("the page loads");
        wait_for(&c, "message").await;
        assert!(
            c.find(Locator::Id("clipboard-hint")).await.is_err(),
            "no screenshot was taken"
        );
        set_value(&c, "message", "The printer is offline.").await;
        click(&c, "send").await;
        wait_for_text(&c, "status", "Ticket T").await;
    })
    .await;
    let tickets = s.bms.tickets();
    let details = tickets[0]["Details"].as_str().unwrap_or_default();
    assert!(!details.contains("Diagnostics"), "{details}");
    assert!(s.bms.notes().is_empty(), "{:#?}", s.bms.notes());
}

/// Every attachment the sandbox's notes carry: name and bytes.
fn attachments(notes: &[(i64, Value)]) -> Vec<(String, Vec<u8>)> {
    notes
        .iter()
        .flat_map(|(_, note)| note["Attachments"].as_array().cloned().unwrap_or_default())
        .map(|a| {
            let name = a["Name"].as_str().unwrap_or_default().to_string();
            let data = STANDARD
                .decode(a["Base64Data"].as_str().unwrap_or_default())
                .expect("base64 attachments");
            (name, data)
        })
        .collect()
}
