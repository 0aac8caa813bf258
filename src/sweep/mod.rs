//! Parameter sweeps: a grid of scenario variants, each run one or more
//! times in parallel, reduced to means and confidence intervals, with
//! shards that merge back into the unsharded result.

pub mod find;
pub mod grid;
pub mod param;
pub mod point;
pub mod result;
pub mod seed;
pub mod stats;

pub use result::{Param, ParamValue, Plan, PointResult, Replication, SweepResult};
pub use seed::Seeding;
pub use stats::Estimate;
