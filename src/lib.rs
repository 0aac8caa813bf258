//! # microsim
//!
//! A deterministic discrete-event simulator of microservice systems.
//!
//! A scenario (TOML) describes services as queues with latency
//! distributions, replica counts, concurrency and queue limits; endpoints
//! that call each other over a network; and workloads. The engine simulates
//! it event by event from a seed and reports latency percentiles,
//! availability, throughput and utilisation.
//!
//! The data flows one way through the modules:
//!
//! ```text
//! scenario (TOML + --set) -> model::Model -> simulation (engine + world)
//!   -> metrics::RunResult -> report (table, JSON, CSV)
//! ```
//!
//! ```
//! let toml = r#"
//!     [simulation]
//!     duration = "10s"
//!     [services.api.endpoints.get]
//!     work = { dist = "exponential", mean = "5ms" }
//!     [[workloads]]
//!     name = "reads"
//!     target = "api.get"
//!     arrival = { process = "poisson", rate = 100 }
//! "#;
//! let model = microsim::scenario::from_str(toml, "inline.toml", "inline", &[]).unwrap();
//! let result = microsim::simulation::run(&model).unwrap();
//! let reads = &result.summary.workloads["reads"];
//! assert!(reads.ok > 900 && reads.ok < 1100);
//! ```

#![warn(missing_docs)]

pub mod assertion;
pub mod cli;
pub mod dist;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod report;
pub mod scenario;
pub mod simulation;
pub mod sweep;
pub mod trace;
pub mod world;
