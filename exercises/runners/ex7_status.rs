//! Exercise 7's runner: the checks of `lessons/src/exercises/ex7_status.rs`
//! on the student's `exercises/ex7_status.rs`. `course exercise 7` builds and
//! runs it (`lessons/src/exercises/harness.rs`).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

// `#[path = "<folder>/ex7_status.rs"] mod ex7_status;`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/ex7_status.rs"));

use kafka_course::exercises::{ex7_status as checks, runner};

fn main() -> std::process::ExitCode {
    let code: checks::Code = ex7_status::next_command;
    runner::main(&checks::EXERCISE, checks::checks, code)
}
