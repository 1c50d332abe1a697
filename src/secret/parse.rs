//! The secret's value read into [`Secret`]: the BMS login in any of its forms, the button and
//! operator keys with their names and `allowFrom`, and the marker key. Errors describe what was
//! wrong and where, never the value.

use super::*;

/// Parse `Company+username:password`: tenant up to the first `+`, user name up to the next `:`,
/// the rest is the password (which may itself hold `:` and `+`).
pub(super) fn parse_plain(raw: &str) -> Result<Credentials, SecretError> {
    let raw = raw.trim();
    let (tenant, rest) = raw
        .split_once('+')
        .ok_or_else(|| SecretError::Format("there is no `+` after the company name".into()))?;
    let (username, password) = rest
        .split_once(':')
        .ok_or_else(|| SecretError::Format("there is no `:` after the user name".into()))?;
    credentials(tenant, username, password)
}

pub(super) fn credentials(
    tenant: &str,
    username: &str,
    password: &str,
) -> Result<Credentials, SecretError> {
    let missing = |what: &str| SecretError::Format(format!("the {what} is empty"));
    if tenant.trim().is_empty() {
        return Err(missing("company"));
    }
    if username.trim().is_empty() {
        return Err(missing("user name"));
    }
    if password.is_empty() {
        return Err(missing("password"));
    }
    Ok(Credentials {
        // The tenant is the company name as BMS shows it; inner spaces are part of it.
        tenant: tenant.trim().to_string(),
        username: username.trim().to_string(),
        password: SecretString::from(password),
    })
}

/// A JSON string field, looked up without regard to case (the console's key/value editor makes
/// whatever case the person typed).
pub(super) fn json_str<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, SecretError> {
    match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
        None | Some((_, Value::Null)) => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s)),
        Some((k, _)) => Err(SecretError::Format(format!("`{k}` must be a string"))),
    }
}

/// A field looked up without regard to case, like [`json_str`].
pub(super) fn json_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Option<(&'a String, &'a Value)> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// `buttonKeys` or `operatorKeys`: an array of keys, or one comma-separated string. An array
/// item is a key, or `{"key", "name", "allowFrom"}`. Blank string items are skipped (a trailing
/// comma), a blank `key` in an object is an error (the object says a key was meant).
pub(super) fn caller_keys(
    obj: &Map<String, Value>,
    role: Role,
) -> Result<Vec<CallerKey>, SecretError> {
    let field = role.field();
    let plain = |k: &str| {
        let k = k.trim();
        (!k.is_empty()).then(|| CallerKey::new(k, role))
    };
    match json_field(obj, field) {
        None | Some((_, Value::Null)) => Ok(Vec::new()),
        Some((_, Value::String(s))) => Ok(s.split(',').filter_map(plain).collect()),
        Some((_, Value::Array(items))) => {
            let mut keys = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => keys.extend(plain(s)),
                    Value::Object(entry) => keys.push(key_entry(entry, role, i)?),
                    _ => {
                        return Err(SecretError::Invalid(format!(
                            "`{field}[{i}]` must be a key (a string) or an object {{\"key\", \
                             \"name\", \"allowFrom\"}}"
                        )));
                    }
                }
            }
            Ok(keys)
        }
        Some(_) => Err(SecretError::Invalid(format!(
            "`{field}` must be an array of keys or one comma-separated string"
        ))),
    }
}

/// The fields a key's entry may have.
const KEY_FIELDS: [&str; 5] = ["key", "name", "allowFrom", "account", "createContacts"];

/// `{"key": "…", "name": "tier2", "allowFrom": ["34.202.14.153", "3.209.57.193/32"],
/// "account": "Fabrikam Inc", "createContacts": true}`.
pub(super) fn key_entry(
    entry: &Map<String, Value>,
    role: Role,
    i: usize,
) -> Result<CallerKey, SecretError> {
    let at = format!("{}[{i}]", role.field());
    let invalid = |what: String| SecretError::Invalid(format!("`{at}` {what}"));
    for name in entry.keys() {
        if !KEY_FIELDS
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
        {
            // A misspelt `allowFrom` would let the key in from anywhere: refuse it. The field
            // is named only when it looks like a field name, never like a key pasted there.
            let looks_like_a_field = name.len() <= 20
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let shown = if looks_like_a_field {
                format!("`{name}`")
            } else {
                "that is not a field name".into()
            };
            return Err(invalid(format!(
                "has an unknown field {shown}: the fields are `key`, `name`, `allowFrom`, \
                 `account` and `createContacts`"
            )));
        }
    }
    let key = match json_field(entry, "key") {
        Some((_, Value::String(k))) if !k.trim().is_empty() => k.trim(),
        Some(_) => return Err(invalid("has a `key` that is not a non-blank string".into())),
        None => return Err(invalid("has no `key`".into())),
    };
    let mut caller_key = CallerKey::new(key, role);
    caller_key.name = match json_field(entry, "name") {
        None | Some((_, Value::Null)) => None,
        Some((_, Value::String(n))) => {
            let n = n.trim();
            if n.is_empty()
                || n.chars().count() > MAX_KEY_NAME_CHARS
                || n.contains(char::is_control)
            {
                return Err(invalid(format!(
                    "has a `name` that is blank, longer than {MAX_KEY_NAME_CHARS} characters or \
                     holds a control character: use a short label such as `tier2`"
                )));
            }
            Some(n.to_string())
        }
        Some(_) => return Err(invalid("has a `name` that is not a string".into())),
    };
    caller_key.allow_from = match json_field(entry, "allowFrom") {
        None | Some((_, Value::Null)) => Vec::new(),
        Some((_, value)) => allow_from(value).map_err(invalid)?,
    };
    caller_key.customer = customer(entry).map_err(invalid)?;
    Ok(caller_key)
}

/// A key's `account` (a BMS account name, or its id) and `createContacts`.
pub(super) fn customer(entry: &Map<String, Value>) -> Result<KeyCustomer, String> {
    let account = match json_field(entry, "account") {
        None | Some((_, Value::Null)) => None,
        Some((_, Value::String(a)))
            if !a.trim().is_empty()
                && a.trim().chars().count() <= MAX_KEY_NAME_CHARS * 4
                && !a.contains(char::is_control) =>
        {
            Some(Value::String(a.trim().to_string()))
        }
        Some((_, Value::Number(n))) if n.as_i64().is_some_and(|id| id >= 1) => {
            Some(Value::Number(n.clone()))
        }
        Some(_) => {
            return Err(
                "has an `account` that is neither a BMS account's name (a short, \
                        non-blank string) nor its id (a positive integer)"
                    .into(),
            );
        }
    };
    let create_contacts = match json_field(entry, "createContacts") {
        None | Some((_, Value::Null)) => false,
        Some((_, Value::Bool(b))) => *b,
        Some(_) => return Err("has a `createContacts` that is not `true` or `false`".into()),
    };
    Ok(KeyCustomer {
        account,
        create_contacts,
    })
}

/// An `allowFrom` list: addresses and CIDR blocks, IPv4 or IPv6, as an array or one
/// comma-separated string. A block with host bits set (`10.0.0.5/24`) means its network.
pub(super) fn allow_from(value: &Value) -> Result<Vec<IpNet>, String> {
    let entries: Vec<Option<&str>> = match value {
        Value::String(s) => s.split(',').map(Some).collect(),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => return Err("has an `allowFrom` that is not an array of addresses".into()),
    };
    let mut nets = Vec::new();
    for (j, entry) in entries.into_iter().enumerate() {
        let net = entry.map(str::trim).and_then(|e| {
            e.parse::<IpAddr>()
                .map(IpNet::from)
                .or_else(|_| e.parse::<IpNet>())
                .ok()
        });
        match net {
            Some(net) => nets.push(net.trunc()),
            None => {
                return Err(format!(
                    "has an `allowFrom[{j}]` that is not an IPv4 or IPv6 address or CIDR block \
                     (such as 203.0.113.7 or 2001:db8::/48)"
                ));
            }
        }
    }
    if nets.is_empty() {
        return Err(
            "has an empty `allowFrom`: leave it out to accept the key from any \
                    address, or list the addresses"
                .into(),
        );
    }
    Ok(nets)
}

/// Both lists; a key that is both a button and an operator key would give every desktop the
/// operator's rights, so it is refused.
pub(super) fn all_caller_keys(obj: &Map<String, Value>) -> Result<Vec<CallerKey>, SecretError> {
    let button = caller_keys(obj, Role::Button)?;
    let operator = caller_keys(obj, Role::Operator)?;
    for (i, op) in operator.iter().enumerate() {
        if button
            .iter()
            .any(|b| b.digest.expose_secret() == op.digest.expose_secret())
        {
            return Err(SecretError::Invalid(format!(
                "one of the `operatorKeys` (entry {i} of the keys it lists) is also one of the \
                 `buttonKeys`: an operator key must differ from every button key"
            )));
        }
    }
    Ok(button.into_iter().chain(operator).collect())
}

pub(super) fn marker_key(
    obj: &Map<String, Value>,
    credentials: &Credentials,
) -> Result<MarkerKey, SecretError> {
    match json_str(obj, "markerKey")?.map(str::trim) {
        Some(k) if k.chars().count() >= MIN_MARKER_KEY_CHARS => Ok(MarkerKey::given(k)),
        Some(_) => Err(SecretError::Invalid(format!(
            "`markerKey` is shorter than {MIN_MARKER_KEY_CHARS} characters: use a long random \
             value (such as the output of `openssl rand -hex 32`), or leave it out"
        ))),
        None => Ok(credentials.marker_key()),
    }
}

impl Credentials {
    fn marker_key(&self) -> MarkerKey {
        MarkerKey::derived(&self.tenant, &self.username, self.password())
    }
}

impl Secret {
    /// Parse a secret value in any of the three accepted formats.
    pub fn parse(raw: &str) -> Result<Secret, SecretError> {
        let trimmed = raw.trim();
        if !trimmed.starts_with('{') {
            let credentials = parse_plain(trimmed)?;
            return Ok(Secret {
                marker_key: credentials.marker_key(),
                credentials,
                keys: Vec::new(),
            });
        }
        // serde_json's error would quote the offending text: say only where it is.
        let value: Value = serde_json::from_str(trimmed).map_err(|e| {
            SecretError::Format(format!(
                "it starts with `{{` but is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(obj) = value else {
            return Err(SecretError::Format("the JSON is not an object".into()));
        };
        let credentials = match json_str(&obj, "credentials")? {
            Some(plain) => parse_plain(plain)?,
            None => {
                let field = |k: &str| {
                    json_str(&obj, k)?
                        .ok_or_else(|| SecretError::Format(format!("the JSON object has no `{k}`")))
                };
                credentials(field("company")?, field("username")?, field("password")?)?
            }
        };
        Ok(Secret {
            keys: all_caller_keys(&obj)?,
            marker_key: marker_key(&obj, &credentials)?,
            credentials,
        })
    }
}

/// `--account`: a BMS account's id (digits) or its name, as a key's `account` holds it.
pub fn account_arg(value: &str) -> Result<Value, String> {
    let value = value.trim();
    let account = match value.parse::<i64>() {
        Ok(id) => Value::from(id),
        Err(_) => Value::from(value),
    };
    let entry = serde_json::Map::from_iter([("account".to_string(), account.clone())]);
    customer(&entry)
        .map_err(|e| format!("`--account {value}`: {}", e.trim_start_matches("has an ")))?;
    Ok(account)
}
