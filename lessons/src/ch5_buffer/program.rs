//! Chapter 5's program: Kafka as a durable buffer between a producer and
//! its consumers. A producer writes and closes while no consumer exists; a
//! consumer started later finds every record waiting, reads it, commits and
//! stops; it resumes from its committed offsets when it comes back; reading
//! removes nothing, and a second group reads everything again.
//!
//! Plain rdkafka, as an application would write it: every function takes
//! rdkafka types and plain values, and returns what the cluster answered.
//! The lesson (`mod.rs` beside this file) calls these functions in the
//! order the chapter tells them and prints what they return.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::workshop::MachineCommand;

/// How long any single request of this program may wait for the cluster.
const TIMEOUT: Duration = Duration::from_secs(10);

// ANCHOR: produce
/// Write `commands` to `topic`, keyed by lot, then flush and drop the
/// producer: when this returns, no producer is left. `config` holds the
/// client's settings (chapter 1's `client_config`). Returns where each
/// command was stored: (partition, offset), in send order.
pub async fn produce_and_close(
    config: &ClientConfig,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Vec<(i32, i64)>> {
    let producer: FutureProducer = config.clone().set("linger.ms", "0").create()?;
    let mut written = Vec::new();
    for command in commands {
        let json = serde_json::to_vec(command)?;
        let record = FutureRecord::to(topic).key(&command.lot).payload(&json);
        // The delivery report comes from the partition's leader: the broker
        // has the record. No consumer is involved in this exchange.
        let delivery = producer.send(record, TIMEOUT).await.map_err(|(e, _)| e)?;
        written.push((delivery.partition, delivery.offset));
    }
    producer.flush(TIMEOUT)?;
    // The producer is gone; its records stay in the topic.
    drop(producer);
    Ok(written)
}
// ANCHOR_END: produce

// ANCHOR: committed
/// `group`'s committed offset on each of the `partitions` partitions of
/// `topic` (`None`: nothing committed there), asked from the group's
/// coordinator by a client that does not join the group: it only names it.
pub fn committed_offsets(
    config: &ClientConfig,
    group: &str,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, Option<i64>>> {
    let probe: BaseConsumer = config.clone().set("group.id", group).create()?;
    let mut wanted = TopicPartitionList::new();
    for p in 0..partitions {
        wanted.add_partition(topic, p);
    }
    let committed = probe.committed_offsets(wanted, TIMEOUT)?;
    Ok(committed
        .elements_for_topic(topic)
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => (e.partition(), Some(o)),
            // `Invalid`: the group has never committed on this partition.
            _ => (e.partition(), None),
        })
        .collect())
}
// ANCHOR_END: committed

// ANCHOR: watermarks
/// Low and high watermark of each of the `partitions` partitions of
/// `topic`: the oldest offset still stored, and the next one to be written.
/// `high - low` records wait there, whoever has read them.
pub fn watermarks(
    config: &ClientConfig,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, (i64, i64)>> {
    let probe: BaseConsumer = config.create()?;
    (0..partitions)
        .map(|p| Ok((p, probe.fetch_watermarks(topic, p, TIMEOUT)?)))
        .collect()
}
// ANCHOR_END: watermarks

// ANCHOR: consumer
/// A consumer in the group that `config` names (its `group.id`),
/// subscribed to `topic`, that starts from the oldest record still stored
/// when its group has no committed offset, and commits only when told to.
pub fn late_consumer(config: &ClientConfig, topic: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = config
        .clone()
        // Where to start when the group has no committed offset: the oldest
        // record still stored, rather than the default "latest" (only records
        // written from now on), which would skip everything that waited.
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}
// ANCHOR_END: consumer

// ANCHOR: receive
/// The next record, or `None` if none arrived within `wait`. `recv` alone
/// would wait forever: a group whose partitions are empty, or that has not
/// given this member any partition yet, simply delivers nothing.
pub async fn next_record(
    consumer: &StreamConsumer,
    wait: Duration,
) -> Result<Option<BorrowedMessage<'_>>> {
    match tokio::time::timeout(wait, consumer.recv()).await {
        Ok(message) => Ok(Some(message?)),
        Err(_elapsed) => Ok(None),
    }
}

/// The command a record carries: Kafka stores bytes, serde_json turns
/// them back into the value the producer serialized.
pub fn command(message: &BorrowedMessage<'_>) -> Result<MachineCommand> {
    let bytes = message.payload().unwrap_or_default();
    Ok(serde_json::from_slice(bytes)?)
}
// ANCHOR_END: receive

// ANCHOR: commit
/// Commit the position (last offset read + 1) of every partition assigned
/// to `consumer`, and wait for the group's coordinator to confirm it: that
/// is where the group resumes, whichever member reads next.
pub fn commit(consumer: &StreamConsumer) -> Result<()> {
    consumer.commit_consumer_state(CommitMode::Sync)?;
    Ok(())
}
// ANCHOR_END: commit

/// Write `photos` records of `bytes` bytes each to `topic`, one by one;
/// their offsets, in order. Each is awaited before the next is sent, so
/// that each one is a batch of its own.
pub async fn write_photos(
    config: &ClientConfig,
    topic: &str,
    photos: usize,
    bytes: usize,
) -> Result<Vec<i64>> {
    let producer: FutureProducer = config.clone().set("linger.ms", "0").create()?;
    let photo = vec![0u8; bytes];
    let mut written = Vec::new();
    for i in 1..=photos {
        let key = format!("part-{i:02}");
        let record = FutureRecord::to(topic).key(&key).payload(&photo);
        let delivery = producer.send(record, TIMEOUT).await.map_err(|(e, _)| e)?;
        written.push(delivery.offset);
    }
    Ok(written)
}
