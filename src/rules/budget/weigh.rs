//! How many bytes a value holds: its text, and eight bytes for anything else, counted through
//! lists and maps. cel copies what it builds, so this is what building it costs. A weighing
//! stops once it passes `cap`: past that, the answer is "too much" whatever the rest holds.

use cel::Value;
use cel::common::types::{CelBytes, CelList, CelMap, CelMapKey, CelString};
use cel::common::value::Val;
use cel::objects::Key;

/// What anything that is not text, bytes, a list or a map counts for.
const SCALAR: u64 = 8;

/// The bytes of a value as cel holds it while it evaluates, up to a little past `cap`.
pub(super) fn weigh_val(v: &dyn Val, cap: u64) -> u64 {
    let mut total = 0;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        if total > cap {
            break;
        }
        if let Some(s) = v.downcast_ref::<CelString>() {
            total += s.inner().len() as u64;
        } else if let Some(b) = v.downcast_ref::<CelBytes>() {
            total += b.inner().len() as u64;
        } else if let Some(list) = v.downcast_ref::<CelList>() {
            total += SCALAR;
            todo.extend(list.inner().iter().map(|item| item.as_ref()));
        } else if let Some(map) = v.downcast_ref::<CelMap>() {
            total += SCALAR;
            for (k, item) in map.inner() {
                total += match k {
                    CelMapKey::String(s) => s.inner().len() as u64,
                    _ => SCALAR,
                };
                todo.push(item.as_ref());
            }
        } else {
            total += SCALAR;
        }
    }
    total
}

/// The bytes of a value a rule computed, up to a little past `cap`.
pub(crate) fn weigh(v: &Value, cap: u64) -> u64 {
    let mut total = 0;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        if total > cap {
            break;
        }
        total += match v {
            Value::String(s) => s.len() as u64,
            Value::Bytes(b) => b.len() as u64,
            Value::List(items) => {
                todo.extend(items.iter());
                SCALAR
            }
            Value::Map(m) => {
                for (k, item) in m.map.iter() {
                    total += match k {
                        Key::String(s) => s.len() as u64,
                        _ => SCALAR,
                    };
                    todo.push(item);
                }
                SCALAR
            }
            _ => SCALAR,
        };
    }
    total
}
