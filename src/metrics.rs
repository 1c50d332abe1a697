//! One CloudWatch Embedded Metric Format line per press and per replayed record: a JSON object
//! on stdout that CloudWatch Logs turns into metrics in the `KaseyaButton` namespace, so that an
//! MSP can graph and alarm without a log query (`BUTTON_METRICS=off` leaves them out).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const NAMESPACE: &str = "KaseyaButton";

/// What one press (or one replayed record) did. Every metric is written on every line, zeros
/// included, so that a sum over a period is a count and an average a rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// A ticket created in BMS.
    pub filed: u64,
    /// Parked on the queue (answered 202).
    pub parked: u64,
    /// A replayed record filed, or found filed by an earlier try.
    pub replayed: u64,
    /// A repeat answered with (or a replay matched to) the ticket an earlier try filed.
    pub duplicates: u64,
    /// Filed under the catch-all contact.
    pub unknown_users: u64,
    /// Names BMS did not know, replaced by defaults.
    pub fallbacks: u64,
    /// Wall time spent on the press, nearly all of it waiting for BMS.
    pub bms_ms: u64,
}

/// Name, unit and value of each metric.
fn metrics(c: &Counts) -> [(&'static str, &'static str, u64); 7] {
    [
        ("TicketsFiled", "Count", c.filed),
        ("PressesParked", "Count", c.parked),
        ("PressesReplayed", "Count", c.replayed),
        ("DuplicatesSuppressed", "Count", c.duplicates),
        ("UnknownUsers", "Count", c.unknown_users),
        ("Fallbacks", "Count", c.fallbacks),
        ("BmsTime", "Milliseconds", c.bms_ms),
    ]
}

impl Counts {
    /// The EMF document, timestamped `at`. No dimensions: one series per metric, whichever
    /// function wrote it.
    pub fn line(&self, at: DateTime<Utc>) -> String {
        let all = metrics(self);
        let definitions: Vec<Value> = all
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
            .collect();
        let mut doc = json!({
            "_aws": {
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[]],
                    "Metrics": definitions,
                }],
            },
        });
        for (name, _, value) in all {
            doc[name] = value.into();
        }
        doc.to_string()
    }

    /// Write the line to stdout, where Lambda sends it to CloudWatch Logs.
    pub fn emit(&self) {
        println!("{}", self.line(Utc::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_emf_document_with_every_metric() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T22:15:00Z")
            .unwrap()
            .to_utc();
        let counts = Counts {
            filed: 1,
            unknown_users: 1,
            bms_ms: 84,
            ..Counts::default()
        };
        let line = counts.line(at);
        assert!(!line.contains('\n'), "one line: {line}");
        let doc: Value = serde_json::from_str(&line).unwrap();
        let meta = &doc["_aws"];
        assert_eq!(meta["Timestamp"], 1_795_731_300_000_i64);
        let directive = &meta["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "KaseyaButton");
        assert_eq!(directive["Dimensions"], json!([[]]));
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 7);
        for name in names {
            assert!(doc[name].is_u64(), "{name} has a value: {line}");
        }
        assert_eq!(doc["TicketsFiled"], 1);
        assert_eq!(doc["PressesParked"], 0);
        assert_eq!(doc["UnknownUsers"], 1);
        assert_eq!(doc["BmsTime"], 84);
        assert_eq!(directive["Metrics"][6]["Unit"], "Milliseconds");
    }
}
