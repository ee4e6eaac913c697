//! Exercise 1.2 (chapter 1): which broker leads which partitions.
//!
//! Producers write a partition's records to its leader, and consumers read
//! them there: a broker that leads many partitions does much of the work,
//! and a broker that leads none does little. Before the workshop goes live,
//! the operators want to see how the leaders of a topic are spread over the
//! brokers.
//!
//! Write the body of `leaders_by_broker`: from the cluster's metadata (one
//! request, the one every client makes), return for each broker of the
//! cluster the partitions of `topic` it leads, in increasing order. A broker
//! that leads none of them is in the answer too, with an empty list.
//!
//! The checks create two topics on a 3-broker cluster, move some leaders
//! (the cluster chooses them, and moves them when a broker fails), and
//! compare your answer with what the metadata says.
//!
//! Write the body below, then check your work: `just exercise 1.2`
//! (or `cargo run --release -- exercise 1.2`). Stuck? `just hint 1.2`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// For each broker id of the cluster, the ids of the partitions of `topic`
/// it leads, sorted. `client` is a client with no group, used here only to
/// ask for metadata (`client.fetch_metadata(...)`: see chapter 1's
/// `describe`).
pub fn leaders_by_broker(client: &BaseConsumer, topic: &str) -> Result<BTreeMap<i32, Vec<i32>>> {
    let timeout = Duration::from_secs(5);
    //@ starter: // TODO: ask the cluster for its metadata, list every broker (with an empty
    //@ starter: // list), and put each partition of `topic` under the broker that leads it.
    //@ starter: let _ = (client, topic, timeout);
    //@ starter: Ok(BTreeMap::new())
    //@ solution-begin
    // Any broker answers a metadata request for the whole cluster: its
    // brokers, and for the topics asked for, each partition's leader,
    // replicas and in-sync replicas.
    let metadata = client.fetch_metadata(Some(topic), timeout)?;
    // Every broker, even one that leads nothing.
    let mut leaders: BTreeMap<i32, Vec<i32>> = metadata
        .brokers()
        .iter()
        .map(|b| (b.id(), Vec::new()))
        .collect();
    // Only the topic asked for: a metadata response may describe others.
    for t in metadata.topics().iter().filter(|t| t.name() == topic) {
        for p in t.partitions() {
            leaders.entry(p.leader()).or_default().push(p.id());
        }
    }
    // The response lists partitions in no promised order.
    for partitions in leaders.values_mut() {
        partitions.sort();
    }
    Ok(leaders)
    //@ solution-end
}
