//! Chapter 7's program: order across topics, enforced by status events.
//! Each machine tool reads its own command topic, and nothing orders a
//! lot's M1 command (in one topic) before its M2 command (in another). So
//! each machine publishes a status event when it has finished a step, and
//! a workflow sends a lot's next command only when it reads that the
//! previous step is done; it commits the status event only once that
//! command is acknowledged, so that a crash repeats a step rather than
//! skipping it, and the machines absorb the repeat (chapter 6).
//!
//! Plain rdkafka, as an application would write it: every function takes
//! rdkafka types and plain values, and returns what the cluster answered.
//! The lesson (`mod.rs` beside this file) calls these functions in the
//! order the chapter tells them and prints what they return.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Result;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};
use tokio::time::timeout;

use crate::workshop::{MachineCommand, STEPS};

/// How long this program waits for any one answer of the cluster.
const WAIT: Duration = Duration::from_secs(10);

// ANCHOR: status_event
/// What a machine publishes to `machine-status` when it has finished a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineStatus {
    pub lot: String,
    pub machine: String,
    pub step: u32,
    pub done: bool,
}
// ANCHOR_END: status_event

/// A consumer in the group that `config` names (its `group.id`) that
/// commits only what the program stores, as chapter 6's controller: the
/// machines and the workflow alike.
pub fn consumer(config: &ClientConfig) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = config
        .clone()
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    Ok(consumer)
}

/// Hand `cmd` to the producer, keyed by its lot, for `topic`; the delivery
/// report comes later, from the future this returns.
pub fn send_command(
    producer: &FutureProducer,
    topic: &str,
    cmd: &MachineCommand,
) -> Result<DeliveryFuture> {
    let value = serde_json::to_string(cmd)?;
    let record = FutureRecord::to(topic).key(&cmd.lot).payload(&value);
    let delivery = producer.send_result(record).map_err(|(e, _)| e)?;
    Ok(delivery)
}

/// Wait (bounded) for a delivery report: where the record was stored,
/// (partition, offset).
pub async fn await_delivery(delivery: DeliveryFuture) -> Result<(i32, i64)> {
    let delivered = timeout(WAIT, delivery).await??.map_err(|(e, _)| e)?;
    Ok((delivered.partition, delivered.offset))
}

/// A record's JSON value, decoded.
pub fn decode<T: for<'de> Deserialize<'de>>(message: &impl Message) -> Result<T> {
    let payload = message.payload().unwrap_or_default();
    Ok(serde_json::from_slice(payload)?)
}

// ANCHOR: naive_planner
/// The naive planner: all three steps of each lot at once, in the right
/// order, each to its machine's topic (`command_topics`: M1's, M2's, M3's).
/// Returns each command with its pending delivery report.
pub fn plan_all_at_once(
    producer: &FutureProducer,
    command_topics: &[String],
    lots: &[&str],
) -> Result<Vec<(MachineCommand, DeliveryFuture)>> {
    let mut pending = Vec::new();
    for lot in lots {
        for cmd in MachineCommand::sequence(lot) {
            let k = cmd.step as usize - 1;
            let delivery = send_command(producer, &command_topics[k], &cmd)?;
            pending.push((cmd, delivery));
        }
    }
    Ok(pending)
}
// ANCHOR_END: naive_planner

/// Publish a machine's report on `cmd` to `status_topic`: done, or (with
/// `done` false) started. Keyed by lot, so that a lot's reports stay in
/// order. Returns where it was stored: (partition, offset).
pub async fn publish_status(
    producer: &FutureProducer,
    status_topic: &str,
    cmd: &MachineCommand,
    done: bool,
) -> Result<(i32, i64)> {
    let status = MachineStatus {
        lot: cmd.lot.clone(),
        machine: cmd.machine.clone(),
        step: cmd.step,
        done,
    };
    let value = serde_json::to_string(&status)?;
    let record = FutureRecord::to(status_topic)
        .key(&status.lot)
        .payload(&value);
    let delivered = producer.send(record, WAIT).await.map_err(|(e, _)| e)?;
    Ok((delivered.partition, delivered.offset))
}

// ANCHOR: machine
/// What a machine does with a command once it has done the work, or
/// skipped it because it remembers doing it (chapter 6's `Workshop`).
/// `status_topic`: where to report, `None` for the naive plant, whose
/// machines report nothing.
pub async fn finish_command(
    consumer: &StreamConsumer,
    producer: &FutureProducer,
    status_topic: Option<&str>,
    message: &BorrowedMessage<'_>,
    cmd: &MachineCommand,
) -> Result<Option<(i32, i64)>> {
    // Say it is done, also when it was done before: the first report may
    // have been lost in a crash, and the workflow ignores repeats.
    let mut reported = None;
    if let Some(status_topic) = status_topic {
        reported = Some(publish_status(producer, status_topic, cmd, true).await?);
    }
    // Only then commit the command.
    consumer.store_offset_from_message(message)?;
    consumer.commit_consumer_state(CommitMode::Async)?;
    Ok(reported)
}
// ANCHOR_END: machine

/// What the workflow did with a status event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The next step's command was sent (and acknowledged).
    Sent(MachineCommand),
    /// This status was already acted on in this session: ignored.
    IgnoredDuplicate,
    /// The last step is done: the lot is finished.
    Finished,
}

// ANCHOR: workflow
/// What the workflow does with a status event. `acted`: the (lot, step)
/// events it has acted on so far.
pub async fn act_on(
    producer: &FutureProducer,
    command_topics: &[String],
    acted: &mut BTreeSet<(String, u32)>,
    status: &MachineStatus,
) -> Result<(Action, Option<(i32, i64)>)> {
    let mut stored = None;
    let action = if !acted.insert((status.lot.clone(), status.step)) {
        Action::IgnoredDuplicate
    } else if status.step as usize == STEPS.len() {
        Action::Finished
    } else {
        // The previous step is done: send the next one, and wait until
        // the command is safely in its topic.
        let next = MachineCommand::step(&status.lot, status.step + 1);
        let k = next.step as usize - 1;
        let delivery = send_command(producer, &command_topics[k], &next)?;
        stored = Some(await_delivery(delivery).await?);
        Action::Sent(next)
    };
    Ok((action, stored))
}
// ANCHOR_END: workflow

// ANCHOR: workflow_commit
/// Only once the status event is dealt with (its next command
/// acknowledged), commit it, and wait for the coordinator to confirm.
pub fn commit_event(consumer: &StreamConsumer, message: &BorrowedMessage<'_>) -> Result<()> {
    consumer.store_offset_from_message(message)?;
    consumer.commit_consumer_state(CommitMode::Sync)?;
    Ok(())
}
// ANCHOR_END: workflow_commit
