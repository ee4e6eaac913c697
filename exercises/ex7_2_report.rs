//! Exercise 7.2 (chapter 7): a machine reports a step done only after the work.
//!
//! The M2 machine (the drill) reads its commands from its own topic,
//! `m2-commands`, in its consumer group `machine-M2`. When it has drilled a
//! lot, it publishes a status event to `machine-status`; the workflow reads
//! it and only then sends the lot to M3 (chapter 7). The controller calls
//! `machine_step` below again and again: each call handles one command.
//! Reading the command is written for you; write the rest of the body:
//!
//! 1. drill the lot with `ctl.machine.run(&cmd)`, unless the machine has
//!    done it already (`ctl.machine.has_done(&cmd)`): after a crash, Kafka
//!    delivers a command again, and drilling twice ruins the part;
//! 2. publish the status event `MachineStatus { lot, machine, step, done:
//!    true }` as JSON to `ctl.status_topic`, with the lot as the record's
//!    key, and wait until it is acknowledged (this machine publishes only
//!    "done", never "started");
//! 3. commit the command's offset.
//!
//! The checks crash the controller twice: once just before the work of
//! `lot-B`, once just after the work of `lot-C` (then `run` returns an
//! error: return it at once with `?`, and the checks restart the
//! controller in the same group, as a supervisor would). Whatever the
//! moment of a crash, no lot may be reported done before it is drilled,
//! and every drilled lot must be reported done.
//!
//! Write the body below, then check your work: `just exercise 7.2`
//! (or `cargo run --release -- exercise 7.2`). Stuck? `just hint 7.2`.

use std::time::Duration;

use anyhow::Result;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::producer::FutureRecord;

use crate::ch7_workflow::program::decode;
use crate::ch7_workflow::MachineStatus;
use crate::exercises::ex7_2_report::Controller;
use crate::workshop::MachineCommand;

/// Handle the next command of the machine's topic: do the work, report it
/// done, commit. `ctl.consumer` commits nothing unless you do it.
pub async fn machine_step(ctl: &Controller) -> Result<()> {
    let msg = ctl.consumer.recv().await?;
    let cmd: MachineCommand = decode(&msg)?;
    // TODO 1: drill the lot (ctl.machine.run), unless the machine has done it already.
    // TODO 2: publish MachineStatus { lot, machine, step, done: true } as JSON to
    //         ctl.status_topic, keyed by the lot, and wait for the acknowledgement.
    // TODO 3: commit the command (ctl.consumer.commit_message).
    // Delete the next line: it only keeps the compiler quiet until you use msg and cmd.
    let _ = (msg, cmd);
    Ok(())
}
