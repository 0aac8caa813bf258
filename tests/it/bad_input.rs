//! Bad input through the command line: each test writes a broken scenario
//! (usually `scenarios/checkout.toml` with one edit) or passes a bad `--set`,
//! runs `microsim run FILE --out OUT` (or `check`), and checks that the
//! program exits with status 2, prints nothing on stdout, prints
//! `error: FILE:LINE:COL: `field.path`: message` (or `in --set ARG:` for
//! overridden values) with the expected words on stderr, and writes no
//! output directory. The last test checks what a good run writes.

use super::common::*;
use std::fs;
use std::path::Path;

/// The text of the reference scenario.
fn checkout() -> String {
    fs::read_to_string(scenario("checkout.toml")).expect("scenarios/checkout.toml is readable")
}

/// `text` with the first `old` replaced by `new`; fails if nothing changed.
fn replaced(text: &str, old: &str, new: &str) -> String {
    assert!(text.contains(old), "the scenario should contain {old:?}");
    let edited = text.replacen(old, new, 1);
    assert_ne!(edited, text, "replacing {old:?} by {new:?} changed nothing");
    edited
}

/// checkout.toml with the first `old` replaced by `new`.
fn checkout_with(old: &str, new: &str) -> String {
    replaced(&checkout(), old, new)
}

/// 1-based (line, column) of byte offset `at` in `text`.
fn line_col_of(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// `:LINE:COL:` of the first `needle` in `text`.
fn at(text: &str, needle: &str) -> String {
    at_after(text, "", needle)
}

/// `:LINE:COL:` of the first `needle` that follows (the end of) the first
/// `anchor` in `text`.
fn at_after(text: &str, anchor: &str, needle: &str) -> String {
    let start = text
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor:?} is in the scenario"))
        + anchor.len();
    let offset = text[start..]
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is in the scenario after {anchor:?}"))
        + start;
    let (line, col) = line_col_of(text, offset);
    format!(":{line}:{col}:")
}

/// What a failed command left behind.
struct Failure {
    stderr: String,
    _dir: tempfile::TempDir,
}

/// Asserts the invariants of every bad-input failure: exit status 2, empty
/// stdout, an `error: ` line on stderr, no panic, and no output directory.
fn assert_bad_input(dir: &Path, args: &[&str]) -> String {
    let out = microsim(dir, args);
    let (stdout, stderr) = texts(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "microsim {args:?} should exit 2\nstderr: {stderr}"
    );
    assert!(stdout.is_empty(), "stdout should be empty, got: {stdout}");
    assert!(
        stderr.starts_with("error: "),
        "stderr should start with `error: `, got: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "the program panicked: {stderr}"
    );
    let out_dir = dir.join("out");
    assert!(
        !out_dir.exists() || fs::read_dir(&out_dir).unwrap().next().is_none(),
        "no output should be written on bad input, found {:?}",
        fs::read_dir(&out_dir).map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>())
    );
    stderr
}

/// Writes `text` as `file` in a fresh directory and runs
/// `microsim run FILE --out out EXTRA...` there, expecting bad input.
fn run_bad(file: &str, text: &str, extra: &[&str]) -> Failure {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(file), text).unwrap();
    let mut args = vec!["run", file, "--out", "out"];
    args.extend_from_slice(extra);
    let stderr = assert_bad_input(dir.path(), &args);
    Failure { stderr, _dir: dir }
}

/// Asserts that `stderr` contains every one of `words`.
fn assert_says(stderr: &str, words: &[&str]) {
    for w in words {
        assert!(
            stderr.contains(w),
            "stderr should contain {w:?}, got: {stderr}"
        );
    }
}

/// Asserts the located error prefix `error: FILE:LINE:COL: `PATH`: `.
fn assert_located(stderr: &str, file: &str, line_col: &str, path: &str) {
    let prefix = format!("error: {file}{line_col} `{path}`: ");
    assert!(
        stderr.starts_with(&prefix),
        "stderr should start with {prefix:?}, got: {stderr}"
    );
}

#[test]
fn unknown_key_lists_the_valid_keys() {
    let text = checkout_with("replicas = 2", "replica = 2");
    let f = run_bad("unknown_key.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "unknown_key.toml",
        &at(&text, "replica = 2"),
        "services.user.replica",
    );
    assert_says(
        &f.stderr,
        &[
            "unknown field `replica`",
            "`replicas`",
            "`concurrency`",
            "`queue_capacity`",
            "`balancer`",
            "`io`",
            "`endpoints`",
        ],
    );
}

#[test]
fn wrong_type_asks_for_a_whole_number() {
    let text = checkout_with("replicas = 2", "replicas = \"three\"");
    let f = run_bad("wrong_type.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "wrong_type.toml",
        &at(&text, "replicas = \"three\""),
        "services.user.replicas",
    );
    assert_says(&f.stderr, &["three", "expected a whole number"]);
    assert!(
        !f.stderr.contains("i64"),
        "Rust type names leak: {}",
        f.stderr
    );
}

#[test]
fn negative_replicas_are_refused() {
    let text = checkout_with("replicas = 2", "replicas = -1");
    let f = run_bad("negative_count.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "negative_count.toml",
        &at(&text, "replicas = -1"),
        "services.user.replicas",
    );
    assert_says(&f.stderr, &["whole number from 1", "got -1"]);
}

#[test]
fn zero_concurrency_is_refused() {
    let text = checkout_with("concurrency = 4", "concurrency = 0");
    let f = run_bad("zero_count.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "zero_count.toml",
        &at(&text, "concurrency = 0"),
        "services.user.concurrency",
    );
    assert_says(&f.stderr, &["whole number from 1", "got 0"]);
}

#[test]
fn zero_rate_is_refused() {
    let text = checkout_with("rate = 150", "rate = 0");
    let f = run_bad("zero_rate.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "zero_rate.toml",
        &at(&text, "rate = 0"),
        "workloads[0].arrival.rate",
    );
    assert_says(
        &f.stderr,
        &["requests per second", "greater than zero", "got 0"],
    );
}

#[test]
fn negative_rate_is_refused() {
    let text = checkout_with("rate = 150", "rate = -5");
    let f = run_bad("negative_rate.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "negative_rate.toml",
        &at(&text, "rate = -5"),
        "workloads[0].arrival.rate",
    );
    assert_says(
        &f.stderr,
        &["requests per second", "greater than zero", "got -5"],
    );
}

#[test]
fn unparseable_duration_is_refused() {
    let text = checkout_with("duration = \"5m\"", "duration = \"5 parsecs\"");
    let f = run_bad("bad_duration.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "bad_duration.toml",
        &at(&text, "duration = "),
        "simulation.duration",
    );
    assert_says(&f.stderr, &["`5 parsecs` is not a duration", "\"5ms\""]);
}

#[test]
fn negative_duration_is_refused() {
    let text = checkout_with("warmup = \"30s\"", "warmup = \"-5s\"");
    let f = run_bad("negative_duration.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "negative_duration.toml",
        &at(&text, "warmup = "),
        "simulation.warmup",
    );
    assert_says(&f.stderr, &["`-5s`", "negative"]);
}

#[test]
fn lognormal_with_p99_below_median_is_refused() {
    let text = checkout_with("p99 = \"120ms\"", "p99 = \"10ms\"");
    let f = run_bad("lognormal.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "lognormal.toml",
        &at_after(&text, "[services.payment.endpoints.charge]", "work = "),
        "services.payment.endpoints.charge.work",
    );
    assert_says(
        &f.stderr,
        &["lognormal", "p99 (10ms) must be greater than median (15ms)"],
    );
}

#[test]
fn gamma_with_negative_cv_is_refused() {
    let text = checkout_with("cv = 0.5", "cv = -1");
    let f = run_bad("gamma.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "gamma.toml",
        &at(&text, "work = { dist = \"gamma\""),
        "services.order.endpoints.place.steps[0].work",
    );
    assert_says(&f.stderr, &["gamma", "cv", "greater than zero"]);
}

#[test]
fn unknown_distribution_lists_the_known_ones() {
    let text = checkout_with("\"exponential\"", "\"exponentail\"");
    let f = run_bad("dist_name.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "dist_name.toml",
        &at(&text, "dist = \"exponentail\""),
        "services.user.endpoints.auth.work.dist",
    );
    assert_says(
        &f.stderr,
        &[
            "unknown distribution `exponentail`",
            "constant",
            "exponential",
            "lognormal",
            "gamma",
            "empirical",
        ],
    );
}

#[test]
fn unknown_distribution_parameter_lists_the_valid_ones() {
    let text = checkout_with("median = \"15ms\"", "middle = \"15ms\"");
    let f = run_bad("dist_param.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "dist_param.toml",
        &at(&text, "middle = "),
        "services.payment.endpoints.charge.work.middle",
    );
    assert_says(
        &f.stderr,
        &[
            "unknown parameter `middle`",
            "lognormal",
            "median",
            "p99",
            "mean",
            "cv",
        ],
    );
}

/// The endpoints of checkout.toml, which an unknown-call message must list.
const ENDPOINTS: [&str; 4] = ["user.auth", "payment.charge", "order.place", "order.status"];

#[test]
fn call_to_unknown_service_lists_the_endpoints() {
    let text = checkout_with("{ call = \"user.auth\" }", "{ call = \"usr.auth\" }");
    let f = run_bad("unknown_service.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "unknown_service.toml",
        &at(&text, "call = \"usr.auth\""),
        "services.order.endpoints.place.steps[1].call",
    );
    assert_says(&f.stderr, &["unknown endpoint `usr.auth`"]);
    assert_says(&f.stderr, &ENDPOINTS);
}

#[test]
fn call_to_unknown_endpoint_lists_the_endpoints() {
    let text = checkout_with(
        "{ call = \"payment.charge\" },\n]",
        "{ call = \"payment.chrage\" },\n]",
    );
    let f = run_bad("unknown_endpoint.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "unknown_endpoint.toml",
        &at(&text, "call = \"payment.chrage\""),
        "services.order.endpoints.place.steps[2].call",
    );
    assert_says(&f.stderr, &["unknown endpoint `payment.chrage`"]);
    assert_says(&f.stderr, &ENDPOINTS);
}

#[test]
fn workload_target_unknown_lists_the_endpoints() {
    let text = checkout_with("target = \"order.place\"", "target = \"order.plaec\"");
    let f = run_bad("unknown_target.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "unknown_target.toml",
        &at(&text, "target = \"order.plaec\""),
        "workloads[0].target",
    );
    assert_says(&f.stderr, &["unknown endpoint `order.plaec`"]);
    assert_says(&f.stderr, &ENDPOINTS);
}

#[test]
fn call_cycle_is_printed() {
    let text = checkout_with(
        "{ call = \"payment.charge\" },\n]",
        "{ call = \"payment.charge\" },\n  { call = \"user.loop\" },\n]",
    );
    let text = replaced(
        &text,
        "[services.payment]\n",
        "[services.user.endpoints.loop]\nsteps = [{ call = \"order.place\" }]\n\n[services.payment]\n",
    );
    let f = run_bad("cycle.toml", &text, &[]);
    // The cycle may be printed from either of its endpoints; the error is
    // placed on the endpoint it starts from.
    let (place, path) = if f.stderr.contains("user.loop -> order.place -> user.loop") {
        (at(&text, "loop]"), "services.user.endpoints.loop")
    } else {
        assert_says(&f.stderr, &["order.place -> user.loop -> order.place"]);
        (at(&text, "place]"), "services.order.endpoints.place")
    };
    assert_located(&f.stderr, "cycle.toml", &place, path);
    assert_says(&f.stderr, &["call cycle: "]);
}

#[test]
fn warmup_not_shorter_than_duration_is_refused() {
    let text = checkout_with("warmup = \"30s\"", "warmup = \"5m\"");
    let f = run_bad("warmup.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "warmup.toml",
        &at(&text, "warmup = "),
        "simulation.warmup",
    );
    assert_says(
        &f.stderr,
        &["warm-up (5m)", "shorter than the duration (5m)"],
    );
}

/// The documented format `FILE:LINE:COL: `field.path`: message` holds for
/// a missing table too: the field is `workloads`, placed at the top of the
/// file since it is absent.
#[test]
fn no_workloads_is_refused() {
    let full = checkout();
    let cut = full.find("[[workloads]]").expect("checkout has workloads");
    let text = full[..cut].to_string();
    assert!(!text.contains("workloads]]"));
    let f = run_bad("no_workloads.toml", &text, &[]);
    assert_says(
        &f.stderr,
        &[
            "error: no_workloads.toml:1:1: ",
            "no workloads",
            "[[workloads]]",
        ],
    );
    assert_located(&f.stderr, "no_workloads.toml", ":1:1:", "workloads");
}

#[test]
fn missing_file_is_reported_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = assert_bad_input(dir.path(), &["run", "missing.toml", "--out", "out"]);
    assert!(
        !dir.path().join("out").exists(),
        "the output directory was created"
    );
    assert_says(&stderr, &["error: missing.toml: ", "cannot read"]);
}

/// Copies checkout.toml into a fresh directory and runs it with `sets` as
/// `--set` arguments, expecting bad input.
fn run_with_sets(sets: &[&str]) -> Failure {
    let mut extra = Vec::new();
    for s in sets {
        extra.extend_from_slice(&["--set", s]);
    }
    run_bad("checkout.toml", &checkout(), &extra)
}

#[test]
fn set_with_unknown_path_lists_the_services() {
    let f = run_with_sets(&["services.paymnt.replicas=4"]);
    assert_says(
        &f.stderr,
        &[
            "error: checkout.toml: in --set services.paymnt.replicas=4: ",
            "`paymnt`",
            "user, payment, order",
        ],
    );
}

#[test]
fn set_with_invalid_count_is_blamed_on_the_argument() {
    let f = run_with_sets(&["services.payment.replicas=0"]);
    assert_says(
        &f.stderr,
        &[
            "error: checkout.toml: in --set services.payment.replicas=0: `services.payment.replicas`: ",
            "whole number from 1",
            "got 0",
        ],
    );
}

#[test]
fn set_with_non_numeric_rate_is_blamed_on_the_argument() {
    let f = run_with_sets(&["workloads.checkout.arrival.rate=fast"]);
    assert_says(
        &f.stderr,
        &[
            "error: checkout.toml: in --set workloads.checkout.arrival.rate=fast: `workloads[0].arrival.rate`: ",
            "\"fast\"",
            "expected a number",
        ],
    );
}

/// A `--set` value that is wrong only together with its neighbours (a p99
/// below the file's median) is still the argument's fault: the error must
/// name the `--set`, not the line of the file whose p99 it replaced.
#[test]
fn set_value_inconsistent_with_the_file_is_located_and_names_the_argument() {
    // The distribution is checked as a whole: the error points at its
    // table in the file and names the --set that changed part of it.
    let text = checkout();
    let f = run_with_sets(&["services.payment.endpoints.charge.work.p99=1ms"]);
    let line_col = at_after(&text, "[services.payment.endpoints.charge]\n", "work");
    assert_says(
        &f.stderr,
        &[
            &format!("error: checkout.toml{line_col} `services.payment.endpoints.charge.work`: "),
            "p99 (1ms) must be greater than median (15ms)",
            "(with --set services.payment.endpoints.charge.work.p99=1ms)",
        ],
    );
}

/// A mistake in the file is not blamed on an unrelated `--set` that
/// happens to touch the same table.
#[test]
fn file_error_is_not_blamed_on_an_unrelated_set() {
    let text = checkout_with("duration = \"5m\"\n", "");
    let f = run_bad("nodur.toml", &text, &["--set", "simulation.seed=3"]);
    assert_says(
        &f.stderr,
        &[
            &format!(
                "error: nodur.toml{} `simulation`: ",
                at(&text, "simulation]")
            ),
            "missing field `duration`",
        ],
    );
    assert!(!f.stderr.contains("in --set"), "{}", f.stderr);
}

#[test]
fn set_without_equals_sign_is_refused() {
    let f = run_with_sets(&["services.payment.replicas"]);
    assert_says(
        &f.stderr,
        &["--set services.payment.replicas", "PATH=VALUE"],
    );
}

#[test]
fn toml_syntax_error_is_located() {
    let text = checkout_with("replicas = 2", "replicas = = 2");
    let f = run_bad("syntax.toml", &text, &[]);
    assert_says(
        &f.stderr,
        &[
            &format!("error: syntax.toml{} ", at_after(&text, "replicas = ", "=")),
            "not valid TOML",
        ],
    );
}

#[test]
fn duplicate_key_is_located() {
    let text = checkout_with("replicas = 2\n", "replicas = 2\nreplicas = 3\n");
    let f = run_bad("duplicate.toml", &text, &[]);
    assert_says(
        &f.stderr,
        &[
            &format!("error: duplicate.toml{} ", at(&text, "replicas = 3")),
            "not valid TOML",
            "duplicate key",
        ],
    );
}

#[test]
fn check_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = checkout_with("concurrency = 8", "concurrency = 0");
    fs::write(dir.path().join("check.toml"), &text).unwrap();
    let stderr = assert_bad_input(dir.path(), &["check", "check.toml"]);
    assert_located(
        &stderr,
        "check.toml",
        &at(&text, "concurrency = 0"),
        "services.payment.concurrency",
    );
    assert_says(&stderr, &["got 0"]);
}

/// A table given as a plain value must be explained in TOML terms, not in
/// the names of the program's internal Rust types (`struct RawArrival`).
#[test]
fn value_where_a_table_belongs_is_explained_in_toml_terms() {
    let text = checkout_with(
        "arrival = { process = \"poisson\", rate = 150 }",
        "arrival = 150",
    );
    let f = run_bad("not_a_table.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "not_a_table.toml",
        &at(&text, "arrival = 150"),
        "workloads[0].arrival",
    );
    assert_says(&f.stderr, &["invalid type", "table"]);
    assert!(
        !f.stderr.contains("struct") && !f.stderr.contains("Raw"),
        "internal type names leak into the message: {}",
        f.stderr
    );
}

#[test]
fn good_run_writes_exactly_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.toml"), checkout()).unwrap();
    let out = microsim(
        dir.path(),
        &[
            "run",
            "good.toml",
            "--out",
            "out",
            "--set",
            "simulation.duration=20s",
            "--set",
            "simulation.warmup=2s",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stdout.is_empty(), "a good run prints its summary");
    let mut names: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "dependencies.csv",
            "faults.csv",
            "services.csv",
            "summary.json",
            "timeseries.csv",
            "workloads.csv"
        ],
        "output files (temporary `.` files must be renamed away)"
    );
    for n in &names {
        let len = fs::metadata(dir.path().join("out").join(n)).unwrap().len();
        assert!(len > 0, "{n} is empty");
    }
}

/// Sizes that would overflow the engine's counters are refused up front.
#[test]
fn oversized_parallel_groups_and_step_lists_are_refused() {
    let calls = vec!["{ call = \"user.auth\" }"; 10_001].join(", ");
    let text = checkout_with(
        "{ parallel = [ { call = \"user.auth\" }, { call = \"payment.charge\" } ] },",
        &format!("{{ parallel = [ {calls} ] }},"),
    );
    let f = run_bad("wide.toml", &text, &[]);
    assert_says(
        &f.stderr,
        &["status.steps[1].parallel", "10001 calls; at most 10000"],
    );

    let steps = vec!["{ work = \"1ms\" }"; 10_001].join(", ");
    let text = checkout_with(
        "work = { dist = \"exponential\", mean = \"3ms\" }",
        &format!("steps = [ {steps} ]"),
    );
    let f = run_bad("long.toml", &text, &[]);
    assert_says(&f.stderr, &["auth.steps", "10001 steps; at most 10000"]);
}

/// A distribution whose mean overflows (Weibull with a tiny shape) would
/// make the capacity table meaningless; it is refused.
#[test]
fn distribution_with_an_infinite_mean_is_refused() {
    let text = checkout_with(
        "work = { dist = \"exponential\", mean = \"3ms\" }",
        "work = { dist = \"weibull\", scale = \"3ms\", shape = 0.001 }",
    );
    let f = run_bad("weibull.toml", &text, &[]);
    assert_says(
        &f.stderr,
        &[
            "`services.user.endpoints.auth.work`",
            "mean is not a finite time",
        ],
    );
}

/// An output path that is a file is refused before simulating.
#[test]
fn out_pointing_at_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("taken"), "x").unwrap();
    let file = scenario("checkout.toml");
    let out = microsim(
        dir.path(),
        &["run", file.to_str().unwrap(), "--out", "taken"],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--out taken: exists and is not a directory"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("simulated"),
        "it simulated first: {stderr}"
    );
}

/// A full disk on stdout is an error with a message (exit 1), not a panic.
#[test]
fn stdout_write_failure_is_reported() {
    let Ok(full) = fs::File::create("/dev/full") else {
        return; // Not Linux: nothing to test with.
    };
    let file = scenario("checkout.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args(["check", file.to_str().unwrap()])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("writing to stdout"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
