//! Property tests of the scenario reader: arbitrary text, TOML-ish text,
//! small scenarios assembled from random (mostly valid) parts, randomly
//! mutated copies of `scenarios/checkout.toml` and arbitrary `--set`
//! arguments must all give `Ok` or `Err`, never a panic. Every error must point somewhere (a line and column, or the
//! `--set` argument), and every scenario that validates and is cheap to
//! simulate is run for two simulated seconds, which must not panic either.

use super::common::*;
use microsim::model::capacity::capacity;
use microsim::model::Model;
use microsim::scenario::{self, Override, ScenarioError};
use microsim::simulation;
use proptest::prelude::*;
use proptest::sample::Index;

/// Shared settings: `cases` per property, no regression files.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The text of the reference scenario.
fn checkout() -> String {
    std::fs::read_to_string(scenario("checkout.toml")).expect("scenarios/checkout.toml is readable")
}

/// Reads `text` as `fuzz.toml` with `overrides`, checks that an error has a
/// place, and returns the model if the text was valid.
fn read(text: &str, overrides: &[Override]) -> Option<Model> {
    match scenario::from_str(text, "fuzz.toml", "fuzz", overrides) {
        Ok(model) => Some(model),
        Err(e) => {
            check_error(&e);
            None
        }
    }
}

/// An error names the file and points at a line and column, or at the
/// `--set` argument that caused it.
fn check_error(e: &ScenarioError) {
    let shown = e.to_string();
    assert!(
        shown.starts_with("fuzz.toml"),
        "error without file: {shown}"
    );
    assert!(!e.message.is_empty(), "error without message: {shown}");
    assert!(
        e.location.is_some() || e.set_arg.is_some(),
        "error without a place: {shown}"
    );
}

/// Runs `model` shortened to two simulated seconds, if its offered load is
/// small enough to be quick (overloaded services included); the run may
/// fail but not panic.
fn simulate_if_cheap(mut model: Model) {
    const TWO_S: u64 = 2_000_000_000;
    model.duration = model.duration.min(TWO_S);
    model.warmup = 0;
    let rows = capacity(&model);
    let offered: f64 = rows.iter().map(|r| r.offered_rps).sum();
    // At most 40,000 arrivals in two seconds. Overloaded models run too
    // (queues, rejections, the in-flight limit), with limits small enough
    // that a runaway stops quickly.
    let cheap = offered.is_finite() && offered < 20_000.0;
    if cheap {
        let limits = simulation::Limits {
            max_in_flight: 50_000,
            max_events_at_one_instant: 100_000,
        };
        let mut sim = simulation::Simulation::with_limits(&model, limits);
        if sim.run_until(model.duration - 1).is_ok() {
            let _ = sim.finish();
        }
    }
}

/// TOML-ish printable text: brackets, braces, quotes, dots, newlines.
fn tomlish() -> impl Strategy<Value = String> {
    "[\\[\\]{}=\".,\n a-z0-9_#'+-]{0,300}"
}

/// Lines of scenario TOML, mostly valid, some not.
const FRAGMENTS: &[&str] = &[
    "name = \"soup\"",
    "name = \"\"",
    "[simulation]",
    "duration = \"2s\"",
    "seed = -3",
    "window = \"1ns\"",
    "[network]",
    "[services.a]",
    "[services.c]",
    "[services.a.endpoints.e]",
    "[services.a.endpoints.x]",
    "[services.\"bad name\".endpoints.g]",
    "replicas = 2",
    "concurrency = 100001",
    "queue_capacity = -1",
    "work = \"1ms\"",
    "work = 5",
    "steps = [{ call = \"a.e\" }]",
    "steps = []",
    "[[workloads]]",
    "name = \"w\"",
    "target = \"e\"",
    "arrival = { process = \"poisson\", rate = 50 }",
    "arrival = { process = \"bursty\" }",
    "[registry]",
    "[discovery]",
    "[services.a.discovery]",
    "mode = \"static\"",
    "mode = \"per_request\"",
    "enabled = false",
    "ttl = \"1s\"",
    "",
    "#",
];

/// Options for each part of a small two-service scenario: valid ones, and
/// invalid ones that are picked one time in twelve.
type Options = (&'static [&'static str], &'static [&'static str]);

const SIMULATION: Options = (
    &[
        "duration = \"2s\"",
        "duration = \"2s\"\nwarmup = \"500ms\"",
        "duration = \"1s\"\nwindow = \"100ms\"",
        "duration = \"3s\"\nseed = 9\nwindow = \"7ms\"",
    ],
    &[
        "duration = \"0\"",
        "duration = \"1s\"\nwarmup = \"1s\"",
        "warmup = \"1s\"",
        "duration = \"1000000h\"\nwindow = \"1ns\"",
    ],
);
const NETWORK: Options = (
    &[
        "",
        "[network]\nlatency = \"1ms\"",
        "[network]\nlatency = { dist = \"exponential\", mean = \"200us\" }",
        "[network]\nlatency = { dist = \"normal\", mean = \"1ms\", sd = \"5ms\" }",
    ],
    &[
        "[network]\nlatency = { dist = \"uniform\", min = \"1ms\", max = \"0ms\" }",
        "[network]\nlatency = 3",
    ],
);
const SERVICE: Options = (
    &[
        "",
        "replicas = 2",
        "replicas = 2\nconcurrency = 3",
        "queue_capacity = 0",
        "queue_capacity = 4\nbalancer = \"least_outstanding\"",
        "io = \"async\"\nbalancer = \"power_of_two\"",
        "balancer = \"random\"\nconcurrency = 1",
    ],
    &["replicas = 0", "io = \"threads\"", "balancer = \"nope\""],
);
const CALLER: Options = (
    &[
        "work = \"1ms\"",
        "steps = [{ call = \"b.f\" }]",
        "steps = [{ work = \"1ms\" }, { call = \"b.f\" }, { call = \"b.f\" }]",
        "steps = [{ parallel = [{ call = \"b.f\" }, { call = \"b.f\" }] }]",
    ],
    &[
        "steps = [{ parallel = [{ work = \"1ms\" }] }]",
        "steps = [{ parallel = [] }]",
        "steps = []",
        "steps = [{ work = \"1ms\", call = \"b.f\" }]",
        "steps = [{ call = \"b.g\" }]",
        "steps = [{ call = \"a.e\" }]",
        "work = \"1ms\"\nsteps = [{ call = \"b.f\" }]",
    ],
);
const CALLEE: Options = (
    &[
        "work = \"0\"",
        "work = { dist = \"exponential\", mean = \"2ms\" }",
        "work = { dist = \"normal\", mean = \"2ms\", sd = \"1ms\" }",
        "work = { dist = \"weibull\", scale = \"1ms\", shape = 0.5 }",
        "work = { dist = \"pareto\", scale = \"1ms\", shape = 1.5 }",
        "work = { dist = \"empirical\", p50 = \"1ms\", p99 = \"9ms\", max = \"20ms\" }",
        "work = { dist = \"lognormal\", mean = \"1ms\", cv = 2 }",
        "work = { dist = \"lognormal\", median = \"1ms\", p99 = \"3ms\" }",
        "work = { dist = \"uniform\", min = \"1ms\", max = \"2ms\" }",
    ],
    &[
        "work = { dist = \"pareto\", scale = \"1ms\", shape = 1 }",
        "work = { dist = \"empirical\", p50 = \"9ms\", p99 = \"1ms\" }",
        "work = { dist = \"gamma\", mean = \"1ms\", cv = 0 }",
        "steps = [{ call = \"a.e\" }]",
        "work = 5",
    ],
);
const ARRIVAL: Options = (
    &[
        "{ process = \"poisson\", rate = 50 }",
        "{ process = \"constant\", rate = 0.5 }",
        "{ process = \"poisson\", rate = 10, schedule = [{ at = \"1s\", rate = 100 }] }",
        "{ process = \"constant\", rate = 10, schedule = [{ at = \"500ms\", rate = 0 }] }",
        "{ process = \"closed\", users = 4, think = \"100ms\" }",
        "{ process = \"closed\", users = 3, think = { dist = \"exponential\", mean = \"50ms\" } }",
    ],
    &[
        "{ process = \"poisson\", rate = 10, schedule = [{ at = \"1s\", rate = 1 }, { at = \"0s\", rate = 2 }] }",
        "{ process = \"poisson\", rate = 10, schedule = [{ at = \"1h\", rate = 1 }] }",
        "{ process = \"closed\", users = 4, think = \"0\" }",
        "{ process = \"closed\", users = 4, rate = 5 }",
        "{ process = \"poisson\" }",
        "{ process = \"bursty\" }",
    ],
);
const TARGET: Options = (&["a.e", "b.f"], &["e", "a.z"]);
/// Service discovery: none (most often, as in most scenarios), a registry
/// with callers in each mode, faults on it; invalid: a mode that needs a
/// missing registry, timers that evict every instance, a reserved name.
const DISCOVERY: Options = (
    &[
        "",
        "",
        "[registry]",
        "[registry]\nreplicas = 2\nconcurrency = 1\nheartbeat = \"100ms\"\nttl = \"300ms\"\nlookup = \"1ms\"",
        "[registry]\n[discovery]\nmode = \"per_request\"\ndead_instances = \"blackhole\"",
        "[registry]\n[discovery]\ncache_ttl = \"200ms\"\nrefresh = \"background\"\nmax_stale = \"1s\"",
        "[registry]\n[services.a.discovery]\nmode = \"static\"",
        "[discovery]\nmode = \"static\"",
        "[registry]\nenabled = false\n[discovery]",
        "[registry]\n[[faults]]\nkind = \"crash\"\nservice = \"registry\"\nat = \"500ms\"\nduration = \"300ms\"",
        "[registry]\n[[faults]]\nkind = \"partition\"\nfrom = \"a\"\nto = \"registry\"\nat = \"200ms\"",
    ],
    &[
        "[discovery]\nmode = \"cached\"",
        "[services.a.discovery]\nrefresh = \"background\"",
        "[registry]\nheartbeat = \"1s\"\nttl = \"1s\"",
        "[registry]\nreplicas = 0",
        "[registry]\nbogus = 1",
        "[registry]\n[discovery]\nmode = \"lazy\"",
        "[registry]\n[services.registry.endpoints.x]\nwork = \"1ms\"",
        "[registry]\n[[workloads]]\nname = \"r\"\ntarget = \"registry.lookup\"\narrival = { process = \"poisson\", rate = 1 }",
    ],
);

/// A valid option eleven times in twelve, else an invalid one.
fn pick((valid, invalid): Options) -> impl Strategy<Value = &'static str> {
    prop_oneof![
        11 => prop::sample::select(valid),
        1 => prop::sample::select(invalid),
    ]
}

/// A small scenario (service `a` calling `b`, one or two workloads, often
/// service discovery) built from random options, sometimes with a few
/// random [`FRAGMENTS`] inserted at random lines: most inputs reach
/// validation, and many pass it.
fn soup() -> impl Strategy<Value = String> {
    let extra = prop_oneof![
        2 => Just(Vec::new()),
        1 => prop::collection::vec((any::<Index>(), prop::sample::select(FRAGMENTS)), 1..4),
    ];
    (
        (
            pick(SIMULATION),
            pick(NETWORK),
            pick(SERVICE),
            pick(SERVICE),
        ),
        (pick(CALLER), pick(CALLEE), pick(DISCOVERY)),
        prop::collection::vec((pick(TARGET), pick(ARRIVAL)), 1..3),
        extra,
    )
        .prop_map(
            |((sim, net, sa, sb), (ea, fb, discovery), workloads, extra)| {
                let mut text = format!(
                "[simulation]\n{sim}\n{net}\n[services.a]\n{sa}\n[services.a.endpoints.e]\n{ea}\n\
                 [services.b]\n{sb}\n[services.b.endpoints.f]\n{fb}\n"
            );
                for (i, (target, arrival)) in workloads.iter().enumerate() {
                    text.push_str(&format!(
                    "[[workloads]]\nname = \"w{i}\"\ntarget = \"{target}\"\narrival = {arrival}\n"
                ));
                }
                text.push_str(discovery);
                text.push('\n');
                let mut lines: Vec<&str> = text.lines().collect();
                for (at, fragment) in extra {
                    lines.insert(at.index(lines.len() + 1), fragment);
                }
                lines.join("\n")
            },
        )
}

/// Replacements for a number token, from ordinary to absurd.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0i64..50).prop_map(|n| n.to_string()),
        1 => (-1_000i64..1_000).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (-1e6f64..1e6).prop_map(|f| f.to_string()),
        1 => any::<f64>().prop_map(|f| format!("{f:e}")),
        2 => prop::sample::select(
            &[
                "0",
                "-0",
                "0.0",
                "-1",
                "1e308",
                "1e-308",
                "99999999999999999999",
                "-99999999999999999999",
                "9223372036854775807",
                "4294967296",
                "nan",
                "inf",
                "-inf",
                "+inf",
                "1_000",
                "0x10",
                "1.",
                ".5",
            ][..]
        )
        .prop_map(String::from),
    ]
}

/// Replacements for the inside of a duration string.
fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "-?[0-9]{1,22}(ns|us|ms|s|m|h|d|y|parsecs)?",
        prop::sample::select(
            &[
                "0",
                "-5s",
                "1ns",
                "0ns",
                "584y",
                "585y",
                "5 parsecs",
                "1h 30m",
                "",
                " ",
                "ms",
            ][..]
        )
        .prop_map(String::from),
    ]
}

/// One random edit of scenario text. Positions are [`Index`]es, resolved
/// against the text as it is when the edit is applied.
#[derive(Debug, Clone)]
enum Mutation {
    /// Delete up to `len` bytes starting at `at`.
    DeleteRange { at: Index, len: usize },
    /// Repeat a line right after itself.
    DuplicateLine(Index),
    /// Swap two lines.
    SwapLines(Index, Index),
    /// Replace a number token (a run of digits, possibly with one `.`).
    ReplaceNumber(Index, String),
    /// Replace the text of a string that starts with a digit (a duration).
    ReplaceDuration(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Value edits are weighted up: they keep the file valid TOML more often,
    // so more mutants reach validation and the simulation.
    prop_oneof![
        1 => (any::<Index>(), 1usize..60).prop_map(|(at, len)| Mutation::DeleteRange { at, len }),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        4 => (any::<Index>(), number()).prop_map(|(i, n)| Mutation::ReplaceNumber(i, n)),
        2 => (any::<Index>(), duration_text()).prop_map(|(i, d)| Mutation::ReplaceDuration(i, d)),
    ]
}

/// The largest char boundary of `s` not above `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Byte ranges of number tokens: digit runs with at most one inner `.`.
fn number_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Byte ranges of the insides of `"..."` strings that start with a digit.
fn duration_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            let Some(len) = s[start..].find(['"', '\n']) else {
                break;
            };
            let end = start + len;
            if b.get(start).is_some_and(u8::is_ascii_digit) {
                spans.push((start, end));
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
    spans
}

impl Mutation {
    fn apply(&self, text: &mut String) {
        match self {
            Mutation::DeleteRange { at, len } => {
                if text.is_empty() {
                    return;
                }
                let start = floor_boundary(text, at.index(text.len()));
                let end = floor_boundary(text, start + len);
                text.replace_range(start..end, "");
            }
            Mutation::DuplicateLine(i) => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = i.index(lines.len());
                lines.insert(i, lines[i]);
                *text = lines.join("\n");
            }
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
                *text = lines.join("\n");
            }
            Mutation::ReplaceNumber(i, with) => {
                let spans = number_spans(text);
                if !spans.is_empty() {
                    let (s, e) = spans[i.index(spans.len())];
                    text.replace_range(s..e, with);
                }
            }
            Mutation::ReplaceDuration(i, with) => {
                let spans = duration_spans(text);
                if !spans.is_empty() {
                    let (s, e) = spans[i.index(spans.len())];
                    text.replace_range(s..e, with);
                }
            }
        }
    }
}

/// Dotted-path pieces that exist in checkout.toml (and a few that do not).
const PATH_KEYS: &[&str] = &[
    "name",
    "simulation",
    "duration",
    "warmup",
    "seed",
    "window",
    "network",
    "latency",
    "services",
    "user",
    "payment",
    "order",
    "paymnt",
    "replicas",
    "concurrency",
    "queue_capacity",
    "balancer",
    "io",
    "endpoints",
    "auth",
    "charge",
    "place",
    "status",
    "work",
    "steps",
    "parallel",
    "call",
    "dist",
    "mean",
    "median",
    "p99",
    "cv",
    "workloads",
    "checkout",
    "order-status",
    "arrival",
    "process",
    "rate",
    "schedule",
    "users",
    "think",
    "registry",
    "discovery",
    "mode",
    "enabled",
    "0",
    "1",
    "2",
    "99",
];

/// A `--set` value: numbers, words, durations, inline tables and arrays.
fn set_value() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        duration_text(),
        "[a-z_]{0,10}",
        prop::sample::select(
            &[
                "\"5ms\"",
                "true",
                "[]",
                "{}",
                "[1, 2]",
                "{ dist = \"constant\", value = \"1ms\" }",
                "{ dist = \"exponential\", mean = \"0\" }",
                "{ process = \"closed\", users = 2, think = \"1s\" }",
                "[{ call = \"user.auth\" }]",
                "[{ at = \"1s\", rate = 10 }]",
                "random",
                "async",
                "per_request",
                "static",
                "{ replicas = 2, ttl = \"5s\", heartbeat = \"1s\" }",
                "{ mode = \"static\" }",
                "\"unterminated",
                "{ a = ",
            ][..]
        )
        .prop_map(String::from),
    ]
}

/// Paths that exist in checkout.toml (or may be added to it).
const PATHS: &[&str] = &[
    "name",
    "description",
    "simulation.duration",
    "simulation.warmup",
    "simulation.seed",
    "simulation.window",
    "network.latency",
    "network.latency.median",
    "services.user.replicas",
    "services.user.concurrency",
    "services.user.queue_capacity",
    "services.payment.replicas",
    "services.payment.balancer",
    "services.order.io",
    "services.order.queue_capacity",
    "services.user.endpoints.auth.work",
    "services.user.endpoints.auth.work.mean",
    "services.payment.endpoints.charge.work.p99",
    "services.order.endpoints.place.steps",
    "services.order.endpoints.place.steps.0.work.cv",
    "services.order.endpoints.place.steps.1.call",
    "services.order.endpoints.status.steps.1.parallel.0.call",
    "workloads.checkout.arrival",
    "workloads.checkout.arrival.rate",
    "workloads.checkout.arrival.process",
    "workloads.checkout.arrival.schedule",
    "workloads.0.target",
    "workloads.order-status.arrival.rate",
    "workloads.1.name",
    "registry",
    "registry.replicas",
    "discovery",
    "discovery.mode",
    "services.order.discovery",
];

/// A `--set` argument: a real path, or one made of scenario keys, with a
/// random value.
fn set_arg() -> impl Strategy<Value = String> {
    let path = prop_oneof![
        3 => prop::sample::select(PATHS).prop_map(String::from),
        1 => prop::collection::vec(prop::sample::select(PATH_KEYS), 1..6)
            .prop_map(|keys| keys.join(".")),
    ];
    (path, set_value()).prop_map(|(path, value)| format!("{path}={value}"))
}

proptest! {
    #![proptest_config(config(10_000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        read(&text, &[]);
    }

    #[test]
    fn tomlish_text_never_panics(text in tomlish()) {
        read(&text, &[]);
    }

    #[test]
    fn arbitrary_set_arguments_never_panic(arg in any::<String>()) {
        let _ = Override::parse(&arg);
    }
}

proptest! {
    #![proptest_config(config(5_000))]

    #[test]
    fn fragment_soup_never_panics(text in soup()) {
        if let Some(model) = read(&text, &[]) {
            simulate_if_cheap(model);
        }
    }
}

proptest! {
    #![proptest_config(config(5_000))]

    #[test]
    fn mutated_checkout_never_panics(
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut text = checkout();
        for m in &mutations {
            m.apply(&mut text);
        }
        if let Some(model) = read(&text, &[]) {
            simulate_if_cheap(model);
        }
    }

    #[test]
    fn set_overrides_on_checkout_never_panic(
        args in prop::collection::vec(
            prop_oneof![3 => set_arg(), 1 => "[ -~]{0,40}"],
            1..4,
        ),
    ) {
        let text = checkout();
        let overrides: Vec<Override> =
            args.iter().filter_map(|a| Override::parse(a).ok()).collect();
        if let Some(model) = read(&text, &overrides) {
            simulate_if_cheap(model);
        }
    }
}
