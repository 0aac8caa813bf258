//! Outputs, every one a pure function of a [`crate::metrics::RunResult`]:
//! a human table, JSON, CSV files, written atomically.

pub mod cost;
pub mod csv;
pub mod json;
pub mod output;
pub mod scaling;
pub mod table;
