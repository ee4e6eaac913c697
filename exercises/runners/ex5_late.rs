//! Exercise 5's runner: the checks of `lessons/src/exercises/ex5_late.rs`
//! on the student's `exercises/ex5_late.rs`. `course exercise 5` builds and
//! runs it (`lessons/src/exercises/harness.rs`).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

// `#[path = "<folder>/ex5_late.rs"] mod ex5_late;`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/ex5_late.rs"));

use kafka_course::exercises::{ex5_late as checks, runner};

fn main() -> std::process::ExitCode {
    let code: checks::Code = ex5_late::late_consumer_settings;
    runner::main(&checks::EXERCISE, checks::checks, code)
}
