//! Chapter 4's program: a consumer in a group that deserializes each record,
//! sets aside the records it cannot read on a dead-letter topic, commits
//! after the work, and a group's lag.
//!
//! Plain rdkafka, as an application would write it: every function takes
//! rdkafka types and plain values, and returns what it observed. The lesson
//! (`mod.rs` beside this file) calls these functions in the order the
//! chapter tells them and prints what they return.

use std::ops::ControlFlow;
use std::time::Duration;

use anyhow::Result;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::ch1_cluster::program::client_config;
use crate::workshop::MachineCommand;

// ANCHOR: deserialize
/// Bytes to a command. A bad payload is a fact about the record, not a
/// reason to stop the consumer: the caller decides what to do with it.
pub fn deserialize(payload: Option<&[u8]>) -> Result<MachineCommand, String> {
    let bytes = payload.ok_or("empty payload")?;
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}
// ANCHOR_END: deserialize

// ANCHOR: dead_letter
/// Set aside a record that is not a command on the dead-letter topic `dlt`,
/// with where it came from and why, and return where it was stored there.
pub async fn dead_letter(
    producer: &FutureProducer,
    dlt: &str,
    m: &BorrowedMessage<'_>,
    reason: &str,
) -> Result<(i32, i64)> {
    // Crashing would not help: after a restart the record is still there,
    // and the partition would be stuck behind it forever. Skipping it would
    // lose it. The headers say where it came from and why it is here.
    let partition = m.partition().to_string();
    let offset = m.offset().to_string();
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "dlt.error",
            value: Some(reason),
        })
        .insert(Header {
            key: "dlt.topic",
            value: Some(m.topic()),
        })
        .insert(Header {
            key: "dlt.partition",
            value: Some(partition.as_str()),
        })
        .insert(Header {
            key: "dlt.offset",
            value: Some(offset.as_str()),
        });
    let mut record = FutureRecord::<[u8], [u8]>::to(dlt).headers(headers);
    if let Some(key) = m.key() {
        record = record.key(key);
    }
    if let Some(bytes) = m.payload() {
        record = record.payload(bytes); // the original bytes, untouched
    }
    // Wait for the broker's acknowledgement (10 s at most): the caller
    // commits only after it, so a crash in between cannot lose the record.
    let delivered = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _record)| error)?;
    Ok((delivered.partition, delivered.offset))
}
// ANCHOR_END: dead_letter

// ANCHOR: consumer_config
/// The settings of a consumer in group `group`, on top of the settings
/// every client shares (chapter 1).
pub fn consumer_config(bootstrap: &str, group: &str, protocol: &str) -> ClientConfig {
    let mut config = client_config(bootstrap);
    config
        // Consumers with the same group.id form one group: they share the
        // topic's partitions, and the group's committed offsets.
        .set("group.id", group)
        // "consumer": KIP-848, where the broker computes the assignment
        // (Kafka 4.0+). "classic": the protocol every Kafka version has.
        .set("group.protocol", protocol)
        // Commit only when the program says so, after the work is done:
        // librdkafka's default commits every 5 s in the background, done or
        // not.
        .set("enable.auto.commit", "false")
        // Where to start in a partition the group has never committed:
        // "latest" (librdkafka's default, written out to be seen) reads only
        // the records written from now on; "earliest" starts at the oldest
        // record kept. A group that must not miss what was written before
        // it first started sets "earliest".
        .set("auto.offset.reset", "latest");
    config
}
// ANCHOR_END: consumer_config

// ANCHOR: commit
/// Mark `m` as processed: the committed offset is the NEXT record to read.
pub fn commit_next<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    m: &BorrowedMessage<'_>,
) -> Result<()> {
    let mut offsets = TopicPartitionList::new();
    offsets.add_partition_offset(m.topic(), m.partition(), Offset::Offset(m.offset() + 1))?;
    // Sync: wait until the broker has stored it. (`commit_message(m, ..)`
    // does the same +1 for you.)
    consumer.commit(&offsets, CommitMode::Sync)?;
    Ok(())
}
// ANCHOR_END: commit

// ANCHOR: consume
/// What the consumer did with a record, before it committed it.
#[derive(Debug, Clone)]
pub enum Handled {
    /// A command, handed to the work.
    Command(MachineCommand),
    /// Not a command: set aside on the dead-letter topic, at this partition
    /// and offset, for this reason.
    DeadLettered {
        reason: String,
        partition: i32,
        offset: i64,
    },
}

/// A consumer's loop: subscribe to `topic`, then for each record, in
/// order: deserialize it, do the work or dead-letter it, and commit.
/// `work` returns `Continue`, or `Break` to stop after this record; an
/// error stops the loop before the commit, as a crash would.
pub async fn consume<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    topic: &str,
    producer: &FutureProducer,
    dlt: &str,
    mut work: impl FnMut(&BorrowedMessage<'_>, &Handled) -> Result<ControlFlow<()>>,
) -> Result<()> {
    // Join the group: it assigns this member some of the topic's partitions.
    consumer.subscribe(&[topic])?;
    loop {
        // The next record of any of this member's partitions (each
        // partition in offset order). While it waits, the consumer also
        // takes part in the group's rebalances.
        let m = consumer.recv().await?;
        let flow = handle(consumer, producer, dlt, &m, &mut work).await?;
        if flow.is_break() {
            return Ok(());
        }
    }
}

/// One record: deserialize it, do the work or dead-letter it, and only
/// then commit it.
pub async fn handle<C: ConsumerContext + 'static>(
    consumer: &StreamConsumer<C>,
    producer: &FutureProducer,
    dlt: &str,
    m: &BorrowedMessage<'_>,
    work: &mut impl FnMut(&BorrowedMessage<'_>, &Handled) -> Result<ControlFlow<()>>,
) -> Result<ControlFlow<()>> {
    let handled = match deserialize(m.payload()) {
        Ok(command) => Handled::Command(command),
        Err(reason) => {
            let (partition, offset) = dead_letter(producer, dlt, m, &reason).await?;
            Handled::DeadLettered {
                reason,
                partition,
                offset,
            }
        }
    };
    // The work. If it fails (`?`), nothing is committed: after a restart,
    // the group reads this record again (at-least-once).
    let flow = work(m, &handled)?;
    // Only now, with the work done, record that the group is past it.
    commit_next(consumer, m)?;
    Ok(flow)
}
// ANCHOR_END: consume

// ANCHOR: lag
/// A group's lag on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub partition: i32,
    pub high_watermark: i64,
    /// `None`: the group has committed nothing for this partition.
    pub committed: Option<i64>,
    pub lag: i64,
}

/// The lag of a group on each of the `partitions` partitions of `topic`:
/// the high watermark minus the committed offset. `consumer` carries the
/// group's id to ask for its committed offsets, but never subscribes: it
/// is not a member, and changes nothing.
pub fn lag<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partitions: i32,
) -> Result<Vec<Lag>> {
    let timeout = Duration::from_secs(10); // for each answer
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition(topic, p);
    }
    // The group's committed offsets (an OffsetFetch request)...
    let committed = consumer.committed_offsets(list, timeout)?;
    let mut rows = Vec::new();
    for p in 0..partitions {
        // ...and each partition's high watermark (a ListOffsets request).
        // librdkafka asks with this client's isolation.level, read_committed
        // by default: the broker then answers with the last stable offset,
        // which is the high watermark unless a transaction is open.
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout)?;
        let committed = match committed.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(n)) => Some(n),
            _ => None, // the group never committed this partition
        };
        // Nothing committed yet: this counts every record still kept, what
        // waits for a group that starts at "earliest". A group on "latest"
        // (librdkafka's default) will read none of them, and
        // kafka-consumer-groups.sh shows no lag ("-") for such a partition.
        let lag = high - committed.unwrap_or(low);
        rows.push(Lag {
            partition: p,
            high_watermark: high,
            committed,
            lag,
        });
    }
    Ok(rows)
}
// ANCHOR_END: lag
