//! Query-string parameters bound the way ASP.NET binds them: names case-insensitive, empty
//! values absent, a value that does not convert is a validation error naming the parameter.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::envelope::Reply;

/// Page size when the client sends none; the real default is undocumented.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 50;

/// An id in the path (`{ticketId}`, `{accountId}`), bound as ASP.NET binds an int32: anything
/// else is a validation error naming the parameter.
pub(crate) fn path_id(name: &str, raw: &str) -> Result<i64, Reply> {
    raw.parse::<i32>()
        .map(i64::from)
        .map_err(|_| Reply::invalid(vec![format!("{name}: the value '{raw}' is not valid")]))
}

pub(crate) struct Params {
    pairs: Vec<(String, String)>,
    pub errors: Vec<String>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params {
            pairs,
            errors: Vec::new(),
        }
    }

    /// Every non-empty value of a repeated parameter (`Filter.Ids=1&Filter.Ids=2`).
    pub fn all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.pairs
            .iter()
            .filter(move |(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A scalar binds the first value, as ASP.NET does.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.all(name).next()
    }

    /// A case-insensitive "contains" filter; absent means "match everything".
    pub fn contains(&self, name: &str, haystack: Option<&str>) -> bool {
        match self.text(name) {
            None => true,
            Some(needle) => {
                haystack.is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
            }
        }
    }

    pub fn int(&mut self, name: &str) -> Option<i64> {
        let raw = self.text(name)?.to_owned();
        self.convert(name, &raw, raw.trim().parse::<i32>().ok().map(i64::from))
    }

    pub fn ints(&mut self, name: &str) -> Vec<i64> {
        let raws: Vec<String> = self.all(name).map(str::to_owned).collect();
        raws.iter()
            .filter_map(|raw| {
                self.convert(name, raw, raw.trim().parse::<i32>().ok().map(i64::from))
            })
            .collect()
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        let raw = self.text(name)?.to_owned();
        let value = match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        self.convert(name, &raw, value)
    }

    /// Lenient like .NET's `DateTime` binding; a value without an offset is taken as UTC.
    pub fn date_time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let raw = self.text(name)?.to_owned();
        let s = raw.trim();
        let value = DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|n| n.and_utc())
            })
            .or_else(|| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|n| n.and_utc())
            });
        self.convert(name, &raw, value)
    }

    fn convert<T>(&mut self, name: &str, raw: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.errors
                .push(format!("{name}: the value '{raw}' is not valid"));
        }
        value
    }

    /// The page of `items` the request asks for, or the validation errors of its parameters.
    pub fn page(mut self, items: Vec<Value>) -> Reply {
        let page = self.paginate(items);
        if !self.errors.is_empty() {
            return Reply::invalid(self.errors);
        }
        Reply::ok(Value::Array(page))
    }

    /// `PageSize` and `PageNumber` (from 1); nonsense values fall back to the first page.
    pub fn paginate(&mut self, items: Vec<Value>) -> Vec<Value> {
        let size = self
            .int("PageSize")
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_PAGE_SIZE);
        let number = self
            .int("PageNumber")
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(1);
        items
            .into_iter()
            .skip(size.saturating_mul(number - 1))
            .take(size)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(q: &[(&str, &str)]) -> Params {
        Params::new(
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn names_are_case_insensitive_and_empty_is_absent() {
        let mut p = params(&[("filter.isactive", "TRUE"), ("Filter.EmailAddress", "")]);
        assert_eq!(p.bool("Filter.IsActive"), Some(true));
        assert_eq!(p.text("Filter.EmailAddress"), None);
        assert!(p.errors.is_empty());
    }

    #[test]
    fn bad_values_are_errors() {
        let mut p = params(&[("PageSize", "ten"), ("Filter.IsActive", "yes")]);
        assert_eq!(p.int("PageSize"), None);
        assert_eq!(p.bool("Filter.IsActive"), None);
        assert_eq!(
            p.errors,
            [
                "PageSize: the value 'ten' is not valid",
                "Filter.IsActive: the value 'yes' is not valid"
            ]
        );
    }

    #[test]
    fn paging_counts_from_one() {
        let items: Vec<Value> = (1..=5).map(|i| json!(i)).collect();
        assert_eq!(
            params(&[("PageSize", "2"), ("PageNumber", "2")]).paginate(items.clone()),
            [json!(3), json!(4)]
        );
        assert_eq!(
            params(&[("PageSize", "2"), ("PageNumber", "9")]).paginate(items.clone()),
            Vec::<Value>::new()
        );
        assert_eq!(
            params(&[("PageNumber", "0")]).paginate(items.clone()).len(),
            5
        );
    }
}
