//! The local stack's ports (`scripts/lib/ports.sh`, used by `scripts/demo` and
//! `scripts/api-check`): a default port that is taken gives way to a free one, and a port the
//! user asked for that is taken is an error naming its variable, instead of a stack that stops
//! at "Address already in use".

use std::net::TcpListener;
use std::process::Command;

/// `choose_port NAME DEFAULT`, with NAME set to `given` or unset: whether it succeeded, what it
/// printed, and what it said on stderr.
fn choose(name: &str, default: u16, given: Option<u16>) -> (bool, String, String) {
    let mut command = Command::new("bash");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-c")
        .arg(format!(
            "source scripts/lib/ports.sh && choose_port {name} {default}"
        ))
        .env_remove(name);
    if let Some(port) = given {
        command.env(name, port.to_string());
    }
    let out = command.output().expect("bash runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn listening() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    (listener, port)
}

#[test]
fn a_taken_default_port_gives_way_to_a_free_one() {
    let (_busy, port) = listening();
    let (ok, chosen, said) = choose("SANDBOX_PORT", port, None);
    assert!(ok, "{said}");
    let chosen: u16 = chosen.parse().expect("a port number");
    assert_ne!(chosen, port);
    assert!(said.contains(&format!("SANDBOX_PORT={chosen}")), "{said}");
}

#[test]
fn a_taken_port_the_user_chose_is_an_error_naming_its_variable() {
    let (_busy, port) = listening();
    let (ok, printed, said) = choose("INVOKE_PORT", 9000, Some(port));
    assert!(!ok, "{printed}");
    assert!(
        said.contains("INVOKE_PORT") && said.contains(&port.to_string()),
        "{said}"
    );
}

#[test]
fn a_free_port_is_kept() {
    let (busy, port) = listening();
    drop(busy);
    let (ok, chosen, said) = choose("SQS_PORT", port, None);
    assert!(ok, "{said}");
    assert_eq!(chosen, port.to_string());
    let (ok, chosen, _) = choose("SQS_PORT", 9102, Some(port));
    assert!(ok);
    assert_eq!(chosen, port.to_string(), "the user's choice is kept");
}
