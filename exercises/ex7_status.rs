//! Exercise 7.1 (chapter 7): the next step waits for the previous step's status event.
//!
//! Each machine reads its own topic (`m1-commands`, `m2-commands`,
//! `m3-commands`), so Kafka does not order a lot's steps: a free M2 machine
//! drills whatever it is sent, milled or not. The workflow orders them. It
//! sends each lot's M1 command, then reads the machines' reports from
//! `machine-status` and, for each report, sends what `next_command` returns.
//!
//! A machine reports twice for each command it works on:
//!
//! - `{lot, machine, step, done: false}` when it starts the work, and
//! - `{lot, machine, step, done: true}` when it has finished it.
//!
//! Write `next_command` so that every lot goes M1, M2, M3, in that order,
//! with the M1 machine busy (it starts a lot and takes a while to finish
//! it). The checks also deliver a status event twice, as happens after a
//! machine restarts: the machines remember what they did and skip a repeated
//! command (chapter 6), so a repeat must not break anything either.
//!
//! Edit the TODO lines below, then check your work: `just exercise 7.1`
//! (or `cargo run --release -- exercise 7.1`). Stuck? `just hint 7.1`.

use crate::ch7_workflow::MachineStatus;
use crate::workshop::{MachineCommand, STEPS};

/// The command the workflow sends when it reads `status`, if any.
/// (`MachineCommand::step(lot, n)` is step `n`, 1 to 3, of `lot`.)
pub fn next_command(status: &MachineStatus) -> Option<MachineCommand> {
    let last_step = STEPS.len() as u32;
    // TODO: which reports may trigger the next step, and what comes after the last one?
    let next = status.step + 1;
    (next <= last_step).then(|| MachineCommand::step(&status.lot, next))
}
