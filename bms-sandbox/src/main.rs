//! `bms-sandbox [--port 9100] [--casing pascal|camel] [--latency-ms N]`: the fake BMS for the
//! local demo, serving until Ctrl-C or SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use bms_sandbox::{CREDENTIALS, Casing, Options, Sandbox};

const USAGE: &str = "usage: bms-sandbox [--port 9100] [--casing pascal|camel] [--latency-ms N]";

#[derive(Debug, PartialEq)]
struct Args {
    port: u16,
    casing: Casing,
    latency: Duration,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        port: 9100,
        casing: Casing::Pascal,
        latency: Duration::ZERO,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        if !matches!(flag.as_str(), "--port" | "--casing" | "--latency-ms") {
            return Err(format!("unknown flag '{arg}'"));
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value"))?;
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
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
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
        parse_args(args.iter().map(|s| s.to_string()))
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
}
