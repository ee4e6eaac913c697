//! Exercise 2.2 (chapter 2): send one command and report where it was
//! stored.
//!
//! The planner sends each `MachineCommand` to the topic the machine
//! controllers read, and logs where the cluster stored it. The controllers
//! run each lot's steps in order, so they need all of a lot's commands in
//! one partition, and they turn each value back into a `MachineCommand`
//! with `serde_json`.
//!
//! Write the body of `send_command`:
//!
//! 1. serialize `command` to JSON: the record's value;
//! 2. key the record by the command's lot;
//! 3. send it to `topic` with `producer`, wait for its delivery report, and
//!    return the partition and the offset the report gives;
//! 4. if the cluster refuses the record, return the error (with `?`): the
//!    caller decides what to do, and a program that crashes or makes up a
//!    position would hide the loss.
//!
//! The checks send several lots' commands through your function, read the
//! topic back at the positions you return, then make the cluster refuse a
//! record for good and look at what your function does.
//!
//! Write the body below, then check your work: `just exercise 2.2`
//! (or `cargo run --release -- exercise 2.2`). Stuck? `just hint 2.2`.

use std::time::Duration;

use anyhow::Result;
#[allow(unused_imports)]
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::workshop::MachineCommand;

/// Send `command` to `topic`, keyed by its lot, its value the command as
/// JSON; wait for the delivery report and return (partition, offset).
pub async fn send_command(
    producer: &FutureProducer,
    topic: &str,
    command: &MachineCommand,
) -> Result<(i32, i64)> {
    // How long `send` may wait for room in the producer's queue.
    let queue_timeout = Duration::from_secs(10);
    // TODO: serialize the command, make its record (key and value), send it,
    // and return where the delivery report says it is stored. (-1, -1) is no
    // position: it stands here until you write the body.
    let _ = (producer, topic, command, queue_timeout);
    Ok((-1, -1))
}
