//! Where `run --traces FILE` may write: links are followed (the link
//! stays), devices, pipes and stdout are refused, and so is a file another
//! output of the same run writes (`--out`'s own files, `--junit`) — all
//! before simulating, with exit 2 and nothing written.

use super::common::{microsim, saved_bundled, scenario, texts};
use std::path::Path;

/// Runs checkout briefly in `dir` with `args`.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let sc = scenario("checkout.toml");
    let mut all = vec![
        "run",
        sc.to_str().unwrap(),
        "-q",
        "--set",
        "simulation.duration=40s",
    ];
    all.extend(args);
    let o = microsim(dir, &all);
    let (_, err) = texts(&o);
    (o.status.code(), err)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn clashes_with_other_outputs_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (args, says) in [
        (
            vec!["--out", "o", "--traces", "o/summary.json"],
            "writes `summary.json` there itself",
        ),
        (
            vec!["--out", "o", "--traces", "./o/../o/report.html"],
            "writes `report.html` there itself",
        ),
        (
            vec!["--out", "o", "--traces", "o/attribution.csv"],
            "writes `attribution.csv` there itself",
        ),
        (
            vec!["--out", "o", "--traces", "o/charts/t.json"],
            "chart directory",
        ),
        (
            vec!["--out", "o", "--traces", "o"],
            "is the --out directory",
        ),
        (
            vec![
                "--assert",
                "checkout.p99 < 1s",
                "--junit",
                "j.xml",
                "--traces",
                "./j.xml",
            ],
            "--junit file",
        ),
        (vec!["--traces", "-"], "stdout"),
        (vec!["--traces", "/dev/null"], "device"),
        (vec!["--traces", "/dev/stdout"], "device"),
    ] {
        let (code, err) = run(d, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing written: no out directory, no trace or temporary file.
    assert!(names(d).is_empty(), "{:?}", names(d));
    // A trace file of its own name in --out is fine.
    let (code, err) = run(d, &["--out", "o", "--traces", "o/traces.json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(d.join("o/traces.json").is_file() && d.join("o/summary.json").is_file());
}

#[cfg(unix)]
#[test]
fn links_are_followed_and_special_files_refused() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("real")).unwrap();
    symlink("real/t.json", d.join("link.json")).unwrap();
    let (code, err) = run(d, &["--traces", "link.json"]);
    assert_eq!(code, Some(0), "{err}");
    // The link stays a link; the traces are in the file it names.
    assert!(std::fs::symlink_metadata(d.join("link.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(d.join("real/t.json")).unwrap();
    assert!(text.starts_with("{\"resourceSpans\""), "{}", &text[..40]);
    assert_eq!(names(&d.join("real")), ["t.json"]);

    // A link to a device, and a named pipe: refused, left as they were.
    symlink("/dev/null", d.join("null.json")).unwrap();
    let fifo = d.join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for (name, says) in [("null.json", "device"), ("pipe.json", "not a regular file")] {
        let (code, err) = run(d, &["--traces", name]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
    assert!(std::fs::symlink_metadata(d.join("null.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
    }
    assert_eq!(names(d), ["link.json", "null.json", "pipe.json", "real"]);
}

/// Every file a run may write into `--out` is known before the run (so
/// that `--traces` aimed at one is refused): the data files of every
/// bundled scenario, which between them have every optional one.
#[test]
fn every_file_a_run_writes_is_known_before_it() {
    let dir = super::common::root().join("scenarios");
    let mut seen = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".toml") {
            continue;
        }
        let run = saved_bundled(&name, &["simulation.warmup=1s", "simulation.duration=10s"]);
        for (file, _) in microsim::report::output::run_files(&run, None).unwrap() {
            assert!(
                microsim::report::output::is_run_output(&file),
                "{name}: {file} is not known"
            );
            seen.insert(file);
        }
    }
    // The bundled scenarios between them write the optional files too.
    for optional in ["cost.csv", "scaling.csv", "sagas.csv", "topics.csv"] {
        assert!(seen.contains(optional), "{seen:?}");
    }
    assert!(!microsim::report::output::is_run_output("traces.json"));
}
