//! What reading a document finds: problems, which refuse it, and warnings, which do not.

/// The problems found, and the warnings: what is allowed but probably not meant.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<String>, pub(super) Vec<String>);

impl Problems {
    pub(super) fn push(&mut self, s: String) {
        self.0.push(s);
    }

    pub(super) fn warn(&mut self, s: String) {
        self.1.push(s);
    }
}
