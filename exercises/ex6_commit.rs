//! Exercise 6.1 (chapter 6): commit after the work, and make the work idempotent.
//!
//! The machine controller reads a lot's commands (M1 mill, M2 drill, M3
//! polish) from one partition, in a consumer group, with automatic commits
//! off. For each command it calls `handle` below, which must run the
//! command on the machine and commit the record's offset. As written, it
//! commits first and then runs the machine.
//!
//! The checks crash your controller in the middle of a command, restart it
//! in the same group, and look at what the machine did. A crash can come at
//! any moment, so `handle` must make sure that:
//!
//! 1. no step is ever skipped, whatever the moment of the crash, and
//! 2. no step takes effect twice, although Kafka may deliver a command again.
//!
//! The machine: `machine.run(&cmd)` performs the operation (running it twice
//! mills, drills or polishes twice); `machine.has_done(&cmd)` says whether
//! this machine has already performed this step of this lot (its memory
//! survives the controller's crash). When `run` returns an error, the
//! controller has crashed: return the error at once (`?`) and the checks
//! restart your controller, as a supervisor would.
//!
//! Edit the TODO lines below, then check your work: `just exercise 6.1`
//! (or `cargo run --release -- exercise 6.1`). Stuck? `just hint 6.1`.

use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Message};

use crate::exercises::ex6_commit::Machine;
use crate::workshop::MachineCommand;

/// Handle one record of the controller's partition: run its command on the
/// machine and commit its offset. (The consumer has `enable.auto.commit=false`
/// and `enable.auto.offset.store=false`: nothing is committed unless you do it.)
pub fn handle(
    consumer: &BaseConsumer,
    msg: &BorrowedMessage<'_>,
    machine: &mut Machine,
) -> Result<()> {
    let cmd: MachineCommand = serde_json::from_slice(msg.payload().unwrap_or_default())
        .with_context(|| format!("decoding the command at offset {}", msg.offset()))?;

    // TODO: a crash can come between any two lines. Which order skips no step?
    consumer.commit_message(msg, CommitMode::Sync)?;
    // TODO: after a crash Kafka delivers this command again: what must the machine not do?
    machine.run(&cmd)?;
    Ok(())
}
