//! Chapter 2's program: a typed event, serialized to JSON; a producer that
//! sends it keyed by its lot and reads the delivery report; the records
//! read back and deserialized; records without a key; and a producer that
//! hashes keys as the Java client does.
//!
//! Plain rdkafka and serde_json, as an application would write it: every
//! function takes rdkafka types and plain values, and returns what the
//! cluster answered. The lesson (`mod.rs` beside this file) calls these
//! functions in the order the chapter tells them and prints what they
//! return.

use std::time::Duration;

use anyhow::Result;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

// Chapter 1's settings, shared by every client: `bootstrap.servers` and
// two timeouts.
use crate::ch1_cluster::program::client_config;

// ANCHOR: machine_command
/// A command for one machine tool to work on one lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineCommand {
    /// The production lot, e.g. `lot-A`. Used as the record's key.
    pub lot: String,
    /// 1, 2, 3: the position of this step in the lot's sequence.
    pub step: u32,
    /// The machine tool: `M1`, `M2` or `M3`.
    pub machine: String,
    /// What the machine does: `mill`, `drill`, `polish`.
    pub operation: String,
}
// ANCHOR_END: machine_command

// ANCHOR: serialize
/// The bytes of the record that carries `command`: (key, value).
pub fn serialize(command: &MachineCommand) -> Result<(Vec<u8>, Vec<u8>)> {
    // Kafka stores bytes, not Rust values: the producer's first job is to
    // serialize. serde_json turns the event into JSON text, as UTF-8 bytes.
    let value = serde_json::to_vec(command)?;
    // The key is bytes too: the lot, so that all of a lot's commands share it.
    let key = command.lot.as_bytes().to_vec();
    Ok((key, value))
}
// ANCHOR_END: serialize

// ANCHOR: producer
/// A producer, from the settings every client of the course starts from.
pub fn producer(bootstrap: &str) -> Result<FutureProducer> {
    let producer = client_config(bootstrap)
        // Send each record at once instead of waiting up to 5 ms (librdkafka's
        // default) for others to batch with it: this program awaits each
        // record's delivery report before it sends the next anyway.
        .set("linger.ms", "0")
        // No `partitioner` setting: librdkafka's default, consistent_random,
        // hashes the key with CRC32.
        .create()?;
    Ok(producer)
}
// ANCHOR_END: producer

// ANCHOR: send
/// Send `command` to `topic`, keyed by its lot, and wait for its delivery
/// report: the partition and offset where the broker stored it.
pub async fn send(
    producer: &FutureProducer,
    topic: &str,
    command: &MachineCommand,
) -> Result<(i32, i64)> {
    let (key, value) = serialize(command)?;
    // No partition given: the partitioner hashes the key to pick one.
    let record = FutureRecord::to(topic).key(&key).payload(&value);
    // Awaiting the send gives the delivery report: the broker accepted the
    // record, and says in which partition and at which offset it is stored.
    // (10 s is how long `send` may wait for room in the producer's queue;
    // `message.timeout.ms` bounds the delivery itself.) On failure,
    // `send` gives the error back with the record: keep the error.
    let delivery = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _record)| error)?;
    Ok((delivery.partition, delivery.offset))
}
// ANCHOR_END: send

// ANCHOR: deserialize
/// The command a record carries: the consumer gets the bytes back and must
/// know what they are, here the JSON of a `MachineCommand`.
pub fn deserialize(record: &impl Message) -> Result<MachineCommand> {
    // A record without a value has no bytes at all, which are not JSON
    // either: serde_json says so.
    let bytes = record.payload().unwrap_or_default();
    let command = serde_json::from_slice(bytes)?;
    Ok(command)
}
// ANCHOR_END: deserialize

/// A record read back: where it was stored, its key, and its command.
pub struct ReadBack {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub command: MachineCommand,
}

/// Read `count` records of `topic`'s partitions `0..partitions`, from the
/// beginning, and deserialize each one, as a consumer would. Fewer if no
/// record comes for 10 s: the caller sees how many it got.
pub async fn read_back(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
    count: usize,
) -> Result<Vec<ReadBack>> {
    // assign() reads chosen partitions directly, without joining a group;
    // librdkafka still wants a group.id, which is used for nothing here.
    let consumer: StreamConsumer = client_config(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut records = Vec::new();
    while records.len() < count {
        // recv() waits for the next record of any assigned partition, for
        // ever if none comes: give up after 10 s.
        let Ok(record) = tokio::time::timeout(Duration::from_secs(10), consumer.recv()).await
        else {
            break;
        };
        let record = record?;
        records.push(ReadBack {
            partition: record.partition(),
            offset: record.offset(),
            key: record
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            command: deserialize(&record)?,
        });
    }
    Ok(records)
}

// ANCHOR: keyless
/// A producer for records without a key. For those, librdkafka's
/// partitioner draws a partition at random and keeps it for `sticky`
/// (`sticky.partitioning.linger.ms`, 10 ms by default), so that a burst of
/// keyless records fills one batch; then it draws again.
pub fn keyless_producer(bootstrap: &str, sticky: Duration) -> Result<FutureProducer> {
    let producer = client_config(bootstrap)
        .set(
            "sticky.partitioning.linger.ms",
            sticky.as_millis().to_string(),
        )
        .create()?;
    Ok(producer)
}

/// Enqueue `command` without a key, and return its delivery report to come.
pub fn send_without_key(
    producer: &FutureProducer,
    topic: &str,
    command: &MachineCommand,
) -> Result<DeliveryFuture> {
    let value = serde_json::to_vec(command)?;
    // No .key(...): the record's key is null. (Rust still wants a type for
    // the key that is not there: `()`.)
    let record: FutureRecord<'_, (), _> = FutureRecord::to(topic).payload(&value);
    // send_result() only enqueues the record and returns at once: the
    // partitioner runs now, and the producer sends the record in the
    // background while the caller enqueues more.
    let delivery = producer
        .send_result(record)
        .map_err(|(error, _record)| error)?;
    Ok(delivery)
}

/// Wait for a delivery report: the partition and offset, or the error.
pub async fn delivered(delivery: DeliveryFuture) -> Result<(i32, i64)> {
    // The outer error: the producer was dropped before it could report.
    let delivery = delivery.await?.map_err(|(error, _record)| error)?;
    Ok((delivery.partition, delivery.offset))
}
// ANCHOR_END: keyless

// ANCHOR: murmur2
/// A producer that hashes keys as the Java client does: a Rust and a Java
/// producer writing the same key to the same topic then agree on its
/// partition.
pub fn java_like_producer(bootstrap: &str) -> Result<FutureProducer> {
    let producer = client_config(bootstrap)
        .set("linger.ms", "0")
        // The Java client hashes keys with murmur2; librdkafka's default,
        // consistent_random, uses CRC32. This producer hashes like Java.
        .set("partitioner", "murmur2_random")
        .create()?;
    Ok(producer)
}
// ANCHOR_END: murmur2
