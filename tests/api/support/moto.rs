//! A real Secrets Manager API, SQS, CloudWatch and Parameter Store: `moto_server` (PyPI
//! `moto[server]`) on a free loopback port, started once per test process and reached through
//! the SDK's standard `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SQS`,
//! `AWS_ENDPOINT_URL_CLOUDWATCH` and `AWS_ENDPOINT_URL_SSM`.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Moto {
    /// Where it listens: `http://127.0.0.1:PORT`.
    pub url: String,
    _child: Child,
    /// Held open for the life of the test process: when it closes, the wrapper kills moto.
    _lifeline: ChildStdin,
}

const INSTALL_HINT: &str = "moto_server was not found. The Secrets Manager tests run against a \
    real local moto server: run `scripts/test` (it installs `moto[server]` into .venv), or \
    `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'`, or set MOTO_SERVER to the \
    path of moto_server";

fn find_moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("moto_server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{INSTALL_HINT}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The moto server of this process, started on first use. Every test that reads the AWS
/// settings (through a function with a queue or a secret, or a client of its own) calls this
/// first, so they are set before it reads them.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let bin = find_moto_server();
        let port = free_port();
        // moto does not exit with its parent; the shell kills it when our end of its stdin
        // closes, which the kernel does when the test process ends for any reason.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & pid=$!; read -r _; kill "$pid""#)
            .arg(&bin)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}. {INSTALL_HINT}", bin.display()));
        let lifeline = child.stdin.take().expect("piped stdin");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::ConnectionRefused && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!(
                    "moto_server ({}) did not start on port {port}: {e}",
                    bin.display()
                ),
            }
        }
        let url = format!("http://127.0.0.1:{port}");
        // SAFETY: std's environment functions share one lock, so this cannot race with a read
        // through std, and nothing in the tests reads the environment otherwise. Every test that
        // reads these variables calls `moto()` first, and OnceLock holds it until they are set.
        unsafe {
            std::env::set_var("AWS_ENDPOINT_URL_SECRETS_MANAGER", &url);
            std::env::set_var("AWS_ENDPOINT_URL_SQS", &url);
            std::env::set_var("AWS_ENDPOINT_URL_CLOUDWATCH", &url);
            std::env::set_var("AWS_ENDPOINT_URL_SSM", &url);
            std::env::set_var("AWS_REGION", "us-east-1");
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
            std::env::remove_var("AWS_PROFILE");
            std::env::remove_var("AWS_ENDPOINT_URL");
        }
        Moto {
            url,
            _child: child,
            _lifeline: lifeline,
        }
    })
}

/// `build`, which builds a function that reads its secret from Secrets Manager, run with
/// `AWS_ENDPOINT_URL_SECRETS_MANAGER` at `url`, or at moto when `None`.
///
/// The function reads the variable when it is built, and it is the one AWS setting that tests
/// of one process want different (an outage of Secrets Manager): builds take turns, each setting
/// it for its function and moto's back afterwards. Nothing else depends on it: moto's client and
/// the lambda sandbox use [`Moto::url`].
pub async fn with_secrets_manager_at<T>(url: Option<&str>, build: impl Future<Output = T>) -> T {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let moto = moto().url.as_str();
    let _turn = TURN.lock().await;
    set_secrets_manager(url.unwrap_or(moto));
    let _moto_again = MotoAgain(moto);
    build.await
}

/// Sets moto's Secrets Manager back when dropped, before the turn ends, whether the build
/// returned or panicked.
struct MotoAgain(&'static str);

impl Drop for MotoAgain {
    fn drop(&mut self) {
        set_secrets_manager(self.0);
    }
}

fn set_secrets_manager(url: &str) {
    // SAFETY: std's environment functions share one lock, so this cannot race with a read
    // through std, and nothing in the tests reads the environment otherwise. `moto()` set the
    // variable before any turn began: this replaces its value and never adds a variable.
    unsafe { std::env::set_var("AWS_ENDPOINT_URL_SECRETS_MANAGER", url) }
}

/// A Secrets Manager client built as the function builds its own, for moto whatever the
/// environment says meanwhile.
pub async fn client() -> aws_sdk_secretsmanager::Client {
    let moto = moto();
    let net = kaseya_button::net::Net::new(&[]).expect("an HTTP client");
    let sdk = kaseya_button::net::aws::sdk_config(&net);
    let client =
        kaseya_button::secret::secrets_manager_client(&sdk, std::time::Duration::from_secs(10));
    let conf = client.config().to_builder().endpoint_url(&moto.url).build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

/// A secret holding `value`, under an id made from `name` that no other test, of this process or
/// another, uses; its id.
pub async fn create_secret(name: &str, value: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let id = format!(
        "kaseya-button/{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client()
        .await
        .create_secret()
        .name(&id)
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret");
    id
}

/// A new value for the secret `id`.
pub async fn put_secret(id: &str, value: &str) {
    client()
        .await
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .expect("moto stores the new value");
}

/// A Parameter Store client built as the function builds its own, for moto.
pub fn ssm_client() -> aws_sdk_ssm::Client {
    let moto = moto();
    let net = kaseya_button::net::Net::new(&[]).expect("an HTTP client");
    let sdk = kaseya_button::net::aws::sdk_config(&net);
    let client = kaseya_button::rules_store::ssm::client(&sdk, std::time::Duration::from_secs(10));
    let conf = client.config().to_builder().endpoint_url(&moto.url).build();
    aws_sdk_ssm::Client::from_conf(conf)
}

/// A parameter name made from `name` that no other test, of this process or another, uses.
pub fn parameter_name(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "/kaseya-button/{name}-{}-{}/rules",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `value` as the parameter's new version (created when there is none); the version.
pub async fn put_parameter(name: &str, value: &str) -> i64 {
    ssm_client()
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("moto stores the parameter")
        .version
}

/// The parameter's current version and value.
pub async fn parameter(name: &str) -> (i64, String) {
    let p = ssm_client()
        .get_parameter()
        .name(name)
        .send()
        .await
        .expect("moto has the parameter")
        .parameter
        .expect("a parameter in the answer");
    (p.version, p.value.unwrap_or_default())
}
