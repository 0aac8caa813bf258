//! Integration tests: one binary, one module per concern.

mod accounting;
mod bad_input;
mod common;
mod determinism;
mod fuzz;
mod queueing;
mod scenarios;
