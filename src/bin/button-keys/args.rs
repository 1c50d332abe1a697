//! `button-keys`' command line, read with `lexopt`: the command, its options, and usage errors
//! that say what was meant.

use std::ffi::OsString;

use ipnet::IpNet;
use kaseya_button::rules;
use kaseya_button::secret::keys_edit::{account_arg, allow_from_arg};
use kaseya_button::secret::{KeyCustomer, Role};
use lexopt::{Arg, ValueExt};

use crate::Failure;

/// The commands, as `--help` lists them.
const COMMANDS: [&str; 5] = ["list", "add", "revoke", "check", "help"];
/// Every option, for did-you-mean.
const OPTIONS: [&str; 9] = [
    "--secret-id",
    "--name",
    "--allow-from",
    "--operator",
    "--account",
    "--create-contacts",
    "--help",
    "--version",
    "-h",
];

#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    /// `asked` is false when there were no arguments at all.
    Help {
        asked: bool,
    },
    Version,
    Run {
        secret_id: String,
        action: Action,
    },
}

#[derive(Debug, PartialEq)]
pub(crate) enum Action {
    List,
    Check,
    Add {
        name: String,
        role: Role,
        allow_from: Vec<IpNet>,
        customer: KeyCustomer,
    },
    Revoke {
        name: String,
    },
}

/// What was written, before it is checked against the command.
#[derive(Default)]
struct Given {
    help: bool,
    secret_id: Option<String>,
    command: Option<String>,
    positional: Vec<String>,
    name: Option<String>,
    allow_from: Vec<String>,
    operator: bool,
    account: Option<String>,
    create_contacts: bool,
}

pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, Failure> {
    let mut parser = lexopt::Parser::from_args(args);
    let mut given = Given::default();
    let mut any = false;
    while let Some(arg) = parser.next().map_err(usage)? {
        any = true;
        match arg {
            Arg::Short('h') | Arg::Long("help") => given.help = true,
            Arg::Short('V') | Arg::Long("version") => return Ok(Command::Version),
            Arg::Long("secret-id") => given.secret_id = Some(value(&mut parser)?),
            Arg::Long("name") => given.name = Some(value(&mut parser)?),
            Arg::Long("allow-from") => given.allow_from.push(value(&mut parser)?),
            Arg::Long("operator") => {
                if parser.optional_value().is_some() {
                    return Err(Failure::Usage("option `--operator` takes no value".into()));
                }
                given.operator = true;
            }
            Arg::Long("account") => given.account = Some(value(&mut parser)?),
            Arg::Long("create-contacts") => {
                if parser.optional_value().is_some() {
                    return Err(Failure::Usage(
                        "option `--create-contacts` takes no value".into(),
                    ));
                }
                given.create_contacts = true;
            }
            Arg::Value(v) if given.command.is_none() => {
                given.command = Some(v.string().map_err(usage)?);
            }
            Arg::Value(v) => given.positional.push(v.string().map_err(usage)?),
            other => {
                let name = match other {
                    Arg::Short(c) => format!("-{c}"),
                    Arg::Long(l) => format!("--{l}"),
                    Arg::Value(_) => String::new(),
                };
                return Err(Failure::Usage(format!(
                    "unknown option `{name}`{}",
                    did_you_mean(&name, &OPTIONS)
                )));
            }
        }
    }
    if !any {
        return Ok(Command::Help { asked: false });
    }
    if given.help || given.command.as_deref() == Some("help") {
        return Ok(Command::Help { asked: true });
    }
    command(given)
}

fn command(given: Given) -> Result<Command, Failure> {
    let Some(command) = given.command.clone() else {
        return Err(Failure::Usage(
            "no command: give one of `list`, `add`, `revoke`, `check`".into(),
        ));
    };
    let action = match command.as_str() {
        "list" | "check" => {
            only_for_add(&given, &command)?;
            extra_values(&given, &command, 0)?;
            if command == "list" {
                Action::List
            } else {
                Action::Check
            }
        }
        "add" => add(&given)?,
        "revoke" => {
            only_for_add(&given, &command)?;
            extra_values(&given, &command, 1)?;
            let Some(name) = given.positional.first() else {
                return Err(Failure::Usage(
                    "`revoke` needs the name of the key: `button-keys --secret-id ID revoke \
                     NAME` (`list` shows the names)"
                        .into(),
                ));
            };
            Action::Revoke { name: name.clone() }
        }
        other => {
            return Err(Failure::Usage(format!(
                "unknown command `{other}`{}: the commands are `list`, `add`, `revoke` and \
                 `check`",
                did_you_mean(other, &COMMANDS)
            )));
        }
    };
    let Some(secret_id) = given.secret_id else {
        return Err(Failure::Usage(format!(
            "`{command}` needs the secret: `--secret-id ID`, its name or ARN (the stack's \
             `SecretArn` output)"
        )));
    };
    Ok(Command::Run { secret_id, action })
}

fn add(given: &Given) -> Result<Action, Failure> {
    extra_values(given, "add", 0)?;
    let Some(name) = given.name.clone() else {
        return Err(Failure::Usage(
            "`add` needs a name for the key: `--name contoso` (it shows in the logs and is how \
             `revoke` finds the key)"
                .into(),
        ));
    };
    let mut allow_from = Vec::new();
    for value in &given.allow_from {
        allow_from.extend(allow_from_arg(value).map_err(Failure::Usage)?);
    }
    let role = if given.operator {
        Role::Operator
    } else {
        Role::Button
    };
    let account = match &given.account {
        Some(a) => Some(account_arg(a).map_err(Failure::Usage)?),
        None => None,
    };
    Ok(Action::Add {
        name,
        role,
        allow_from,
        customer: KeyCustomer {
            account,
            create_contacts: given.create_contacts,
        },
    })
}

/// `--name`, `--allow-from` and `--operator` belong to `add` alone.
fn only_for_add(given: &Given, command: &str) -> Result<(), Failure> {
    let stray = [
        (given.name.is_some(), "--name"),
        (!given.allow_from.is_empty(), "--allow-from"),
        (given.operator, "--operator"),
        (given.account.is_some(), "--account"),
        (given.create_contacts, "--create-contacts"),
    ];
    match stray.iter().find(|(stray, _)| *stray) {
        Some((_, flag)) => Err(Failure::Usage(format!(
            "`{flag}` is an option of `add`, not of `{command}`"
        ))),
        None => Ok(()),
    }
}

fn extra_values(given: &Given, command: &str, wanted: usize) -> Result<(), Failure> {
    match given.positional.get(wanted) {
        Some(extra) => Err(Failure::Usage(format!(
            "`{command}` takes {wanted} argument(s); `{extra}` is one too many (a name with \
             spaces needs quotes)"
        ))),
        None => Ok(()),
    }
}

fn value(parser: &mut lexopt::Parser) -> Result<String, Failure> {
    parser.value().map_err(usage)?.string().map_err(usage)
}

/// lexopt's own messages name the option and what was wrong.
fn usage(e: lexopt::Error) -> Failure {
    match e {
        lexopt::Error::MissingValue {
            option: Some(option),
        } => Failure::Usage(format!("option `{option}` needs a value")),
        other => Failure::Usage(other.to_string()),
    }
}

fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    rules::suggest(word, candidates.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, Failure> {
        parse(args.iter().map(OsString::from))
    }

    fn usage_of(args: &[&str]) -> String {
        match run(args) {
            Err(Failure::Usage(m)) => m,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn add_with_every_option_and_the_secret_anywhere() {
        let parsed = run(&[
            "add",
            "--name",
            "tier2",
            "--operator",
            "--allow-from",
            "203.0.113.7",
            "--allow-from=10.0.0.5/8, 2001:db8::/48",
            "--account",
            "Fabrikam Inc",
            "--create-contacts",
            "--secret-id",
            "s",
        ])
        .unwrap();
        let nets = ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/48"];
        assert_eq!(
            parsed,
            Command::Run {
                secret_id: "s".into(),
                action: Action::Add {
                    name: "tier2".into(),
                    role: Role::Operator,
                    allow_from: nets.iter().map(|n| n.parse().unwrap()).collect(),
                    customer: KeyCustomer {
                        account: Some("Fabrikam Inc".into()),
                        create_contacts: true,
                    },
                }
            }
        );
    }

    #[test]
    fn usage_mistakes_say_what_was_meant() {
        let cases: [(&[&str], &str); 9] = [
            (&["--secret-id", "s", "lsit"], "did you mean `list`"),
            (&["list"], "needs the secret"),
            (&["--secret-id", "s", "add"], "needs a name"),
            (&["--secret-id", "s", "revoke"], "needs the name"),
            (
                &["--secret-id", "s", "revoke", "a", "b"],
                "`b` is one too many",
            ),
            (
                &["--secret-id", "s", "list", "--operator"],
                "option of `add`",
            ),
            (
                &["--secret-id", "s", "add", "--nmae", "x"],
                "did you mean `--name`",
            ),
            (
                &[
                    "--secret-id",
                    "s",
                    "add",
                    "--name",
                    "x",
                    "--allow-from",
                    "10.0.0.300",
                ],
                "`10.0.0.300` (in `--allow-from 10.0.0.300`) is not an IPv4",
            ),
            (&["--secret-id"], "`--secret-id` needs a value"),
        ];
        for (args, expected) in cases {
            let message = usage_of(args);
            assert!(message.contains(expected), "{args:?}: {message}");
        }
    }

    #[test]
    fn help_and_version() {
        assert_eq!(run(&[]).unwrap(), Command::Help { asked: false });
        assert_eq!(
            run(&["add", "--help"]).unwrap(),
            Command::Help { asked: true }
        );
        assert_eq!(run(&["help"]).unwrap(), Command::Help { asked: true });
        assert_eq!(run(&["-V"]).unwrap(), Command::Version);
    }
}
