//! `--set PATH=VALUE`: overrides applied to the scenario's value tree before
//! validation, so an overridden value is checked exactly like a written one.
//! The same mechanism serves sweeps and comparisons.
//!
//! Paths are dotted keys. Inside an array of tables, an element is addressed
//! by its `name` (`workloads.checkout.arrival.rate`) or by its index
//! (`workloads.0.arrival.rate`). Every step but the last must exist, so a
//! typo is reported instead of silently creating a new service.

use super::error::{FieldPath, Seg};
use toml::{Table, Value};

/// One parsed `--set` argument.
#[derive(Debug, Clone)]
pub struct Override {
    /// The argument as the user wrote it, for messages.
    pub arg: String,
    /// The dotted path, split.
    pub keys: Vec<String>,
    /// The new value.
    pub value: Value,
}

impl Override {
    /// Parses `PATH=VALUE`. VALUE is read as a TOML value (`4`, `0.5`,
    /// `true`, `"5ms"`, `{ dist = "constant", value = "1ms" }`); anything that
    /// is not valid TOML is taken as a bare string, so `duration=10m` works.
    pub fn parse(arg: &str) -> Result<Override, String> {
        let Some((path, raw)) = arg.split_once('=') else {
            return Err(format!(
                "`{arg}` is not PATH=VALUE (e.g. services.payment.replicas=4)"
            ));
        };
        let path = path.trim();
        let keys: Vec<String> = path.split('.').map(|k| k.trim().to_string()).collect();
        if keys.iter().any(|k| k.is_empty()) {
            return Err(format!(
                "`{path}` is not a dotted path (e.g. services.payment.replicas)"
            ));
        }
        let raw = raw.trim();
        let value = toml::from_str::<Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(raw.to_string()));
        Ok(Override {
            arg: arg.to_string(),
            keys,
            value,
        })
    }

    /// The override setting `path` to `value`, for programs that build
    /// overrides rather than parse them (see [`super::builder`]).
    pub fn new(path: &str, value: Value) -> Result<Override, String> {
        let keys: Vec<String> = path.split('.').map(|k| k.trim().to_string()).collect();
        if keys.iter().any(|k| k.is_empty()) {
            return Err(format!(
                "`{path}` is not a dotted path (e.g. services.payment.replicas)"
            ));
        }
        Ok(Override {
            arg: format!("{path}={value}"),
            keys,
            value,
        })
    }

    /// Applies the override to `root`, returning the concrete path it set
    /// (array elements resolved to indices) so that later validation errors
    /// under it can be blamed on this argument.
    pub fn apply(&self, root: &mut Table) -> Result<FieldPath, String> {
        // Walk a `Value` so tables and arrays are handled alike, then put the
        // (possibly modified) tree back.
        let mut tree = Value::Table(std::mem::take(root));
        let result = self.apply_to(&mut tree);
        if let Value::Table(t) = tree {
            *root = t;
        }
        result
    }

    fn apply_to(&self, tree: &mut Value) -> Result<FieldPath, String> {
        let mut resolved = FieldPath::default();
        let (last, init) = self.keys.split_last().expect("parse ensures a key");
        let mut cur = tree;
        for k in init {
            cur = step(cur, k, &mut resolved)?;
        }
        match cur {
            Value::Table(t) => {
                t.insert(last.clone(), self.value.clone());
                resolved.0.push(Seg::Key(last.clone()));
            }
            Value::Array(a) => {
                let i = element(a, last, &resolved)?;
                a[i] = self.value.clone();
                resolved.0.push(Seg::Index(i));
            }
            other => {
                return Err(format!(
                    "`{resolved}` is {}, not a table; cannot set `{last}` in it",
                    super::validate::a(other.type_str())
                ))
            }
        }
        Ok(resolved)
    }
}

/// Splits `text` at the commas outside quotes and brackets, so a TOML
/// value like `{ dist = "constant", value = "1ms" }` stays whole.
pub fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut escaped, mut start) = (0i32, None::<char>, false, 0);
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Applies every override in order; the first failure is returned with its
/// argument.
pub fn apply_all(
    root: &mut Table,
    overrides: &[Override],
) -> Result<Vec<FieldPath>, (String, String)> {
    overrides
        .iter()
        .map(|o| o.apply(root).map_err(|e| (o.arg.clone(), e)))
        .collect()
}

fn step<'a>(
    cur: &'a mut Value,
    k: &str,
    resolved: &mut FieldPath,
) -> Result<&'a mut Value, String> {
    match cur {
        Value::Table(t) => {
            if !t.contains_key(k) && creatable(resolved, k) {
                t.insert(k.to_string(), Value::Table(Table::new()));
            }
            if !t.contains_key(k) {
                let existing: Vec<&str> = t.keys().map(String::as_str).collect();
                return Err(format!(
                    "there is no `{k}` in `{}`{}{}",
                    display_or_root(resolved),
                    if existing.is_empty() {
                        String::new()
                    } else {
                        format!(" (it has: {})", existing.join(", "))
                    },
                    optional_table_hint(resolved, k)
                ));
            }
            resolved.0.push(Seg::Key(k.to_string()));
            Ok(t.get_mut(k).expect("checked above"))
        }
        Value::Array(a) => {
            let i = element(a, k, resolved)?;
            resolved.0.push(Seg::Index(i));
            Ok(&mut a[i])
        }
        other => Err(format!(
            "`{resolved}` is {}, not a table; cannot go into `{k}`",
            super::validate::a(other.type_str())
        )),
    }
}

/// The value at a dotted path, addressed as `--set` addresses it (array
/// elements by index or by `name`), or `None` where the tree has nothing
/// there: what `--find` starts from when given no range.
pub fn get<'a>(root: &'a Table, path: &str) -> Option<&'a Value> {
    let mut keys = path.split('.');
    let mut cur = root.get(keys.next()?)?;
    for k in keys {
        cur = match cur {
            Value::Table(t) => t.get(k)?,
            Value::Array(a) => &a[element(a, k, &FieldPath::default()).ok()?],
            _ => return None,
        };
    }
    Some(cur)
}

/// Finds an array element by index or by the `name` of a table element.
fn element(a: &[Value], k: &str, resolved: &FieldPath) -> Result<usize, String> {
    if let Ok(i) = k.parse::<usize>() {
        return if i < a.len() {
            Ok(i)
        } else {
            Err(format!(
                "`{resolved}` has {} entries; index {i} is out of range",
                a.len()
            ))
        };
    }
    let names: Vec<&str> = a
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    a.iter()
        .position(|v| v.get("name").and_then(Value::as_str) == Some(k))
        .ok_or_else(|| {
            format!(
                "no entry named `{k}` in `{resolved}` (names: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
}

/// Optional tables whose every field has a default, so an empty one means
/// the same as none: `--set` creates them when the file leaves them out
/// (`--set deployment.mode=monolith`), instead of asking for the whole
/// table. Other missing keys are typos until proven otherwise.
fn creatable(resolved: &FieldPath, k: &str) -> bool {
    match resolved.0.as_slice() {
        [] => k == "deployment",
        [Seg::Key(d)] => d == "deployment" && k == "monolith",
        _ => false,
    }
}

/// For an optional table the file leaves out (`[registry]`, `[discovery]`,
/// `[services.NAME.discovery]`), how to add it whole: `--set` creates only
/// the last key of its path.
fn optional_table_hint(resolved: &FieldPath, k: &str) -> String {
    let table = match resolved.0.as_slice() {
        [] if k == "registry" || k == "discovery" => k.to_string(),
        [Seg::Key(s), Seg::Key(name)] if s == "services" && k == "discovery" => {
            format!("services.{name}.discovery")
        }
        _ => return String::new(),
    };
    // An empty [discovery] means mode "cached", which needs a registry:
    // only the registry's empty table is offered as a default.
    let example = if k == "registry" {
        "registry='{ replicas = 5 }' (or registry={} for its defaults)".to_string()
    } else {
        format!("{table}='{{ mode = \"static\" }}'")
    };
    format!("; --set adds only the last key of a path: add the whole table, e.g. {example}")
}

fn display_or_root(p: &FieldPath) -> String {
    if p.0.is_empty() {
        "the scenario".to_string()
    } else {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Table {
        toml::from_str(
            "[services.payment]\nreplicas = 2\n[[workloads]]\nname = \"checkout\"\narrival = { rate = 150 }\n",
        )
        .unwrap()
    }

    #[test]
    fn sets_existing_and_new_keys() {
        let mut t = doc();
        Override::parse("services.payment.replicas=4")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        Override::parse("services.payment.io=async")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(t["services"]["payment"]["replicas"].as_integer(), Some(4));
        assert_eq!(t["services"]["payment"]["io"].as_str(), Some("async"));
    }

    #[test]
    fn addresses_array_elements_by_name_and_index() {
        let mut t = doc();
        let p = Override::parse("workloads.checkout.arrival.rate=300")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(p.to_string(), "workloads[0].arrival.rate");
        assert_eq!(t["workloads"][0]["arrival"]["rate"].as_integer(), Some(300));
        Override::parse("workloads.0.arrival.rate=2.5")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(t["workloads"][0]["arrival"]["rate"].as_float(), Some(2.5));
    }

    /// Discovery's optional tables: their fields can be set when the file
    /// has the table, and a missing table is added whole, not key by key.
    #[test]
    fn discovery_tables_are_set_whole_or_field_by_field() {
        let mut t: Table = toml::from_str(
            "[registry]\n[discovery]\n[services.api]\ndiscovery = { mode = \"cached\" }\n",
        )
        .unwrap();
        for arg in [
            "registry.replicas=5",
            "discovery.mode=per_request",
            "services.api.discovery.mode=static",
        ] {
            Override::parse(arg).unwrap().apply(&mut t).unwrap();
        }
        assert_eq!(t["registry"]["replicas"].as_integer(), Some(5));
        assert_eq!(t["discovery"]["mode"].as_str(), Some("per_request"));
        assert_eq!(
            t["services"]["api"]["discovery"]["mode"].as_str(),
            Some("static")
        );

        let mut t = doc();
        for (arg, table) in [
            ("registry.replicas=5", "registry="),
            ("discovery.mode=static", "discovery="),
            (
                "services.payment.discovery.mode=static",
                "services.payment.discovery=",
            ),
        ] {
            let e = Override::parse(arg).unwrap().apply(&mut t).unwrap_err();
            assert!(
                e.contains("add the whole table") && e.contains(table),
                "{e}"
            );
        }
        Override::parse("registry={ replicas = 5 }")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(t["registry"]["replicas"].as_integer(), Some(5));
        // Other missing keys get no such hint.
        let e = Override::parse("services.paymnt.replicas=4")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert!(!e.contains("whole table"), "{e}");
    }

    /// `[deployment]` and `[deployment.monolith]` are made when missing, so
    /// monolith mode is one `--set` away from any scenario.
    #[test]
    fn deployment_tables_are_created_when_missing() {
        let mut t = doc();
        let p = Override::parse("deployment.mode=monolith")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(p.to_string(), "deployment.mode");
        assert_eq!(t["deployment"]["mode"].as_str(), Some("monolith"));
        Override::parse("deployment.monolith.replicas=3")
            .unwrap()
            .apply(&mut t)
            .unwrap();
        assert_eq!(
            t["deployment"]["monolith"]["replicas"].as_integer(),
            Some(3)
        );
        // Only those: a deeper or other missing table is still refused.
        let mut t = doc();
        assert!(Override::parse("deployment.other.x=1")
            .unwrap()
            .apply(&mut t)
            .is_err());
        assert!(Override::parse("deploymnt.mode=monolith")
            .unwrap()
            .apply(&mut t)
            .is_err());
    }

    #[test]
    fn reports_typos_with_what_exists() {
        let mut t = doc();
        let e = Override::parse("services.paymnt.replicas=4")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert!(e.contains("no `paymnt`") && e.contains("payment"), "{e}");
        let e = Override::parse("workloads.nope.arrival.rate=1")
            .unwrap()
            .apply(&mut t)
            .unwrap_err();
        assert!(e.contains("checkout"), "{e}");
        assert!(Override::parse("no-equals-sign").is_err());
        assert!(Override::parse("a..b=1").is_err());
        // The tree survives a failed override.
        assert_eq!(t["services"]["payment"]["replicas"].as_integer(), Some(2));
    }
}
