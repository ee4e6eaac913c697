//! Chapter 6's program: strict order within one topic. The lot is the key,
//! so its commands share one partition; an idempotent producer keeps them
//! in order in that partition even when a request is retried; and the
//! consumer executes them one at a time, committing each command's offset
//! only once the machine has done the work, on machines that skip a
//! command they have already done.
//!
//! Plain rdkafka, as an application would write it: every function takes
//! rdkafka types and plain values, and returns what the cluster answered.
//! The lesson (`mod.rs` beside this file) calls these functions in the
//! order the chapter tells them and prints what they return.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Result;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::timeout;

use crate::workshop::MachineCommand;

/// How long this program waits for any one answer of the cluster.
const WAIT: Duration = Duration::from_secs(10);

// ANCHOR: producer
/// A producer that sends each record in its own request (`linger.ms=0`,
/// `batch.num.messages=1`) and keeps up to five requests in flight: the
/// pipelining that makes a producer fast, and that lets retries reorder.
/// `config` holds the client's settings (chapter 1's `client_config`).
pub fn producer(config: &ClientConfig, idempotent: bool) -> Result<FutureProducer> {
    let producer: FutureProducer = config
        .clone()
        .set("enable.idempotence", idempotent.to_string())
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        .set("linger.ms", "0")
        .set("batch.num.messages", "1")
        .create()?;
    Ok(producer)
}
// ANCHOR_END: producer

// ANCHOR: send
/// Send `commands` without waiting between them, then wait for every
/// delivery report: (command, partition, offset), in send order.
pub async fn send_all(
    producer: &FutureProducer,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Vec<(MachineCommand, i32, i64)>> {
    // send_result() hands a record to the producer and returns at once: the
    // three records are on their way together, as in any producer that does
    // not wait for each delivery before sending the next.
    let mut pending = Vec::new();
    for cmd in commands {
        let value = serde_json::to_string(cmd)?;
        let record = FutureRecord::to(topic).key(&cmd.lot).payload(&value);
        pending.push(producer.send_result(record).map_err(|(e, _)| e)?);
    }
    // Only now wait for the delivery reports.
    let mut deliveries = Vec::new();
    for (cmd, delivery) in commands.iter().zip(pending) {
        // Bounded, so that a cluster that never answers is an error rather
        // than a program that hangs; then the producer may have been
        // dropped (`?`), or the record refused (`map_err`).
        let delivered = timeout(WAIT, delivery).await??.map_err(|(e, _)| e)?;
        deliveries.push((cmd.clone(), delivered.partition, delivered.offset));
    }
    Ok(deliveries)
}
// ANCHOR_END: send

// ANCHOR: fault
/// On the embedded cluster (librdkafka's mock cluster): every broker
/// answers `rtt` late, so that requests are in flight together, and the
/// first Produce request is refused with NOT_ENOUGH_REPLICAS, a retriable
/// error: the producer retries it.
pub fn inject_retriable_error(
    mock: &MockCluster<'_, DefaultProducerContext>,
    rtt: Duration,
) -> Result<()> {
    mock.broker_round_trip_time(-1, rtt)?;
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS],
    );
    Ok(())
}
// ANCHOR_END: fault

// ANCHOR: scripted_fault
/// The same fault for an idempotent producer, with what a real broker
/// answers when the first of several in-flight idempotent requests fails:
/// the `behind` requests behind it have a gap in their sequence numbers,
/// so they are refused too.
pub fn script_idempotent_refusals(
    mock: &MockCluster<'_, DefaultProducerContext>,
    rtt: Duration,
    behind: usize,
) -> Result<()> {
    let mut answers = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS];
    answers.extend([RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER].repeat(behind));
    mock.broker_round_trip_time(-1, rtt)?;
    mock.request_errors(RDKafkaApiKey::Produce, &answers);
    Ok(())
}
// ANCHOR_END: scripted_fault

// ANCHOR: consumer_config
/// The machine controller: a consumer in the group that `config` names
/// (its `group.id`), subscribed to `topic`.
pub fn controller(config: &ClientConfig, topic: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = config
        .clone()
        // Commit only when the program says so, and only the offsets it has
        // stored: a command's offset is stored after its work is done.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // A new group starts at the beginning of the log.
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}
// ANCHOR_END: consumer_config

/// The command a record carries, from its JSON value.
pub fn decode(message: &impl Message) -> Result<MachineCommand> {
    let payload = message.payload().unwrap_or_default();
    Ok(serde_json::from_slice(payload)?)
}

// ANCHOR: process
/// Handle one record: decode its command and do the work. What it does
/// not do yet is commit: see [`commit`].
pub fn process(
    workshop: &mut Workshop,
    message: &BorrowedMessage<'_>,
) -> Result<(MachineCommand, Outcome)> {
    let cmd = decode(message)?;
    // 1. Do the work (the machine skips a command it has already done).
    let outcome = workshop.execute(&cmd);
    Ok((cmd, outcome))
}
// ANCHOR_END: process

// ANCHOR: commit
/// 2. Only once the work is done, record the progress: store the record's
/// offset, and commit it (the offset after it: the next one to read), and
/// wait for the group's coordinator to confirm.
pub fn commit(consumer: &StreamConsumer, message: &BorrowedMessage<'_>) -> Result<()> {
    consumer.store_offset_from_message(message)?;
    consumer.commit_consumer_state(CommitMode::Sync)?;
    Ok(())
}
// ANCHOR_END: commit

/// The group's committed offset for one partition (`None`: nothing
/// committed), asked by a client that names the group (`config`'s
/// `group.id`) without joining it.
pub fn committed_offset(config: &ClientConfig, topic: &str, partition: i32) -> Result<Option<i64>> {
    let probe: BaseConsumer = config.create()?;
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(topic, partition);
    let committed = probe.committed_offsets(wanted, WAIT)?;
    Ok(committed
        .find_partition(topic, partition)
        .and_then(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        }))
}

/// What a machine did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The machine did the work.
    Done,
    /// The machine had already done this (lot, step): nothing happened.
    AlreadyDone,
}

// ANCHOR: workshop
/// The machines of the workshop. Each remembers which (lot, step) it has
/// done, so executing a command twice has the effect of executing it once:
/// the operation is *idempotent*, which at-least-once delivery requires.
///
/// This memory belongs to the machines, not to the consumer: it survives the
/// consumer's crash (in a real plant, the machine controller's own state, or
/// a database row written together with the work).
#[derive(Debug, Default)]
pub struct Workshop {
    done: BTreeSet<(String, u32)>,
    /// Every operation actually performed, in order.
    pub effects: Vec<MachineCommand>,
}

impl Workshop {
    pub fn execute(&mut self, cmd: &MachineCommand) -> Outcome {
        if !self.done.insert((cmd.lot.clone(), cmd.step)) {
            return Outcome::AlreadyDone;
        }
        self.effects.push(cmd.clone()); // the machine mills, drills or polishes
        Outcome::Done
    }

    /// Has the machine of `step` done it for `lot`?
    pub fn has_done(&self, lot: &str, step: u32) -> bool {
        self.done.contains(&(lot.to_string(), step))
    }
}
// ANCHOR_END: workshop
