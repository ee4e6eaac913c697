//! Checks of exercise 4.3: a consumer that loses nothing across crashes.
//!
//! The scenario of exercise 4.2 ([`super::ex4_2_loop::scenario`]): twelve
//! drill commands in three partitions, a controller that crashes twice
//! (before the work of the 4th command it is handed, after the work of the
//! 8th) and is restarted in the same group. Here the controller is the
//! student's `run_controller`, from the consumer's settings to its loop:
//! the checks give it a consumer's settings with librdkafka's defaults for
//! `enable.auto.commit` and `auto.offset.reset`, which it must set itself.

use anyhow::Result;
use futures::future::LocalBoxFuture;
use rdkafka::config::ClientConfig;

use super::ex4_2_loop::{scenario, Drill};
use super::Checks;
use crate::kit::Stage;

/// The student's function.
pub type Code = fn(&mut ClientConfig, &str, &mut Drill) -> Result<()>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { scenario(ctx, checks, "run_controller", code).await })
}
