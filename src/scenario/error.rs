//! Errors in a scenario, located in the file the user wrote.

use std::fmt;

/// One step of a path into the scenario's value tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A path into the scenario, e.g. `services.payment.endpoints.charge.work`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// The path extended by a key.
    pub fn key(&self, k: &str) -> FieldPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        FieldPath(v)
    }

    /// The path extended by an array index.
    pub fn index(&self, i: usize) -> FieldPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        FieldPath(v)
    }

    /// True when `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.len() >= prefix.0.len() && self.0[..prefix.0.len()] == prefix.0[..]
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem found in a field, before it is located in the source text.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// The field at fault.
    pub path: FieldPath,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Invalid {
    /// A problem at `path`.
    pub fn new(path: &FieldPath, message: impl Into<String>) -> Self {
        Invalid {
            path: path.clone(),
            message: message.into(),
        }
    }
}

/// Why a scenario could not be loaded. Always the user's input, never a bug:
/// the binary maps it to exit status 2.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub location: Option<(usize, usize)>,
    /// The field concerned, as a dotted path.
    pub field: Option<String>,
    /// The `--set` argument responsible, when the value came from one.
    pub set_arg: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.location {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        if let Some(arg) = &self.set_arg {
            write!(f, "in --set {arg}: ")?;
        }
        if let Some(field) = &self.field {
            if !field.is_empty() {
                write!(f, "`{field}`: ")?;
            }
        }
        write!(f, "{}", self.message)
    }
}
