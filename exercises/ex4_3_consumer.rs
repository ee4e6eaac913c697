//! Exercise 4.3 (chapter 4): a consumer that loses nothing across crashes.
//!
//! The drill controller (machine M2) reads its commands from a topic of
//! three partitions, as a member of a consumer group, and drills each part.
//! Write the whole controller, `run_controller`, from an empty body:
//!
//! 1. make a consumer from `config` (it holds the cluster's address, the
//!    controller's group.id and the course's tuning) with the settings a
//!    controller needs: nothing committed unless your code says so, and a
//!    new group that reads the commands already waiting in the topic;
//! 2. join the group: subscribe to `topic`;
//! 3. until `drill.shift_over()` says the shift is over, poll for records
//!    (a short wait each time, say 100 ms); turn each one's value (JSON)
//!    back into a `MachineCommand`, have the drill do it
//!    (`drill.drill(&cmd)?`), and only then commit it;
//! 4. return `Ok(())` when the shift is over.
//!
//! The checks make the controller crash twice in the middle of the shift:
//! `drill.drill` returns an error then, and `?` must pass it on at once. The
//! checks then start your controller again in the same group, as a
//! supervisor would. Nothing may be lost, nothing drilled twice but the one
//! command in flight at a crash (at-least-once), and at the end the group's
//! lag must be 0.
//!
//! Then check your work: `just exercise 4.3` (or `cargo run --release --
//! exercise 4.3`). Stuck? `just hint 4.3`.

use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::Message;

use crate::exercises::ex4_2_loop::Drill;
use crate::workshop::MachineCommand;

/// The drill controller: a member of the group of `config` that drills
/// every command of `topic`, committing each one after its work, until
/// the shift is over.
pub fn run_controller(config: &mut ClientConfig, topic: &str, drill: &mut Drill) -> Result<()> {
    // TODO: make the consumer, subscribe, and loop until drill.shift_over().
    let _ = (config, topic, drill);
    Ok(())
}
