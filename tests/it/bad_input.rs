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
pub(super) fn at(text: &str, needle: &str) -> String {
    at_after(text, "", needle)
}

/// `:LINE:COL:` of the first `needle` that follows (the end of) the first
/// `anchor` in `text`.
pub(super) fn at_after(text: &str, anchor: &str, needle: &str) -> String {
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
pub(super) struct Failure {
    pub(super) stderr: String,
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
pub(super) fn run_bad(file: &str, text: &str, extra: &[&str]) -> Failure {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(file), text).unwrap();
    let mut args = vec!["run", file, "--out", "out"];
    args.extend_from_slice(extra);
    let stderr = assert_bad_input(dir.path(), &args);
    Failure { stderr, _dir: dir }
}

/// Asserts that `stderr` contains every one of `words`.
pub(super) fn assert_says(stderr: &str, words: &[&str]) {
    for w in words {
        assert!(
            stderr.contains(w),
            "stderr should contain {w:?}, got: {stderr}"
        );
    }
}

/// Asserts the located error prefix `error: FILE:LINE:COL: `PATH`: `.
pub(super) fn assert_located(stderr: &str, file: &str, line_col: &str, path: &str) {
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
            "attribution.csv",
            "charts",
            "dependencies.csv",
            "discovery.csv",
            "faults.csv",
            "percentiles.csv",
            "report.html",
            "run.json",
            "scenario.toml",
            "services.csv",
            "summary.json",
            "timeseries.csv",
            "workloads.csv"
        ],
        "output files (temporary `.` files must be renamed away)"
    );
    for (n, bytes) in crate::common::tree(&dir.path().join("out")) {
        assert!(!bytes.is_empty(), "{n} is empty");
        assert!(!n.contains("/."), "{n}: a temporary file was left");
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

// ---------------------------------------------------------------------
// Faults (`[[faults]]`) and resilience policies (`[policies.NAME]`, inline
// call policies, service-level `shed_after` and `outlier_ejection`). These
// are validation errors, so `check` is enough: no simulation runs.

/// Writes `text` as `file` in a fresh directory and runs
/// `microsim check FILE EXTRA...` there, expecting bad input.
fn check_bad(file: &str, text: &str, extra: &[&str]) -> Failure {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(file), text).unwrap();
    let mut args = vec!["check", file];
    args.extend_from_slice(extra);
    let stderr = assert_bad_input(dir.path(), &args);
    Failure { stderr, _dir: dir }
}

/// Checks `text` (written as `file`) and asserts the error is at
/// `line_col` on the field `path` and says every one of `words`.
fn check_refuses(file: &str, text: &str, line_col: &str, path: &str, words: &[&str]) {
    let f = check_bad(file, text, &[]);
    assert_located(&f.stderr, file, line_col, path);
    assert_says(&f.stderr, words);
}

/// checkout.toml with `tables` (e.g. `[[faults]]` tables) appended.
fn checkout_and(tables: &str) -> String {
    format!("{}\n{tables}", checkout())
}

/// checkout.toml with one `[[faults]]` table whose body is `body`.
fn with_fault(body: &str) -> String {
    checkout_and(&format!("[[faults]]\n{body}"))
}

/// The place of the first fault's `[[faults]]` header in `text`: an error
/// about a field missing from a fault is placed at the start of the table
/// it is missing from.
fn fault_header(text: &str) -> String {
    at(text, "[[faults]]")
}

/// The `payment.charge` call of `order.place` is steps[2].
const CHARGE_CALL: &str = "services.order.endpoints.place.steps[2]";

/// checkout.toml with `fields` added to the `payment.charge` call of
/// `order.place` (`{ call = "payment.charge", FIELDS }`).
fn charge_call_with(fields: &str) -> String {
    checkout_with(
        "{ call = \"payment.charge\" },\n]",
        &format!("{{ call = \"payment.charge\", {fields} }},\n]"),
    )
}

/// The faults' known kinds, which an unknown-kind message must list.
const FAULT_KINDS: [&str; 6] = [
    "crash",
    "latency",
    "errors",
    "partition",
    "slow_replica",
    "random_crashes",
];

#[test]
fn fault_with_unknown_kind_lists_the_kinds() {
    let text = with_fault("kind = \"explode\"\nservice = \"payment\"\nat = \"1m\"\n");
    let f = check_bad("fault_kind.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "fault_kind.toml",
        &at(&text, "kind = \"explode\""),
        "faults[0].kind",
    );
    assert_says(&f.stderr, &["unknown fault kind `explode`"]);
    assert_says(&f.stderr, &FAULT_KINDS);
}

#[test]
fn fault_without_kind_is_refused() {
    let text = with_fault("service = \"payment\"\nat = \"1m\"\n");
    check_refuses(
        "fault_nokind.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `kind`"],
    );
}

#[test]
fn crash_of_unknown_service_lists_the_services() {
    let text = with_fault("kind = \"crash\"\nservice = \"paymnt\"\nat = \"1m\"\n");
    check_refuses(
        "crash_service.toml",
        &text,
        &at(&text, "service = \"paymnt\""),
        "faults[0].service",
        &["unknown service `paymnt`", "user, payment, order"],
    );
}

#[test]
fn latency_fault_on_unknown_service_is_refused() {
    let text =
        with_fault("kind = \"latency\"\nservice = \"usr\"\nextra = \"100ms\"\nat = \"1m\"\n");
    check_refuses(
        "latency_service.toml",
        &text,
        &at(&text, "service = \"usr\""),
        "faults[0].service",
        &["unknown service `usr`", "user, payment, order"],
    );
}

#[test]
fn partition_from_unknown_service_is_refused() {
    let text = with_fault("kind = \"partition\"\nfrom = \"ordr\"\nto = \"payment\"\nat = \"1m\"\n");
    check_refuses(
        "partition_from.toml",
        &text,
        &at(&text, "from = \"ordr\""),
        "faults[0].from",
        &["unknown service `ordr`", "user, payment, order"],
    );
}

#[test]
fn partition_to_unknown_service_is_refused() {
    let text = with_fault("kind = \"partition\"\nfrom = \"order\"\nto = \"pay\"\nat = \"1m\"\n");
    check_refuses(
        "partition_to.toml",
        &text,
        &at(&text, "to = \"pay\""),
        "faults[0].to",
        &["unknown service `pay`", "user, payment, order"],
    );
}

#[test]
fn latency_fault_on_unknown_endpoint_lists_the_service_endpoints() {
    let text = with_fault(
        "kind = \"latency\"\nservice = \"order\"\nendpoint = \"plcae\"\nextra = \"100ms\"\nat = \"1m\"\n",
    );
    check_refuses(
        "latency_endpoint.toml",
        &text,
        &at(&text, "endpoint = \"plcae\""),
        "faults[0].endpoint",
        &["service `order` has no endpoint `plcae`", "place, status"],
    );
}

#[test]
fn errors_fault_on_unknown_endpoint_is_refused() {
    let text = with_fault(
        "kind = \"errors\"\nservice = \"payment\"\nendpoint = \"refund\"\nprobability = 0.1\nat = \"1m\"\n",
    );
    check_refuses(
        "errors_endpoint.toml",
        &text,
        &at(&text, "endpoint = \"refund\""),
        "faults[0].endpoint",
        &["service `payment` has no endpoint `refund`", "charge"],
    );
}

/// A fault's endpoint is the endpoint's own name; `service.endpoint` there
/// is a mistake that must say which endpoints exist.
#[test]
fn errors_fault_endpoint_written_as_service_dot_endpoint_is_refused() {
    let text = with_fault(
        "kind = \"errors\"\nservice = \"payment\"\nendpoint = \"payment.charge\"\nprobability = 0.1\nat = \"1m\"\n",
    );
    check_refuses(
        "errors_endpoint_dotted.toml",
        &text,
        &at(&text, "endpoint = \"payment.charge\""),
        "faults[0].endpoint",
        &["no endpoint `payment.charge`", "charge"],
    );
}

#[test]
fn fault_starting_at_a_negative_time_is_refused() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nat = \"-1s\"\n");
    check_refuses(
        "fault_negative_at.toml",
        &text,
        &at(&text, "at = \"-1s\""),
        "faults[0].at",
        &["`-1s`", "negative"],
    );
}

#[test]
fn fault_with_malformed_duration_is_refused() {
    let text =
        with_fault("kind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\nduration = \"abc\"\n");
    check_refuses(
        "fault_bad_duration.toml",
        &text,
        &at(&text, "duration = \"abc\""),
        "faults[0].duration",
        &["`abc` is not a duration", "\"5ms\""],
    );
}

#[test]
fn fault_with_zero_duration_is_refused() {
    let text =
        with_fault("kind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\nduration = \"0s\"\n");
    check_refuses(
        "fault_zero_duration.toml",
        &text,
        &at(&text, "duration = \"0s\""),
        "faults[0].duration",
        &["greater than zero", "leave it out"],
    );
}

#[test]
fn fault_at_given_as_a_number_is_refused() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nat = 60\n");
    check_refuses(
        "fault_at_number.toml",
        &text,
        &at(&text, "at = 60"),
        "faults[0].at",
        &["invalid type", "expected a string"],
    );
}

#[test]
fn error_probability_above_one_is_refused() {
    let text =
        with_fault("kind = \"errors\"\nservice = \"payment\"\nprobability = 1.5\nat = \"1m\"\n");
    check_refuses(
        "probability_high.toml",
        &text,
        &at(&text, "probability = 1.5"),
        "faults[0].probability",
        &["from 0 to 1", "got 1.5"],
    );
}

#[test]
fn negative_error_probability_is_refused() {
    let text =
        with_fault("kind = \"errors\"\nservice = \"payment\"\nprobability = -0.1\nat = \"1m\"\n");
    check_refuses(
        "probability_negative.toml",
        &text,
        &at(&text, "probability = -0.1"),
        "faults[0].probability",
        &["from 0 to 1", "got -0.1"],
    );
}

#[test]
fn nan_error_probability_is_refused() {
    let text =
        with_fault("kind = \"errors\"\nservice = \"payment\"\nprobability = nan\nat = \"1m\"\n");
    check_refuses(
        "probability_nan.toml",
        &text,
        &at(&text, "probability = nan"),
        "faults[0].probability",
        &["from 0 to 1", "got NaN"],
    );
}

#[test]
fn latency_fraction_outside_zero_to_one_is_refused() {
    let text = with_fault(
        "kind = \"latency\"\nservice = \"payment\"\nextra = \"100ms\"\nfraction = 1.5\nat = \"1m\"\n",
    );
    check_refuses(
        "fraction_high.toml",
        &text,
        &at(&text, "fraction = 1.5"),
        "faults[0].fraction",
        &["from 0 to 1", "got 1.5"],
    );
    let text = with_fault(
        "kind = \"latency\"\nservice = \"payment\"\nextra = \"100ms\"\nfraction = -0.5\nat = \"1m\"\n",
    );
    check_refuses(
        "fraction_negative.toml",
        &text,
        &at(&text, "fraction = -0.5"),
        "faults[0].fraction",
        &["from 0 to 1", "got -0.5"],
    );
}

#[test]
fn crash_of_zero_replicas_is_refused() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nreplicas = 0\nat = \"1m\"\n");
    check_refuses(
        "crash_zero.toml",
        &text,
        &at(&text, "replicas = 0"),
        "faults[0].replicas",
        &[
            "must be from 1 to 2: service `payment` has 2 replicas",
            "got 0",
        ],
    );
}

#[test]
fn crash_of_more_replicas_than_the_service_has_is_refused() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nreplicas = 3\nat = \"1m\"\n");
    check_refuses(
        "crash_too_many.toml",
        &text,
        &at(&text, "replicas = 3\nat"),
        "faults[0].replicas",
        &[
            "must be from 1 to 2: service `payment` has 2 replicas",
            "got 3",
        ],
    );
}

#[test]
fn slow_replica_index_out_of_range_is_refused() {
    let text = with_fault(
        "kind = \"slow_replica\"\nservice = \"payment\"\nreplica = 2\nfactor = 10\nat = \"1m\"\n",
    );
    check_refuses(
        "slow_index.toml",
        &text,
        &at(&text, "replica = 2"),
        "faults[0].replica",
        &["replica index from 0 to 1", "got 2"],
    );
    let text = with_fault(
        "kind = \"slow_replica\"\nservice = \"payment\"\nreplica = -1\nfactor = 10\nat = \"1m\"\n",
    );
    check_refuses(
        "slow_index_negative.toml",
        &text,
        &at(&text, "replica = -1"),
        "faults[0].replica",
        &["replica index from 0 to 1", "got -1"],
    );
}

#[test]
fn slow_replica_factor_not_above_zero_is_refused() {
    for (factor, got) in [("0", "got 0"), ("-2", "got -2"), ("inf", "got inf")] {
        let text = with_fault(&format!(
            "kind = \"slow_replica\"\nservice = \"payment\"\nfactor = {factor}\nat = \"1m\"\n"
        ));
        check_refuses(
            "slow_factor.toml",
            &text,
            &at(&text, "factor = "),
            "faults[0].factor",
            &["greater than 0", got],
        );
    }
}

#[test]
fn field_of_another_fault_kind_is_refused() {
    let text =
        with_fault("kind = \"crash\"\nservice = \"payment\"\nprobability = 0.5\nat = \"1m\"\n");
    check_refuses(
        "crash_probability.toml",
        &text,
        &at(&text, "probability = 0.5"),
        "faults[0].probability",
        &[
            "`probability` does not apply to a crash fault",
            "service, replicas, mode",
        ],
    );
    let text = with_fault(
        "kind = \"errors\"\nservice = \"payment\"\nprobability = 0.5\nextra = \"10ms\"\nat = \"1m\"\n",
    );
    check_refuses(
        "errors_extra.toml",
        &text,
        &at(&text, "extra = \"10ms\""),
        "faults[0].extra",
        &[
            "`extra` does not apply to an errors fault",
            "service, endpoint, probability",
        ],
    );
}

/// "does not apply to a errors fault" is bad English; the article must
/// follow the kind ("an errors fault").
#[test]

fn field_of_another_kind_message_uses_the_right_article() {
    let text = with_fault(
        "kind = \"errors\"\nservice = \"payment\"\nprobability = 0.5\nextra = \"10ms\"\nat = \"1m\"\n",
    );
    let f = check_bad("errors_article.toml", &text, &[]);
    assert_says(&f.stderr, &["does not apply to an errors fault"]);
}

#[test]
fn unknown_key_in_a_fault_lists_the_fault_fields() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nstart = \"1m\"\n");
    check_refuses(
        "fault_unknown_key.toml",
        &text,
        &at(&text, "start = "),
        "faults[0].start",
        &["unknown field `start`", "`at`", "`duration`", "`kind`"],
    );
}

#[test]
fn crash_without_start_time_is_refused() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\n");
    check_refuses(
        "crash_no_at.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `at`"],
    );
}

#[test]
fn crash_without_service_is_refused() {
    let text = with_fault("kind = \"crash\"\nat = \"1m\"\n");
    check_refuses(
        "crash_no_service.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `service`"],
    );
}

#[test]
fn latency_fault_without_extra_is_refused() {
    let text = with_fault("kind = \"latency\"\nservice = \"payment\"\nat = \"1m\"\n");
    check_refuses(
        "latency_no_extra.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `extra`"],
    );
}

#[test]
fn latency_fault_with_bad_extra_distribution_is_refused() {
    let text = with_fault(
        "kind = \"latency\"\nservice = \"payment\"\nextra = { dist = \"exponentail\", mean = \"1ms\" }\nat = \"1m\"\n",
    );
    check_refuses(
        "latency_bad_extra.toml",
        &text,
        &at(&text, "dist = \"exponentail\""),
        "faults[0].extra.dist",
        &["unknown distribution `exponentail`"],
    );
}

#[test]
fn errors_fault_without_probability_is_refused() {
    let text = with_fault("kind = \"errors\"\nservice = \"payment\"\nat = \"1m\"\n");
    check_refuses(
        "errors_no_probability.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `probability`"],
    );
}

#[test]
fn slow_replica_without_factor_is_refused() {
    let text = with_fault("kind = \"slow_replica\"\nservice = \"payment\"\nat = \"1m\"\n");
    check_refuses(
        "slow_no_factor.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `factor`"],
    );
}

#[test]
fn random_crashes_without_mtbf_is_refused() {
    let text = with_fault("kind = \"random_crashes\"\nservice = \"payment\"\nmttr = \"30s\"\n");
    check_refuses(
        "random_no_mtbf.toml",
        &text,
        &fault_header(&text),
        "faults[0]",
        &["missing field `mtbf`", "mean time between failures"],
    );
}

#[test]
fn random_crashes_with_zero_mttr_is_refused() {
    let text = with_fault(
        "kind = \"random_crashes\"\nservice = \"payment\"\nmtbf = \"10m\"\nmttr = \"0s\"\n",
    );
    check_refuses(
        "random_zero_mttr.toml",
        &text,
        &at(&text, "mttr = \"0s\""),
        "faults[0].mttr",
        &["greater than zero"],
    );
}

/// A missing field of the second fault is placed at the second fault's
/// header, not at the first one's.
#[test]
fn missing_field_of_a_later_fault_is_placed_at_its_own_header() {
    let text = checkout_and(
        "[[faults]]\nkind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\n\n[[faults]]\nkind = \"crash\"\nservice = \"user\"\n",
    );
    check_refuses(
        "second_no_at.toml",
        &text,
        &at_after(&text, "at = \"1m\"", "[[faults]]"),
        "faults[1]",
        &["missing field `at`"],
    );
}

#[test]
fn unknown_fault_mode_is_refused() {
    let text =
        with_fault("kind = \"crash\"\nservice = \"payment\"\nmode = \"explode\"\nat = \"1m\"\n");
    check_refuses(
        "crash_mode.toml",
        &text,
        &at(&text, "mode = \"explode\""),
        "faults[0].mode",
        &["unknown mode `explode`", "reject", "drop"],
    );
    let text = with_fault(
        "kind = \"partition\"\nfrom = \"order\"\nto = \"payment\"\nmode = \"blackhole\"\nat = \"1m\"\n",
    );
    check_refuses(
        "partition_mode.toml",
        &text,
        &at(&text, "mode = \"blackhole\""),
        "faults[0].mode",
        &["unknown mode `blackhole`", "reject", "drop"],
    );
}

#[test]
fn duplicate_fault_names_are_refused() {
    let text = checkout_and(
        "[[faults]]\nname = \"boom\"\nkind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\n\n\
         [[faults]]\nname = \"boom\"\nkind = \"crash\"\nservice = \"user\"\nat = \"2m\"\n",
    );
    check_refuses(
        "duplicate_faults.toml",
        &text,
        &at_after(&text, "service = \"payment\"", "name = \"boom\""),
        "faults[1].name",
        &["fault name `boom` is used twice", "unique `name`"],
    );
}

/// Two unnamed faults of the same kind, target and start get the same
/// default name; the error points at the second one's `kind`.
#[test]
fn duplicate_default_fault_names_are_refused() {
    let fault = "[[faults]]\nkind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\n";
    let text = checkout_and(&format!("{fault}\n{fault}"));
    check_refuses(
        "duplicate_default_faults.toml",
        &text,
        &at_after(&text, "at = \"1m\"", "kind = \"crash\""),
        "faults[1].kind",
        &["fault name `crash payment at 1m` is used twice", "`name`"],
    );
}

#[test]
fn empty_fault_name_is_refused() {
    let text = with_fault("name = \" \"\nkind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\n");
    check_refuses(
        "fault_empty_name.toml",
        &text,
        &at(&text, "name = \" \""),
        "faults[0].name",
        &["must not be empty"],
    );
}

// Policies.

#[test]
fn call_naming_an_unknown_policy_is_refused() {
    let text = charge_call_with("policy = \"paymnt\"");
    check_refuses(
        "unknown_policy_none.toml",
        &text,
        &at(&text, "policy = \"paymnt\""),
        &format!("{CHARGE_CALL}.policy"),
        &["unknown policy `paymnt`", "no [policies.NAME] tables"],
    );
    let text = format!(
        "{}\n[policies.payment]\ntimeout = \"1s\"\n\n[policies.fast]\ntimeout = \"10ms\"\n",
        charge_call_with("policy = \"paymnt\"")
    );
    check_refuses(
        "unknown_policy.toml",
        &text,
        &at(&text, "policy = \"paymnt\""),
        &format!("{CHARGE_CALL}.policy"),
        &["unknown policy `paymnt`", "payment, fast"],
    );
}

#[test]
fn inline_fields_with_a_named_policy_are_refused() {
    let text = format!(
        "{}\n[policies.payment]\ntimeout = \"1s\"\n",
        charge_call_with("policy = \"payment\", timeout = \"2s\"")
    );
    check_refuses(
        "policy_overlap.toml",
        &text,
        &at(&text, "timeout = \"2s\""),
        &format!("{CHARGE_CALL}.timeout"),
        &[
            "`timeout` cannot be combined with policy = \"payment\"",
            "[policies.payment]",
        ],
    );
    let text = format!(
        "{}\n[policies.payment]\ntimeout = \"1s\"\n",
        charge_call_with("policy = \"payment\", bulkhead = 5")
    );
    check_refuses(
        "policy_overlap_bulkhead.toml",
        &text,
        &at(&text, "bulkhead = 5"),
        &format!("{CHARGE_CALL}.bulkhead"),
        &["`bulkhead` cannot be combined with policy = \"payment\""],
    );
}

#[test]
fn zero_timeout_is_refused() {
    let text = charge_call_with("timeout = \"0s\"");
    check_refuses(
        "timeout_zero.toml",
        &text,
        &at(&text, "timeout = \"0s\""),
        &format!("{CHARGE_CALL}.timeout"),
        &["greater than zero", "leave it out"],
    );
    let text = checkout_and("[policies.payment]\ntimeout = \"0s\"\n");
    check_refuses(
        "policy_timeout_zero.toml",
        &text,
        &at(&text, "timeout = \"0s\""),
        "policies.payment.timeout",
        &["greater than zero", "leave it out"],
    );
}

#[test]
fn malformed_timeout_is_refused() {
    let text = charge_call_with("timeout = \"soon\"");
    check_refuses(
        "timeout_bad.toml",
        &text,
        &at(&text, "timeout = \"soon\""),
        &format!("{CHARGE_CALL}.timeout"),
        &["`soon` is not a duration"],
    );
}

#[test]
fn single_attempt_retries_are_refused() {
    let text =
        charge_call_with("retries = { attempts = 1, backoff = \"exponential\", base = \"50ms\" }");
    check_refuses(
        "retries_one.toml",
        &text,
        &at(&text, "attempts = 1"),
        &format!("{CHARGE_CALL}.retries.attempts"),
        &["attempts = 1 means no retry", "2 or more"],
    );
}

#[test]
fn zero_attempts_are_refused() {
    let text = charge_call_with("retries = { attempts = 0 }");
    check_refuses(
        "retries_zero.toml",
        &text,
        &at(&text, "attempts = 0"),
        &format!("{CHARGE_CALL}.retries.attempts"),
        &["whole number", "got 0"],
    );
}

/// The range given for a bad `attempts` must be the one accepted: 1 is
/// refused too, so "from 1 to 100" sends the user into a second error.
#[test]

fn zero_attempts_message_gives_the_accepted_range() {
    let text = charge_call_with("retries = { attempts = 0 }");
    let f = check_bad("retries_zero_range.toml", &text, &[]);
    assert_says(&f.stderr, &["from 2 to 100", "got 0"]);
}

#[test]
fn retries_without_attempts_are_refused() {
    let text = charge_call_with("retries = { backoff = \"constant\", base = \"10ms\" }");
    check_refuses(
        "retries_no_attempts.toml",
        &text,
        &at(&text, "retries = "),
        &format!("{CHARGE_CALL}.retries"),
        &["missing field `attempts`"],
    );
}

#[test]
fn unknown_backoff_is_refused() {
    let text =
        charge_call_with("retries = { attempts = 3, backoff = \"linear\", base = \"10ms\" }");
    check_refuses(
        "backoff.toml",
        &text,
        &at(&text, "backoff = \"linear\""),
        &format!("{CHARGE_CALL}.retries.backoff"),
        &["unknown backoff `linear`", "constant", "exponential"],
    );
}

#[test]
fn unknown_jitter_is_refused() {
    let text = charge_call_with("retries = { attempts = 3, base = \"10ms\", jitter = \"half\" }");
    check_refuses(
        "jitter.toml",
        &text,
        &at(&text, "jitter = \"half\""),
        &format!("{CHARGE_CALL}.retries.jitter"),
        &["unknown jitter `half`", "none, full or equal"],
    );
}

#[test]
fn jitter_without_base_is_refused() {
    let text = charge_call_with("retries = { attempts = 3, jitter = \"full\" }");
    check_refuses(
        "jitter_no_base.toml",
        &text,
        &at(&text, "jitter = \"full\""),
        &format!("{CHARGE_CALL}.retries.jitter"),
        &["jitter = \"full\"", "set `base`"],
    );
}

#[test]
fn exponential_backoff_without_base_is_refused() {
    let text = charge_call_with("retries = { attempts = 3, backoff = \"exponential\" }");
    check_refuses(
        "exp_no_base.toml",
        &text,
        &at(&text, "retries = "),
        &format!("{CHARGE_CALL}.retries"),
        &["exponential backoff needs `base`"],
    );
}

#[test]
fn max_delay_with_constant_backoff_is_refused() {
    let text = charge_call_with(
        "retries = { attempts = 3, backoff = \"constant\", base = \"10ms\", max_delay = \"1s\" }",
    );
    check_refuses(
        "max_delay_constant.toml",
        &text,
        &at(&text, "max_delay = "),
        &format!("{CHARGE_CALL}.retries.max_delay"),
        &["max_delay only applies to backoff = \"exponential\""],
    );
    // The default backoff is constant too.
    let text = charge_call_with("retries = { attempts = 3, base = \"10ms\", max_delay = \"1s\" }");
    check_refuses(
        "max_delay_default.toml",
        &text,
        &at(&text, "max_delay = "),
        &format!("{CHARGE_CALL}.retries.max_delay"),
        &["max_delay only applies to backoff = \"exponential\""],
    );
}

#[test]
fn max_delay_below_base_is_refused() {
    let text = charge_call_with(
        "retries = { attempts = 3, backoff = \"exponential\", base = \"100ms\", max_delay = \"10ms\" }",
    );
    check_refuses(
        "max_delay_small.toml",
        &text,
        &at(&text, "max_delay = "),
        &format!("{CHARGE_CALL}.retries.max_delay"),
        &["at least `base`"],
    );
}

#[test]
fn unknown_retry_cause_lists_the_causes() {
    let text = charge_call_with("retries = { attempts = 3, on = [\"timeout\", \"tiemout\"] }");
    check_refuses(
        "retry_cause.toml",
        &text,
        &at(&text, "\"tiemout\""),
        &format!("{CHARGE_CALL}.retries.on[1]"),
        &[
            "unknown cause `tiemout`",
            "rejected",
            "timeout",
            "connection_failed",
            "injected_error",
            "circuit_open",
            "bulkhead_full",
            "shed",
        ],
    );
}

#[test]
fn empty_retry_cause_list_is_refused() {
    let text = charge_call_with("retries = { attempts = 3, on = [] }");
    check_refuses(
        "retry_on_empty.toml",
        &text,
        &at(&text, "on = []"),
        &format!("{CHARGE_CALL}.retries.on"),
        &["empty list retries nothing"],
    );
}

#[test]
fn retry_budget_outside_zero_to_one_is_refused() {
    for (budget, got) in [("0", "got 0"), ("1.5", "got 1.5"), ("-0.1", "got -0.1")] {
        let text = charge_call_with(&format!("retries = {{ attempts = 3, budget = {budget} }}"));
        check_refuses(
            "retry_budget.toml",
            &text,
            &at(&text, "budget = "),
            &format!("{CHARGE_CALL}.retries.budget"),
            &["greater than 0 and at most 1", got],
        );
    }
}

#[test]
fn unknown_key_in_retries_lists_the_valid_keys() {
    let text = charge_call_with("retries = { attempts = 3, bakoff = \"exponential\" }");
    check_refuses(
        "retries_key.toml",
        &text,
        &at(&text, "bakoff = "),
        &format!("{CHARGE_CALL}.retries.bakoff"),
        &[
            "unknown field `bakoff`",
            "`attempts`",
            "`backoff`",
            "`base`",
            "`max_delay`",
            "`jitter`",
            "`on`",
            "`budget`",
        ],
    );
}

#[test]
fn circuit_breaker_failure_rate_outside_range_is_refused() {
    let text = charge_call_with("circuit_breaker = { failure_rate = 1.5 }");
    check_refuses(
        "breaker_rate_high.toml",
        &text,
        &at(&text, "failure_rate = 1.5"),
        &format!("{CHARGE_CALL}.circuit_breaker.failure_rate"),
        &["got 1.5"],
    );
    let text = charge_call_with("circuit_breaker = { failure_rate = 0 }");
    check_refuses(
        "breaker_rate_zero.toml",
        &text,
        &at(&text, "failure_rate = 0"),
        &format!("{CHARGE_CALL}.circuit_breaker.failure_rate"),
        &["greater than 0", "greater than 0 and at most 1"],
    );
}

/// 0 is refused, so a message for 1.5 that offers "from 0 to 1" is
/// wrong about the low end.
#[test]

fn circuit_breaker_failure_rate_message_gives_the_accepted_range() {
    let text = charge_call_with("circuit_breaker = { failure_rate = 1.5 }");
    let f = check_bad("breaker_rate_range.toml", &text, &[]);
    assert_says(&f.stderr, &["greater than 0", "at most 1", "got 1.5"]);
}

#[test]
fn circuit_breaker_with_zero_min_calls_or_window_is_refused() {
    let text = charge_call_with("circuit_breaker = { failure_rate = 0.5, min_calls = 0 }");
    check_refuses(
        "breaker_min_calls.toml",
        &text,
        &at(&text, "min_calls = 0"),
        &format!("{CHARGE_CALL}.circuit_breaker.min_calls"),
        &["whole number from 1", "got 0"],
    );
    let text = charge_call_with("circuit_breaker = { failure_rate = 0.5, window = \"0s\" }");
    check_refuses(
        "breaker_window.toml",
        &text,
        &at(&text, "window = \"0s\""),
        &format!("{CHARGE_CALL}.circuit_breaker.window"),
        &["greater than zero"],
    );
    let text = charge_call_with("circuit_breaker = { failure_rate = 0.5, open_for = \"0s\" }");
    check_refuses(
        "breaker_open_for.toml",
        &text,
        &at(&text, "open_for = \"0s\""),
        &format!("{CHARGE_CALL}.circuit_breaker.open_for"),
        &["greater than zero"],
    );
    let text = charge_call_with("circuit_breaker = { failure_rate = 0.5, half_open_calls = 0 }");
    check_refuses(
        "breaker_half_open.toml",
        &text,
        &at(&text, "half_open_calls = 0"),
        &format!("{CHARGE_CALL}.circuit_breaker.half_open_calls"),
        &["whole number from 1", "got 0"],
    );
}

#[test]
fn unknown_key_in_circuit_breaker_lists_the_valid_keys() {
    let text = charge_call_with("circuit_breaker = { failure_rate = 0.5, windw = \"10s\" }");
    check_refuses(
        "breaker_key.toml",
        &text,
        &at(&text, "windw = "),
        &format!("{CHARGE_CALL}.circuit_breaker.windw"),
        &[
            "unknown field `windw`",
            "`failure_rate`",
            "`window`",
            "`min_calls`",
            "`open_for`",
            "`half_open_calls`",
        ],
    );
}

#[test]
fn zero_bulkhead_is_refused() {
    let text = charge_call_with("bulkhead = 0");
    check_refuses(
        "bulkhead.toml",
        &text,
        &at(&text, "bulkhead = 0"),
        &format!("{CHARGE_CALL}.bulkhead"),
        &["whole number from 1", "got 0"],
    );
    let text = checkout_and("[policies.payment]\nbulkhead = 0\n");
    check_refuses(
        "policy_bulkhead.toml",
        &text,
        &at(&text, "bulkhead = 0"),
        "policies.payment.bulkhead",
        &["whole number from 1", "got 0"],
    );
}

#[test]
fn policy_fields_on_a_work_step_are_refused() {
    let text = checkout_with(
        "{ work = { dist = \"constant\", value = \"1ms\" } },",
        "{ work = \"1ms\", timeout = \"1s\" },",
    );
    check_refuses(
        "work_timeout.toml",
        &text,
        &at(&text, "timeout = \"1s\""),
        "services.order.endpoints.status.steps[0].timeout",
        &["`timeout` applies to calls only"],
    );
    let text = checkout_with(
        "{ work = { dist = \"constant\", value = \"1ms\" } },",
        "{ work = \"1ms\", optional = true },",
    );
    check_refuses(
        "work_optional.toml",
        &text,
        &at(&text, "optional = true"),
        "services.order.endpoints.status.steps[0].optional",
        &["`optional` applies to calls only"],
    );
}

#[test]
fn policy_fields_on_a_parallel_group_are_refused() {
    let text = checkout_with(
        "{ parallel = [ { call = \"user.auth\" }, { call = \"payment.charge\" } ] },",
        "{ parallel = [ { call = \"user.auth\" }, { call = \"payment.charge\" } ], timeout = \"1s\" },",
    );
    check_refuses(
        "parallel_timeout.toml",
        &text,
        &at(&text, "timeout = \"1s\""),
        "services.order.endpoints.status.steps[1].timeout",
        &["`timeout` applies to calls only"],
    );
}

#[test]
fn bad_inline_policy_inside_a_parallel_group_is_located() {
    let text = checkout_with(
        "{ parallel = [ { call = \"user.auth\" }, { call = \"payment.charge\" } ] },",
        "{ parallel = [ { call = \"user.auth\" }, { call = \"payment.charge\", bulkhead = -3 } ] },",
    );
    check_refuses(
        "parallel_bulkhead.toml",
        &text,
        &at(&text, "bulkhead = -3"),
        "services.order.endpoints.status.steps[1].parallel[1].bulkhead",
        &["whole number from 1", "got -3"],
    );
}

#[test]
fn unknown_key_in_a_named_policy_lists_the_valid_keys() {
    let text = checkout_and("[policies.payment]\ntimout = \"1s\"\n");
    check_refuses(
        "policy_key.toml",
        &text,
        &at(&text, "timout = "),
        "policies.payment.timout",
        &[
            "unknown field `timout`",
            "`timeout`",
            "`retries`",
            "`circuit_breaker`",
            "`bulkhead`",
            "`optional`",
        ],
    );
}

#[test]
fn bad_retries_in_a_named_policy_are_located() {
    let text = checkout_and("[policies.payment]\nretries = { attempts = 3, jitter = \"equal\" }\n");
    check_refuses(
        "policy_jitter.toml",
        &text,
        &at(&text, "jitter = \"equal\""),
        "policies.payment.retries.jitter",
        &["jitter = \"equal\"", "set `base`"],
    );
}

#[test]
fn policy_name_with_bad_characters_is_refused() {
    let text = checkout_and("[policies.\"pay ment\"]\ntimeout = \"1s\"\n");
    check_refuses(
        "policy_name.toml",
        &text,
        &at(&text, "\"pay ment\""),
        "policies.pay ment",
        &["policy name `pay ment`", "letters, digits"],
    );
}

// Service-level resilience.

#[test]
fn zero_shed_after_is_refused() {
    let text = checkout_with(
        "queue_capacity = 128\n",
        "queue_capacity = 128\nshed_after = \"0s\"\n",
    );
    check_refuses(
        "shed_after.toml",
        &text,
        &at(&text, "shed_after = "),
        "services.payment.shed_after",
        &["greater than zero"],
    );
}

#[test]
fn negative_startup_is_refused() {
    let text = checkout_with(
        "queue_capacity = 128\n",
        "queue_capacity = 128\nstartup = \"-20s\"\n",
    );
    check_refuses(
        "startup.toml",
        &text,
        &at(&text, "startup = "),
        "services.payment.startup",
        &["`-20s`", "negative"],
    );
}

#[test]
fn outlier_ejection_with_zero_failures_is_refused() {
    let text = checkout_with(
        "queue_capacity = 128\n",
        "queue_capacity = 128\noutlier_ejection = { consecutive_failures = 0 }\n",
    );
    check_refuses(
        "outlier_failures.toml",
        &text,
        &at(&text, "consecutive_failures = 0"),
        "services.payment.outlier_ejection.consecutive_failures",
        &["whole number from 1", "got 0"],
    );
}

#[test]
fn outlier_ejection_max_ejected_above_one_is_refused() {
    let text = checkout_with(
        "queue_capacity = 128\n",
        "queue_capacity = 128\noutlier_ejection = { consecutive_failures = 5, max_ejected = 2 }\n",
    );
    check_refuses(
        "outlier_max.toml",
        &text,
        &at(&text, "max_ejected = 2"),
        "services.payment.outlier_ejection.max_ejected",
        &["from 0 to 1", "got 2"],
    );
}

#[test]
fn outlier_ejection_with_zero_eject_for_is_refused() {
    let text = checkout_with(
        "queue_capacity = 128\n",
        "queue_capacity = 128\noutlier_ejection = { eject_for = \"0s\" }\n",
    );
    check_refuses(
        "outlier_eject_for.toml",
        &text,
        &at(&text, "eject_for = "),
        "services.payment.outlier_ejection.eject_for",
        &["greater than zero"],
    );
}

#[test]
fn unknown_key_in_outlier_ejection_lists_the_valid_keys() {
    let text = checkout_with(
        "queue_capacity = 128\n",
        "queue_capacity = 128\noutlier_ejection = { failures = 5 }\n",
    );
    check_refuses(
        "outlier_key.toml",
        &text,
        &at(&text, "failures = 5"),
        "services.payment.outlier_ejection.failures",
        &[
            "unknown field `failures`",
            "`consecutive_failures`",
            "`eject_for`",
            "`max_ejected`",
        ],
    );
}

// `--set` on faults, and warnings that are not errors.

/// An errors fault named `boom` on payment, for `--set` tests.
const ERRORS_FAULT: &str =
    "[[faults]]\nname = \"boom\"\nkind = \"errors\"\nservice = \"payment\"\nprobability = 0.2\nat = \"1m\"\n";

#[test]
fn set_fault_probability_out_of_range_is_blamed_on_the_argument() {
    let text = checkout_and(ERRORS_FAULT);
    let f = check_bad("faults.toml", &text, &["--set", "faults.0.probability=2"]);
    assert_says(
        &f.stderr,
        &[
            "error: faults.toml: in --set faults.0.probability=2: `faults[0].probability`: ",
            "from 0 to 1",
            "got 2",
        ],
    );
    // The same fault addressed by name.
    let f = check_bad(
        "faults.toml",
        &text,
        &["--set", "faults.boom.probability=2"],
    );
    assert_says(
        &f.stderr,
        &[
            "error: faults.toml: in --set faults.boom.probability=2: `faults[0].probability`: ",
            "from 0 to 1",
            "got 2",
        ],
    );
}

#[test]
fn set_field_of_another_fault_kind_is_blamed_on_the_argument() {
    let text = checkout_and(ERRORS_FAULT);
    let f = check_bad("faults.toml", &text, &["--set", "faults.0.replicas=1"]);
    assert_says(
        &f.stderr,
        &[
            "error: faults.toml: in --set faults.0.replicas=1: `faults[0].replicas`: ",
            "`replicas` does not apply to",
            "service, endpoint, probability",
        ],
    );
}

#[test]
fn set_on_a_missing_fault_is_refused() {
    let text = checkout_and(ERRORS_FAULT);
    let f = check_bad("faults.toml", &text, &["--set", "faults.1.probability=0.5"]);
    assert_says(
        &f.stderr,
        &[
            "error: faults.toml: in --set faults.1.probability=0.5: ",
            "index 1 is out of range",
        ],
    );
}

/// Runs `microsim check FILE EXTRA...` on `text`, expecting success;
/// returns stdout and stderr.
fn check_ok(file: &str, text: &str, extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(file), text).unwrap();
    let mut args = vec!["check", file];
    args.extend_from_slice(extra);
    let out = microsim(dir.path(), &args);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("error"), "stderr: {stderr}");
    assert!(stdout.contains(&format!("{file}: ok")), "stdout: {stdout}");
    (stdout, stderr)
}

#[test]
fn fault_after_the_end_of_the_run_is_a_warning() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nat = \"10m\"\n");
    let (_, stderr) = check_ok("late_fault.toml", &text, &[]);
    assert_says(
        &stderr,
        &[
            "warning: fault `crash payment at 10m` starts at 10m",
            "after the end of the run (5m)",
            "no effect",
        ],
    );
    // A run shortened with --set makes a fault late as well.
    let text = checkout_and(ERRORS_FAULT);
    let (_, stderr) = check_ok(
        "faults.toml",
        &text,
        &[
            "--set",
            "simulation.duration=30s",
            "--set",
            "simulation.warmup=5s",
        ],
    );
    assert_says(
        &stderr,
        &[
            "warning: fault `boom` starts at 1m",
            "after the end of the run (30s)",
        ],
    );
}

#[test]
fn drop_partition_without_timeouts_is_a_warning() {
    let text = with_fault(
        "kind = \"partition\"\nfrom = \"order\"\nto = \"payment\"\nmode = \"drop\"\nat = \"1m\"\n",
    );
    let (_, stderr) = check_ok("drop_partition.toml", &text, &[]);
    assert_says(
        &stderr,
        &[
            "warning: fault `partition order->payment at 1m` drops calls from order to payment",
            "no timeout",
        ],
    );
}

#[test]
fn run_refuses_a_bad_fault_without_writing_output() {
    let text = with_fault("kind = \"crash\"\nservice = \"payment\"\nreplicas = 5\nat = \"1m\"\n");
    let f = run_bad("run_bad_fault.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "run_bad_fault.toml",
        &at(&text, "replicas = 5"),
        "faults[0].replicas",
    );
    assert_says(&f.stderr, &["got 5"]);
}

#[test]
fn set_making_a_fault_kind_unknown_is_blamed_on_the_argument() {
    let text = checkout_and(ERRORS_FAULT);
    let f = check_bad("faults.toml", &text, &["--set", "faults.boom.kind=explode"]);
    assert_says(
        &f.stderr,
        &[
            "error: faults.toml: in --set faults.boom.kind=explode: `faults[0].kind`: ",
            "unknown fault kind `explode`",
        ],
    );
}

/// `[faults]` written for `[[faults]]` is a common TOML slip; the message
/// must say so in TOML terms, not serde's ("map", "sequence").
#[test]

fn faults_written_as_a_single_table_are_explained_in_toml_terms() {
    let text = checkout_and("[faults]\nkind = \"crash\"\nservice = \"payment\"\nat = \"1m\"\n");
    let f = check_bad("faults_table.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "faults_table.toml",
        &at(&text, "faults]"),
        "faults",
    );
    assert_says(&f.stderr, &["[[faults]]"]);
    assert!(
        !f.stderr.contains("sequence") && !f.stderr.contains("map"),
        "serde terms leak into the message: {}",
        f.stderr
    );
}

/// `on = "timeout"` for `on = ["timeout"]` must be explained in TOML
/// terms (an array), not serde's ("sequence").
#[test]

fn retry_causes_given_as_a_string_are_explained_in_toml_terms() {
    let text = charge_call_with("retries = { attempts = 3, on = \"timeout\" }");
    let f = check_bad("retry_on_string.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "retry_on_string.toml",
        &at(&text, "on = \"timeout\""),
        &format!("{CHARGE_CALL}.retries.on"),
    );
    assert_says(&f.stderr, &["invalid type", "array"]);
    assert!(
        !f.stderr.contains("sequence"),
        "serde terms leak into the message: {}",
        f.stderr
    );
}

/// Faults may be written as an inline array too; a missing field is then
/// placed at the inline table of the fault that lacks it.
#[test]
fn missing_field_of_an_inline_fault_is_placed_at_its_table() {
    let text = checkout_with(
        "name = \"checkout\"\n",
        "name = \"checkout\"\nfaults = [ { kind = \"crash\", service = \"payment\", at = \"1m\" }, { kind = \"crash\", service = \"user\" } ]\n",
    );
    check_refuses(
        "inline_faults.toml",
        &text,
        &at_after(&text, "at = \"1m\" }, ", "{ kind"),
        "faults[1]",
        &["missing field `at`"],
    );
}

// ---------------------------------------------------------------------
// Service registry and discovery (`[registry]`, `[discovery]`,
// `[services.NAME.discovery]`): validation errors, so `check` is enough.

/// checkout.toml with a default `[registry]` and `tables` appended.
fn with_registry(tables: &str) -> String {
    checkout_and(&format!("[registry]\n{tables}"))
}

#[test]
fn unknown_key_in_registry_lists_the_valid_keys() {
    let text = with_registry("replica = 3\n");
    check_refuses(
        "registry_key.toml",
        &text,
        &at(&text, "replica = 3"),
        "registry.replica",
        &[
            "unknown field `replica`",
            "`enabled`",
            "`replicas`",
            "`concurrency`",
            "`lookup`",
            "`heartbeat`",
            "`ttl`",
            "`lookup_timeout`",
        ],
    );
}

#[test]
fn unknown_key_in_discovery_lists_the_valid_keys() {
    let text = with_registry("[discovery]\nttl = \"5s\"\n");
    check_refuses(
        "discovery_key.toml",
        &text,
        &at(&text, "ttl = \"5s\""),
        "discovery.ttl",
        &[
            "unknown field `ttl`",
            "`mode`",
            "`cache_ttl`",
            "`refresh`",
            "`max_stale`",
            "`dead_instances`",
        ],
    );
}

#[test]
fn unknown_key_in_a_service_discovery_table_lists_the_valid_keys() {
    let text = with_registry("[services.order.discovery]\ncachettl = \"5s\"\n");
    check_refuses(
        "service_discovery_key.toml",
        &text,
        &at(&text, "cachettl"),
        "services.order.discovery.cachettl",
        &["unknown field `cachettl`", "`cache_ttl`", "`mode`"],
    );
}

#[test]
fn discovery_given_as_a_string_asks_for_a_table() {
    let text = checkout_with(
        "name = \"checkout\"\n",
        "name = \"checkout\"\ndiscovery = \"cached\"\n",
    );
    check_refuses(
        "discovery_string.toml",
        &text,
        &at(&text, "discovery = "),
        "discovery",
        &[
            "invalid type",
            "a discovery table such as { mode = \"cached\"",
        ],
    );
}

#[test]
fn unknown_discovery_mode_lists_the_modes() {
    let text = with_registry("[discovery]\nmode = \"lazy\"\n");
    check_refuses(
        "mode.toml",
        &text,
        &at(&text, "mode = \"lazy\""),
        "discovery.mode",
        &[
            "unknown discovery mode `lazy`",
            "per_request",
            "cached",
            "static",
        ],
    );
}

#[test]
fn unknown_refresh_lists_the_values() {
    let text = with_registry("[services.order.discovery]\nrefresh = \"eager\"\n");
    check_refuses(
        "refresh.toml",
        &text,
        &at(&text, "refresh = "),
        "services.order.discovery.refresh",
        &["unknown refresh `eager`", "on_call", "background"],
    );
}

#[test]
fn unknown_dead_instances_lists_the_values() {
    let text = with_registry("[discovery]\ndead_instances = \"timeout\"\n");
    check_refuses(
        "dead.toml",
        &text,
        &at(&text, "dead_instances = "),
        "discovery.dead_instances",
        &["unknown dead_instances `timeout`", "refused", "blackhole"],
    );
}

#[test]
fn ttl_not_above_heartbeat_is_refused() {
    let text = with_registry("heartbeat = \"30s\"\nttl = \"20s\"\n");
    check_refuses(
        "ttl.toml",
        &text,
        &at(&text, "ttl = "),
        "registry.ttl",
        &[
            "must be longer than `heartbeat` (30s), got 20s",
            "every live instance would be evicted",
        ],
    );
    // Against the default ttl (30s), the heartbeat is at fault.
    let text = with_registry("heartbeat = \"45s\"\n");
    check_refuses(
        "heartbeat.toml",
        &text,
        &at(&text, "heartbeat = "),
        "registry.heartbeat",
        &["shorter than `ttl` (30s, the default), got 45s"],
    );
}

#[test]
fn zero_heartbeat_is_refused() {
    let text = with_registry("heartbeat = \"0s\"\n");
    check_refuses(
        "zero_heartbeat.toml",
        &text,
        &at(&text, "heartbeat = "),
        "registry.heartbeat",
        &["must be greater than zero"],
    );
}

#[test]
fn zero_lookup_timeout_is_refused() {
    let text = with_registry("lookup_timeout = \"0\"\n");
    check_refuses(
        "lookup_timeout.toml",
        &text,
        &at(&text, "lookup_timeout = "),
        "registry.lookup_timeout",
        &["must be greater than zero"],
    );
}

#[test]
fn bad_registry_replicas_are_refused_like_a_service_s() {
    let text = with_registry("replicas = 0\n");
    check_refuses(
        "registry_replicas.toml",
        &text,
        &at(&text, "replicas = 0"),
        "registry.replicas",
        &["whole number from 1", "got 0"],
    );
}

#[test]
fn cached_mode_without_a_registry_is_refused() {
    let text = checkout_and("[discovery]\nmode = \"cached\"\n");
    check_refuses(
        "no_registry.toml",
        &text,
        &at(&text, "mode = "),
        "discovery.mode",
        &[
            "mode = \"cached\" needs a service registry",
            "no [registry] table",
            "mode = \"static\"",
        ],
    );
}

/// A service table without `mode` relies on the default, "cached": the
/// error is placed at that table and says where the mode came from.
#[test]
fn the_default_cached_mode_without_a_registry_is_explained() {
    let text = checkout_and("[services.order.discovery]\nrefresh = \"background\"\n");
    check_refuses(
        "default_mode.toml",
        &text,
        &at(&text, "discovery]"),
        "services.order.discovery",
        &[
            "`mode` defaults to \"cached\", which needs a [registry]",
            "set mode = \"static\" or add [registry]",
        ],
    );
}

#[test]
fn zero_cache_ttl_in_cached_mode_is_refused() {
    let text = with_registry("[services.order.discovery]\ncache_ttl = \"0s\"\n");
    check_refuses(
        "cache_ttl.toml",
        &text,
        &at(&text, "cache_ttl = "),
        "services.order.discovery.cache_ttl",
        &["greater than zero in mode \"cached\"", "per_request"],
    );
}

#[test]
fn a_service_named_registry_is_refused_while_a_registry_is_enabled() {
    let text = with_registry("[services.registry.endpoints.x]\nwork = \"1ms\"\n");
    check_refuses(
        "registry_name.toml",
        &text,
        &at(&text, "registry.endpoints"),
        "services.registry",
        &[
            "the service name `registry` is taken by the service registry",
            "enabled = false",
        ],
    );
    // With the registry disabled the name is free.
    let text = with_registry("enabled = false\n[services.registry.endpoints.x]\nwork = \"1ms\"\n");
    check_ok("registry_name.toml", &text, &[]);
}

#[test]
fn a_call_to_the_registry_is_refused() {
    let text = with_registry("").replacen(
        "{ call = \"payment.charge\" },\n]",
        "{ call = \"registry.lookup\" },\n]",
        1,
    );
    check_refuses(
        "call_registry.toml",
        &text,
        &at(&text, "call = \"registry.lookup\""),
        &format!("{CHARGE_CALL}.call"),
        &["`registry.lookup`", "through discovery", "not with `call`"],
    );
}

#[test]
fn a_workload_targeting_the_registry_is_refused() {
    let text = with_registry("").replacen(
        "target = \"order.place\"",
        "target = \"registry.lookup\"",
        1,
    );
    check_refuses(
        "target_registry.toml",
        &text,
        &at(&text, "target = \"registry.lookup\""),
        "workloads[0].target",
        &["`registry.lookup`", "cannot target"],
    );
}

/// Faults name the registry like any service.
#[test]
fn a_fault_on_the_registry_is_checked_against_its_replicas() {
    let text = with_registry(
        "replicas = 2\n\n[[faults]]\nkind = \"crash\"\nservice = \"registry\"\nreplicas = 3\nat = \"1m\"\n",
    );
    check_refuses(
        "registry_fault.toml",
        &text,
        &at_after(&text, "[[faults]]", "replicas = 3"),
        "faults[0].replicas",
        &["service `registry` has 2 replicas", "got 3"],
    );
}

#[test]
fn set_with_an_unknown_discovery_mode_is_blamed_on_the_argument() {
    let text = with_registry("[discovery]\nmode = \"cached\"\n");
    let f = check_bad("discovery.toml", &text, &["--set", "discovery.mode=bogus"]);
    assert_says(
        &f.stderr,
        &[
            "error: discovery.toml: in --set discovery.mode=bogus: `discovery.mode`: ",
            "unknown discovery mode `bogus`",
            "per_request",
        ],
    );
}

/// `--set` adds only the last key of its path: a registry the file does
/// not have is added whole.
#[test]
fn set_into_a_missing_registry_says_how_to_add_it() {
    let f = check_bad(
        "checkout.toml",
        &checkout(),
        &["--set", "registry.replicas=5"],
    );
    assert_says(
        &f.stderr,
        &[
            "error: checkout.toml: in --set registry.replicas=5: ",
            "there is no `registry`",
            "registry='{ replicas = 5 }'",
        ],
    );
}

#[test]
fn sets_reach_the_registry_and_discovery_tables() {
    let text = with_registry("[discovery]\n[services.order.discovery]\n");
    let (stdout, _) = check_ok(
        "sets.toml",
        &text,
        &[
            "--set",
            "registry.replicas=5",
            "--set",
            "discovery.mode=per_request",
            "--set",
            "services.order.discovery.mode=static",
        ],
    );
    // 4 services: the registry is one; its 5 x 32 workers are listed.
    assert_says(&stdout, &["(4 services, 5 endpoints", "registry", "160"]);
    // The whole table can be added by --set.
    let (stdout, _) = check_ok(
        "checkout.toml",
        &checkout(),
        &["--set", "registry={ replicas = 5 }"],
    );
    assert_says(&stdout, &["(4 services", "registry"]);
}

#[test]
fn a_registry_only_static_callers_use_is_a_warning() {
    let text = with_registry("[discovery]\nmode = \"static\"\n");
    let (_, stderr) = check_ok("static.toml", &text, &[]);
    assert_says(
        &stderr,
        &["warning: there is a [registry]", "only receives heartbeats"],
    );
}

#[test]
fn cache_settings_outside_cached_mode_are_a_warning() {
    let text =
        with_registry("[services.order.discovery]\nmode = \"per_request\"\nmax_stale = \"1m\"\n");
    let (_, stderr) = check_ok("stale.toml", &text, &[]);
    assert_says(
        &stderr,
        &[
            "warning: `services.order.discovery.max_stale` has no effect",
            "mode = \"per_request\"",
        ],
    );
}

#[test]
fn an_output_path_below_a_file_is_refused_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("results.json"), "{}").unwrap();
    let checkout = scenario("checkout.toml");
    let checkout = checkout.to_str().unwrap();
    for args in [
        vec!["run", checkout, "--out", "results.json/run"],
        vec![
            "sweep",
            checkout,
            "--param",
            "services.payment.replicas=1,2",
            "--out",
            "results.json/sweep",
        ],
        vec![
            "compare",
            checkout,
            "--variant",
            "x:services.payment.replicas=3",
            "--out",
            "results.json/cmp",
        ],
    ] {
        let out = microsim(tmp.path(), &args);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("`results.json` is a file"), "{stderr}");
        // Refused before anything ran: no capacity table, no results.
        assert!(
            stdout.is_empty() && !stderr.contains("capacity"),
            "{stderr}"
        );
    }
}

/// The text of the bundled event-driven scenario.
fn event_driven() -> String {
    fs::read_to_string(scenario("event-driven.toml"))
        .expect("scenarios/event-driven.toml is readable")
}

#[test]
fn publish_to_an_unknown_topic_lists_the_topics() {
    let text = replaced(
        &event_driven(),
        "{ publish = \"user-updated\" }",
        "{ publish = \"user-updatd\" }",
    );
    let f = run_bad("topic.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "topic.toml",
        &at(&text, "publish = \"user-updatd\""),
        "services.user.endpoints.update_email.steps[1].publish",
    );
    assert_says(&f.stderr, &["unknown topic `user-updatd`", "user-updated"]);
}

#[test]
fn unknown_broker_key_lists_the_valid_keys() {
    let text = replaced(&event_driven(), "reconnect = \"1s\"", "reconect = \"1s\"");
    let f = run_bad("broker.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "broker.toml",
        &at(&text, "reconect"),
        "brokers.events.reconect",
    );
    assert_says(&f.stderr, &["`reconnect`", "`publish_latency`", "`topics`"]);
}

#[test]
fn a_copy_without_a_subscription_is_refused() {
    let text = replaced(
        &event_driven(),
        "[services.order.subscriptions.user-updated]",
        "[services.order.subscriptions.other]",
    );
    let text = replaced(
        &text,
        "topics = [\"user-updated\"]",
        "topics = [\"user-updated\", \"other\"]",
    );
    let f = run_bad("copy.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "copy.toml",
        &at_after(&text, "[data.user-email]", "\"order\""),
        "data.user-email.copies[0]",
    );
    assert_says(&f.stderr, &["does not subscribe to `user-updated`"]);
}

#[test]
fn a_bad_subscription_handler_lists_the_services_endpoints() {
    let text = replaced(
        &event_driven(),
        "handler = \"on_user_updated\"",
        "handler = \"on_user\"",
    );
    let f = run_bad("handler.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "handler.toml",
        &at(&text, "handler = \"on_user\""),
        "services.order.subscriptions.user-updated.handler",
    );
    assert_says(
        &f.stderr,
        &[
            "unknown endpoint `on_user` of `order`",
            "place, on_user_updated",
        ],
    );
}

#[test]
fn a_compensation_on_a_work_step_is_refused() {
    let text = replaced(
        &event_driven(),
        "{ work = { dist = \"exponential\", mean = \"4ms\" } },",
        "{ work = { dist = \"exponential\", mean = \"4ms\" }, compensate = \"order.place\" },",
    );
    let f = run_bad("saga.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "saga.toml",
        &at(&text, "compensate"),
        "services.user.endpoints.update_email.steps[0].compensate",
    );
    assert_says(&f.stderr, &["only a `call` step can have a compensation"]);
}

#[test]
fn a_compensation_leading_back_to_its_saga_is_a_cycle() {
    let text = replaced(
        &fs::read_to_string(scenario("saga-checkout.toml")).unwrap(),
        "compensate = \"order.cancel\"",
        "compensate = \"order.checkout\"",
    );
    let f = run_bad("compensation-cycle.toml", &text, &[]);
    assert_located(
        &f.stderr,
        "compensation-cycle.toml",
        &at(&text, "checkout]"),
        "services.order.endpoints.checkout",
    );
    assert_says(
        &f.stderr,
        &["call cycle through a saga's compensation: order.checkout -> order.checkout"],
    );
}
