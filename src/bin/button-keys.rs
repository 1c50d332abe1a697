//! `button-keys`: list, add, revoke and check the keys in the function's secret, through
//! Secrets Manager. Every change is read back by the function's own parser before it is
//! written; a new key is printed once; an existing key never is.

#[path = "button-keys/args.rs"]
mod args;

use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use kaseya_button::net::{self, Net};
use kaseya_button::secret::keys_edit::{self, Edited, KeysError, NewKey};
use kaseya_button::secret::{self, Role, SecretError};
use secrecy::{ExposeSecret, SecretString};

use args::{Action, Command, parse};

const HELP: &str = "\
button-keys: list, add, revoke and check the keys in the kaseya-button function's secret

USAGE:
    button-keys --secret-id <ID> list
    button-keys --secret-id <ID> add --name <NAME> [--allow-from <CIDR>]... [--operator]
                [--account <ACCOUNT>] [--create-contacts]
    button-keys --secret-id <ID> revoke <NAME>
    button-keys --secret-id <ID> check

COMMANDS:
    list      The keys: each one's name, role (button or operator) and where it may be used
              from. Never a key.
    add       Make a new random key (43 letters and digits), add it to the secret with its
              name, and print it, once, on standard output; what was done goes to standard
              error. A name already used (by a key of either role) is refused.
    revoke    Take out every key named <NAME>. Running functions refuse it within
              KASEYA_SECRET_TTL_SECONDS (5 minutes by default) and 10 seconds.
    check     Read the secret as the function reads it: OK, or what is wrong and where
              (never a value).

OPTIONS:
    --secret-id <ID>     The secret: its name or ARN (the stack's SecretArn output).
    --name <NAME>        add: a short label, such as contoso or tier2; it shows in the logs.
    --allow-from <CIDR>  add: an address or CIDR block (IPv4 or IPv6) the key may be used
                         from; repeat it, or separate with commas. Without it, the key works
                         from anywhere.
    --operator           add: an operator key (for /health and /tickets/preview) rather than
                         a button key.
    --account <ACCOUNT>  add: the customer the key is for, a BMS account's name or id: an
                         unknown user's ticket is filed on that account (the rules'
                         `account` starts with it).
    --create-contacts    add: an unknown user whose e-mail domain the account's contacts
                         already use is made a BMS contact (needs CRM Contacts: add).
    -h, --help           Print this help.
    -V, --version        Print the version.

EXAMPLES:
    secret=$(aws cloudformation describe-stacks --stack-name kaseya-button \\
      --query \"Stacks[0].Outputs[?OutputKey=='SecretArn'].OutputValue\" --output text)
    button-keys --secret-id \"$secret\" list
    KEY=$(button-keys --secret-id \"$secret\" add --name contoso)
    button-keys --secret-id \"$secret\" add --name tier2 --operator \\
      --allow-from 34.202.14.153 --allow-from 3.209.57.193/32
    button-keys --secret-id \"$secret\" add --name fabrikam-office \\
      --account \"Fabrikam Inc\" --create-contacts
    button-keys --secret-id \"$secret\" revoke contoso
    button-keys --secret-id \"$secret\" check

AWS:
    The region and credentials come from the environment: AWS_REGION, AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (no profiles: for a profile, run
    eval \"$(aws configure export-credentials --format env)\" first).
    AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) points at another endpoint;
    BUTTON_EXTRA_CA_FILE adds trusted roots (a TLS-inspecting proxy's). It needs
    secretsmanager:GetSecretValue on the secret, and secretsmanager:PutSecretValue for add
    and revoke.

EXIT STATUS:
    0  done; check: the function can read the secret
    1  the secret cannot be read by the function, or the change was refused; nothing written
    2  wrong usage, or no AWS credentials in the environment
    3  Secrets Manager could not be read or written
";

#[derive(Debug)]
enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// The secret or the change is wrong: nothing was written.
    Refused(String),
    /// Secrets Manager could not be asked, or said no.
    Aws(String),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let outcome = match parse(std::env::args_os().skip(1)) {
        Ok(Command::Help { asked }) => {
            print!("{HELP}");
            // Nothing given at all is a usage mistake, even though the help is the answer.
            return if asked {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
        Ok(Command::Version) => {
            println!("button-keys {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run { secret_id, action }) => run(&secret_id, action).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("button-keys: {m}");
            eprintln!("Run `button-keys --help` for usage.");
            ExitCode::from(2)
        }
        Err(Failure::Refused(m)) => {
            eprintln!("button-keys: {m}");
            ExitCode::from(1)
        }
        Err(Failure::Aws(m)) => {
            eprintln!("button-keys: {m}");
            ExitCode::from(3)
        }
    }
}

async fn run(id: &str, action: Action) -> Result<(), Failure> {
    let client = client()?;
    let raw = read(&client, id).await?;
    match action {
        Action::Check => check(id, &raw),
        Action::List => {
            let secret = keys_edit::read(raw.expose_secret()).map_err(|e| unreadable(id, e))?;
            if secret.has_keys() {
                print!("{}", keys_edit::listing(&secret));
            } else {
                eprintln!(
                    "secret `{id}` lists no keys: `button-keys --secret-id {id} add --name NAME` \
                     adds one"
                );
            }
            Ok(())
        }
        Action::Add {
            name,
            role,
            allow_from,
            customer,
        } => {
            let key = keys_edit::new_key().map_err(|e| Failure::Refused(e.to_string()))?;
            let new = NewKey {
                role,
                name: &name,
                allow_from: &allow_from,
                customer: &customer,
                key: &key,
            };
            let edited =
                keys_edit::add(raw.expose_secret(), &new).map_err(|e| refused(id, "add", e))?;
            write(&client, id, &edited).await?;
            // The key, and nothing else, on standard output: `KEY=$(button-keys … add …)`.
            println!("{}", key.expose_secret());
            added(id, &new);
            Ok(())
        }
        Action::Revoke { name } => {
            let revoked = keys_edit::revoke(raw.expose_secret(), &name)
                .map_err(|e| refused(id, "revoke", e))?;
            write(&client, id, &revoked.edited).await?;
            revoked_said(id, name.trim(), &revoked);
            Ok(())
        }
    }
}

fn check(id: &str, raw: &SecretString) -> Result<(), Failure> {
    match keys_edit::read(raw.expose_secret()) {
        Ok(secret) => {
            println!(
                "OK: the function can read secret `{id}`: {}",
                keys_edit::summary(&secret)
            );
            if !secret.has_keys() {
                eprintln!(
                    "note: it lists no keys, so a function with BUTTON_AUTH=key refuses every \
                     request: `button-keys --secret-id {id} add --name NAME` adds one"
                );
            }
            Ok(())
        }
        Err(KeysError::Unreadable(e)) => Err(Failure::Refused(format!(
            "the function cannot read secret `{id}`: {e}"
        ))),
        Err(e) => Err(Failure::Refused(e.to_string())),
    }
}

/// The Secrets Manager client the function builds, from the same environment.
fn client() -> Result<Client, Failure> {
    // Without them the SDK's own message is a page about auth schemes.
    if net::aws::var("AWS_ACCESS_KEY_ID").is_none()
        || net::aws::var("AWS_SECRET_ACCESS_KEY").is_none()
    {
        return Err(Failure::Usage(
            "no AWS credentials in the environment: set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones); for a profile, \
             run `eval \"$(aws configure export-credentials --profile NAME --format env)\"` first"
                .into(),
        ));
    }
    let roots = match net::aws::var("BUTTON_EXTRA_CA_FILE") {
        None => Vec::new(),
        Some(path) => std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|pem| net::read_roots(&pem))
            .map_err(|e| {
                Failure::Usage(format!(
                    "BUTTON_EXTRA_CA_FILE is `{path}`, which {e}: point it at a PEM file of \
                     root certificates, or unset it"
                ))
            })?,
    };
    let net = Net::new(&roots).map_err(Failure::Aws)?;
    let sdk = net::aws::sdk_config(&net);
    Ok(secret::secrets_manager_client(
        &sdk,
        Duration::from_secs(30),
    ))
}

async fn read(client: &Client, id: &str) -> Result<SecretString, Failure> {
    secret::read_value(client, id).await.map_err(|e| match e {
        SecretError::NotFound { .. } => Failure::Aws(format!(
            "Secrets Manager has no secret `{id}` in region {}: check `--secret-id` (the \
             stack's SecretArn output names it) and AWS_REGION",
            region(client)
        )),
        SecretError::Denied { .. } => Failure::Aws(format!(
            "{e}: the credentials in the environment need secretsmanager:GetSecretValue on it"
        )),
        SecretError::Unreachable { .. } => Failure::Aws(format!(
            "{e}: check the network, AWS_REGION and AWS_ENDPOINT_URL_SECRETS_MANAGER"
        )),
        other => Failure::Refused(other.to_string()),
    })
}

async fn write(client: &Client, id: &str, edited: &Edited) -> Result<(), Failure> {
    secret::write_value(client, id, &edited.text)
        .await
        .map_err(|e| {
            Failure::Aws(format!(
                "{e}. Nothing was changed. Writing needs secretsmanager:PutSecretValue on the \
                 secret, and kms:GenerateDataKey and kms:Decrypt on its KMS key when that is a \
                 customer-managed one"
            ))
        })?;
    for note in &edited.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}

fn region(client: &Client) -> String {
    client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "(none)".into())
}

fn unreadable(id: &str, e: KeysError) -> Failure {
    Failure::Refused(format!(
        "secret `{id}`: {e}. Fix it first: `button-keys --secret-id {id} check` says what the \
         function makes of it"
    ))
}

fn refused(id: &str, command: &str, e: KeysError) -> Failure {
    match e {
        KeysError::Unreadable(_) => unreadable(id, e),
        other => Failure::Refused(format!("{command} refused for secret `{id}`: {other}")),
    }
}

fn added(id: &str, new: &NewKey) {
    let from = if new.allow_from.is_empty() {
        "from anywhere".to_string()
    } else {
        let nets: Vec<String> = new.allow_from.iter().map(keys_edit::show_net).collect();
        format!("from {}", nets.join(", "))
    };
    eprintln!(
        "added {} key `{}` ({from}) to secret `{id}`; the key went to standard output, and is \
         shown nowhere else. A running function accepts it at once: a key it does not know makes \
         it read the secret again, at most once a minute per container (one that has just done \
         so for another unknown key may refuse the new key for up to a minute)",
        new.role.label(),
        new.name.trim()
    );
}

fn revoked_said(id: &str, name: &str, revoked: &keys_edit::Revoked) {
    let n = revoked.removed.len();
    let what = if n == 1 { "key" } else { "keys" };
    eprintln!(
        "removed {n} {what} named `{name}` from secret `{id}`. Running functions refuse it \
         within KASEYA_SECRET_TTL_SECONDS (5 minutes by default) and 10 seconds; to cut it off \
         at once, update the function's configuration, which replaces every container"
    );
    for other in &revoked.still_listed {
        eprintln!(
            "warning: the same key is still listed as {other}: it keeps working there; revoke \
             that too to stop it"
        );
    }
    for role in [Role::Button, Role::Operator] {
        let left = revoked.edited.secret.entries().any(|e| e.role == role);
        if revoked.removed.contains(&role) && !left {
            eprintln!("warning: the secret lists no {} key now", role.label());
        }
    }
}
