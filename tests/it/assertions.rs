//! Thresholds through the binary as CI uses them: `--assert` and
//! `[[assert]]` pass (exit 0) and fail (exit 1, outputs still written),
//! bad expressions exit 2 before anything runs with the place named,
//! `compare` judges every variant, and `--junit` writes a report a real
//! XML parser reads back.

use super::common::*;
use std::path::Path;
use std::process::Output;

/// An M/M/1 queue (10 ms exponential work, one worker, Poisson 50/s,
/// utilisation 0.5) over a short run, plus a workload that issues no
/// request in the measured period (so its p99 has no value).
const MM1: &str = r#"
name = "mm1-assert"
[simulation]
duration = "20s"
warmup = "2s"
seed = 3
[services.server]
replicas = 1
concurrency = 1
[services.server.endpoints.serve]
work = { dist = "exponential", mean = "10ms" }
[[workloads]]
name = "requests"
target = "server.serve"
arrival = { process = "poisson", rate = 50 }
"#;

fn run(dir: &Path, args: &[&str]) -> (Output, String, String) {
    let out = microsim(dir, args);
    let (stdout, stderr) = texts(&out);
    (out, stdout, stderr)
}

#[test]
fn passing_and_failing_thresholds_set_the_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    // Utilisation 0.5 (±0.02 over 18 s of 50/s), mean response
    // 1/(100-50) = 20 ms: these hold with a wide margin.
    let (out, stdout, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "--quiet",
            "--assert",
            "requests.p99 < 1s",
            "--assert",
            "  server.utilization<=   80 %",
            "--assert",
            "requests.availability >= 99.9%",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Printed on stderr even with --quiet; stdout keeps the tables only.
    assert!(stderr.contains("PASS  requests.p99 < 1s"), "{stderr}");
    assert!(
        stderr.contains("PASS  server.utilization <= 80%"),
        "{stderr}"
    );
    assert!(stderr.contains("assertions: 3 pass, 0 fail"), "{stderr}");
    assert!(!stdout.contains("PASS"), "{stdout}");
    assert!(stdout.contains("requests"), "{stdout}");

    // The same run against a limit it misses: exit 1, and --out and
    // --junit are written all the same (CI keeps the artifacts).
    let dir = tmp.path().join("out");
    let junit = tmp.path().join("reports/junit.xml");
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "--quiet",
            "--no-charts",
            "--out",
            dir.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--assert",
            "requests.mean < 1ms",
            "--assert",
            "server.utilization < 80%",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let fail = stderr
        .lines()
        .find(|l| l.starts_with("FAIL"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        fail.starts_with("FAIL  requests.mean < 1ms") && fail.ends_with("ms  (limit < 1ms)"),
        "{fail}"
    );
    assert!(stderr.contains("assertions: 1 pass, 1 fail"), "{stderr}");
    assert!(
        stderr.contains("error: 1 of 2 assertions failed"),
        "{stderr}"
    );
    assert!(dir.join("summary.json").is_file() && dir.join("report.html").is_file());
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("microsim run mm1-assert"));
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].attribute("classname"), Some("mm1-assert"));
    assert_eq!(cases[0].attribute("name"), Some("requests.mean < 1ms"));
    let failure = cases[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("the failed case has a <failure>");
    let msg = failure.attribute("message").unwrap();
    assert!(
        msg.starts_with("measured ") && msg.ends_with(" ms, limit < 1ms"),
        "{msg}"
    );
    assert!(!cases[1].children().any(|n| n.has_tag_name("failure")));
    // No temporary file left beside the report.
    let left: Vec<_> = std::fs::read_dir(junit.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["junit.xml"]);
}

#[test]
fn a_metric_without_a_value_fails() {
    let tmp = tempfile::tempdir().unwrap();
    // At 0.001 requests/s over 18 s, no request arrives in the measured
    // period (seed 3): no latency, so the p99 cannot meet any limit.
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "--quiet",
            "--set",
            "workloads.requests.arrival.rate=0.001",
            "--assert",
            "requests.p99 < 1s",
            "--assert",
            "requests.requests == 0",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let p99 = stderr
        .lines()
        .find(|l| l.starts_with("FAIL  requests.p99 < 1s"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(p99.ends_with("   no value (no request completed)"), "{p99}");
    assert!(stderr.contains("PASS  requests.requests == 0"), "{stderr}");
}

#[test]
fn bad_expressions_exit_2_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let dir = tmp.path().join("never");
    for (expr, want) in [
        (
            "requests.p99 < 99%",
            "--assert 'requests.p99 < 99%': `99%`: requests.p99 is a latency in ms; write a duration such as 250ms",
        ),
        (
            "requests.availability >= 99.9",
            "did you mean 99.9%?",
        ),
        ("requests.p98 < 1s", "`requests` has no metric `p98`"),
        ("requests.p99.ci_hi < 1s", "`requests.p99` has no statistic `ci_hi`"),
        ("requests.p99.ci_high < 1s", "microsim sweep -r N"),
        ("requests.p99 => 1s", "did you mean `>=`?"),
        ("cost.per_million < 40", "needs a scenario that prices something"),
    ] {
        let (out, stdout, stderr) = run(
            tmp.path(),
            &["run", &sc, "--out", dir.to_str().unwrap(), "--assert", expr],
        );
        assert_eq!(out.status.code(), Some(2), "{expr}: {stderr}");
        assert!(stderr.contains(want), "{expr}: {stderr}");
        // Refused before the capacity table, the run and any output.
        assert!(!stderr.contains("capacity"), "{expr}: {stderr}");
        assert!(stdout.is_empty() && !dir.exists(), "{expr}");
    }
    let (out, _, stderr) = run(tmp.path(), &["run", &sc, "--junit", "j.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("there are no assertions to report"),
        "{stderr}"
    );
    assert!(!tmp.path().join("j.xml").exists());
    // A --junit path under a file is refused before running, with exit 2
    // (not an I/O error and exit 1, read as a failed threshold, at the end).
    std::fs::write(tmp.path().join("plain"), "x").unwrap();
    let (out, stdout, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "--out",
            dir.to_str().unwrap(),
            "--assert",
            "requests.p99 < 1s",
            "--junit",
            "plain/reports/j.xml",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--junit plain/reports/j.xml: `plain` is a file, not a directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("capacity"), "{stderr}");
    assert!(stdout.is_empty() && !dir.exists());
    // A device is refused before running (renamed over, as root it would
    // be replaced by the report).
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "--assert",
            "requests.p99 < 1s",
            "--junit",
            "/dev/null",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--junit /dev/null: "), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

/// `--junit` through a symbolic link writes the file the link names; the
/// link stays.
#[cfg(unix)]
#[test]
fn junit_follows_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    std::fs::create_dir(tmp.path().join("reports")).unwrap();
    std::os::unix::fs::symlink("reports/junit.xml", tmp.path().join("j.xml")).unwrap();
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "-q",
            "--assert",
            "requests.p99 < 1s",
            "--junit",
            "j.xml",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let link = std::fs::symlink_metadata(tmp.path().join("j.xml")).unwrap();
    assert!(link.file_type().is_symlink());
    let xml = std::fs::read_to_string(tmp.path().join("reports/junit.xml")).unwrap();
    assert!(xml.contains("<testsuite "), "{xml}");
}

#[test]
fn scenario_asserts_apply_first_and_errors_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let with = format!(
        "{MM1}\n[[assert]]\nexpr = \"requests.p99 < 1s\"\nname = \"p99 <fast> & \\\"ok\\\"\"\n\n[[assert]]\nexpr = \"server.utilization < 10%\"\n"
    );
    let sc = write_scenario(tmp.path(), "with.toml", &with);
    let junit = tmp.path().join("j.xml");
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "run",
            &sc,
            "--quiet",
            "--assert",
            "requests.requests > 0",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
        .collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("PASS  p99 <fast> & \"ok\" (requests.p99 < 1s)"),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("FAIL  server.utilization < 10%"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("PASS  requests.requests > 0"),
        "{stderr}"
    );
    // The name with XML's special characters survives the round trip.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(
        names,
        [
            "p99 <fast> & \"ok\"",
            "server.utilization < 10%",
            "requests.requests > 0"
        ]
    );

    // A bad table is reported at its line and column.
    let bad = format!("{MM1}\n[[assert]]\nexpr = \"requests.p99 < 1s\"\n\n[[assert]]\nexpr = \"requests.p99 < 99%\"\n");
    let sc = write_scenario(tmp.path(), "bad.toml", &bad);
    let line = bad
        .lines()
        .position(|l| l == "expr = \"requests.p99 < 99%\"")
        .unwrap()
        + 1;
    let (out, _, stderr) = run(tmp.path(), &["run", &sc, "--quiet"]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "bad.toml:{line}:1: `assert[1].expr`: `99%`: requests.p99 is a latency in ms"
        )),
        "{stderr}"
    );
}

#[test]
fn compare_judges_every_variant() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let junit = tmp.path().join("j.xml");
    // Utilisation 0.5 with one replica, 0.25 with two.
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "compare",
            &sc,
            "--quiet",
            "--variant",
            "x2:services.server.replicas=2",
            "--assert",
            "server.utilization < 40%",
            "--assert",
            "requests.availability >= 99%",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
        .collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(
        lines[0].starts_with("FAIL  baseline  server.utilization < 40%"),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("PASS  baseline  requests.availability >= 99%"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("PASS  x2        server.utilization < 40%"),
        "{stderr}"
    );
    assert!(
        lines[3].starts_with("PASS  x2        requests.availability >= 99%"),
        "{stderr}"
    );
    assert!(stderr.contains("assertions: 3 pass, 1 fail"), "{stderr}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let classes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("classname"))
        .collect();
    assert_eq!(classes, ["baseline", "baseline", "x2", "x2"]);
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("microsim compare mm1-assert"));
}

#[test]
fn sweep_judges_every_point_on_its_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    // Utilisation = rate x 10 ms: 0.2, 0.5 and 0.8 at 20, 50 and 80/s,
    // each within a few points over 18 s, so `<= 60%` holds at the first
    // two and fails at the third, on the mean and on the upper bound.
    let junit = tmp.path().join("junit.xml");
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "sweep",
            &sc,
            "--quiet",
            "--param",
            "workloads.requests.arrival.rate=20,50,80",
            "-r",
            "3",
            "--assert",
            "server.utilization.ci_high <= 60%",
            "--junit",
            junit.to_str().unwrap(),
            "--out",
            tmp.path().join("out").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("PASS") || l.starts_with("FAIL"))
        .collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("PASS") && lines[0].contains("arrival.rate=20"),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("PASS") && lines[1].contains("arrival.rate=50"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("FAIL") && lines[2].contains("arrival.rate=80"),
        "{stderr}"
    );
    // Every output is written before the failure is reported.
    assert!(tmp.path().join("out/sweep.json").is_file());
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count(),
        1
    );
    // A point's label has dots, which Jenkins would read as a package:
    // it goes into the test's name, under the scenario's class.
    assert_eq!(cases[2].attribute("classname"), Some("mm1-assert"));
    assert_eq!(
        cases[2].attribute("name"),
        Some("server.utilization.ci_high <= 60% [arrival.rate=80]")
    );

    // A confidence bound needs replications.
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "sweep",
            &sc,
            "--param",
            "workloads.requests.arrival.rate=20,50",
            "--assert",
            "server.utilization.ci_high <= 60%",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("replications"), "{stderr}");
}

#[test]
fn merge_judges_the_merged_sweep_as_the_unsharded_sweep_does() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write_scenario(tmp.path(), "mm1.toml", MM1);
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            &sc,
            "--quiet",
            "--param",
            "workloads.requests.arrival.rate=20,50,80",
            "-r",
            "2",
        ];
        args.extend_from_slice(extra);
        run(tmp.path(), &args)
    };
    // Utilisation 0.2, 0.5, 0.8: the point at 80/s fails `<= 60%`.
    let (whole, _, stderr) = sweep(&[
        "--assert",
        "server.utilization <= 60%",
        "--junit",
        &p("whole.xml"),
        "--out",
        &p("whole"),
    ]);
    assert_eq!(whole.status.code(), Some(1), "{stderr}");
    for k in ["1/2", "2/2"] {
        let dir = p(&format!("shard{}", &k[..1]));
        let (out, _, stderr) = sweep(&["--shard", k, "--out", &dir]);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
    }
    let (merged, _, stderr) = run(
        tmp.path(),
        &[
            "merge",
            &p("shard1"),
            &p("shard2"),
            "--out",
            &p("merged"),
            "--quiet",
            "--assert",
            "server.utilization <= 60%",
            "--junit",
            &p("merged.xml"),
        ],
    );
    assert_eq!(merged.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("FAIL") && stderr.contains("arrival.rate=80"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(p("whole.xml")).unwrap(),
        std::fs::read(p("merged.xml")).unwrap()
    );
    // A bad expression is refused before anything is written.
    let (out, _, stderr) = run(
        tmp.path(),
        &[
            "merge",
            &p("shard1"),
            &p("shard2"),
            "--out",
            &p("m2"),
            "--assert",
            "server.p99 < 1s",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!tmp.path().join("m2").exists());
}
