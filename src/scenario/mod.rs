//! Reading scenarios: TOML text -> value tree -> `--set` overrides -> raw
//! schema -> validated [`Model`]. Every failure is a [`ScenarioError`] that
//! names the file, line, column and field.

pub mod builder;
pub mod cost;
pub mod discovery;
pub mod error;
pub mod faults;
pub mod locate;
pub mod messaging;
pub mod monolith;
pub mod overrides;
pub mod policies;
pub mod scaling;
pub mod schema;
pub mod validate;

pub use error::{FieldPath, ScenarioError, Seg};
pub use overrides::Override;

use crate::model::Model;
use std::path::Path;

/// A scenario that has been read and validated.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file name as given (for messages and reports).
    pub file: String,
    /// The source text as written (before overrides).
    pub source: String,
    /// The validated model, overrides applied.
    pub model: Model,
    /// Warnings only the scenario's text can give (a setting written where
    /// it has no effect), which the model, holding merged values, cannot:
    /// printed with [`crate::model::lint`]'s.
    pub warnings: Vec<String>,
    /// Information for the user that is not a warning (how a monolith
    /// unit was sized): printed before a run unless `--quiet`.
    pub notes: Vec<String>,
    /// The scenario's `[sweep]` table, for `microsim sweep`.
    pub sweep: Option<schema::RawSweep>,
    /// The scenario's `[[assert]]` thresholds, in file order.
    pub asserts: Vec<schema::RawAssert>,
}

impl Scenario {
    /// An error about a field of this scenario's file, located at the
    /// field (`assert.0.expr`): for checks made after loading, such as
    /// parsing an assertion or a sweep parameter.
    pub fn error_at(&self, path: &FieldPath, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            location: locate::locate(&self.source, path),
            field: Some(path.to_string()),
            set_arg: None,
            message: message.into(),
        }
    }
}

/// Reads, overrides and validates the scenario file at `path`.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        location: None,
        field: None,
        set_arg: None,
        message: format!("cannot read the scenario file: {e}"),
    })?;
    let stem = path.file_stem().map_or_else(
        || "scenario".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    parse(source, file, &stem, overrides)
}

/// Validates scenario text already read (`file` names it in messages,
/// `default_name` names a scenario without `name`): what a sweep does for
/// each point, without reading the file again.
pub fn parse(
    source: String,
    file: String,
    default_name: &str,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    let read = read(&source, &file, default_name, overrides)?;
    Ok(Scenario {
        file,
        source,
        model: read.model,
        warnings: read.warnings,
        notes: read.notes,
        sweep: read.sweep,
        asserts: read.asserts,
    })
}

/// Parses and validates scenario text. `file` is used in messages and
/// `default_name` names a scenario that has no `name`.
pub fn from_str(
    source: &str,
    file: &str,
    default_name: &str,
    overrides: &[Override],
) -> Result<Model, ScenarioError> {
    read(source, file, default_name, overrides).map(|r| r.model)
}

/// What [`read`] makes of a scenario's text.
struct Read {
    model: Model,
    warnings: Vec<String>,
    notes: Vec<String>,
    sweep: Option<schema::RawSweep>,
    asserts: Vec<schema::RawAssert>,
}

/// [`from_str`], with the warnings of [`Scenario::warnings`], the notes
/// of [`Scenario::notes`] and the tables other commands read.
fn read(
    source: &str,
    file: &str,
    default_name: &str,
    overrides: &[Override],
) -> Result<Read, ScenarioError> {
    let error = |location, field: Option<&FieldPath>, set_arg, message| ScenarioError {
        file: file.to_string(),
        location,
        field: field.map(ToString::to_string),
        set_arg,
        message,
    };
    let mut tree: toml::Table = toml::from_str(source).map_err(|e: toml::de::Error| {
        let location = e.span().map(|s| locate::line_col(source, s.start));
        error(
            location,
            None,
            None,
            format!("not valid TOML: {}", e.message()),
        )
    })?;
    let set_paths = overrides::apply_all(&mut tree, overrides)
        .map_err(|(arg, msg)| error(None, None, Some(arg), msg))?;

    // An error at or under a value a `--set` wrote is that argument's (the
    // last one wins, as it does when applying them): it has no place in
    // the file. An error at a field that merely contains an overridden
    // value (a distribution checked as a whole) is located in the file and
    // names the `--set` as context.
    let place = |path: &FieldPath, message: String| {
        let newest = |hit: &dyn Fn(&FieldPath) -> bool| {
            set_paths
                .iter()
                .zip(overrides)
                .rev()
                .find(|(p, _)| hit(p))
                .map(|(_, o)| o.arg.clone())
        };
        if let Some(arg) = newest(&|p| path.starts_with(p)) {
            return error(None, Some(path), Some(arg), message);
        }
        let message = match newest(&|p| !path.0.is_empty() && p.starts_with(path)) {
            Some(arg) => format!("{message} (with --set {arg})"),
            None => message,
        };
        error(locate::locate(source, path), Some(path), None, message)
    };

    let raw: schema::RawScenario = serde_path_to_error::deserialize(toml::Value::Table(tree))
        .map_err(|e| {
            let path = FieldPath(
                e.path()
                    .iter()
                    .filter_map(|s| match s {
                        serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                        serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                        _ => None,
                    })
                    .collect(),
            );
            let message = plain_types(e.into_inner().message());
            // `[faults]` for `[[faults]]`: say how to write a list of tables.
            let message = match path.0.last() {
                Some(Seg::Key(k)) if message.contains("found a table, expected an array") => {
                    format!("{message}: write [[{k}]] (double brackets) before each entry")
                }
                _ => message,
            };
            place(&path, message)
        })?;
    let model =
        validate::validate(&raw, default_name).map_err(|inv| place(&inv.path, inv.message))?;
    // Monolith mode transforms the validated model, so every error above
    // points at what the user wrote.
    let (model, warnings, notes) = match monolith::apply(&raw, model, &FieldPath::default())
        .map_err(|inv| place(&inv.path, inv.message))?
    {
        Ok(mono) => (mono.model, mono.warnings, vec![mono.note]),
        Err(model) => {
            let warnings = discovery::notes(&raw, &model);
            (model, warnings, Vec::new())
        }
    };
    Ok(Read {
        model,
        warnings,
        notes,
        sweep: raw.sweep.clone(),
        asserts: raw.assert.clone(),
    })
}

/// serde names Rust types ("expected i64"); users wrote TOML.
fn plain_types(message: &str) -> String {
    let m = message
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a string", "expected a string (in quotes)")
        .replace("expected a sequence", "expected an array")
        .replace("expected a boolean", "expected true or false");
    // "invalid type: map, expected an array" -> "found a table, ...".
    match m.strip_prefix("invalid type: map, ") {
        Some(rest) => format!("invalid type: found a table, {rest}"),
        None => m.replace("invalid type: sequence,", "invalid type: an array,"),
    }
}

/// Builds a model from scenario text in unit tests, panicking with the
/// located error if it is invalid.
#[cfg(test)]
pub(crate) fn test_model(toml: &str) -> Model {
    from_str(toml, "test.toml", "test", &[]).unwrap_or_else(|e| panic!("{e}"))
}
