//! Streaming statistics: everything the engine measures is accumulated in
//! constant memory per workload, service and time window, then turned into
//! a plain-data [`RunResult`].

pub mod attribution;
pub mod catalog;
pub mod cost;
pub mod discovery;
pub mod integral;
pub mod latency;
pub mod messaging;
pub mod resilience;
pub mod result;
pub mod saga;
pub mod scaling;
pub mod timeseries;

pub use cost::{CostSummary, ServiceCost};
pub use integral::TimeIntegral;
pub use latency::LatencyStats;
pub use result::*;
