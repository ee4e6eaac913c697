//! Exercise 6.2 (chapter 6): spot a duplicate or out-of-order command in a
//! partition.
//!
//! Before the workshop turned on the idempotent producer, its producer
//! retried requests without it, and the partition `lot-commands` shows it:
//! a command stored twice by a retry, a step stored before the step it
//! follows. The controller that reads this partition must not drill twice,
//! nor polish a part that was never drilled.
//!
//! Complete `verdict` below. The controller reads the partition in order
//! and calls it once per record. It decides what to do with the record's
//! command, using `last_run`, the last step run for each lot (the lot is
//! the key: every step of a lot is in this partition):
//!
//! - `Verdict::Run`: the command is its lot's next step (step 1 for a lot
//!   that has run nothing yet). Record it in `last_run`: it is run.
//! - `Verdict::Duplicate`: the step has already run (a repeat).
//! - `Verdict::OutOfOrder`: a step before it has not run yet.
//!
//! Only a command that runs changes `last_run`. The record's value is the
//! command, as JSON (chapter 2): decode it with `serde_json::from_slice`.
//!
//! Check your work: `just exercise 6.2` (or `cargo run --release --
//! exercise 6.2`). Stuck? `just hint 6.2`.

use std::collections::HashMap;

use anyhow::Result;
use rdkafka::message::{BorrowedMessage, Message};

use crate::exercises::ex6_2_sequence::Verdict;
use crate::workshop::MachineCommand;

/// What to do with `record`'s command, given the last step run of each lot
/// (`last_run`, lot → step; updated when the command runs).
pub fn verdict(last_run: &mut HashMap<String, u32>, record: &BorrowedMessage<'_>) -> Result<Verdict> {
    let cmd: MachineCommand = serde_json::from_slice(record.payload().unwrap_or_default())?;
    //@ starter: // TODO: compare cmd.step with the last step run of cmd.lot, and decide.
    //@ starter: let _ = (last_run, &cmd);
    //@ starter: Ok(Verdict::Run)
    //@ solution-begin
    // A lot that has run nothing is at step 0: its next step is 1.
    let last = last_run.get(&cmd.lot).copied().unwrap_or(0);
    Ok(if cmd.step <= last {
        // Already run: a retry stored it twice. Running it again would mill,
        // drill or polish twice.
        Verdict::Duplicate
    } else if cmd.step == last + 1 {
        last_run.insert(cmd.lot.clone(), cmd.step);
        Verdict::Run
    } else {
        // A step in between is missing: the producer's retry put it later
        // in the partition. Running this one now would break the lot's order.
        Verdict::OutOfOrder
    })
    //@ solution-end
}
