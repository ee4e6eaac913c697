//! Every exercise's runner: the checks of `lessons/src/exercises/exN_*.rs`
//! on the student's `exercises/exN_*.rs`. Each `[[bin]]` of Cargo.toml is
//! this file, and includes the `main` that build.rs wrote for it from
//! exercises.toml. `course exercise N` builds and runs it
//! (lessons/src/exercises/harness.rs).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

include!(concat!(env!("OUT_DIR"), "/", env!("CARGO_BIN_NAME"), ".rs"));
