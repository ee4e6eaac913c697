//! Exercise 1.3 (chapter 1): write keyed records, then count each
//! partition's records.
//!
//! The workshop's planner writes a list of records, each a (key, value)
//! pair, to `topic`, and then wants to know how the topic's records are
//! spread over its partitions: how many each partition stores. Other
//! programs have written to the topic before, and their records count too.
//!
//! Write `write_and_count`, from nothing:
//!
//! 1. write every record of `records`, in order, with its key (so that the
//!    records of a key land in one partition, in order), and return only
//!    once the cluster has stored them all;
//! 2. then return, for every partition of the topic (those with no record
//!    too), how many records it stores.
//!
//! Chapter 1's program (`crate::ch1_cluster::program`) has functions for
//! each part: `producer`, `send`, `describe`, `watermarks`. The checks call
//! your function on a 3-broker cluster, with a topic of 5 partitions that
//! already holds records, then read the topic back.
//!
//! Write the body below, then check your work: `just exercise 1.3`
//! (or `cargo run --release -- exercise 1.3`). Stuck? `just hint 1.3`.

use std::collections::BTreeMap;

use anyhow::Result;

// Chapter 1's functions, and rdkafka's `Producer` trait, which gives a
// producer its `client()` (the starter does not use them yet: the `allow`).
#[allow(unused_imports)]
use crate::ch1_cluster::program::{describe, producer, send, watermarks};
#[allow(unused_imports)]
use rdkafka::producer::Producer as _;

/// Write `records` (key, value) to `topic` on the cluster at `bootstrap`,
/// then return how many records each partition of `topic` stores, by
/// partition id.
pub async fn write_and_count(
    bootstrap: &str,
    topic: &str,
    records: &[(String, String)],
) -> Result<BTreeMap<i32, i64>> {
    //@ starter: // TODO: write the records, each with its key, and wait until each is stored.
    //@ starter: // TODO: then count the records of every partition of the topic.
    //@ starter: let _ = (bootstrap, topic, records);
    //@ starter: Ok(BTreeMap::new())
    //@ solution-begin
    let producer = producer(bootstrap)?;
    // Awaiting each delivery report before the next send: when the loop
    // ends, the cluster has stored every record, in the order given.
    for (key, value) in records {
        send(&producer, topic, key, value).await?;
    }
    // The metadata lists the topic's partitions; each partition's
    // watermarks say how many records it stores: from the low watermark
    // (the first offset still there) up to the high one (the next offset).
    let (_brokers, partitions) = describe(producer.client(), topic)?;
    let mut counts = BTreeMap::new();
    for partition in partitions {
        let (low, high) = watermarks(producer.client(), topic, partition.id)?;
        counts.insert(partition.id, high - low);
    }
    Ok(counts)
    //@ solution-end
}
