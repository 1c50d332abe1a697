//! `button-rules publish --parameter NAME FILE`: the document checked by the function's own
//! checker, packed when it would not fit a standard parameter, and put as the parameter's new
//! version. A document with problems is never written: the function would refuse it anyway, and
//! the version in force would hide the mistake until someone read `/health`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterTier;
use kaseya_button::net::{self, Net};
use kaseya_button::rules::{self, Rules};
use kaseya_button::rules_store::ssm::{self, ADVANCED_LIMIT, ParameterError, STANDARD_LIMIT};

use crate::{Failure, display_name, read_input};

/// Parameter Store answers in well under a second; this only bounds a hung connection.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What goes into the parameter, and the tier it needs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Value {
    pub text: String,
    pub packed: bool,
    pub tier: ParameterTier,
}

pub(crate) fn publish(parameter: &str, path: &str) -> Result<ExitCode, Failure> {
    let text = read_input(path, "rules document")?;
    let name = display_name(path);
    let parsed = Rules::parse(&text);
    let ok = parsed.is_ok();
    let mut err = std::io::stderr().lock();
    for line in rules::check_report(name, &parsed) {
        let _ = writeln!(err, "{line}");
    }
    if !ok {
        let _ = writeln!(
            err,
            "button-rules: nothing was published: `{parameter}` keeps its current version"
        );
        return Ok(ExitCode::FAILURE);
    }
    let value = match value(&text) {
        Ok(value) => value,
        Err(why) => {
            let _ = writeln!(err, "error: {why}; nothing was published");
            return Ok(ExitCode::FAILURE);
        }
    };
    let _ = writeln!(err, "{}", describe(&value));
    let version = put(parameter, &value)?;
    println!(
        "published version {version} of `{parameter}` ({} tier); functions reading it take it \
         within BUTTON_RULES_TTL_SECONDS (5 minutes by default)",
        tier_name(&value.tier)
    );
    Ok(ExitCode::SUCCESS)
}

/// The document minified, and packed only when that is what fits a standard (free) parameter;
/// an advanced one (charged monthly) only when even packed it does not.
pub(crate) fn value(text: &str) -> Result<Value, String> {
    let json = rules::unpack(text)?;
    let minified = rules::minify(&json).ok_or("the document is not valid JSON")?;
    if minified.len() <= STANDARD_LIMIT {
        return Ok(Value {
            text: minified,
            packed: false,
            tier: ParameterTier::Standard,
        });
    }
    let packed = rules::pack(&minified);
    let tier = match packed.len() {
        n if n <= STANDARD_LIMIT => ParameterTier::Standard,
        n if n <= ADVANCED_LIMIT => ParameterTier::Advanced,
        n => {
            return Err(format!(
                "the document is {n} bytes even packed, over the {ADVANCED_LIMIT} bytes of an \
                 advanced parameter: remove rules, or shorten expressions and messages"
            ));
        }
    };
    Ok(Value {
        text: packed,
        packed: true,
        tier,
    })
}

fn describe(value: &Value) -> String {
    let form = if value.packed {
        "packed (`gz:` + base64 of the gzipped JSON)"
    } else {
        "minified"
    };
    let tier = match value.tier {
        ParameterTier::Advanced => format!(
            "an advanced parameter (over the {STANDARD_LIMIT} bytes of a standard one even \
             packed; advanced parameters are charged monthly)"
        ),
        _ => format!("a standard parameter (at most {STANDARD_LIMIT} bytes)"),
    };
    format!("size: {} bytes {form}: {tier}", value.text.len())
}

fn tier_name(tier: &ParameterTier) -> &'static str {
    match tier {
        ParameterTier::Advanced => "advanced",
        _ => "standard",
    }
}

/// The put, with region and credentials from the environment as the function reads them.
fn put(parameter: &str, value: &Value) -> Result<i64, Failure> {
    if net::aws::var("AWS_REGION")
        .or_else(|| net::aws::var("AWS_DEFAULT_REGION"))
        .is_none()
    {
        return Err(Failure::Io(
            "AWS_REGION is not set: set it to the region of the function's stack".into(),
        ));
    }
    if net::aws::var("AWS_ACCESS_KEY_ID").is_none() {
        return Err(Failure::Io(
            "no AWS credentials in the environment: export them first, e.g. `eval \"$(aws \
             configure export-credentials --format env)\"`"
                .into(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Io(format!("cannot start the AWS client: {e}")))?;
    runtime.block_on(async {
        let net = Net::new(&[]).map_err(Failure::Io)?;
        let client = ssm::client(&net::aws::sdk_config(&net), TIMEOUT);
        let put = ssm::put(&client, parameter, &value.text, value.tier.clone()).await;
        match put {
            // An advanced parameter cannot go back to the standard tier: it stays advanced.
            Err(ParameterError::Refused { reason, .. })
                if value.tier == ParameterTier::Standard
                    && reason.to_ascii_lowercase().contains("advanced") =>
            {
                eprintln!("the parameter is already an advanced one, and stays one");
                ssm::put(&client, parameter, &value.text, ParameterTier::Advanced).await
            }
            other => other,
        }
        .map_err(|e| Failure::Io(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_packed_only_when_it_would_not_fit_a_standard_parameter() {
        let small = r#"{ "defaults": { "queue": "Service Desk" } }"#;
        let v = value(small).unwrap();
        assert_eq!(v.text, r#"{"defaults":{"queue":"Service Desk"}}"#);
        assert!(!v.packed);
        assert_eq!(v.tier, ParameterTier::Standard);

        let rules: Vec<String> = (0..120)
            .map(|i| format!(r#"{{"when": "name == 'User {i}'", "set": {{"queue": "Q"}}}}"#))
            .collect();
        let large = format!(r#"{{"rules": [{}]}}"#, rules.join(","));
        assert!(large.len() > STANDARD_LIMIT);
        let v = value(&large).unwrap();
        assert!(
            v.packed && v.text.starts_with(rules::PACKED_PREFIX),
            "{v:?}"
        );
        assert_eq!(v.tier, ParameterTier::Standard);
        assert_eq!(
            rules::unpack(&v.text).unwrap(),
            rules::minify(&large).unwrap()
        );
    }

    #[test]
    fn a_document_too_large_even_packed_is_refused() {
        // Incompressible: every rule's message is different random-looking text.
        let mut seed = 7u64;
        let mut noise = || {
            (0..40)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'a' + (seed >> 59) as u8 % 26)
                })
                .collect::<String>()
        };
        let rules: Vec<String> = (0..400)
            .map(|_| format!(r#"{{"when": "true", "reject": "{}"}}"#, noise()))
            .collect();
        let huge = format!(r#"{{"rules": [{}]}}"#, rules.join(","));
        let e = value(&huge).unwrap_err();
        assert!(e.contains("even packed"), "{e}");
    }
}
