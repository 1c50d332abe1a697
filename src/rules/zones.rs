//! Time zones given to `getHours('…')` and friends, checked when the rules are loaded.
//!
//! cel reads a zone as cel-go does: an IANA name (through chrono-tz, the table cel itself uses,
//! so what passes here passes at run time), or a `[+-]HH:MM` offset when there is a colon. A
//! zone it cannot read fails the rule on every press, so a literal one is an error here.

use chrono_tz::{TZ_VARIANTS, Tz};

/// Why `zone` cannot be read, and the IANA names it may stand for; `None` when it can.
pub(super) fn zone_problem(zone: &str) -> Option<String> {
    if let Some((hours, minutes)) = zone.split_once(':') {
        let fits = |s: &str, max: i32| s.parse::<i32>().is_ok_and(|n| (-max..=max).contains(&n));
        let minutes_fit = minutes.parse::<i32>().is_ok_and(|m| (0..=59).contains(&m));
        return (!fits(hours, 23) || !minutes_fit).then(|| {
            format!(
                "`{zone}` is not a time zone offset: write it as `-06:00` or `+05:30` (hours \
                 -23 to 23, minutes 00 to 59), or use an IANA name such as `America/Chicago`"
            )
        });
    }
    // An empty zone is UTC, as in cel-go.
    if zone.is_empty() || zone.parse::<Tz>().is_ok() {
        return None;
    }
    let meant = may_mean(zone);
    let hint = match meant.as_slice() {
        [] => "use an IANA name such as `America/Chicago` or `Europe/London`, or an offset such \
               as `-06:00`"
            .to_string(),
        [only] => format!("did you mean `{only}`?"),
        [first @ .., last] => format!(
            "did you mean {} or `{last}`?",
            first
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some(format!(
        "`{zone}` is not a time zone: zones are IANA names (the tz database's, such as \
         `America/New_York`) or offsets such as `-05:00`; {hint}"
    ))
}

/// At most four IANA names `word` may stand for: what people call a zone (`Central`, `PST`),
/// then zones whose city or region is `word`, then zones whose name holds it, then names
/// spelt alike.
fn may_mean(word: &str) -> Vec<&'static str> {
    let lower = word.trim().to_ascii_lowercase().replace(' ', "_");
    let mut meant: Vec<&'static str> = Vec::new();
    let mut add = |name: &'static str| {
        if meant.len() < 4 && !meant.contains(&name) {
            meant.push(name);
        }
    };
    if let Some(name) = common_name(&lower) {
        add(name);
    }
    let names = || TZ_VARIANTS.iter().map(|tz| tz.name());
    for name in names() {
        let last = name.rsplit('/').next().unwrap_or(name);
        if last.eq_ignore_ascii_case(&lower) {
            add(name);
        }
    }
    if lower.len() >= 4 {
        for name in names() {
            if name.to_ascii_lowercase().contains(&lower) {
                add(name);
            }
        }
    }
    if let Some(name) = super::did_you_mean::suggest(word, names())
        && let Some(known) = names().find(|n| *n == name)
    {
        add(known);
    }
    meant
}

/// The zone people in the US, Europe and Australia usually mean by an everyday name or an
/// abbreviation that is not itself a tz database name.
fn common_name(lower: &str) -> Option<&'static str> {
    Some(match lower {
        "central" | "central_time" | "cst" | "cdt" | "ct" | "us_central" => "America/Chicago",
        "eastern" | "eastern_time" | "edt" | "et" | "us_eastern" => "America/New_York",
        "mountain" | "mountain_time" | "mdt" | "mt" => "America/Denver",
        "pacific" | "pacific_time" | "pst" | "pdt" | "pt" => "America/Los_Angeles",
        "arizona" => "America/Phoenix",
        "alaska" | "akst" | "akdt" => "America/Anchorage",
        "hawaii" | "hst" => "Pacific/Honolulu",
        "atlantic" | "ast" | "adt" => "America/Halifax",
        "bst" | "uk" | "british" => "Europe/London",
        "cest" | "central_european" => "Europe/Berlin",
        "ist" | "india" => "Asia/Kolkata",
        "aest" | "aedt" => "Australia/Sydney",
        "awst" => "Australia/Perth",
        "nzst" | "nzdt" => "Pacific/Auckland",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_offsets_cel_reads_pass() {
        for zone in [
            "America/Chicago",
            "Europe/London",
            "UTC",
            "US/Central",
            "",
            "-06:00",
            "+05:30",
            "05:30",
        ] {
            assert_eq!(zone_problem(zone), None, "{zone}");
        }
    }

    #[test]
    fn an_everyday_name_lists_the_iana_names_it_may_mean() {
        let p = zone_problem("Central").unwrap();
        assert!(
            p.contains("did you mean `America/Chicago`, `Canada/Central` or `US/Central`?"),
            "{p}"
        );
        assert!(
            zone_problem("Chicago")
                .unwrap()
                .contains("`America/Chicago`")
        );
        assert!(
            zone_problem("America/Chicgo")
                .unwrap()
                .contains("did you mean `America/Chicago`?")
        );
        assert!(
            zone_problem("pst")
                .unwrap()
                .contains("`America/Los_Angeles`")
        );
        assert!(
            zone_problem("new york")
                .unwrap()
                .contains("`America/New_York`")
        );
    }

    #[test]
    fn bad_offsets_and_unknown_words_say_what_a_zone_looks_like() {
        assert!(zone_problem("24:00").unwrap().contains("hours -23 to 23"));
        assert!(zone_problem("+01:60").unwrap().contains("minutes 00 to 59"));
        let p = zone_problem("Mars/Base").unwrap();
        assert!(p.contains("IANA"), "{p}");
    }
}
