//! The small reader every setting goes through: a blank value counts as unset, and every
//! problem is collected, so that one configuration error names them all.

use std::time::Duration;

use super::ConfigError;

/// Reads variables through a lookup, noting every problem instead of stopping at the first. A
/// read that fails gives `None` and leaves its problem behind; [`Vars::finish`] reports them.
pub(super) struct Vars<F> {
    get: F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub(super) fn new(get: F) -> Self {
        Vars {
            get,
            problems: Vec::new(),
        }
    }

    /// The value as set; a blank one counts as unset.
    pub(super) fn value(&self, name: &str) -> Option<String> {
        (self.get)(name).filter(|v| !v.trim().is_empty())
    }

    /// The value trimmed, or `default` when unset.
    pub(super) fn text(&self, name: &str, default: &str) -> String {
        self.value(name)
            .map_or_else(|| default.to_string(), |v| v.trim().to_string())
    }

    pub(super) fn problem(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// The value of `result`, or `None` with its error kept as a problem.
    pub(super) fn checked<T>(&mut self, result: Result<T, String>) -> Option<T> {
        result.map_err(|p| self.problem(p)).ok()
    }

    /// One of the words of `choices`, in any case; the first is the default. `advice` says
    /// what each word means, for when the value is none of them.
    pub(super) fn switch<T: Copy>(
        &mut self,
        name: &str,
        choices: &[(&str, T)],
        advice: &str,
    ) -> Option<T> {
        let Some(value) = self.value(name) else {
            return choices.first().map(|&(_, default)| default);
        };
        let value = value.trim().to_ascii_lowercase();
        let chosen = choices.iter().find(|(word, _)| *word == value);
        if chosen.is_none() {
            self.problem(format!("{name} is `{value}`: {advice}"));
        }
        chosen.map(|&(_, v)| v)
    }

    /// A whole number of at least `min`.
    pub(super) fn number(&mut self, name: &str, default: i64, min: i64) -> Option<i64> {
        let Some(raw) = self.value(name) else {
            return Some(default);
        };
        match raw.trim().parse::<i64>() {
            Ok(n) if n >= min => Some(n),
            _ => {
                self.problem(format!(
                    "{name} is `{raw}`: it must be a whole number of at least {min}"
                ));
                None
            }
        }
    }

    /// A whole number of seconds, at least `min`.
    pub(super) fn seconds(&mut self, name: &str, default: Duration, min: u64) -> Option<Duration> {
        self.whole(name, default.as_secs(), min)
            .map(Duration::from_secs)
    }

    /// A whole number of milliseconds, at least `min`.
    pub(super) fn millis(&mut self, name: &str, default: Duration, min: u64) -> Option<Duration> {
        let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        self.whole(name, default, min).map(Duration::from_millis)
    }

    pub(super) fn whole(&mut self, name: &str, default: u64, min: u64) -> Option<u64> {
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.number(name, as_i64(default), as_i64(min))
            .map(i64::unsigned_abs)
    }

    /// `config` when nothing was wrong, else every problem found.
    pub(super) fn finish<T>(self, config: Option<T>) -> Result<T, ConfigError> {
        match config {
            Some(config) if self.problems.is_empty() => Ok(config),
            _ => Err(ConfigError {
                problems: self.problems,
            }),
        }
    }
}
