//! `button-rules`: check a `BUTTON_RULES` document, and try it on a button request, before
//! deploying it, offline (no BMS, no AWS); and publish it to the function's Parameter Store
//! parameter (`publish`, in `button-rules/publish.rs`).

#[path = "button-rules/args.rs"]
mod args;
#[path = "button-rules/publish.rs"]
mod publish;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::ExitCode;

use kaseya_button::button::ButtonRequest;
use kaseya_button::context::Context;
use kaseya_button::rules::{self, Rules};
use serde_json::Value;

use args::{Command, parse};

/// Lambda's limit for all environment variables of a function together, names and values.
const ENV_LIMIT: usize = 4096;
/// Below this many bytes left for the other variables, the size report warns.
const ENV_HEADROOM: usize = 1024;
const VAR_PREFIX: &str = "BUTTON_RULES=";

const HELP: &str = "\
button-rules: check a BUTTON_RULES document and try it on button requests before deploying it

USAGE:
    button-rules check [--minify | --pack] <RULES>
    button-rules preview [--at <TIME>] <RULES> <REQUEST>
    button-rules publish --parameter <NAME> <RULES>
    button-rules --help

COMMANDS:
    check      Check the rules document. Prints every problem found (exit status 1), or a
               summary of the rules (exit status 0); then its size against Lambda's 4 KB
               (4096 bytes) limit for all of a function's environment variables together.
    preview    Run the rules on a button request as the Lambda would, without BMS: prints the
               variables before and after the rules, which rules matched, the runtime errors
               that would go into the ticket, and the rejection, if any.
    publish    Check the rules document as `check` does and, when it has no problems, put
               it as the new version of the Parameter Store parameter <NAME>
               (BUTTON_RULES_PARAMETER): minified, or packed when it would not fit a
               standard parameter (4096 bytes); an advanced parameter (8192 bytes, charged
               monthly) only when even packed it does not. Prints the new version. Needs
               AWS_REGION and credentials in the environment, and ssm:PutParameter on it.
    help       Print this help, as --help does.

ARGUMENTS:
    <RULES>      The rules document (JSON): a file, or - for standard input.
    <REQUEST>    A button request body (JSON, as the button sends it): a file, or -.

OPTIONS:
    --minify       check: print the document minified (whitespace removed, key order kept) on
                   standard output, ready to paste as the value of BUTTON_RULES; the report
                   then goes to standard error.
    --pack         check: print the document packed (`gz:` + base64 of the gzipped, minified
                   JSON) on standard output, for documents too long for Lambda's 4 KB; the
                   report, with the sizes before and after, goes to standard error. A packed
                   document given as <RULES> is checked as what it unpacks to.
    --parameter <NAME>
                   publish: the name of the Parameter Store parameter (the stack's output
                   RulesParameter).
    --at <TIME>    preview: when the button was pressed, in RFC 3339 (e.g.
                   2024-05-06T18:30:00Z); the default is now. For rules that use openDate.
    -h, --help     Print this help.
    -V, --version  Print the version.

EXIT STATUS:
    0  the rules are fine (check), or the preview ran
    1  the rules, or the request, have problems; or the rules are too large for Lambda (or
       for a parameter); nothing was published
    2  wrong usage, or a file could not be read, or Parameter Store refused the put

The format of the rules is described in docs/rules.md.
";

/// The commands, as `--help` lists them; `help` prints the help too.
const COMMANDS: [&str; 4] = ["check", "preview", "publish", "help"];
/// The options of each command, as `--help` lists them.
const CHECK_OPTIONS: [&str; 2] = ["--minify", "--pack"];
const PREVIEW_OPTIONS: [&str; 1] = ["--at"];
const PUBLISH_OPTIONS: [&str; 1] = ["--parameter"];

fn main() -> ExitCode {
    let outcome = parse(std::env::args_os().skip(1)).and_then(|command| match command {
        Command::Help { asked } => {
            print!("{HELP}");
            // Nothing given at all is a usage mistake, even though the help is the answer.
            Ok(if asked {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Version => {
            println!("button-rules {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { path, minify, pack } => check(&path, minify, pack),
        Command::Preview { rules, request, at } => preview(&rules, &request, at),
        Command::Publish { parameter, path } => publish::publish(&parameter, &path),
    });
    match outcome {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("button-rules: {msg}");
            eprintln!("Run `button-rules --help` for usage.");
            ExitCode::from(2)
        }
        Err(Failure::Io(msg)) => {
            eprintln!("button-rules: {msg}");
            ExitCode::from(2)
        }
    }
}

#[derive(Debug)]
enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// A file could not be read.
    Io(String),
}

/// Read a file, or standard input for `-`.
fn read_input(path: &str, what: &str) -> Result<String, Failure> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Io(format!("cannot read the {what} from standard input: {e}")))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::NotFound => ": check the path",
                std::io::ErrorKind::InvalidData => ": the file must be UTF-8 text",
                _ => "",
            };
            Failure::Io(format!("cannot read the {what} `{path}`: {e}{hint}"))
        })?;
    }
    // Editors on Windows like to start files with a byte-order mark; JSON does not allow one.
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
}

fn display_name(path: &str) -> &str {
    if path == "-" { "<stdin>" } else { path }
}

fn check(path: &str, minify: bool, pack: bool) -> Result<ExitCode, Failure> {
    let text = read_input(path, "rules document")?;
    let name = display_name(path);

    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    // with --minify or --pack, standard output carries only the document to paste
    let mut report: Box<dyn Write> = if minify || pack {
        Box::new(stderr.lock())
    } else {
        Box::new(stdout.lock())
    };

    let parsed_rules = Rules::parse(&text);
    let mut ok = parsed_rules.is_ok();
    for line in rules::check_report(name, &parsed_rules) {
        let _ = writeln!(report, "{line}");
    }

    let packed = if pack || is_packed(&text) {
        let (fits, packed) = pack_report(&mut *report, &text);
        ok &= fits;
        packed
    } else {
        None
    };
    let minified = rules::minify(&text);
    if packed.is_none() {
        ok &= size_report(&mut *report, &text, minified.as_deref());
    }
    drop(report);
    if pack {
        match &packed {
            Some(p) => println!("{p}"),
            None => eprintln!("button-rules: {name} is not valid JSON, so it cannot be packed"),
        }
    }

    if minify {
        match &minified {
            Some(m) => println!("{m}"),
            None => eprintln!("button-rules: {name} is not valid JSON, so it cannot be minified"),
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Report the document's size against Lambda's limit; `false` when it is over the limit.
fn size_report(out: &mut dyn Write, text: &str, minified: Option<&str>) -> bool {
    let given = text.len();
    let Some(min) = minified else {
        let _ = writeln!(
            out,
            "size: {given} bytes as given (not valid JSON, so not minified)"
        );
        return true;
    };
    let used = VAR_PREFIX.len() + min.len();
    let _ = writeln!(
        out,
        "size: {given} bytes as given, {} bytes minified; as the variable `BUTTON_RULES=<minified>` it takes {used} of the {ENV_LIMIT} bytes Lambda allows for all environment variables together (names and values)",
        min.len()
    );
    if used > ENV_LIMIT {
        let _ = writeln!(
            out,
            "error: the rules are {} byte{} over Lambda's limit even when minified, and that leaves nothing for the other variables: remove rules, or shorten expressions and messages",
            used - ENV_LIMIT,
            if used - ENV_LIMIT == 1 { "" } else { "s" }
        );
        return false;
    }
    let left = ENV_LIMIT - used;
    if left < ENV_HEADROOM {
        let _ = writeln!(
            out,
            "warning: only {left} bytes are left for the other environment variables (KASEYA_SECRET_ID or KASEYA_CREDENTIALS, KASEYA_API_URL, BUTTON_AUTH, ...); keep at least about {ENV_HEADROOM}"
        );
    } else {
        let _ = writeln!(
            out,
            "{left} bytes are left for the other environment variables"
        );
    }
    if VAR_PREFIX.len() + given > ENV_LIMIT || (given > min.len() && left < ENV_HEADROOM) {
        let _ = writeln!(
            out,
            "note: paste the minified form (`button-rules check --minify <RULES>`) to save {} bytes",
            given - min.len()
        );
    }
    true
}

fn is_packed(text: &str) -> bool {
    text.trim_start().starts_with(rules::PACKED_PREFIX)
}

/// `--pack`, or a packed document given: its size unpacked and packed, against Lambda's limit;
/// `false` when even packed it does not fit. Gives the packed form to paste.
fn pack_report(out: &mut dyn Write, text: &str) -> (bool, Option<String>) {
    let Some(min) = rules::unpack(text)
        .ok()
        .and_then(|json| rules::minify(&json))
    else {
        let _ = writeln!(
            out,
            "size: {} bytes as given; not a valid JSON document, so it cannot be packed",
            text.len()
        );
        return (true, None);
    };
    let packed = rules::pack(&min);
    let used = VAR_PREFIX.len() + packed.len();
    let _ = writeln!(
        out,
        "size: {} bytes minified, {} bytes packed (`gz:` + base64 of the gzipped JSON); as the variable `BUTTON_RULES=<packed>` it takes {used} of the {ENV_LIMIT} bytes Lambda allows for all environment variables together (names and values)",
        min.len(),
        packed.len()
    );
    if used > ENV_LIMIT {
        let _ = writeln!(
            out,
            "error: the rules are {} bytes over Lambda's limit even when packed: remove rules, or shorten expressions and messages",
            used - ENV_LIMIT
        );
        return (false, Some(packed));
    }
    let _ = writeln!(
        out,
        "{} bytes are left for the other environment variables",
        ENV_LIMIT - used
    );
    (true, Some(packed))
}

fn preview(
    rules_path: &str,
    request_path: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<ExitCode, Failure> {
    let rules_text = read_input(rules_path, "rules document")?;
    let request_text = read_input(request_path, "request")?;

    let rules = match Rules::parse(&rules_text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "button-rules: {} has {} problem{}; fix them first (`button-rules check` lists them too):",
                display_name(rules_path),
                e.problems.len(),
                if e.problems.len() == 1 { "" } else { "s" }
            );
            for p in &e.problems {
                eprintln!("error: {p}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let request = match ButtonRequest::parse(Some("application/json"), request_text.as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "button-rules: the request {} would be refused (400) before any rule runs: {e}",
                display_name(request_path)
            );
            return Ok(ExitCode::FAILURE);
        }
    };

    let mut ctx = Context::new(&request, at);
    let before = ctx.clone();
    let outcome = rules.apply(&mut ctx);
    show(&rules, &before, &ctx, &outcome);
    Ok(ExitCode::SUCCESS)
}

/// What the rules did to a request's variables, and what the Lambda would do next.
fn show(rules: &Rules, before: &Context, ctx: &Context, outcome: &rules::Outcome) {
    println!("Variables before the rules:");
    println!("{}", pretty(before.vars()));
    println!();
    println!("Variables after defaults, `let` and the rules:");
    println!("{}", pretty(ctx.vars()));
    println!();

    println!("Changed:");
    let mut changed = false;
    for (name, after) in ctx.vars() {
        let was = before.get(name);
        if was != Some(after) {
            changed = true;
            let was = was.map_or("(not set)".to_string(), Value::to_string);
            let tag = if rules.lets().contains_key(name) {
                " (let, not sent to BMS)"
            } else {
                ""
            };
            println!("  {name}{tag}: {was} -> {after}");
        }
    }
    if !changed {
        println!("  nothing");
    }
    println!();

    if outcome.matched.is_empty() {
        println!("Matched rules: none");
    } else {
        let matched: Vec<String> = outcome
            .matched
            .iter()
            .map(|i| format!("rules[{i}]"))
            .collect();
        println!("Matched rules: {}", matched.join(", "));
    }
    if outcome.errors.is_empty() {
        println!("Runtime errors: none");
    } else {
        println!("Runtime errors (the ticket would list them under [Submission Errors]):");
        for e in &outcome.errors {
            println!("  {e}");
        }
    }
    match &outcome.rejected {
        Some(r) => println!(
            "Rejected by rules[{}]: the button would get 422 with the message {:?}, and no ticket would be created.",
            r.rule, r.message
        ),
        None => println!("Not rejected: a ticket would be created from the variables above."),
    }
}

fn pretty(vars: &BTreeMap<String, Value>) -> String {
    serde_json::to_string_pretty(vars).unwrap_or_else(|e| format!("(cannot show: {e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(a: &[&str]) -> Result<Command, Failure> {
        parse(a.iter().map(std::ffi::OsString::from))
    }

    fn usage_error(a: &[&str]) -> String {
        match parsed(a) {
            Err(Failure::Usage(msg)) => msg,
            other => panic!("{a:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn options_and_positionals_are_told_apart() {
        let at = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
        for line in [
            &["preview", "--at", "2024-01-01T00:00:00Z", "r.json", "-"][..],
            &["preview", "r.json", "--at=2024-01-01T00:00:00Z", "-"],
        ] {
            assert_eq!(
                parsed(line).unwrap(),
                Command::Preview {
                    rules: "r.json".into(),
                    request: "-".into(),
                    at: at.with_timezone(&chrono::Utc),
                }
            );
        }
        assert_eq!(
            parsed(&["check", "--", "--odd.json"]).unwrap(),
            Command::Check {
                path: "--odd.json".into(),
                minify: false,
                pack: false
            }
        );
        assert_eq!(
            parsed(&["check", "rules.json", "--minify"]).unwrap(),
            Command::Check {
                path: "rules.json".into(),
                minify: true,
                pack: false
            }
        );
        let msg = usage_error(&["check", "--minfy"]);
        assert!(msg.contains("did you mean `--minify`?"), "{msg}");
        assert_eq!(
            usage_error(&["preview", "--at"]),
            "option `--at` needs a value"
        );
        assert_eq!(
            usage_error(&["check", "--minify=yes", "r.json"]),
            "option `--minify` takes no value"
        );
        let msg = usage_error(&["chek", "r.json"]);
        assert!(msg.contains("did you mean `check`?"), "{msg}");
        let msg = usage_error(&["--minify", "check"]);
        assert!(msg.contains("options come after the command"), "{msg}");
        let msg = usage_error(&["rules.json"]);
        assert!(msg.contains("run `button-rules check rules.json`"), "{msg}");
    }

    #[test]
    fn help_and_version_wherever_asked() {
        assert_eq!(parsed(&[]).unwrap(), Command::Help { asked: false });
        for line in [
            &["--help"][..],
            &["-h"],
            &["help"],
            &["check", "--help"],
            &["preview", "-h", "r.json"],
        ] {
            assert_eq!(
                parsed(line).unwrap(),
                Command::Help { asked: true },
                "{line:?}"
            );
        }
        assert_eq!(parsed(&["-V"]).unwrap(), Command::Version);
        assert_eq!(parsed(&["--version"]).unwrap(), Command::Version);
    }

    #[test]
    fn publish_needs_a_parameter_and_one_file() {
        assert_eq!(
            parsed(&["publish", "--parameter", "/b/rules", "r.json"]).unwrap(),
            Command::Publish {
                parameter: "/b/rules".into(),
                path: "r.json".into()
            }
        );
        for (line, says) in [
            (&["publish", "r.json"][..], "needs the parameter's name"),
            (
                &["publish", "--parameter", "/b/rules"][..],
                "needs the rules file",
            ),
            (
                &["publish", "--parameter", "/b/rules", "a", "b"][..],
                "`b` is one too many",
            ),
            (
                &["publish", "--paramter", "/b/rules"][..],
                "did you mean `--parameter`?",
            ),
        ] {
            let Err(Failure::Usage(e)) = parsed(line) else {
                panic!("{line:?} is a usage mistake");
            };
            assert!(e.contains(says), "{line:?}: {e}");
        }
    }

    #[test]
    fn the_help_lists_every_command_and_option() {
        let options = CHECK_OPTIONS
            .iter()
            .chain(&PREVIEW_OPTIONS)
            .chain(&PUBLISH_OPTIONS)
            .chain(&["-h", "--help", "-V", "--version"]);
        for word in COMMANDS.iter().chain(options) {
            assert!(
                HELP.lines()
                    .any(|l| l.split([' ', ',']).any(|w| w == *word)),
                "`{word}` is missing from the help"
            );
        }
        // and every option the help names is one the commands take
        let documented = HELP
            .split([' ', ',', '\n', '[', ']'])
            .filter(|w| {
                w.trim_start_matches('-')
                    .starts_with(|c: char| c.is_ascii_alphabetic())
            })
            .filter(|w| w.starts_with('-'));
        for option in documented {
            let line: &[&str] = match option {
                "--minify" | "--pack" => &["check", option, "r.json"],
                "--parameter" => &["publish", option, "/button/rules", "r.json"],
                "--at" => &[
                    "preview",
                    option,
                    "2024-01-01T00:00:00Z",
                    "r.json",
                    "q.json",
                ],
                _ => &[option],
            };
            assert!(
                parsed(line).is_ok(),
                "`{option}` is in the help but not taken"
            );
        }
    }

    fn report(text: &str) -> (bool, String) {
        let mut out = Vec::new();
        let ok = size_report(&mut out, text, rules::minify(text).as_deref());
        (ok, String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_size_report_counts_the_variable_name_against_4096_bytes() {
        let (ok, text) = report("{ \"rules\": [] }");
        assert!(ok);
        assert!(
            text.contains("15 bytes as given, 12 bytes minified"),
            "{text}"
        );
        assert!(text.contains("takes 25 of the 4096 bytes"), "{text}");
        assert!(text.contains("4071 bytes are left"), "{text}");

        let fits = format!("{{\"x\":\"{}\"}}", "a".repeat(3500));
        let (ok, text) = report(&fits);
        assert!(ok);
        assert!(text.contains("warning: only"), "{text}");

        let exact = format!("{{\"x\":\"{}\"}}", "a".repeat(4096 - 13 - 8));
        assert!(report(&exact).0, "exactly 4096 bytes fit");
        let over = format!("{{\"x\":\"{}\"}}", "a".repeat(4096 - 13 - 7));
        let (ok, text) = report(&over);
        assert!(!ok);
        assert!(text.contains("1 byte over"), "{text}");
    }

    #[test]
    fn warnings_come_after_the_errors_and_never_fail_the_check() {
        let check = |doc: &str| {
            let parsed = Rules::parse(doc);
            let lines = rules::check_report("rules.json", &parsed);
            (parsed.is_ok(), lines.join("\n"))
        };
        let (ok, text) = check(
            r#"{"defaults": {"queue": "Service Desk"},
                "rules": [{"when": "timestamp(openDate).getHours() >= 17",
                           "set": {"title": "'[After hours] ' + title"}}]}"#,
        );
        assert!(ok, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("OK: 1 rule"), "{text}");
        assert!(
            lines[1].starts_with("warning: rules.json: rules[0].when `")
                && lines[1].contains("`timestamp(openDate).getHours()` counts in UTC")
                && lines[1].contains("getHours('America/Chicago')"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("warning: rules.json: rules[0] (when `timestamp(openDate).getHours() >= 17`): set.title: `'[After hours] ' + title` is set as this very text")
                && lines[2].contains("did you mean `compute`?"),
            "{text}"
        );

        let (ok, text) = check(
            r#"{"rules": [{"when": "timestamp(openDate).getHours('Central') >= 17",
                           "set": {"queue": "queue"}}, {"when": "priorty == 'x'", "stop": true}]}"#,
        );
        assert!(!ok, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "rules.json: 2 problems found:", "{text}");
        assert!(
            lines[1].starts_with("error: ") && lines[1].contains("`Central` is not a time zone"),
            "{text}"
        );
        assert!(lines[2].contains("did you mean `priority`?"), "{text}");
        assert!(
            lines[3].starts_with("warning: rules.json: rules[0]")
                && lines[3].contains("set.queue: `queue` is set as this very text"),
            "{text}"
        );
        assert_eq!(lines.len(), 4, "{text}");
    }
}
