//! What can stop a press on its way to a ticket, as the pipeline knows it: which link failed and
//! whether waiting would cure it. It is no HTTP answer: the routes decide what a caller is told
//! (`routes::problem`), and the replay decides whether a parked press waits or goes to the
//! dead-letter queue.

use crate::button::{ButtonRequest, Email};
use crate::kaseya::BmsError;
use crate::resolve::ResolveError;
use crate::rules_store::RulesUnavailable;
use crate::secret::SecretError;

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum PressError {
    /// A BMS call failed (its own words stay in the log: see `routes::problem`).
    #[error(transparent)]
    Bms(#[from] BmsError),
    /// The secret could not be read or used.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The rules and BMS leave no valid value for a field the ticket needs.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The catch-all contact for unregistered users is not an active contact in BMS.
    #[error(
        "the catch-all contact `{0}` for unregistered users is not an active contact in BMS: \
         create it (under an account with a main location), or set KASEYA_UNREGISTERED_EMAIL to \
         the one you use"
    )]
    NoCatchAll(Email),
    /// Neither the catch-all contact nor its account has a location to file tickets under.
    #[error(
        "the ticket's contact has no location and its account has no main location: set one in \
         BMS (the function's log names the account)"
    )]
    NoLocation,
    /// The search for an earlier try of a keyed press failed for a reason a retry can outlast:
    /// nothing was filed, so that a repeat cannot become a second ticket.
    #[error("the search for an earlier try of this press failed: {0}")]
    SearchFailed(BmsError),
    /// The rules parameter never gave this container a good version: filing without the MSP's
    /// rules would put the ticket in the wrong hands.
    #[error(transparent)]
    Rules(#[from] RulesUnavailable),
}

impl PressError {
    /// Whether waiting would cure it: BMS down, slow or rate limiting. Such a press may be
    /// parked and replayed; anything else needs the caller or an operator.
    pub fn time_cures(&self) -> bool {
        match self {
            PressError::Bms(e) | PressError::SearchFailed(e) => e.time_cures(),
            // Parked even when someone must act (a refused document, a denied read): the press
            // is filed as the rules say once they can be read, never lost and never misrouted.
            PressError::Rules(_) => true,
            PressError::Secret(_)
            | PressError::Resolve(_)
            | PressError::NoCatchAll(_)
            | PressError::NoLocation => false,
        }
    }
}

/// A press that failed, and the press itself: a route parks it from here, without reading the
/// request's body a second time.
#[derive(Debug)]
pub(crate) struct Failed {
    pub error: PressError,
    pub button: ButtonRequest,
    /// The rules gave the press an urgent priority (see [`super::is_urgent`]): a person waits on
    /// it, and a press that must wait for BMS says whom to call.
    pub urgent: bool,
}

/// Whether a priority's name says a person cannot wait: BMS tenants name their top priority
/// "Critical", "P1 - Critical", "Emergency" or "Urgent".
pub(crate) fn is_urgent(priority: &str) -> bool {
    let priority = priority.to_lowercase();
    ["critical", "emergency", "urgent"]
        .iter()
        .any(|word| priority.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_time_cures_says_so() {
        let unreachable = || BmsError::Unreachable {
            what: "x".into(),
            reason: "timed out".into(),
        };
        assert!(PressError::Bms(unreachable()).time_cures());
        assert!(PressError::SearchFailed(unreachable()).time_cures());
        let refused = BmsError::Failed {
            what: "x".into(),
            status: 400,
            message: "no".into(),
        };
        assert!(!PressError::Bms(refused).time_cures());
        assert!(!PressError::NoLocation.time_cures());
        let missing = SecretError::NotFound { id: "s".into() };
        assert!(!PressError::Secret(missing).time_cures());
    }
}
