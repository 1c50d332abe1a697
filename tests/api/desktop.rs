//! The desktop button as a user meets it: the launcher of `clients/unix/`, installed by its
//! install script into a temporary home, pressed; the help page it opens, in Chromium, filing
//! the ticket with the facts read at the press, `diagnostics.txt` and the screenshot it put on
//! the clipboard.
//!
//! The pressed button needs an X display: Xvfb, ImageMagick's `import` and `xclip` (Debian's
//! `xvfb`, `imagemagick`, `xclip`; `scripts/test` installs them). Chromium runs on that display,
//! not headless, so that Ctrl+V pastes from the X clipboard as it would on a desk.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::Value;

use crate::browser::{
    Driver, click, set_value, stage, stage_with, value, wait_for, wait_for_text, with_browser,
};
use crate::clients::{diag_text, exec_path, field, fragment};
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

/// Xvfb on a free display, its root window painted with a red-to-blue gradient; ended when
/// dropped (and with it the `xclip` that holds the clipboard).
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        let n = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free X display number");
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start Xvfb ({e}): apt-get install -y xvfb xclip imagemagick")
            });
        let socket = format!("/tmp/.X11-unix/X{n}");
        let started = Instant::now();
        while !Path::new(&socket).exists() {
            assert!(started.elapsed() < PATIENCE, "Xvfb never opened {socket}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let x = Xvfb { child, display };
        let gradient = std::env::temp_dir().join(format!("kb-gradient-{n}.png"));
        let made = Command::new("convert")
            .args(["-size", "1024x768", "gradient:red-blue"])
            .arg(&gradient)
            .status()
            .expect("ImageMagick's convert runs");
        assert!(made.success());
        // `display` paints the root window and leaves; what it answers does not matter, the
        // screenshot's pixels are checked.
        let _ = Command::new("display")
            .args(["-window", "root"])
            .arg(&gradient)
            .env("DISPLAY", &x.display)
            .status();
        let _ = std::fs::remove_file(gradient);
        x
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PATIENCE: Duration = Duration::from_secs(30);

/// The colour of one pixel of a PNG, as ImageMagick says it (`srgb(252,0,3)`).
fn pixel(png: &[u8], x: u32, y: u32) -> String {
    let file = std::env::temp_dir().join(format!("kb-pixel-{}.png", std::process::id()));
    std::fs::write(&file, png).expect("the PNG written");
    let out = Command::new("convert")
        .arg(&file)
        .args(["-format", &format!("%[pixel:p{{{x},{y}}}]"), "info:"])
        .output()
        .expect("ImageMagick's convert runs");
    let _ = std::fs::remove_file(file);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The button pressed on an X desktop after the laptop moved: the launcher reads the address it
/// has now, puts the screen on the clipboard and opens the page (here a stand-in browser that
/// hands the link to Chromium on the same display); Ctrl+V in the page pastes the screenshot
/// from the X clipboard; the ticket carries the new address, the screenshot and
/// `diagnostics.txt`.
#[tokio::test]
async fn the_button_pressed_on_an_x_desktop_files_the_facts_of_the_press_and_its_screenshot() {
    let x = Xvfb::start();
    let s = stage_with(&[], Driver::start_on(Some(&x.display))).await;
    let home = Home::new("xvfb");
    // The routing table as the laptop sees it: a stand-in `ip` whose address changes.
    let bin = home.0.join("bin");
    std::fs::create_dir_all(&bin).expect("a bin dir");
    let iface = std::fs::read_dir("/sys/class/net")
        .expect("/sys/class/net")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n != "lo")
        .expect("a network interface");
    std::fs::write(
        bin.join("ip"),
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  'route show default') echo \"default via 10.0.0.1 dev {iface}\" ;;\n  \
             *addr*) echo \"2: {iface}    inet $(cat \"$0.addr\")/24 scope global {iface}\" ;;\nesac\n"
        ),
    )
    .expect("the stand-in ip");
    // The browser the launcher opens: it writes the link down for the test to open.
    let opened = home.0.join("opened-link");
    std::fs::write(
        bin.join("browser"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" > {}.tmp && mv {0}.tmp {0}\n",
            opened.display()
        ),
    )
    .expect("the stand-in browser");
    for f in ["ip", "browser"] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(bin.join(f), std::fs::Permissions::from_mode(0o755))
            .expect("executable");
    }
    std::fs::write(bin.join("ip.addr"), "10.0.0.17").expect("the office address");
    let launcher = home.install(&[
        "--url",
        &s.front.url,
        "--key",
        BUTTON_KEY,
        "--email",
        "dan.jump@fabrikam.com",
    ]);
    std::fs::write(bin.join("ip.addr"), "172.20.5.9").expect("the address at home");

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let browser = bin.join("browser");
    let env = [
        ("PATH", path.as_str()),
        ("DISPLAY", x.display.as_str()),
        ("BROWSER", browser.to_str().expect("a UTF-8 path")),
    ];
    home.sh(&launcher, &[], &env);
    let started = Instant::now();
    while !opened.exists() {
        assert!(
            started.elapsed() < PATIENCE,
            "the launcher opened no browser"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let link = std::fs::read_to_string(&opened).expect("the opened link");
    let link = link.trim_end().to_string();
    let facts = fragment(&link);
    assert_eq!(field(&facts, "ip"), Some("172.20.5.9"), "{link}");
    assert_eq!(field(&facts, "screenshot"), Some("1"), "{link}");
    let diag = diag_text(&facts);

    // What the launcher put on the clipboard: the screen, as xclip hands it out.
    let clip = Command::new("xclip")
        .args(["-o", "-selection", "clipboard", "-t", "image/png"])
        .env("DISPLAY", &x.display)
        .output()
        .expect("xclip runs");
    assert!(
        clip.stdout.starts_with(b"\x89PNG"),
        "no PNG on the clipboard"
    );
    assert_eq!(pixel(&clip.stdout, 10, 10), "srgb(252,0,3)");

    with_browser(&s, 1024, 768, move |c| async move {
        c.goto(&link).await.expect("the page loads");
        wait_for_text(&c, "clipboard-hint", "Ctrl+V").await;
        assert_eq!(value(&c, "email").await, "dan.jump@fabrikam.com");
        set_value(&c, "message", "This window will not close.").await;
        c.find(Locator::Id("message"))
            .await
            .expect("the message")
            .click()
            .await
            .expect("focus in the message");
        // Ctrl+V, as the user presses it.
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down {
                value: Key::Control.into(),
            })
            .then(KeyAction::Down { value: 'v' })
            .then(KeyAction::Up { value: 'v' })
            .then(KeyAction::Up {
                value: Key::Control.into(),
            });
        c.perform_actions(keys).await.expect("Ctrl+V pressed");
        wait_for_text(&c, "filelist", "screenshot-1.png").await;
        click(&c, "send").await;
        wait_for_text(&c, "status", "Ticket T").await;
    })
    .await;

    let tickets = s.bms.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let details = tickets[0]["Details"].as_str().unwrap_or_default();
    assert!(details.contains("IP: 172.20.5.9"), "{details}");
    assert!(details.contains("Diagnostics: "), "{details}");
    let files = attachments(&s.bms.notes());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["diagnostics.txt", "screenshot-1.png"], "{names:?}");
    assert_eq!(String::from_utf8_lossy(&files[0].1), diag);
    // The screen, whatever encoding the browser chose for it: the gradient's corners.
    let shot = &files[1].1;
    assert_eq!(pixel(shot, 10, 10), pixel(&clip.stdout, 10, 10));
    assert_eq!(pixel(shot, 1000, 700), pixel(&clip.stdout, 1000, 700));
}
