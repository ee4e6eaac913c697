//! Exercise 2.3 (chapter 2): a producer that keeps each lot in order and
//! loses nothing.
//!
//! The planner has a list of machine commands for several lots, in the
//! order each lot's steps must run: mill (M1), then drill (M2), then polish
//! (M3). The controllers read the topic with `serde_json`, one partition
//! each, and run what they read in the order they read it.
//!
//! Write `send_all`, from nothing. It must:
//!
//! 1. make its own producer for the cluster at `bootstrap`;
//! 2. send every command of `commands` to `topic`, its value the command
//!    as JSON, keyed so that all the commands of a lot are in one
//!    partition, in the order of the list;
//! 3. return only once the cluster has stored every record (its delivery
//!    report says so), and return an error if a record was refused.
//!
//! The checks call your function with the commands of six lots on a
//! 3-broker cluster, look at the topic the moment it returns, then read
//! every record back: is each command there once, with a value that parses
//! back, each lot in one partition and in order?
//!
//! Chapter 2's program (`crate::ch2_producer::program`) has the pieces; the
//! work is to put them together.
//!
//! Write the body below, then check your work: `just exercise 2.3`
//! (or `cargo run --release -- exercise 2.3`). Stuck? `just hint 2.3`.

use anyhow::Result;

use crate::workshop::MachineCommand;

/// Send `commands` to `topic` on the cluster at `bootstrap`, keyed by lot,
/// as JSON, and return once every record is stored.
pub async fn send_all(bootstrap: &str, topic: &str, commands: &[MachineCommand]) -> Result<()> {
    // TODO: make a producer, send each command, and wait for every delivery report.
    let _ = (bootstrap, topic, commands);
    Ok(())
}
