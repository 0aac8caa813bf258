//! Building a scenario in code, for programs that use microsim as a
//! library: generate variants in a loop, embed a model in a test, or drive
//! the simulator from another tool.
//!
//! The builder writes the same TOML value tree a scenario file holds and
//! validates it through the same path ([`super::parse`]), so a scenario
//! built in code is checked exactly like a written one, its errors name the
//! field (`services.payment.replicas`), and [`Scenario::source`] is a file
//! `microsim run` accepts, to reproduce the run from the command line (or
//! to sweep it: [`crate::sweep::exec::sweep`] varies that text).
//! Anything the typed methods do not cover is reachable with
//! [`ScenarioBuilder::set`], which takes the dotted paths of `--set`.
//!
//! ```
//! use microsim::scenario::builder::{Dist, Endpoint, ScenarioBuilder, Service, Workload};
//!
//! let sc = ScenarioBuilder::new("shop")
//!     .duration("20s")
//!     .warmup("2s")
//!     .service(
//!         Service::new("payment")
//!             .replicas(2)
//!             .concurrency(4)
//!             .endpoint(Endpoint::new("charge").work(Dist::exponential("8ms"))),
//!     )
//!     .service(
//!         Service::new("order").endpoint(
//!             Endpoint::new("place")
//!                 .work(Dist::constant("1ms"))
//!                 .call("payment.charge"),
//!         ),
//!     )
//!     .workload(Workload::poisson("checkout", "order.place", 100.0))
//!     .build()
//!     .unwrap();
//! let result = microsim::simulation::run(&sc.model).unwrap();
//! assert!(result.summary.workloads["checkout"].ok > 1500);
//! ```

use super::{Override, Scenario, ScenarioError};
use toml::{Table, Value};

/// A latency distribution, as a scenario's `{ dist = ..., ... }` table.
/// Durations are written as in a file (`"5ms"`, `"1.5s"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dist(Table);

impl Dist {
    fn of(kind: &str, params: &[(&str, Value)]) -> Dist {
        let mut t = Table::new();
        t.insert("dist".into(), Value::String(kind.into()));
        for (k, v) in params {
            t.insert((*k).into(), v.clone());
        }
        Dist(t)
    }

    /// Always `value`.
    pub fn constant(value: &str) -> Dist {
        Dist::of("constant", &[("value", value.into())])
    }

    /// Exponential with the given mean: memoryless service, as in M/M/c.
    pub fn exponential(mean: &str) -> Dist {
        Dist::of("exponential", &[("mean", mean.into())])
    }

    /// Uniform between `min` and `max`.
    pub fn uniform(min: &str, max: &str) -> Dist {
        Dist::of("uniform", &[("min", min.into()), ("max", max.into())])
    }

    /// Lognormal given by its median and 99th percentile: how latencies
    /// are usually known (from a dashboard).
    pub fn lognormal(median: &str, p99: &str) -> Dist {
        Dist::of(
            "lognormal",
            &[("median", median.into()), ("p99", p99.into())],
        )
    }

    /// Gamma with the given mean and coefficient of variation.
    pub fn gamma(mean: &str, cv: f64) -> Dist {
        Dist::of("gamma", &[("mean", mean.into()), ("cv", cv.into())])
    }

    /// The table as a scenario file holds it.
    pub fn to_value(&self) -> Value {
        Value::Table(self.0.clone())
    }
}

/// One endpoint of a service: its steps in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    name: String,
    steps: Vec<Value>,
}

impl Endpoint {
    /// An endpoint with no steps yet.
    pub fn new(name: &str) -> Endpoint {
        Endpoint {
            name: name.into(),
            steps: Vec::new(),
        }
    }

    fn step(mut self, key: &str, value: Value) -> Endpoint {
        let mut t = Table::new();
        t.insert(key.into(), value);
        self.steps.push(Value::Table(t));
        self
    }

    /// A step of local work holding a worker.
    pub fn work(self, dist: Dist) -> Endpoint {
        self.step("work", dist.to_value())
    }

    /// A call to another endpoint (`"service.endpoint"`), waited for.
    pub fn call(self, target: &str) -> Endpoint {
        self.step("call", target.into())
    }

    /// Calls made at once, all waited for (`["user.auth", "payment.charge"]`).
    pub fn parallel(self, targets: &[&str]) -> Endpoint {
        let calls = targets
            .iter()
            .map(|t| {
                let mut c = Table::new();
                c.insert("call".into(), (*t).into());
                Value::Table(c)
            })
            .collect();
        self.step("parallel", Value::Array(calls))
    }
}

/// A service: replicas of a pool of workers with a queue, and endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    name: String,
    table: Table,
    endpoints: Table,
}

impl Service {
    /// A service with the scenario defaults (one replica, one worker).
    pub fn new(name: &str) -> Service {
        Service {
            name: name.into(),
            table: Table::new(),
            endpoints: Table::new(),
        }
    }

    /// Sets any key of `[services.NAME]` (`balancer`, `io`, ...).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Service {
        self.table.insert(key.into(), value.into());
        self
    }

    /// Replicas (instances) of the service.
    pub fn replicas(self, n: u32) -> Service {
        self.with("replicas", i64::from(n))
    }

    /// Workers per replica: requests served at once.
    pub fn concurrency(self, n: u32) -> Service {
        self.with("concurrency", i64::from(n))
    }

    /// Requests a replica queues before it rejects more.
    pub fn queue_capacity(self, n: u32) -> Service {
        self.with("queue_capacity", i64::from(n))
    }

    /// Price of a replica per hour, for the cost results.
    pub fn price_per_hour(self, price: f64) -> Service {
        self.with("price_per_hour", price)
    }

    /// Adds an endpoint.
    pub fn endpoint(mut self, e: Endpoint) -> Service {
        let mut t = Table::new();
        t.insert("steps".into(), Value::Array(e.steps));
        self.endpoints.insert(e.name, Value::Table(t));
        self
    }
}

/// A workload: requests arriving at an entry endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload(Table);

impl Workload {
    fn open(process: &str, name: &str, target: &str, rate: f64) -> Workload {
        let mut arrival = Table::new();
        arrival.insert("process".into(), process.into());
        arrival.insert("rate".into(), rate.into());
        let mut t = Table::new();
        t.insert("name".into(), name.into());
        t.insert("target".into(), target.into());
        t.insert("arrival".into(), Value::Table(arrival));
        Workload(t)
    }

    /// Poisson arrivals at `rate` per second: many independent clients.
    pub fn poisson(name: &str, target: &str, rate: f64) -> Workload {
        Workload::open("poisson", name, target, rate)
    }

    /// Evenly spaced arrivals at `rate` per second.
    pub fn constant(name: &str, target: &str, rate: f64) -> Workload {
        Workload::open("constant", name, target, rate)
    }
}

/// Builds a scenario; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    name: String,
    root: Table,
    sets: Vec<(String, Value)>,
}

impl ScenarioBuilder {
    /// An empty scenario called `name`.
    pub fn new(name: &str) -> ScenarioBuilder {
        let mut root = Table::new();
        root.insert("name".into(), name.into());
        ScenarioBuilder {
            name: name.into(),
            root,
            sets: Vec::new(),
        }
    }

    fn simulation(mut self, key: &str, value: Value) -> ScenarioBuilder {
        let sim = self
            .root
            .entry("simulation")
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Table(t) = sim {
            t.insert(key.into(), value);
        }
        self
    }

    /// Simulated run length (`"5m"`).
    pub fn duration(self, d: &str) -> ScenarioBuilder {
        self.simulation("duration", d.into())
    }

    /// The start of the run the summary statistics leave out.
    pub fn warmup(self, d: &str) -> ScenarioBuilder {
        self.simulation("warmup", d.into())
    }

    /// The master seed.
    pub fn seed(self, seed: u64) -> ScenarioBuilder {
        // TOML integers are signed; seeds above i64::MAX are written the
        // way a file must write them, which validation then refuses.
        self.simulation("seed", i64::try_from(seed).unwrap_or(-1).into())
    }

    /// One-way latency of every network hop.
    pub fn network_latency(mut self, dist: Dist) -> ScenarioBuilder {
        let mut t = Table::new();
        t.insert("latency".into(), dist.to_value());
        self.root.insert("network".into(), Value::Table(t));
        self
    }

    /// Adds a service (a later one of the same name replaces it).
    pub fn service(mut self, s: Service) -> ScenarioBuilder {
        let mut t = s.table;
        if !s.endpoints.is_empty() {
            t.insert("endpoints".into(), Value::Table(s.endpoints));
        }
        let services = self
            .root
            .entry("services")
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Table(all) = services {
            all.insert(s.name, Value::Table(t));
        }
        self
    }

    /// Adds a workload.
    pub fn workload(mut self, w: Workload) -> ScenarioBuilder {
        let list = self
            .root
            .entry("workloads")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = list {
            a.push(Value::Table(w.0));
        }
        self
    }

    /// Sets any value by the dotted path `--set` takes
    /// (`"services.payment.endpoints.charge.timeout"`), applied when the
    /// scenario is built, after everything else: for the parts of a
    /// scenario (policies, faults, registry, ...) the typed methods do not
    /// cover. A path that does not exist is an error of
    /// [`ScenarioBuilder::build`].
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> ScenarioBuilder {
        self.sets.push((path.into(), value.into()));
        self
    }

    /// Validates the scenario. Its [`Scenario::source`] is the whole
    /// scenario as TOML text, the [`ScenarioBuilder::set`] values
    /// included, so a sweep of it or `microsim run` on that text sees
    /// exactly what was built. Errors name the field.
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        let file = format!("<builder {}>", self.name);
        let mut root = self.root;
        for (path, value) in self.sets {
            Override::new(&path, value)
                .and_then(|o| o.apply(&mut root))
                .map_err(|message| ScenarioError {
                    file: file.clone(),
                    location: None,
                    field: Some(path.clone()),
                    set_arg: None,
                    message,
                })?;
        }
        let text = toml::to_string(&root).expect("a TOML table serialises");
        super::parse(text, file, &self.name, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> ScenarioBuilder {
        ScenarioBuilder::new("shop")
            .duration("10s")
            .seed(3)
            .network_latency(Dist::lognormal("400us", "2ms"))
            .service(
                Service::new("payment")
                    .replicas(2)
                    .concurrency(4)
                    .queue_capacity(16)
                    .price_per_hour(0.05)
                    .endpoint(Endpoint::new("charge").work(Dist::gamma("10ms", 0.5))),
            )
            .service(
                Service::new("user")
                    .endpoint(Endpoint::new("auth").work(Dist::uniform("1ms", "3ms"))),
            )
            .service(
                Service::new("order").concurrency(16).endpoint(
                    Endpoint::new("place")
                        .work(Dist::exponential("2ms"))
                        .parallel(&["user.auth", "payment.charge"]),
                ),
            )
            .workload(Workload::poisson("checkout", "order.place", 50.0))
            .workload(Workload::constant("pings", "user.auth", 5.0))
    }

    #[test]
    fn built_scenario_equals_its_text_loaded_as_a_file() {
        let sc = shop().build().unwrap();
        let again = crate::scenario::from_str(&sc.source, "again.toml", "x", &[]).unwrap();
        assert_eq!(format!("{:?}", sc.model), format!("{again:?}"));
        assert_eq!(sc.model.name, "shop");
        assert_eq!(sc.model.services.len(), 3);
        assert!(sc.model.cost.on());
    }

    #[test]
    fn set_reaches_any_path_and_errors_name_the_field() {
        let sc = shop().set("services.payment.replicas", 5).build().unwrap();
        let payment = sc
            .model
            .services
            .iter()
            .find(|s| s.name == "payment")
            .unwrap();
        assert_eq!(payment.replicas, 5);
        let e = shop()
            .service(
                Service::new("payment")
                    .replicas(0)
                    .endpoint(Endpoint::new("charge").work(Dist::constant("1ms"))),
            )
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("services.payment.replicas"), "{e}");
        let e = shop()
            .set("services.nope.replicas", 2)
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
