//! Exercise 4.2 (chapter 4): one turn of a consumer's loop.
//!
//! The drill controller (machine M2) reads its commands from a topic of
//! three partitions, as a member of a consumer group. Its loop is written;
//! what it does at each turn is not:
//!
//! ```text
//! let consumer: BaseConsumer = config          // group.id: the controller's group
//!     .set("enable.auto.commit", "false")       // commits: only yours
//!     .set("auto.offset.reset", "earliest")     // a new group reads from the start
//!     .create()?;
//! consumer.subscribe(&[topic])?;
//! while !drill.shift_over() {
//!     step(&consumer, drill)?;
//! }
//! ```
//!
//! Write the body of `step`, one turn of that loop:
//!
//! 1. poll the consumer for the next record, waiting at most 100 ms; if
//!    none came, return `Ok(())` (the loop calls you again);
//! 2. turn its value (JSON) back into a `MachineCommand`, and have the drill
//!    do it: `drill.drill(&cmd)?`;
//! 3. only then commit the record, synchronously, so that a restarted
//!    controller resumes after it.
//!
//! The checks make the controller crash twice, in the middle of the shift:
//! `drill.drill` returns an error then, and `?` must pass it on at once (the
//! checks restart the controller in the same group, as a supervisor would).
//! Nothing may be lost, nothing drilled twice but the one command in flight
//! at a crash, and at the end the group's lag must be 0.
//!
//! Then check your work: `just exercise 4.2` (or `cargo run --release --
//! exercise 4.2`). Stuck? `just hint 4.2`.

use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::Message;

use crate::exercises::ex4_2_loop::Drill;
use crate::workshop::MachineCommand;

/// One turn of the drill controller's loop: the next record of the
/// consumer's partitions, if one comes within 100 ms, drilled and then
/// committed.
pub fn step(consumer: &BaseConsumer, drill: &mut Drill) -> Result<()> {
    //@ starter: // TODO: poll, decode, drill, then commit (see the steps at the top of the file).
    //@ starter: let _ = (consumer, drill);
    //@ solution-begin
    // While it waits, poll also keeps the consumer in its group (rebalances,
    // heartbeats): a loop must poll often.
    let Some(record) = consumer.poll(Duration::from_millis(100)) else {
        return Ok(()); // nothing new within 100 ms
    };
    let record = record.context("polling the drill commands")?;
    let cmd: MachineCommand = serde_json::from_slice(record.payload().unwrap_or_default())
        .with_context(|| format!("decoding the command at offset {}", record.offset()))?;
    // The work first: if the controller crashes here, nothing is
    // committed, and the restarted controller reads this command again.
    drill.drill(&cmd)?;
    // Then the progress. commit_message commits record.offset() + 1: the
    // group's committed offset is the NEXT record to read.
    consumer.commit_message(&record, CommitMode::Sync)?;
    //@ solution-end
    Ok(())
}
