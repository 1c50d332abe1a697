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

fn client(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("clients")
        .join(path)
}

/// Run `program` with `args` in the home `home`, with `env` added; its standard output.
fn run_in(home: &Path, program: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new("sh")
        .arg(program)
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_DESKTOP_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("KASEYA_BUTTON_CONFIG")
        .env_remove("DESTDIR")
        .envs(env.iter().copied())
        .output()
        .expect("sh runs the script");
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The install script, as the current user, for this user only.
fn install(home: &Path, args: &[&str]) -> String {
    let mut all = vec!["--user"];
    all.extend(args);
    run_in(home, &client("unix/install-button.sh"), &all, &[])
}

fn temp_home(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kb-clients-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary home");
    dir
}

#[test]
fn the_launcher_builds_the_documented_link() {
    let home = temp_home("links");
    for c in CASES {
        let mut a = vec!["--print-link", "--url", c.url, "--key", c.key, "--diag", ""];
        for (flag, v) in [
            ("--email", c.email),
            ("--name", c.name),
            ("--hostname", c.hostname),
            ("--ip", c.ip),
            ("--mac", c.mac),
        ] {
            a.extend([flag, v]);
        }
        let link = run_in(&home, &client("unix/kaseya-button"), &a, &[]);
        assert_eq!(link.trim_end(), c.link, "{}", c.url);
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
fn the_windows_launcher_builds_the_same_link() {
    let ps1 =
        std::fs::read_to_string(client("windows/kaseya-button.ps1")).expect("the Windows launcher");
    // The script's own recipe, checked as text: PowerShell does not run here.
    assert!(ps1.contains("[uri]::EscapeDataString([string]$Fields[$f])"));
    assert!(ps1.contains(r#"$base = $Url.TrimEnd('/') -replace '/tickets$', ''"#));
    assert!(ps1.contains(r#""$base/help#" + ($parts -join '&')"#));
    assert!(
        ps1.contains("if ($Fields[$f])"),
        "empty fields are left out"
    );
    assert!(ps1.contains(
        "key = $settings.key; email = $email; name = $displayName; hostname = $env:COMPUTERNAME; ip = $ip; mac = $mac"
    ));
    // The diagnostics go last, base64url, within the link's 6 KB; -PrintLink opens nothing.
    assert!(ps1.contains("$room = [math]::Floor((6144 - $link.Length - 6 - 13) / 4) * 3"));
    assert!(ps1.contains(".TrimEnd('=').Replace('+', '-').Replace('/', '_')"));
    assert!(ps1.contains("if ($PrintLink) { $link; return }\nif (Copy-Screenshot)"));
    // Never SYSTEM's facts: the user's are read only when the launcher is not SYSTEM.
    assert!(ps1.contains("if (-not [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem)"));
    let installer = std::fs::read_to_string(client("windows/install-button.ps1"))
        .expect("the Windows installer");
    assert!(
        installer.contains("Remove-Item -LiteralPath $dir -Recurse"),
        "uninstall removes the launcher"
    );
    assert!(
        installer.contains("-File `\"$launcher`\""),
        "the shortcut runs the launcher"
    );
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

/// The fields of a link's fragment, decoded.
pub(crate) fn fragment(link: &str) -> Vec<(String, String)> {
    let (_, frag) = link.trim_end().split_once('#').expect("a fragment");
    frag.split('&')
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .expect("UTF-8 values");
            (k.to_string(), v.into_owned())
        })
        .collect()
}

pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `diag`'s text: base64url without padding.
pub(crate) fn diag_text(fields: &[(String, String)]) -> String {
    use base64::Engine as _;
    let b64 = field(fields, "diag").expect("a diag field");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .expect("diag is base64url");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The `Exec=` path of a `.desktop` file: the launcher it runs.
pub(crate) fn exec_path(desktop_file: &Path) -> PathBuf {
    let text = std::fs::read_to_string(desktop_file)
        .unwrap_or_else(|e| panic!("{}: {e}", desktop_file.display()));
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .unwrap_or_else(|| panic!("no Exec= in {text}"));
    PathBuf::from(exec.trim_matches('"'))
}

#[test]
fn the_shell_script_installs_the_launcher_once_and_uninstalls_it() {
    let home = temp_home("install");
    let c = &CASES[0];
    let args = ["--url", c.url, "--key", c.key, "--email", c.email];
    install(&home, &args);
    install(&home, &args);
    let desktop = home.join("Desktop/Get IT help.desktop");
    let menu = home.join(".local/share/applications/Get IT help.desktop");
    let launcher = home.join(".local/bin/kaseya-button");
    let conf = home.join(".config/kaseya-button.conf");
    for f in [&desktop, &menu] {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(text.contains("Type=Application"), "{text}");
        assert!(!text.contains("URL="), "no link frozen at install: {text}");
        assert!(text.contains("Name=Get IT help"), "{text}");
        assert_eq!(exec_path(f), launcher, "{text}");
    }
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&launcher), 0o755);
    assert_eq!(mode(&conf), 0o644, "every user reads the settings");
    assert_eq!(
        std::fs::read_to_string(&conf).expect("the settings"),
        format!("url={}\nkey={}\nemail={}\n", c.url, c.key, c.email)
    );
    assert_eq!(
        std::fs::read_dir(home.join("Desktop"))
            .map(|d| d.count())
            .unwrap_or(0),
        1,
        "a second run replaces the shortcut"
    );
    run_in(
        &home,
        &client("unix/install-button.sh"),
        &["--user", "--uninstall"],
        &[],
    );
    for f in [&desktop, &menu, &launcher, &conf] {
        assert!(!f.exists(), "{} is left after uninstall", f.display());
    }
    let _ = std::fs::remove_dir_all(home);
}

/// What this machine says, read here another way than the launcher reads it: the default
/// route's interface from /proc/net/route, its MAC from /sys, its IPv4 address from `ip addr`.
fn default_route() -> (String, String, String) {
    let routes = std::fs::read_to_string("/proc/net/route").expect("/proc/net/route");
    let iface = routes
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(1) == Some(&"00000000"))
        .map(|f| f[0].to_string())
        .expect("this machine has a default route");
    let mac = std::fs::read_to_string(format!("/sys/class/net/{iface}/address"))
        .expect("its MAC")
        .trim()
        .to_ascii_uppercase()
        .replace(':', "-");
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", &iface])
        .output()
        .expect("ip runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let ip = text
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .expect("an IPv4 address")
        .to_string();
    (iface, ip, mac)
}

/// Installed by root, as an RMM would, and pressed: the facts are this machine's as they are at
/// the press, the e-mail the installer was given, never root's name; `diag` says what the
/// machine says, and the link stays within 6 KB.
#[test]
fn the_launcher_reads_the_facts_at_the_press() {
    let home = temp_home("press");
    install(
        &home,
        &[
            "--url",
            "http://127.0.0.1:9/",
            "--key",
            "k-123",
            "--email",
            "dan.jump@fabrikam.com",
        ],
    );
    let launcher = exec_path(&home.join("Desktop/Get IT help.desktop"));
    let link = run_in(&home, &launcher, &["--print-link"], &[]);
    assert!(link.len() <= 6144, "{} bytes", link.len());
    let f = fragment(&link);
    let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    let (_, ip, mac) = default_route();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("the hostname");
    assert_eq!(field(&f, "key"), Some("k-123"));
    assert_eq!(field(&f, "email"), Some("dan.jump@fabrikam.com"), "{link}");
    assert_eq!(field(&f, "hostname"), Some(host.trim()), "{link}");
    assert_eq!(field(&f, "ip"), Some(ip.as_str()), "{link}");
    assert_eq!(field(&f, "mac"), Some(mac.as_str()), "{link}");
    assert!(
        field(&f, "screenshot").is_none(),
        "--print-link takes none: {link}"
    );
    let root = Command::new("id")
        .arg("-u")
        .output()
        .expect("id runs")
        .stdout
        == b"0\n";
    if root {
        assert!(
            field(&f, "name").is_none(),
            "root's name is nobody's: {link}"
        );
    }
    assert!(!f.iter().any(|(_, v)| v == "root"), "{link}");
    assert_eq!(names.last(), Some(&"diag"), "{names:?}");

    let diag = diag_text(&f);
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let pretty = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"'))
        .unwrap_or_default();
    assert!(diag.starts_with(&format!("OS: {pretty}; Linux ")), "{diag}");
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("/proc/meminfo");
    let total_kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("MemTotal");
    assert!(
        diag.contains(&format!("Memory: {:.1} GB total, ", total_kb / 1048576.0)),
        "{diag}"
    );
    for label in [
        "\nUptime: ",
        "\nDisk: ",
        " GB free of ",
        " on /\n",
        "\nMost memory:\n",
        "\nRead: ",
    ] {
        assert!(diag.contains(label), "{label:?} missing from {diag}");
    }
    let top = diag
        .lines()
        .skip_while(|l| *l != "Most memory:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .count();
    assert_eq!(top, 5, "the five processes using most memory: {diag}");
    let _ = std::fs::remove_dir_all(home);
}

/// A laptop that moved: the shortcut was installed on one network, the button is pressed on
/// another. A stand-in `ip` on the PATH plays the routing table; the rest is the machine's.
#[test]
fn an_address_changed_after_install_shows_at_the_next_press() {
    let home = temp_home("moved");
    let bin = home.join("fake-bin");
    std::fs::create_dir_all(&bin).expect("a bin dir");
    let (iface, _, _) = default_route();
    let fake = format!(
        "#!/bin/sh\ncase \"$*\" in\n  'route show default') echo \"default via 10.0.0.1 dev {iface}\" ;;\n  \
         *addr*) echo \"2: {iface}    inet $(cat \"$0.addr\")/24 brd 10.0.0.255 scope global {iface}\" ;;\nesac\n"
    );
    std::fs::write(bin.join("ip"), fake).expect("the stand-in ip");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(bin.join("ip"), std::fs::Permissions::from_mode(0o755))
        .expect("executable");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [("PATH", path.as_str())];

    std::fs::write(bin.join("ip.addr"), "10.0.0.17").expect("the office address");
    install(&home, &["--url", "http://127.0.0.1:9", "--key", "k"]);
    let launcher = exec_path(&home.join("Desktop/Get IT help.desktop"));
    let at_office = run_in(&home, &launcher, &["--print-link"], &env);
    assert_eq!(
        field(&fragment(&at_office), "ip"),
        Some("10.0.0.17"),
        "{at_office}"
    );

    std::fs::write(bin.join("ip.addr"), "172.20.5.9").expect("the address at home");
    let at_home = run_in(&home, &launcher, &["--print-link"], &env);
    assert_eq!(
        field(&fragment(&at_home), "ip"),
        Some("172.20.5.9"),
        "{at_home}"
    );
    let _ = std::fs::remove_dir_all(home);
}

/// Diagnostics longer than the link can carry are cut, and the link stays within 6 KB.
#[test]
fn long_diagnostics_are_cut_to_keep_the_link_within_6_kb() {
    let home = temp_home("long");
    let long: String = (0..400)
        .map(|i| format!("line {i:04} of far too much text\n"))
        .collect();
    let link = run_in(
        &home,
        &client("unix/kaseya-button"),
        &[
            "--print-link",
            "--url",
            "http://127.0.0.1:9",
            "--key",
            "k",
            "--diag",
            &long,
        ],
        &[],
    );
    let link = link.trim_end();
    assert!(link.len() <= 6144 - 13, "{} bytes", link.len());
    assert!(link.len() > 6000, "the room is used: {} bytes", link.len());
    let diag = diag_text(&fragment(link));
    assert!(
        long.starts_with(&diag) && diag.len() > 4000,
        "{} bytes",
        diag.len()
    );
    let _ = std::fs::remove_dir_all(home);
}

/// Run as root without `--user` (an RMM), into `$DESTDIR`: the launcher and settings for every
/// user, the menu entry, a shortcut on each user's desktop; the shortcut runs the launcher at
/// its installed path; uninstall removes them all.
#[test]
fn as_root_the_shell_script_installs_for_every_user() {
    if Command::new("id")
        .arg("-u")
        .output()
        .expect("id runs")
        .stdout
        != b"0\n"
    {
        eprintln!("skipped: installing for every user needs root");
        return;
    }
    let dest = temp_home("system");
    let ann = dest.join("home/ann/Desktop");
    std::fs::create_dir_all(&ann).expect("a user's desktop");
    let script = client("unix/install-button.sh");
    let env = [("DESTDIR", dest.to_str().expect("a UTF-8 path"))];
    run_in(
        &dest,
        &script,
        &[
            "--url",
            "http://127.0.0.1:9",
            "--key",
            "k",
            "--email",
            "it@fabrikam.com",
        ],
        &env,
    );
    let launcher = dest.join("usr/local/bin/kaseya-button");
    let conf = dest.join("etc/kaseya-button.conf");
    let menu = dest.join("usr/local/share/applications/Get IT help.desktop");
    let desk = ann.join("Get IT help.desktop");
    assert!(launcher.exists() && conf.exists());
    for f in [&menu, &desk] {
        assert_eq!(exec_path(f), Path::new("/usr/local/bin/kaseya-button"));
    }
    let conf_env = [("KASEYA_BUTTON_CONFIG", conf.to_str().expect("UTF-8"))];
    let link = run_in(&dest, &launcher, &["--print-link"], &conf_env);
    assert_eq!(field(&fragment(&link), "email"), Some("it@fabrikam.com"));
    assert!(
        !dest.join("Desktop").exists(),
        "nothing on root's own desktop"
    );
    run_in(&dest, &script, &["--uninstall"], &env);
    for f in [&launcher, &conf, &menu, &desk] {
        assert!(!f.exists(), "{} is left after uninstall", f.display());
    }
    let _ = std::fs::remove_dir_all(dest);
}
