//! Exercise 7.3 (chapter 7): a workflow step driven by status events.
//!
//! The workshop's machines each read their own topic, and every machine
//! reports to `machine-status`: `{lot, machine, step, done: false}` when it
//! takes a lot ("started"), `{lot, machine, step, done: true}` when it has
//! finished ("done"). A workflow turns those reports into the next
//! commands; the checks run its first step (from M1 to M2) and the three
//! machines. Write its second step, `m2_to_m3`, from scratch: a consumer
//! that, for each status event saying that M2 has finished a lot, sends
//! that lot's M3 command (`MachineCommand::step(lot, 3)`, as JSON, keyed
//! by the lot) to `m3-commands`, so that no lot reaches M3 before M2 has
//! finished it. It reads the events one after the other and never returns
//! (the checks stop it when the plant is done).
//!
//! - Your consumer is in group `workflow-m3`: `ctx.consumer_config("workflow-m3")`
//!   gives its settings (chapter 4's `consumer_config`: commits are yours).
//!   It starts late, once M2 has already finished a lot: it must read that.
//! - Commit a status event only once the command it causes is acknowledged
//!   (chapter 7: surviving a crash in the middle); a repeated "done" may
//!   send a command twice: the machines skip a command they have done.
//! - The topics' actual names on this cluster: `ctx.name("machine-status")`,
//!   `ctx.name("m3-commands")`. A producer: `ctx.client_config().create()`.
//!
//! Chapter 7's program (`crate::ch7_workflow::program`) has `decode`, and
//! `MachineStatus`. Write the function, then check your work:
//! `just exercise 7.3` (or `cargo run --release -- exercise 7.3`).
//! Stuck? `just hint 7.3`.

use anyhow::Result;

use crate::kit::Ctx;

/// Send each lot to M3 once M2 has finished it, for as long as the plant
/// runs.
pub async fn m2_to_m3(ctx: &Ctx) -> Result<()> {
    // TODO: a consumer of machine-status in group workflow-m3, a producer, and the loop.
    // Delete the next line: it only keeps the compiler quiet until you use ctx.
    let _ = ctx;
    Ok(())
}
