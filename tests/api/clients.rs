//! The desktop install scripts of `clients/`: the link they build (docs/button-link.md), table by
//! table, and the shortcut the shell script writes, in a temporary home.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Inputs and the link both scripts must build from them.
struct Case {
    url: &'static str,
    key: &'static str,
    email: &'static str,
    name: &'static str,
    hostname: &'static str,
    ip: &'static str,
    mac: &'static str,
    link: &'static str,
}

const CASES: &[Case] = &[
    Case {
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com",
        key: "k-123",
        email: "dan.jump@fabrikam.com",
        name: "Dan Jump",
        hostname: "FAB-LT-042",
        ip: "10.1.2.42",
        mac: "00-1A-2B-3C-4D-5E",
        link: "https://abc123.execute-api.eu-west-1.amazonaws.com/help#key=k-123&email=dan.jump%40fabrikam.com&name=Dan%20Jump&hostname=FAB-LT-042&ip=10.1.2.42&mac=00-1A-2B-3C-4D-5E",
    },
    // A trailing slash, a key with characters that must be encoded, no e-mail.
    Case {
        url: "https://help.contoso-msp.com/helpdesk/",
        key: "a+b/c=d&e f~g",
        email: "",
        name: "Zoë O'Brien",
        hostname: "Ünï PC",
        ip: "",
        mac: "",
        link: "https://help.contoso-msp.com/helpdesk/help#key=a%2Bb%2Fc%3Dd%26e%20f~g&name=Zo%C3%AB%20O%27Brien&hostname=%C3%9Cn%C3%AF%20PC",
    },
    // Only what must be there, and a MAC as Linux writes it.
    Case {
        url: "http://127.0.0.1:9000",
        key: "k",
        email: "",
        name: "",
        hostname: "h",
        ip: "192.0.2.7",
        mac: "aa:bb:cc:0d:0e:0f",
        link: "http://127.0.0.1:9000/help#key=k&hostname=h&ip=192.0.2.7&mac=AA-BB-CC-0D-0E-0F",
    },
    // The stack's `TicketsUrl` output given instead of the API's base URL: the same help page.
    Case {
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/tickets/",
        key: "k",
        email: "",
        name: "",
        hostname: "h",
        ip: "",
        mac: "",
        link: "https://abc123.execute-api.eu-west-1.amazonaws.com/help#key=k&hostname=h",
    },
];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/unix/install-button.sh")
}

/// Run the shell script with `args` in the home `home`; its standard output.
fn run(home: &Path, args: &[&str]) -> String {
    let out = Command::new("sh")
        .arg(script())
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_DESKTOP_DIR")
        .env_remove("XDG_DATA_HOME")
        .output()
        .expect("sh runs the script");
    assert!(
        out.status.success(),
        "install-button.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn temp_home(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kb-clients-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary home");
    dir
}

#[test]
fn the_shell_script_builds_the_documented_link() {
    let home = temp_home("links");
    for c in CASES {
        let mut a = vec!["--print-link", "--url", c.url, "--key", c.key];
        for (flag, v) in [
            ("--email", c.email),
            ("--name", c.name),
            ("--hostname", c.hostname),
            ("--ip", c.ip),
            ("--mac", c.mac),
        ] {
            a.extend([flag, v]);
        }
        assert_eq!(run(&home, &a).trim_end(), c.link, "{}", c.url);
    }
    let _ = std::fs::remove_dir_all(home);
}

/// What `[uri]::EscapeDataString` does (RFC 3986 unreserved characters stay), so that the
/// Windows script's link can be built here from the same inputs.
fn escape_data_string(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_windows_script_builds_the_same_link() {
    let ps1 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/windows/install-button.ps1"),
    )
    .expect("the Windows script");
    // The script's own recipe, checked as text: PowerShell does not run here.
    assert!(ps1.contains("[uri]::EscapeDataString([string]$Fields[$f])"));
    assert!(ps1.contains(r#"$base = $Url.TrimEnd('/') -replace '/tickets$', ''"#));
    assert!(ps1.contains(r#""$base/help#" + ($parts -join '&')"#));
    assert!(
        ps1.contains("if ($Fields[$f])"),
        "empty fields are left out"
    );
    assert!(ps1.contains(
        "key = $Key; email = $upn; name = $displayName; hostname = $env:COMPUTERNAME; ip = $ip; mac = $mac"
    ));
    // That recipe, followed here, gives the documented links (Windows writes MACs with dashes
    // in capitals already).
    for c in CASES {
        let mac = c.mac.to_ascii_uppercase().replace(':', "-");
        let fields = [
            ("key", c.key),
            ("email", c.email),
            ("name", c.name),
            ("hostname", c.hostname),
            ("ip", c.ip),
            ("mac", mac.as_str()),
        ];
        let parts: Vec<String> = fields
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(f, v)| format!("{f}={}", escape_data_string(v)))
            .collect();
        let url = c.url.trim_end_matches('/');
        let base = url.strip_suffix("/tickets").unwrap_or(url);
        let link = format!("{base}/help#{}", parts.join("&"));
        assert_eq!(link, c.link, "{}", c.url);
    }
}

#[test]
fn the_shell_script_installs_once_and_uninstalls() {
    let home = temp_home("install");
    let c = &CASES[0];
    let install = [
        "--url",
        c.url,
        "--key",
        c.key,
        "--email",
        c.email,
        "--name",
        c.name,
        "--hostname",
        c.hostname,
        "--ip",
        c.ip,
        "--mac",
        c.mac,
    ];
    run(&home, &install);
    run(&home, &install);
    let desktop = home.join("Desktop/Get IT help.desktop");
    let menu = home.join(".local/share/applications/Get IT help.desktop");
    for f in [&desktop, &menu] {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("URL="))
                .collect::<Vec<_>>(),
            [format!("URL={}", c.link)],
            "{text}"
        );
        assert!(text.contains("Name=Get IT help"), "{text}");
    }
    assert_eq!(
        std::fs::read_dir(home.join("Desktop"))
            .map(|d| d.count())
            .unwrap_or(0),
        1,
        "a second run replaces the shortcut"
    );
    run(&home, &["--uninstall"]);
    assert!(!desktop.exists() && !menu.exists());
    let _ = std::fs::remove_dir_all(home);
}
