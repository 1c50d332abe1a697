//! What the evaluation of one press may still spend: the steps of its loops and the bytes of
//! the lists it builds (see [`limits`] for how much, and why).
//!
//! Every expression is compiled once into a form that pays as it goes (`rewrite`): each item
//! of a loop calls [`TICK`], each value put into a list [`BUILT`], each `replace` [`REPLACE`].
//! The functions behind those names are given to the CEL context of each press, with that
//! press's [`Budget`]. Once the budget is spent, the expression stops with an error; and since
//! CEL lets `||`, `&&` and `exists` absorb an error, the budget also remembers what stopped
//! the expression, so that it fails as a whole rather than give half an answer.

mod rewrite;
#[cfg(test)]
mod tests;
mod weigh;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cel::common::types::{CelInt, CelString};
use cel::{ExecutionError, FunctionContext, Value};

use super::limits::{self, BYTES_PER_STEP, MAX_BUILT_BYTES, MAX_STEPS, MAX_VALUE_BYTES};
pub(crate) use rewrite::{BUILT, REPLACE, TICK, bounded};
pub(crate) use weigh::weigh;

/// The name an error carries when the budget stopped an expression: its message is the whole
/// story, to be shown as it is.
pub(crate) const SPENT: &str = "@spent";

/// What one press has spent.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    steps: AtomicU64,
    built: AtomicU64,
    /// Why the expression being evaluated was stopped, until it has been told.
    stopped: Mutex<Option<String>>,
}

impl Budget {
    /// The steps spent so far.
    #[cfg(test)]
    pub(crate) fn steps(&self) -> u64 {
        self.steps.load(Ordering::Relaxed)
    }

    /// Why the expression just evaluated was stopped, if it was; the next one starts afresh
    /// (with what is left of the budget).
    pub(crate) fn take_stop(&self) -> Option<String> {
        self.stopped.lock().ok()?.take()
    }

    fn spend(
        &self,
        what: &AtomicU64,
        amount: u64,
        max: u64,
        why: fn() -> String,
    ) -> Result<(), ExecutionError> {
        let total = what
            .fetch_add(amount, Ordering::Relaxed)
            .saturating_add(amount);
        if total <= max {
            return Ok(());
        }
        let why = why();
        if let Ok(mut stopped) = self.stopped.lock() {
            stopped.get_or_insert_with(|| why.clone());
        }
        Err(ExecutionError::FunctionError {
            function: SPENT.to_string(),
            message: why,
        })
    }

    /// `@tick(value, parts, read…)`: one item of a loop.
    fn tick(&self, ftx: &FunctionContext) -> Result<Value, ExecutionError> {
        let [value, parts, reads @ ..] = ftx.args.as_slice() else {
            return Err(ExecutionError::invalid_argument_count(2, ftx.args.len()));
        };
        let parts = parts.downcast_ref::<CelInt>().map_or(1, |p| *p.inner());
        let cap = MAX_STEPS.saturating_mul(BYTES_PER_STEP);
        let read: u64 = reads
            .iter()
            .map(|r| weigh::weigh_val(r.as_ref(), cap))
            .sum();
        let steps = u64::try_from(parts).unwrap_or(1) + read / BYTES_PER_STEP;
        self.spend(&self.steps, steps, MAX_STEPS, limits::steps_spent)?;
        Value::try_from(value.as_ref())
    }

    /// `@built(value)`: a value put into a list or a map.
    fn built(&self, ftx: &FunctionContext) -> Result<Value, ExecutionError> {
        let [value] = ftx.args.as_slice() else {
            return Err(ExecutionError::invalid_argument_count(1, ftx.args.len()));
        };
        let bytes = weigh::weigh_val(value.as_ref(), MAX_BUILT_BYTES);
        self.spend(
            &self.built,
            bytes,
            MAX_BUILT_BYTES,
            limits::built_bytes_spent,
        )?;
        Value::try_from(value.as_ref())
    }
}

/// Give `ctx` the functions the bounded expressions call, spending `budget`.
pub(crate) fn add_functions(ctx: &mut cel::Context, budget: &Arc<Budget>) {
    let b = Arc::clone(budget);
    let tick = ctx.add_function(TICK, move |ftx: &FunctionContext| b.tick(ftx));
    let b = Arc::clone(budget);
    let built = ctx.add_function(BUILT, move |ftx: &FunctionContext| b.built(ftx));
    tick.and(built)
        .and(ctx.add_function(REPLACE, replace))
        .expect("no declaration of the environment has a name that starts with `@`");
}

/// `text.replace(old, new)` and `text.replace(old, new, n)` as CEL's strings extension has
/// them (all occurrences, or the first `n`, all when `n` is negative), the length of the result
/// worked out first: replacing `''` puts `new` between every two characters.
fn replace(ftx: &FunctionContext) -> Result<Value, ExecutionError> {
    let text = ftx
        .this
        .as_ref()
        .and_then(|t| t.downcast_ref::<CelString>());
    let strings = |i: usize| ftx.args.get(i).and_then(|a| a.downcast_ref::<CelString>());
    let limit = match ftx.args.get(2) {
        None => Some(None),
        Some(n) => n
            .downcast_ref::<CelInt>()
            .map(|n| usize::try_from(*n.inner()).ok()),
    };
    let (Some(text), Some(old), Some(new), Some(limit)) = (text, strings(0), strings(1), limit)
    else {
        let types = ftx
            .this
            .iter()
            .chain(&ftx.args)
            .map(|v| v.get_type().name().to_string())
            .collect();
        return Err(ExecutionError::no_such_member_overload("replace", types));
    };
    let (text, old, new) = (text.inner(), old.inner(), new.inner());
    let found = if old.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(old).count()
    };
    let count = limit.map_or(found, |n| n.min(found)) as u64;
    let len = (text.len() as u64)
        .saturating_add(count.saturating_mul(new.len() as u64))
        .saturating_sub(count.saturating_mul(old.len() as u64));
    if len > MAX_VALUE_BYTES as u64 {
        return Err(ExecutionError::function_error(
            "replace",
            limits::replace_too_long(len),
        ));
    }
    Ok(match limit {
        Some(n) => text.replacen(old, new, n),
        None => text.replace(old, new),
    }
    .into())
}
