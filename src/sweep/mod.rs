//! Parameter sweeps: a grid of scenario variants, each run one or more
//! times in parallel, reduced to means and confidence intervals, with
//! shards that merge back into the unsharded result.
//!
//! [`exec::sweep`] runs a whole sweep in one call; [`exec::check_points`]
//! and [`exec::run_points`] are its two halves (validate every point, then
//! run some of them), which `microsim sweep` uses to save points as they
//! finish, resume and shard.

pub mod exec;
pub mod find;
pub mod grid;
pub mod output;
pub mod param;
pub mod point;
pub mod result;
pub mod seed;
pub mod spec;
pub mod stats;
pub mod store;

pub use exec::{sweep, Options};
pub use result::{Param, ParamValue, Plan, PointResult, Replication, SweepResult};
pub use seed::Seeding;
pub use stats::Estimate;
