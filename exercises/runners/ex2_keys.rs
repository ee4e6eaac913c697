//! Exercise 2's runner: the checks of `lessons/src/exercises/ex2_keys.rs`
//! on the student's `exercises/ex2_keys.rs`. `course exercise 2` builds and
//! runs it (`lessons/src/exercises/harness.rs`).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

// `#[path = "<folder>/ex2_keys.rs"] mod ex2_keys;`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/ex2_keys.rs"));

use kafka_course::exercises::{ex2_keys as checks, runner};

fn main() -> std::process::ExitCode {
    let code: checks::Code = ex2_keys::to_record;
    runner::main(&checks::EXERCISE, checks::checks, code)
}
