//! Exercise 4's runner: the checks of `lessons/src/exercises/ex4_commit.rs`
//! on the student's `exercises/ex4_commit.rs`. `course exercise 4` builds and
//! runs it (`lessons/src/exercises/harness.rs`).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

// `#[path = "<folder>/ex4_commit.rs"] mod ex4_commit;`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/ex4_commit.rs"));

use kafka_course::exercises::{ex4_commit as checks, runner};

fn main() -> std::process::ExitCode {
    let code: checks::Code = ex4_commit::commit_processed;
    runner::main(&checks::EXERCISE, checks::checks, code)
}
