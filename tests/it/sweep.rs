//! `microsim sweep` and `microsim merge` through the binary: grids and
//! paths, identical outputs for any -j, shards merged back, Ctrl-C and
//! --resume, confidence intervals, and bad input refused before running.

use crate::common::{microsim, scenario, texts, tree};
use std::path::Path;
use std::process::{Command, Stdio};

/// The M/M/1 scenario, shortened.
fn mm1(duration: &str) -> Vec<String> {
    vec![
        "sweep".into(),
        scenario("mm1.toml").display().to_string(),
        "--set".into(),
        format!("simulation.duration={duration}"),
        "--set".into(),
        "simulation.warmup=1s".into(),
    ]
}

fn run(dir: &Path, args: &[String], extra: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(extra);
    microsim(dir, &all)
}

#[test]
fn grid_of_dotted_paths_prints_a_row_per_point_and_writes_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &mm1("10s"),
        &[
            "--param",
            "workloads.requests.arrival.rate=20,60",
            "--param",
            "services.server.endpoints.serve.work.mean=2ms..6ms:4ms",
            "--metrics",
            "requests.mean,server.utilization",
            "-r",
            "2",
            "--out",
            "out",
        ],
    );
    let (stdout, stderr) = texts(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains(
            "over workloads.requests.arrival.rate x services.server.endpoints.serve.work.mean"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("requests.mean") && stdout.contains("server.utilization"));
    // A row per point, in grid order (first parameter outermost).
    let rows: Vec<&str> = stdout.lines().filter(|l| l.contains(" ms ± ")).collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    let want = [["20", "2ms"], ["20", "6ms"], ["60", "2ms"], ["60", "6ms"]];
    for (row, want) in rows.iter().zip(want) {
        let cells: Vec<&str> = row.split('┆').map(str::trim).collect();
        assert_eq!(cells[1..3], want, "{row}");
    }
    assert!(stderr.contains("ran 4 points (8 runs)"), "{stderr}");

    let csv = std::fs::read_to_string(tmp.path().join("out/sweep.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..5],
        [
            "point",
            "replication",
            "seed",
            "workloads.requests.arrival.rate",
            "services.server.endpoints.serve.work.mean"
        ]
    );
    let util = header
        .iter()
        .position(|h| *h == "server.utilization")
        .unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8, "a row per point x replication");
    // Utilisation is rate x mean work: 0.04, 0.12, 0.12, 0.36.
    for r in &rows {
        let rate: f64 = r[3].parse().unwrap();
        let work: f64 = r[4].trim_end_matches("ms").parse().unwrap();
        let u: f64 = r[util].parse().unwrap();
        let want = rate * work / 1000.0;
        assert!((u - want).abs() < 0.35 * want, "{r:?}: {u} vs {want}");
    }
    let summary = std::fs::read_to_string(tmp.path().join("out/sweep_summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 5);
    assert!(summary.lines().next().unwrap().contains(
        "replications,requests.requests.mean,requests.requests.ci_low,requests.requests.ci_high"
    ));
    // --json prints sweep.json.
    let o = run(
        tmp.path(),
        &mm1("10s"),
        &[
            "--param",
            "workloads.requests.arrival.rate=20,60",
            "--param",
            "services.server.endpoints.serve.work.mean=2ms..6ms:4ms",
            "--metrics",
            "requests.mean,server.utilization",
            "-r",
            "2",
            "--json",
            "-q",
        ],
    );
    assert_eq!(
        o.stdout,
        std::fs::read(tmp.path().join("out/sweep.json")).unwrap()
    );
}

#[test]
fn common_seeds_give_every_point_the_same_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let seeds = |extra: &[&str]| -> Vec<Vec<u64>> {
        let mut a = vec![
            "--param",
            "workloads.requests.arrival.rate=20,60",
            "-r",
            "2",
        ];
        a.extend(extra);
        a.extend(["--json", "-q"]);
        let o = run(tmp.path(), &mm1("5s"), &a);
        assert!(o.status.success(), "{}", texts(&o).1);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p["runs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["seed"].as_u64().unwrap())
                    .collect()
            })
            .collect()
    };
    let common = seeds(&["--common-seeds"]);
    // Replication 0 runs with the scenario's seed, as `microsim run` does.
    assert_eq!(common[0], common[1]);
    assert_eq!(common[0][0], 1);
    assert_ne!(common[0][0], common[0][1]);
    let independent = seeds(&[]);
    let mut all: Vec<u64> = independent.concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "{independent:?}");
}

#[test]
fn jobs_and_shards_do_not_change_the_output_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let args = mm1("5s");
    let sweep = [
        "--param",
        "workloads.requests.arrival.rate=20..80:20",
        "--param",
        "services.server.concurrency=1,2",
        "-r",
        "2",
        "-q",
    ];
    let go = |extra: &[&str]| {
        let mut a = sweep.to_vec();
        a.extend(extra);
        let o = run(tmp.path(), &args, &a);
        assert!(o.status.success(), "{extra:?}: {}", texts(&o).1);
        o
    };
    go(&["-j", "1", "--out", "j1"]);
    go(&["-j", "2", "--out", "j2"]);
    let j1 = tree(&tmp.path().join("j1"));
    assert_eq!(j1.keys().filter(|k| k.starts_with("points/0")).count(), 8);
    assert!(j1 == tree(&tmp.path().join("j2")), "-j 1 and -j 2 differ");

    go(&["--shard", "2/3", "--out", "s2"]);
    go(&["--shard", "1/3", "--out", "s1"]);
    let s2 = tree(&tmp.path().join("s2"));
    let points: Vec<&String> = s2.keys().filter(|k| k.starts_with("points/0")).collect();
    assert_eq!(
        points,
        ["points/0001.json", "points/0004.json", "points/0007.json"]
    );
    let json = String::from_utf8(s2["sweep.json"].clone()).unwrap();
    assert!(json.contains("\"shard\": [\n    2,\n    3\n  ]"), "{json}");

    // A missing shard is named, a repeated one refused.
    let o = microsim(tmp.path(), &["merge", "s1", "s2", "--out", "m"]);
    let e = texts(&o).1;
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("2 of 8 points missing: shard 3/3 (not given): points 2, 5"),
        "{e}"
    );
    let o = microsim(tmp.path(), &["merge", "s1", "s2", "s1", "--out", "m"]);
    assert!(texts(&o)
        .1
        .contains("point 0 is in both s1 (shard 1/3) and s1"));
    assert!(!tmp.path().join("m").exists());

    go(&["--shard", "3/3", "--out", "s3"]);
    let o = microsim(tmp.path(), &["merge", "s3", "s1", "s2", "--out", "m", "-q"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    assert!(
        j1 == tree(&tmp.path().join("m")),
        "merged shards differ from the unsharded sweep"
    );
}

#[test]
fn an_interrupted_sweep_resumes_without_redoing_finished_points() {
    let tmp = tempfile::tempdir().unwrap();
    // 15 points of 20 simulated minutes, one at a time: long enough that
    // the interrupt lands while points remain.
    let mut args = mm1("20m");
    for a in [
        "--param",
        "workloads.requests.arrival.rate=10..80:5",
        "-j",
        "1",
        "--out",
        "out",
    ] {
        args.push(a.into());
    }
    let child = Command::new(env!("CARGO_BIN_EXE_microsim"))
        .current_dir(tmp.path())
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let points = tmp.path().join("out/points");
    let count = || {
        std::fs::read_dir(&points).map_or(0, |d| {
            d.filter(|e| {
                let n = e.as_ref().unwrap().file_name();
                n.to_string_lossy().starts_with('0')
            })
            .count()
        })
    };
    let t0 = std::time::Instant::now();
    while count() < 1 {
        assert!(t0.elapsed().as_secs() < 60, "no point finished");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let saved = count();
    assert!((1..15).contains(&saved), "{saved} points saved: {stderr}");
    assert!(
        stderr.contains(&format!(
            "interrupted: {saved} of 15 points saved in out; run the same command with --resume to finish"
        )),
        "{stderr}"
    );
    assert!(!tmp.path().join("out/sweep.json").exists());
    let o = microsim(tmp.path(), &["merge", "out", "--out", "merged"]);
    let e = texts(&o).1;
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("out: the shard did not finish"), "{e}");

    // A resume of another plan is refused and changes nothing.
    let before = tree(&tmp.path().join("out"));
    let mut other = args.clone();
    other.extend(["--resume".into(), "--seed".into(), "99".into()]);
    let o = run(tmp.path(), &other, &[]);
    let e = texts(&o).1;
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("the seed differs (saved: 1, now: 99)"), "{e}");
    assert!(before == tree(&tmp.path().join("out")));

    let o = run(tmp.path(), &args, &["--resume"]);
    let e = texts(&o).1;
    assert!(o.status.success(), "{e}");
    assert!(
        e.contains(&if saved == 14 {
            "ran 1 point (1 run; 14 done before)".to_string()
        } else {
            format!(
                "ran {} points ({} runs; {saved} done before)",
                15 - saved,
                15 - saved
            )
        }),
        "{e}"
    );
    let mut whole = args.clone();
    whole[args.len() - 1] = "whole".into();
    let o = run(tmp.path(), &whole, &[]);
    assert!(o.status.success());
    assert!(
        tree(&tmp.path().join("out")) == tree(&tmp.path().join("whole")),
        "the resumed sweep differs from an uninterrupted one"
    );
}

#[test]
fn confidence_half_widths_shrink_with_the_square_root_of_replications() {
    use statrs::distribution::{ContinuousCDF, FisherSnedecor};
    let tmp = tempfile::tempdir().unwrap();
    // One M/M/1 point, n replications, with its own seed so the two
    // samples are independent. The metric is the count of requests in
    // the measured 9 s, Poisson(450): very nearly normal, as the F test
    // below assumes.
    let half_width = |n: u32, seed: &str| -> (f64, Vec<f64>) {
        let o = run(
            tmp.path(),
            &mm1("10s"),
            &[
                "--param",
                "workloads.requests.arrival.rate=50",
                "-r",
                &n.to_string(),
                "--seed",
                seed,
                "--json",
                "-q",
            ],
        );
        assert!(o.status.success(), "{}", texts(&o).1);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let m = v["plan"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .position(|m| m["name"] == "requests.requests")
            .unwrap();
        let p = &v["points"][0];
        let runs = p["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["values"][m].as_f64().unwrap())
            .collect();
        (p["estimates"][m]["half_width"].as_f64().unwrap(), runs)
    };
    let (h32, x32) = half_width(32, "11");
    let (h128, x128) = half_width(128, "12");
    // The half-width is t(n-1) s / sqrt(n).
    let t = microsim::sweep::stats::t95;
    for (h, x) in [(h32, &x32), (h128, &x128)] {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let s = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert!((h - t(n as u32 - 1) * s / n.sqrt()).abs() < 1e-9 * h);
    }
    // h32 / h128 = 2 t(31)/t(127) x s32/s128, and s32²/s128² follows
    // F(31, 127) for normal replications: the ratio must lie within the
    // F distribution's central 99%. Half-widths that did not shrink
    // with sqrt(n) (or shrank with n) would be off by a factor 2, i.e. F
    // by 4, and fall outside.
    let f_obs = (h32 / h128 / (2.0 * t(31) / t(127))).powi(2);
    let f = FisherSnedecor::new(31.0, 127.0).unwrap();
    let (lo, hi) = (f.inverse_cdf(0.005), f.inverse_cdf(0.995));
    assert!(
        lo < f_obs && f_obs < hi,
        "s32²/s128² = {f_obs} outside [{lo}, {hi}] (h32 {h32}, h128 {h128})"
    );
    assert!(
        f_obs * 4.0 > hi && f_obs / 4.0 < lo,
        "the check could not tell a wrong scaling from the truth: {f_obs} in [{lo}, {hi}]"
    );
}

#[test]
fn an_invalid_point_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &mm1("5s"),
        &[
            "--param",
            "workloads.requests.arrival.rate=10,20",
            "--param",
            "services.server.replicas=1,0",
            "--out",
            "out",
        ],
    );
    let (stdout, e) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains(
            "error: point 1 (workloads.requests.arrival.rate=10, services.server.replicas=0): "
        ) && e.contains("mm1.toml")
            && e.contains("`services.server.replicas`"),
        "{e}"
    );
    assert!(!e.contains("--set services.server.replicas"), "{e}");
    assert!(stdout.is_empty() && !tmp.path().join("out").exists());
}

#[test]
fn the_scenario_sweep_table_and_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(scenario("mm1.toml"))
        .unwrap()
        .replace("duration = \"1h\"", "duration = \"5s\"")
        .replace("warmup = \"1m\"", "warmup = \"1s\"");
    let write = |name: &str, extra: &str| {
        std::fs::write(tmp.path().join(name), format!("{base}{extra}")).unwrap();
    };
    write(
        "swept.toml",
        "\n[sweep]\nreplications = 2\nzip = true\n[sweep.params]\n\"workloads.requests.arrival.rate\" = [10, 20, 30]\nservices.server.concurrency = \"1..3\"\n",
    );
    let o = microsim(tmp.path(), &["sweep", "swept.toml", "--out", "out", "-q"]);
    assert!(o.status.success(), "{}", texts(&o).1);
    let csv = std::fs::read_to_string(tmp.path().join("out/sweep.csv")).unwrap();
    // Zipped: 3 points, 2 replications each.
    assert_eq!(csv.lines().count(), 1 + 6);
    assert!(csv.lines().nth(6).unwrap().starts_with("2,1,"));
    assert!(csv.lines().nth(6).unwrap().contains(",30,3,"));
    // --param replaces the table; -r the replications.
    let o = microsim(
        tmp.path(),
        &[
            "sweep",
            "swept.toml",
            "--param",
            "services.server.replicas=1,2",
            "-r",
            "1",
        ],
    );
    let (stdout, e) = texts(&o);
    assert!(o.status.success(), "{e}");
    assert!(e.contains("[sweep.params] is not used"), "{e}");
    assert!(stdout.contains("server.replicas") && !stdout.contains("arrival.rate"));
    // The table's `zip` pairs the table's lists: --param lists make a
    // grid unless --zip is given.
    let o = microsim(
        tmp.path(),
        &[
            "sweep",
            "swept.toml",
            "--param",
            "services.server.replicas=1,2",
            "--param",
            "workloads.requests.arrival.rate=10,20",
            "-r",
            "1",
            "--out",
            "grid",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", texts(&o).1);
    let csv = std::fs::read_to_string(tmp.path().join("grid/sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");

    write(
        "bad.toml",
        "\n[sweep]\nreplications = 0\n[sweep.params]\n\"services.server.replicas\" = 3\n",
    );
    write("none.toml", "");
    // Points that overload a service are listed in one warning line.
    let o = microsim(
        tmp.path(),
        &[
            "sweep",
            "none.toml",
            "--param",
            "workloads.requests.arrival.rate=50,120,150",
        ],
    );
    let e = texts(&o).1;
    assert!(o.status.success(), "{e}");
    let warnings: Vec<&str> = e.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{e}");
    assert!(
        warnings[0].starts_with("warning: service `server` is overloaded")
            && warnings[0].ends_with(
                "at 2 of 3 points: 1 (workloads.requests.arrival.rate=120), 2 (workloads.requests.arrival.rate=150)"
            ),
        "{e}"
    );
    let line = base.lines().count() + 3;
    for (args, want) in [
        (
            vec!["sweep", "bad.toml"],
            format!(
                "bad.toml:{}:1: `sweep.params.\"services.server.replicas\"`: expected an array",
                line + 2
            ),
        ),
        (
            vec![
                "sweep",
                "bad.toml",
                "--param",
                "services.server.replicas=1,2",
            ],
            format!("bad.toml:{line}:1: `sweep.replications`: expected a whole number"),
        ),
        (
            vec!["sweep", "none.toml"],
            "nothing to sweep: give --param PATH=VALUES or a [sweep.params] table".into(),
        ),
        (
            vec!["sweep", "none.toml", "--param", "services.server.replicas"],
            "--param services.server.replicas: `services.server.replicas` is not PATH=VALUES"
                .into(),
        ),
        (
            vec!["sweep", "none.toml", "--param", "a.b=1", "--param", "a.b=2"],
            "the parameter `a.b` is given twice".into(),
        ),
        (
            vec![
                "sweep",
                "none.toml",
                "--param",
                "services.server.replicas=1",
                "--shard",
                "3/2",
            ],
            "--shard 3/2: expected K/N with 1 <= K <= N".into(),
        ),
        (
            vec![
                "sweep",
                "none.toml",
                "--param",
                "services.server.replicas=1",
                "--metrics",
                "checkout.p99",
            ],
            "--metrics checkout.p99: `checkout.p99`: there is no workload or service `checkout`"
                .into(),
        ),
        (
            vec!["sweep", "none.toml", "--param", "services.nope.replicas=1"],
            "point 0 (services.nope.replicas=1)".into(),
        ),
        (
            // Refused, not allocated (it aborted the process).
            vec![
                "sweep",
                "none.toml",
                "--param",
                "services.server.replicas=1",
                "-r",
                "4294967295",
            ],
            "-r/--replications 4294967295: must be from 1 to 10000".into(),
        ),
        (
            vec![
                "sweep",
                "none.toml",
                "--find",
                "min services.server.replicas where server.utilization < 70%",
                "-r",
                "20000",
            ],
            "-r/--replications 20000: must be from 1 to 10000".into(),
        ),
    ] {
        let o = microsim(tmp.path(), &args);
        let e = texts(&o).1;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(&want), "{args:?}: {e}\nwanted: {want}");
    }
}
