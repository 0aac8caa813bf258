//! Maps a field path back to a line and column of the scenario's source.
//!
//! Overrides and validation work on a plain value tree that has no spans, so
//! errors carry a [`FieldPath`]; only when an error is reported is the
//! original text re-parsed with spans and the path walked to its place. When
//! part of the path does not exist in the file (a missing field), the
//! deepest existing ancestor is used.

use super::error::{FieldPath, Seg};
use toml::de::{DeTable, DeValue};

/// 1-based (line, column) of the field at `path`, or of its deepest
/// ancestor present in `source`. `None` if the source does not parse.
pub fn locate(source: &str, path: &FieldPath) -> Option<(usize, usize)> {
    let root = DeTable::parse(source).ok()?;
    let mut best = root.span().start;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut value: Option<&DeValue> = None;
    for seg in &path.0 {
        match (seg, table, value) {
            (Seg::Key(k), Some(t), _) => {
                let Some((key, v)) = t.iter().find(|(key, _)| key.get_ref().as_ref() == k) else {
                    break;
                };
                best = key.span().start;
                set(&mut table, &mut value, v.get_ref());
            }
            (Seg::Index(i), None, Some(DeValue::Array(a))) => {
                let Some(v) = a.get(*i) else { break };
                if v.span().start > 0 || best == 0 {
                    best = v.span().start;
                }
                set(&mut table, &mut value, v.get_ref());
            }
            _ => break,
        }
    }
    Some(line_col(source, best))
}

fn set<'a>(
    table: &mut Option<&'a DeTable<'a>>,
    value: &mut Option<&'a DeValue<'a>>,
    v: &'a DeValue<'a>,
) {
    if let DeValue::Table(t) = v {
        *table = Some(t);
    } else {
        *table = None;
    }
    *value = Some(v);
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(source: &str, at: usize) -> (usize, usize) {
    let at = at.min(source.len());
    let before = source.get(..at).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(segs: &[&str]) -> FieldPath {
        FieldPath(
            segs.iter()
                .map(|s| match s.parse::<usize>() {
                    Ok(i) => Seg::Index(i),
                    Err(_) => Seg::Key(s.to_string()),
                })
                .collect(),
        )
    }

    #[test]
    fn finds_nested_keys_and_array_elements() {
        let src = "name = \"x\"\n\n[services.a]\nreplicas = 2\n\n[services.a.endpoints.e]\nwork = { dist = \"exponential\", mean = \"3ms\" }\n\n[[workloads]]\nname = \"w\"\n\n[[workloads]]\nname = \"v\"\ntarget = \"a.e\"\n";
        assert_eq!(
            locate(src, &p(&["services", "a", "replicas"])),
            Some((4, 1))
        );
        assert_eq!(
            locate(
                src,
                &p(&["services", "a", "endpoints", "e", "work", "mean"])
            ),
            Some((7, 32))
        );
        assert_eq!(
            locate(src, &p(&["workloads", "1", "target"])),
            Some((14, 1))
        );
        // Missing field: its parent's place.
        assert_eq!(locate(src, &p(&["services", "a", "nope"])), Some((3, 11)));
    }
}
