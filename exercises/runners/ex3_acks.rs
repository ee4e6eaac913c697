//! Exercise 3's runner: the checks of `lessons/src/exercises/ex3_acks.rs`
//! on the student's `exercises/ex3_acks.rs`. `course exercise 3` builds and
//! runs it (`lessons/src/exercises/harness.rs`).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

// `#[path = "<folder>/ex3_acks.rs"] mod ex3_acks;`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/ex3_acks.rs"));

use kafka_course::exercises::{ex3_acks as checks, runner};

fn main() -> std::process::ExitCode {
    let code: checks::Code = ex3_acks::producer_settings;
    runner::main(&checks::EXERCISE, checks::checks, code)
}
