//! Exercise 5.3 (chapter 5): a consumer that starts late reads everything
//! that waited.
//!
//! All night, the workshop's producers wrote commands to `machine-commands`
//! (three partitions), then stopped. Nobody was reading: Kafka kept the
//! records for whoever comes. In the morning the report application starts
//! for the first time, in a group of its own that has never run.
//!
//! Write `read_what_waited`, from scratch. It makes a consumer from
//! `config` (which already holds `bootstrap.servers`, the group's `group.id`,
//! and `enable.auto.commit=false`), subscribes to `topic`, and reads
//! everything the topic holds. It returns the commands it read, partition
//! by partition, each partition's commands in the order they were written;
//! before it returns, it commits what it read, so that the group's next run
//! starts after it.
//!
//! It must return by itself once it has read everything: nothing says when
//! the producers will write again. The checks call it once after the night's
//! records are written, then once more after another lot is written: the
//! second call must return only that lot.
//!
//! Three things to find out, all in chapter 5 and the lessons' programs:
//! where a group with no committed offset starts reading; how a consumer
//! learns that it has reached the end of a partition (a setting makes
//! `poll` say so, as an error `KafkaError::PartitionEOF(partition)`); and
//! how many partitions the topic has (`fetch_metadata`).
//!
//! Check your work: `just exercise 5.3` (or `cargo run --release --
//! exercise 5.3`). Stuck? `just hint 5.3`.

//@ starter: // The imports below are those the solution uses. Until your code uses them, the next
//@ starter: // line keeps the compiler from warning about them: delete it when you are done.
//@ starter: #![allow(unused_imports)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Result;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::Message;

use crate::workshop::MachineCommand;

/// How long to wait for any one answer of the cluster.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Read every command `topic` holds, as a consumer of the group `config`
/// names; commit; return them by partition, each in its partition's order.
pub fn read_what_waited(
    config: &ClientConfig,
    topic: &str,
) -> Result<BTreeMap<i32, Vec<MachineCommand>>> {
    //@ starter: // TODO: write the consumer: make it, subscribe, read each partition to its end,
    //@ starter: // commit, and return what it read.
    //@ starter: let _ = (config, topic, TIMEOUT);
    //@ starter: Ok(BTreeMap::new())
    //@ solution-begin
    let consumer: BaseConsumer = config
        .clone()
        // The group is new: no committed offset. Start at the oldest record
        // still stored; the default, "latest", would skip the whole night.
        .set("auto.offset.reset", "earliest")
        // Report the end of each partition, so that the loop can stop.
        .set("enable.partition.eof", "true")
        .create()?;
    consumer.subscribe(&[topic])?;

    // How many partitions to read to their end.
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len());

    let mut read: BTreeMap<i32, Vec<MachineCommand>> = BTreeMap::new();
    let mut at_end = BTreeSet::new();
    while at_end.len() < partitions {
        match consumer.poll(Duration::from_millis(100)) {
            // Nothing yet (e.g. the group is still handing out partitions).
            None => {}
            Some(Ok(record)) => {
                // Kafka stores bytes: turn them back into the command.
                let cmd: MachineCommand =
                    serde_json::from_slice(record.payload().unwrap_or_default())?;
                // One partition's records arrive in the order of their
                // offsets: pushing keeps that order.
                read.entry(record.partition()).or_default().push(cmd);
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => return Err(e.into()),
        }
    }
    // What was read is done: commit the position of every partition, so the
    // group's next run starts after it. (With nothing read there is nothing
    // to commit, and librdkafka would answer "no offset".)
    if !read.is_empty() {
        consumer.commit_consumer_state(CommitMode::Sync)?;
    }
    Ok(read)
    //@ solution-end
}
