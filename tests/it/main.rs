//! Integration tests: one binary, one module per concern.

mod accounting;
mod assertions;
mod bad_input;
mod charts_dist;
mod charts_sweep;
mod charts_time;
mod common;
mod compare;
mod cost;
mod determinism;
mod discovery;
mod fault_scenarios;
mod find;
mod fuzz;
mod messaging_report;
mod monolith;
mod queueing;
mod report;
mod report_html;
mod resilience;
mod scaling;
mod scenarios;
mod sweep;
