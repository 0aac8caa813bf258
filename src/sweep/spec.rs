//! A sweep written in the scenario: the `[sweep]` table's parameters,
//! replications and zip, read with errors located in the file.
//!
//! ```toml
//! [sweep]
//! replications = 5
//! [sweep.params]
//! "services.payment.replicas" = "1..4"
//! workloads.checkout.arrival.rate = [100, 200, 400]
//! ```
//!
//! A quoted key is one path; an unquoted dotted key is, in TOML, nested
//! tables, which are read back as the same dotted path, so both spellings
//! work.

use super::param;

/// Most runs per point: a typo such as `-r 1000000000` is refused rather
/// than allocated and run for ever.
pub const MAX_REPLICATIONS: u32 = 10_000;
use super::result::Param;
use crate::scenario::{FieldPath, Scenario, ScenarioError, Seg};

fn located(sc: &Scenario, segs: &[String], message: String) -> ScenarioError {
    let mut path = FieldPath(vec![Seg::Key("sweep".into()), Seg::Key("params".into())]);
    path.0.extend(segs.iter().map(|k| Seg::Key(k.clone())));
    let mut e = sc.error_at(&path, message);
    // FieldPath joins keys with dots, which would make the parameter's
    // own dots look like more levels: name it as the user would quote it.
    e.field = Some(format!("sweep.params.\"{}\"", segs.join(".")));
    e
}

/// The parameters of the scenario's `[sweep.params]`, in file order
/// (empty when it has none).
pub fn params(sc: &Scenario) -> Result<Vec<Param>, ScenarioError> {
    let Some(sweep) = &sc.sweep else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, value) in &sweep.params {
        collect(sc, &mut vec![key.clone()], value, &mut out)?;
    }
    Ok(out)
}

fn collect(
    sc: &Scenario,
    segs: &mut Vec<String>,
    value: &toml::Value,
    out: &mut Vec<Param>,
) -> Result<(), ScenarioError> {
    if let toml::Value::Table(t) = value {
        if t.is_empty() {
            return Err(located(
                sc,
                segs,
                "expected an array of values ([100, 200]) or a range (\"1..8\"), found an empty table".into(),
            ));
        }
        for (k, v) in t {
            segs.push(k.clone());
            collect(sc, segs, v, out)?;
            segs.pop();
        }
        return Ok(());
    }
    let path = segs.join(".");
    let p = param::from_toml(&path, value).map_err(|m| located(sc, segs, m))?;
    out.push(p);
    Ok(())
}

/// `[sweep] replications`: a whole number of at least 1, or `None` when
/// not given.
pub fn replications(sc: &Scenario) -> Result<Option<u32>, ScenarioError> {
    let Some(v) = sc.sweep.as_ref().and_then(|s| s.replications.as_ref()) else {
        return Ok(None);
    };
    let path = FieldPath(vec![
        Seg::Key("sweep".into()),
        Seg::Key("replications".into()),
    ]);
    match v {
        toml::Value::Integer(n) if *n >= 1 && *n <= i64::from(MAX_REPLICATIONS) => {
            Ok(Some(*n as u32))
        }
        other => Err(sc.error_at(
            &path,
            format!("expected a whole number of runs per point, from 1 to {MAX_REPLICATIONS}, found {other}"),
        )),
    }
}

/// `[sweep] zip`.
pub fn zip(sc: &Scenario) -> bool {
    sc.sweep.as_ref().and_then(|s| s.zip).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[simulation]\nduration = \"5s\"\n[services.api.endpoints.get]\nwork = { dist = \"exponential\", mean = \"5ms\" }\n[[workloads]]\nname = \"reads\"\ntarget = \"api.get\"\narrival = { process = \"poisson\", rate = 50 }\n";

    fn sc(extra: &str) -> Scenario {
        crate::scenario::parse(format!("{BASE}{extra}"), "s.toml".into(), "s", &[]).unwrap()
    }

    #[test]
    fn quoted_and_dotted_keys_are_paths() {
        let s = sc("[sweep]\nreplications = 3\nzip = true\n[sweep.params]\n\"services.api.replicas\" = \"1..2\"\nworkloads.reads.arrival.rate = [10, 20]\n");
        let p = params(&s).unwrap();
        assert_eq!(p[0].path, "services.api.replicas");
        assert_eq!(p[1].path, "workloads.reads.arrival.rate");
        assert_eq!(p[1].values.len(), 2);
        assert_eq!(replications(&s).unwrap(), Some(3));
        assert!(zip(&s));
        assert!(params(&sc("")).unwrap().is_empty());
    }

    #[test]
    fn errors_are_located() {
        let s = sc("[sweep.params]\n\"services.api.replicas\" = 4\n");
        let e = params(&s).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "s.toml:10:1: `sweep.params.\"services.api.replicas\"`: expected an array"
            ),
            "{e}"
        );
        let s = sc("[sweep]\nreplications = 0\n");
        let e = replications(&s).unwrap_err().to_string();
        assert!(
            e.starts_with("s.toml:10:1: `sweep.replications`: expected a whole number"),
            "{e}"
        );
    }
}
