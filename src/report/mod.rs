//! Outputs, every one a pure function of a [`crate::metrics::RunResult`]:
//! a human table, JSON, CSV files, written atomically.

pub mod attribution;
pub mod charts;
pub mod compare;
pub mod cost;
pub mod csv;
pub mod html;
pub mod json;
pub mod output;
pub mod saved;
pub mod scaling;
pub mod sweep;
pub mod table;
