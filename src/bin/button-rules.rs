//! `button-rules`: check a `BUTTON_RULES` document, and try it on a button request, before
//! deploying it. Runs offline: no BMS, no AWS.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::ExitCode;

use kaseya_button::button::ButtonRequest;
use kaseya_button::context::Context;
use kaseya_button::rules::{self, Rules};
use serde_json::Value;

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
    button-rules --help

COMMANDS:
    check      Check the rules document. Prints every problem found (exit status 1), or a
               summary of the rules (exit status 0); then its size against Lambda's 4 KB
               (4096 bytes) limit for all of a function's environment variables together.
    preview    Run the rules on a button request as the Lambda would, without BMS: prints the
               variables before and after the rules, which rules matched, the runtime errors
               that would go into the ticket, and the rejection, if any.

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
    --at <TIME>    preview: when the button was pressed, in RFC 3339 (e.g.
                   2024-05-06T18:30:00Z); the default is now. For rules that use openDate.
    -h, --help     Print this help.
    -V, --version  Print the version.

EXIT STATUS:
    0  the rules are fine (check), or the preview ran
    1  the rules, or the request, have problems; or the rules are too large for Lambda
    2  wrong usage, or a file could not be read

The format of the rules is described in docs/rules.md.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
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

enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// A file could not be read.
    Io(String),
}

fn run(args: &[String]) -> Result<ExitCode, Failure> {
    let Some(command) = args.first() else {
        print!("{HELP}");
        return Ok(ExitCode::from(2));
    };
    let rest = &args[1..];
    match command.as_str() {
        "-h" | "--help" | "help" => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            println!("button-rules {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        "check" => check(rest),
        "preview" => preview(rest),
        other if other.ends_with(".json") || other == "-" => Err(Failure::Usage(format!(
            "`{other}` is not a command: to check it, run `button-rules check {other}`"
        ))),
        other if other.starts_with('-') => Err(Failure::Usage(format!(
            "unknown option `{other}` (options come after the command, e.g. `button-rules check --minify rules.json`)"
        ))),
        other => Err(Failure::Usage(format!(
            "unknown command `{other}`{}: the commands are `check` and `preview`",
            suggest(other, &["check", "preview", "help"])
        ))),
    }
}

/// Options and positional arguments of a command.
struct Parsed {
    flags: BTreeMap<&'static str, Option<String>>,
    positional: Vec<String>,
}

/// Split `args` into the options `known` declares (name, whether it takes a value) and
/// positional arguments. `-` is positional; `--` ends the options.
fn parse_args(
    command: &str,
    args: &[String],
    known: &[(&'static str, bool)],
) -> Result<Parsed, Failure> {
    let mut flags = BTreeMap::new();
    let mut positional = Vec::new();
    let mut it = args.iter();
    let mut options_done = false;
    while let Some(arg) = it.next() {
        if options_done || arg == "-" || !arg.starts_with('-') {
            positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            options_done = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            flags.insert("--help", None);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let Some(&(flag, takes_value)) = known.iter().find(|(k, _)| *k == name) else {
            let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
            let options = if names.is_empty() {
                format!("`{command}` takes no options")
            } else {
                format!("`{command}` takes `{}`", names.join("`, `"))
            };
            return Err(Failure::Usage(format!(
                "unknown option `{name}` for `{command}`{}: {options}",
                suggest(name, &names)
            )));
        };
        let value = if takes_value {
            match inline {
                Some(v) => Some(v),
                None => Some(
                    it.next()
                        .cloned()
                        .ok_or_else(|| Failure::Usage(format!("option `{flag}` needs a value")))?,
                ),
            }
        } else if inline.is_some() {
            return Err(Failure::Usage(format!("option `{flag}` takes no value")));
        } else {
            None
        };
        flags.insert(flag, value);
    }
    Ok(Parsed { flags, positional })
}

fn suggest(word: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
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

fn check(args: &[String]) -> Result<ExitCode, Failure> {
    let parsed = parse_args("check", args, &[("--minify", false), ("--pack", false)])?;
    if parsed.flags.contains_key("--help") {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    let path = match parsed.positional.as_slice() {
        [p] => p.as_str(),
        [] => {
            return Err(Failure::Usage(
                "`check` needs the rules file: `button-rules check rules.json` (or `-` for standard input)".into(),
            ));
        }
        [_, extra, ..] => {
            return Err(Failure::Usage(format!(
                "`check` takes one rules file; `{extra}` is one too many"
            )));
        }
    };
    let minify = parsed.flags.contains_key("--minify");
    let pack = parsed.flags.contains_key("--pack");
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

fn preview(args: &[String]) -> Result<ExitCode, Failure> {
    let parsed = parse_args("preview", args, &[("--at", true)])?;
    if parsed.flags.contains_key("--help") {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    let (rules_path, request_path) = match parsed.positional.as_slice() {
        [r, q] => (r.as_str(), q.as_str()),
        [_] | [] => {
            return Err(Failure::Usage(
                "`preview` needs the rules file and a request file: `button-rules preview rules.json request.json`".into(),
            ));
        }
        [_, _, extra, ..] => {
            return Err(Failure::Usage(format!(
                "`preview` takes a rules file and a request file; `{extra}` is one too many"
            )));
        }
    };
    if rules_path == "-" && request_path == "-" {
        return Err(Failure::Usage(
            "only one of the rules and the request can come from standard input (`-`)".into(),
        ));
    }
    let at = match parsed.flags.get("--at").cloned().flatten() {
        None => chrono::Utc::now(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
            .map_err(|e| {
                Failure::Usage(format!(
                    "`--at {t}` is not an RFC 3339 time ({e}): write it like 2024-05-06T18:30:00Z"
                ))
            })?
            .with_timezone(&chrono::Utc),
    };

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
    Ok(ExitCode::SUCCESS)
}

fn pretty(vars: &BTreeMap<String, Value>) -> String {
    serde_json::to_string_pretty(vars).unwrap_or_else(|e| format!("(cannot show: {e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_and_positionals_are_told_apart() {
        let p = parse_args(
            "preview",
            &args(&["--at", "2024-01-01T00:00:00Z", "r.json", "-"]),
            &[("--at", true)],
        )
        .ok()
        .unwrap();
        assert_eq!(p.positional, ["r.json", "-"]);
        assert_eq!(p.flags["--at"].as_deref(), Some("2024-01-01T00:00:00Z"));
        let p = parse_args("check", &args(&["--", "--odd.json"]), &[])
            .ok()
            .unwrap();
        assert_eq!(p.positional, ["--odd.json"]);
        let Err(Failure::Usage(msg)) =
            parse_args("check", &args(&["--minfy"]), &[("--minify", false)])
        else {
            panic!("accepted a misspelt option");
        };
        assert!(msg.contains("did you mean `--minify`?"), "{msg}");
        assert!(parse_args("preview", &args(&["--at"]), &[("--at", true)]).is_err());
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
}
