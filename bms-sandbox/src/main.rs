//! `bms-sandbox [--port 9100] [--casing pascal|camel] [--latency-ms N]`: the fake BMS for the
//! local demo, serving until Ctrl-C or SIGTERM.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use bms_sandbox::{CREDENTIALS, Casing, Options, Sandbox};
use lexopt::{Arg, ValueExt};

const USAGE: &str = "usage: bms-sandbox [--port 9100] [--casing pascal|camel] [--latency-ms N]";

const HELP: &str = "\
bms-sandbox: a fake Kaseya BMS REST API v2 on 127.0.0.1, for the local demo and the tests.
Prints BMS_SANDBOX_URL and KASEYA_CREDENTIALS, then serves until Ctrl-C or SIGTERM.

usage: bms-sandbox [--port 9100] [--casing pascal|camel] [--latency-ms N]

OPTIONS:
    --port <PORT>          The port to listen on (default 9100; 0 picks a free one).
    --casing <CASING>      The casing of the JSON field names BMS answers with: pascal, as
                           Kaseya's documentation writes them (default), or camel, as some
                           tenants answer.
    --latency-ms <N>       Wait this many milliseconds before every answer (default 0).
    -h, --help             Print this help.
";

#[derive(Debug, PartialEq)]
struct Args {
    port: u16,
    casing: Casing,
    latency: Duration,
}

/// The options, each as `--flag value` or `--flag=value`; `None` when help was asked for.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        port: 9100,
        casing: Casing::Pascal,
        latency: Duration::ZERO,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        let flag = match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(None),
            Arg::Long(flag @ ("port" | "casing" | "latency-ms")) => format!("--{flag}"),
            Arg::Long(other) => return Err(format!("unknown flag '--{other}'")),
            Arg::Short(c) => return Err(format!("unknown flag '-{c}'")),
            Arg::Value(v) => return Err(format!("unknown flag '{}'", v.to_string_lossy())),
        };
        let value = parser
            .value()
            .map_err(|_| format!("{flag} needs a value"))?
            .string()
            .map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--port" => {
                parsed.port = value
                    .parse()
                    .map_err(|_| format!("--port: '{value}' is not a port number"))?;
            }
            "--casing" => {
                parsed.casing = match value.to_ascii_lowercase().as_str() {
                    "pascal" => Casing::Pascal,
                    "camel" => Casing::Camel,
                    _ => {
                        return Err(format!(
                            "--casing: '{value}' is neither 'pascal' nor 'camel'"
                        ));
                    }
                };
            }
            _ => {
                let ms: u64 = value.parse().map_err(|_| {
                    format!("--latency-ms: '{value}' is not a number of milliseconds")
                })?;
                parsed.latency = Duration::from_millis(ms);
            }
        }
    }
    Ok(Some(parsed))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bms-sandbox: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let options = Options {
        casing: args.casing,
        latency: args.latency,
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
        log_calls: true,
        ..Options::default()
    };
    let sandbox = match Sandbox::try_start_with(options).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("bms-sandbox: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    println!("BMS_SANDBOX_URL={}", sandbox.url());
    println!("KASEYA_CREDENTIALS={CREDENTIALS}");
    wait_for_signal().await;
    eprintln!("bms-sandbox: stopping");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(
            parse(&[]),
            Ok(Some(Args {
                port: 9100,
                casing: Casing::Pascal,
                latency: Duration::ZERO
            }))
        );
        assert_eq!(
            parse(&["--port", "9200", "--casing=camel", "--latency-ms", "40"]),
            Ok(Some(Args {
                port: 9200,
                casing: Casing::Camel,
                latency: Duration::from_millis(40)
            }))
        );
        assert_eq!(parse(&["--help"]), Ok(None));
    }

    #[test]
    fn bad_flags_are_explained() {
        assert_eq!(
            parse(&["--prot", "1"]),
            Err("unknown flag '--prot'".to_owned())
        );
        assert_eq!(parse(&["--port"]), Err("--port needs a value".to_owned()));
        assert_eq!(
            parse(&["--port", "99999"]),
            Err("--port: '99999' is not a port number".to_owned())
        );
        assert_eq!(
            parse(&["--casing", "snake"]),
            Err("--casing: 'snake' is neither 'pascal' nor 'camel'".to_owned())
        );
    }

    #[test]
    fn the_help_lists_every_option() {
        let taken = [
            ("--port", "9200"),
            ("--casing", "camel"),
            ("--latency-ms", "40"),
        ];
        for (flag, value) in taken {
            assert!(
                HELP.contains(&format!("    {flag} <")),
                "{flag} is missing from the help"
            );
            assert!(
                USAGE.contains(flag),
                "{flag} is missing from the usage line"
            );
            let set = parse(&[flag, value]).unwrap().unwrap();
            assert_ne!(Some(set), parse(&[]).unwrap(), "{flag} changes nothing");
        }
        assert!(HELP.contains("-h, --help"));
        assert_eq!(parse(&["-h"]), Ok(None));
        // and every option the help names is one of them
        for word in HELP.split([' ', ',', '\n', '[', ']']) {
            if word.starts_with("--") {
                assert!(
                    word == "--help" || taken.iter().any(|(flag, _)| *flag == word),
                    "{word} is in the help but not taken"
                );
            }
        }
    }
}
