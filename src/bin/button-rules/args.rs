//! `button-rules`' command line, read with `lexopt`: the commands, their options, and the
//! usage errors that say what was meant.

use std::ffi::OsString;

use kaseya_button::rules;
use lexopt::{Arg, ValueExt};

use crate::{CHECK_OPTIONS, COMMANDS, Failure, PREVIEW_OPTIONS, PUBLISH_OPTIONS};

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub(crate) enum Command {
    /// `asked` is false when there were no arguments at all.
    Help {
        asked: bool,
    },
    Version,
    Check {
        path: String,
        minify: bool,
        pack: bool,
    },
    Preview {
        rules: String,
        request: String,
        at: chrono::DateTime<chrono::Utc>,
    },
    Publish {
        parameter: String,
        path: String,
    },
}

pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, Failure> {
    let mut parser = lexopt::Parser::from_args(args);
    let command = match parser.next().map_err(usage)? {
        None => return Ok(Command::Help { asked: false }),
        Some(Arg::Short('h') | Arg::Long("help")) => return Ok(Command::Help { asked: true }),
        Some(Arg::Short('V') | Arg::Long("version")) => return Ok(Command::Version),
        Some(Arg::Value(command)) => command.string().map_err(usage)?,
        Some(option) => {
            return Err(Failure::Usage(format!(
                "unknown option `{}` (options come after the command, e.g. `button-rules check --minify rules.json`)",
                option_name(&option)
            )));
        }
    };
    match command.as_str() {
        "help" => Ok(Command::Help { asked: true }),
        "check" => parse_check(&mut parser),
        "preview" => parse_preview(&mut parser),
        "publish" => parse_publish(&mut parser),
        other if other.ends_with(".json") || other == "-" => Err(Failure::Usage(format!(
            "`{other}` is not a command: to check it, run `button-rules check {other}`"
        ))),
        other => Err(Failure::Usage(format!(
            "unknown command `{other}`{}: the commands are `check`, `preview` and `publish`",
            did_you_mean(other, &COMMANDS)
        ))),
    }
}

fn parse_check(parser: &mut lexopt::Parser) -> Result<Command, Failure> {
    let mut minify = false;
    let mut pack = false;
    let mut help = false;
    let mut positional = Vec::new();
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => help = true,
            Arg::Long("minify") => {
                no_value(parser, "--minify")?;
                minify = true;
            }
            Arg::Long("pack") => {
                no_value(parser, "--pack")?;
                pack = true;
            }
            Arg::Value(v) => positional.push(v.string().map_err(usage)?),
            other => return Err(unknown_option("check", &other, &CHECK_OPTIONS)),
        }
    }
    if help {
        return Ok(Command::Help { asked: true });
    }
    match <[String; 1]>::try_from(positional) {
        Ok([path]) => Ok(Command::Check { path, minify, pack }),
        Err(positional) if positional.is_empty() => Err(Failure::Usage(
            "`check` needs the rules file: `button-rules check rules.json` (or `-` for standard input)".into(),
        )),
        Err(positional) => Err(Failure::Usage(format!(
            "`check` takes one rules file; `{}` is one too many",
            positional[1]
        ))),
    }
}

fn parse_publish(parser: &mut lexopt::Parser) -> Result<Command, Failure> {
    let mut parameter = None;
    let mut help = false;
    let mut positional = Vec::new();
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => help = true,
            Arg::Long("parameter") => {
                parameter = Some(parser.value().map_err(usage)?.string().map_err(usage)?);
            }
            Arg::Value(v) => positional.push(v.string().map_err(usage)?),
            other => return Err(unknown_option("publish", &other, &PUBLISH_OPTIONS)),
        }
    }
    if help {
        return Ok(Command::Help { asked: true });
    }
    let example = "`button-rules publish --parameter /kaseya-button/rules rules.json`";
    let parameter = parameter.filter(|p| !p.trim().is_empty()).ok_or_else(|| {
        Failure::Usage(format!(
            "`publish` needs the parameter's name: {example} (the stack's output \
                 RulesParameter)"
        ))
    })?;
    match <[String; 1]>::try_from(positional) {
        Ok([path]) => Ok(Command::Publish { parameter, path }),
        Err(positional) if positional.is_empty() => Err(Failure::Usage(format!(
            "`publish` needs the rules file: {example} (or `-` for standard input)"
        ))),
        Err(positional) => Err(Failure::Usage(format!(
            "`publish` takes one rules file; `{}` is one too many",
            positional[1]
        ))),
    }
}

fn parse_preview(parser: &mut lexopt::Parser) -> Result<Command, Failure> {
    let mut at = None;
    let mut help = false;
    let mut positional = Vec::new();
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => help = true,
            Arg::Long("at") => at = Some(parser.value().map_err(usage)?.string().map_err(usage)?),
            Arg::Value(v) => positional.push(v.string().map_err(usage)?),
            other => return Err(unknown_option("preview", &other, &PREVIEW_OPTIONS)),
        }
    }
    if help {
        return Ok(Command::Help { asked: true });
    }
    let [rules, request] = match <[String; 2]>::try_from(positional) {
        Ok(paths) => paths,
        Err(positional) if positional.len() < 2 => {
            return Err(Failure::Usage(
                "`preview` needs the rules file and a request file: `button-rules preview rules.json request.json`".into(),
            ));
        }
        Err(positional) => {
            return Err(Failure::Usage(format!(
                "`preview` takes a rules file and a request file; `{}` is one too many",
                positional[2]
            )));
        }
    };
    if rules == "-" && request == "-" {
        return Err(Failure::Usage(
            "only one of the rules and the request can come from standard input (`-`)".into(),
        ));
    }
    let at = match at {
        None => chrono::Utc::now(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
            .map_err(|e| {
                Failure::Usage(format!(
                    "`--at {t}` is not an RFC 3339 time ({e}): write it like 2024-05-06T18:30:00Z"
                ))
            })?
            .with_timezone(&chrono::Utc),
    };
    Ok(Command::Preview { rules, request, at })
}

/// A switch written with a value (`--minify=yes`) is a mistake, not something to ignore.
fn no_value(parser: &mut lexopt::Parser, flag: &str) -> Result<(), Failure> {
    match parser.optional_value() {
        Some(_) => Err(Failure::Usage(format!("option `{flag}` takes no value"))),
        None => Ok(()),
    }
}

fn unknown_option(command: &str, option: &Arg, known: &[&str]) -> Failure {
    let name = option_name(option);
    let takes = if known.is_empty() {
        format!("`{command}` takes no options")
    } else {
        format!("`{command}` takes `{}`", known.join("`, `"))
    };
    Failure::Usage(format!(
        "unknown option `{name}` for `{command}`{}: {takes}",
        did_you_mean(&name, known)
    ))
}

/// An option as it was written (a stray value is shown as it is).
fn option_name(arg: &Arg) -> String {
    match arg {
        Arg::Short(c) => format!("-{c}"),
        Arg::Long(name) => format!("--{name}"),
        Arg::Value(v) => v.to_string_lossy().into_owned(),
    }
}

/// lexopt's own messages name the option and what was wrong (`missing argument for option
/// '--at'`, invalid Unicode); they are usage mistakes like ours.
pub(crate) fn usage(e: lexopt::Error) -> Failure {
    match e {
        lexopt::Error::MissingValue {
            option: Some(option),
        } => Failure::Usage(format!("option `{option}` needs a value")),
        other => Failure::Usage(other.to_string()),
    }
}

pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    rules::suggest(word, candidates.iter().copied())
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}
