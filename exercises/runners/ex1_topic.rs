//! Exercise 1's runner: the checks of `lessons/src/exercises/ex1_topic.rs`
//! on the student's `exercises/ex1_topic.rs`. `course exercise 1` builds and
//! runs it (`lessons/src/exercises/harness.rs`).

// The student's file is written as part of the course (`use crate::kit::Ctx`,
// `crate::workshop`...): with the course's library re-exported here, at this
// program's root, those paths mean what they mean in the course.
pub use kafka_course::*;

// `#[path = "<folder>/ex1_topic.rs"] mod ex1_topic;`, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/ex1_topic.rs"));

use kafka_course::exercises::{ex1_topic as checks, runner};

fn main() -> std::process::ExitCode {
    // An `async fn`: boxed, so that it has the one type the checks take.
    let code: checks::Code = |ctx| Box::pin(ex1_topic::create_orders_topic(ctx));
    runner::main(&checks::EXERCISE, checks::checks, code)
}
