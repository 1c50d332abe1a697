//! The types the checker tells apart: a set of CEL's runtime types, as bits, and how messages
//! name them.

use std::fmt;

use cel::common::ast::LiteralValue;

use crate::context::Kind;

/// The set of runtime types an expression may have, as bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ty(u16);

impl Ty {
    pub const BOOL: Ty = Ty(1);
    pub const INT: Ty = Ty(1 << 1);
    pub const UINT: Ty = Ty(1 << 2);
    pub const DOUBLE: Ty = Ty(1 << 3);
    pub const STRING: Ty = Ty(1 << 4);
    pub const BYTES: Ty = Ty(1 << 5);
    pub const LIST: Ty = Ty(1 << 6);
    pub const MAP: Ty = Ty(1 << 7);
    pub const NULL: Ty = Ty(1 << 8);
    pub const TIMESTAMP: Ty = Ty(1 << 9);
    pub const DURATION: Ty = Ty(1 << 10);
    pub const TYPE: Ty = Ty(1 << 11);
    /// Optionals, structs and whatever else CEL has that a rule is unlikely to build.
    pub const OTHER: Ty = Ty(1 << 12);
    /// In the order they are named in messages.
    const KINDS: [Ty; 13] = [
        Ty::STRING,
        Ty::BOOL,
        Ty::INT,
        Ty::UINT,
        Ty::DOUBLE,
        Ty::BYTES,
        Ty::LIST,
        Ty::MAP,
        Ty::NULL,
        Ty::TIMESTAMP,
        Ty::DURATION,
        Ty::TYPE,
        Ty::OTHER,
    ];
    pub const NONE: Ty = Ty(0);
    pub const DYN: Ty = Ty((1 << 13) - 1);
    /// A number from JSON: an int, or a double (or a uint beyond the range of int).
    pub const NUMBER: Ty = Ty(Ty::INT.0 | Ty::UINT.0 | Ty::DOUBLE.0);
    /// A lookup variable: a name, or an id.
    pub const NAME_OR_ID: Ty = Ty(Ty::STRING.0 | Ty::INT.0);

    pub const fn or(self, other: Ty) -> Ty {
        Ty(self.0 | other.0)
    }

    pub fn meets(self, other: Ty) -> bool {
        self.0 & other.0 != 0
    }

    pub fn within(self, other: Ty) -> bool {
        self.0 & !other.0 == 0
    }

    pub(crate) fn kinds(self) -> impl Iterator<Item = Ty> {
        Ty::KINDS.into_iter().filter(move |k| self.meets(*k))
    }

    /// The type a JSON value has once it is a CEL value.
    pub fn of_json(v: &serde_json::Value) -> Ty {
        use serde_json::Value as J;
        match v {
            J::Null => Ty::NULL,
            J::Bool(_) => Ty::BOOL,
            J::Number(_) => Ty::NUMBER,
            J::String(_) => Ty::STRING,
            J::Array(_) => Ty::LIST,
            J::Object(_) => Ty::MAP,
        }
    }

    /// The type of a built-in variable of this kind.
    pub fn of_kind(kind: Kind) -> Ty {
        match kind {
            Kind::Lookup(_) => Ty::NAME_OR_ID,
            Kind::Text => Ty::STRING,
            Kind::TextList => Ty::LIST,
        }
    }

    pub(crate) fn of_literal(l: &LiteralValue) -> Ty {
        match l {
            LiteralValue::Boolean(_) => Ty::BOOL,
            LiteralValue::Bytes(_) => Ty::BYTES,
            LiteralValue::Double(_) => Ty::DOUBLE,
            LiteralValue::Int(_) => Ty::INT,
            LiteralValue::Null => Ty::NULL,
            LiteralValue::String(_) => Ty::STRING,
            LiteralValue::UInt(_) => Ty::UINT,
        }
    }

    fn kind_name(self) -> &'static str {
        match self {
            Ty::BOOL => "bool",
            Ty::INT => "int",
            Ty::UINT => "uint",
            Ty::DOUBLE => "double",
            Ty::STRING => "string",
            Ty::BYTES => "bytes",
            Ty::LIST => "list",
            Ty::MAP => "map",
            Ty::NULL => "null",
            Ty::TIMESTAMP => "timestamp",
            Ty::DURATION => "duration",
            Ty::TYPE => "type",
            _ => "value",
        }
    }
}

impl fmt::Display for Ty {
    /// `int`, `string or int`, `number`, `any type`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ty::DYN => f.write_str("any type"),
            Ty::NUMBER => f.write_str("number"),
            Ty::NONE => f.write_str("nothing"),
            t => {
                let names: Vec<&str> = t.kinds().map(Ty::kind_name).collect();
                f.write_str(&names.join(" or "))
            }
        }
    }
}

impl fmt::Debug for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ty({self})")
    }
}

/// `a string`, `an int`, `a list` — for sentences.
pub(crate) fn a(t: Ty) -> String {
    let s = t.to_string();
    let article = match s.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    };
    if t == Ty::NULL {
        s
    } else {
        format!("{article} {s}")
    }
}
