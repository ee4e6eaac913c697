//! Exercise 5.2 (chapter 5): how far behind is a group?
//!
//! Kafka keeps the records whether or not anyone reads them, so a group
//! that falls behind loses nothing at once: its records wait for it. But a
//! record waits only as long as retention allows, so a team watches how far
//! behind each group is: its lag, per partition.
//!
//! Write the body of `group_lag` below. For each partition 0, 1, ...,
//! `partitions - 1` of `topic`, it returns how many records the group still
//! has to read there:
//!
//! - where the group has a committed offset, the records from that offset
//!   up to the high watermark (the offset the next record written will get);
//! - where the group has never committed, every record still stored: from
//!   the low watermark (the oldest offset retention has kept) up to the high
//!   watermark.
//!
//! `probe` is a consumer that carries the group's `group.id` but is not a
//! member of it (it never subscribes): asking the cluster about a group
//! does not disturb its members. Two of its methods are all you need:
//!
//! - `probe.committed_offsets(wanted, TIMEOUT)`: the group's committed
//!   offset of each partition in `wanted` (a `TopicPartitionList`), as an
//!   `Offset`: `Offset::Offset(n)` where the group committed `n`, another
//!   variant (`Offset::Invalid`) where it never committed;
//! - `probe.fetch_watermarks(topic, partition, TIMEOUT)`: `(low, high)`.
//!
//! Check your work: `just exercise 5.2` (or `cargo run --release --
//! exercise 5.2`). Stuck? `just hint 5.2`.

// The imports below are those the solution uses. Until your code uses them, the next
// line keeps the compiler from warning about them: delete it when you are done.
#![allow(unused_imports)]

use std::time::Duration;

use anyhow::Result;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

/// How long to wait for any one answer of the cluster.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The group's lag on each partition of `topic`: element `p` of the result
/// is partition `p`'s, for `p` in `0..partitions`.
pub fn group_lag(probe: &BaseConsumer, topic: &str, partitions: i32) -> Result<Vec<i64>> {
    // TODO: ask the cluster for the group's committed offsets and for each
    // partition's watermarks, and compute the lag of each partition.
    let _ = (probe, topic, TIMEOUT);
    Ok(vec![0; partitions as usize])
}
