//! A press taken through the rules at its press time: the context before and after them, what
//! they did, and the press given back with the error that stopped it (and whether it was
//! urgent) when it cannot be filed now.

use std::sync::Arc;

use super::*;

/// The press taken through the rules at its press time, and how its repeats are known.
pub(super) fn evaluate(
    rules: Arc<Rules>,
    button: ButtonRequest,
    pressed: Pressed,
) -> (Evaluated, Option<Repeat>) {
    let now = pressed.at;
    let before = Context::new(&button, now)
        .with_key_name(pressed.key_name.as_deref())
        .with_origin(&pressed.origin);
    let mut after = before.clone();
    let outcome = rules.apply(&mut after);
    let ev = Evaluated {
        rules,
        button,
        before,
        after,
        outcome,
        now,
        late: pressed.late,
        may_race: pressed.may_be_filed,
        scope: pressed.scope,
        origin: pressed.origin,
    };
    (ev, pressed.repeat)
}

impl Evaluated {
    /// The press given back with what stopped it.
    pub(super) fn failed(self, error: PressError) -> Failed {
        Failed {
            error,
            urgent: is_urgent(self.after.text("priority")),
            button: self.button,
        }
    }
}
