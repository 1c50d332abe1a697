//! How many cases a property test runs: an explicit `PROPTEST_CASES` wins; otherwise a count
//! that keeps the test run short.

use proptest::prelude::ProptestConfig;

pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}
