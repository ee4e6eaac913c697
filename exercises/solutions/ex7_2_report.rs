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
    //@ starter: // TODO 1: drill the lot (ctl.machine.run), unless the machine has done it already.
    //@ starter: // TODO 2: publish MachineStatus { lot, machine, step, done: true } as JSON to
    //@ starter: //         ctl.status_topic, keyed by the lot, and wait for the acknowledgement.
    //@ starter: // TODO 3: commit the command (ctl.consumer.commit_message).
    //@ starter: // Delete the next line: it only keeps the compiler quiet until you use msg and cmd.
    //@ starter: let _ = (msg, cmd);
    //@ solution-begin
    // 1. The work. A command delivered again (the controller crashed after
    //    the work, before the commit) is not drilled twice.
    if !ctl.machine.has_done(&cmd) {
        ctl.machine.run(&cmd)?;
    }
    // 2. Only now is "done" true. Report it also when the machine had done
    //    the work before: the crash may have come before that report, and
    //    then this one is the only report the workflow will ever read. The
    //    lot is the key, so that a lot's reports stay in one partition.
    let status = MachineStatus {
        lot: cmd.lot.clone(),
        machine: cmd.machine.clone(),
        step: cmd.step,
        done: true,
    };
    let value = serde_json::to_string(&status)?;
    let record = FutureRecord::to(&ctl.status_topic)
        .key(&status.lot)
        .payload(&value);
    ctl.producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)?;
    // 3. The report is in the topic: the command is dealt with. A crash
    //    before this line makes Kafka deliver it again, which step 1 absorbs.
    ctl.consumer.commit_message(&msg, CommitMode::Sync)?;
    //@ solution-end
    Ok(())
}
