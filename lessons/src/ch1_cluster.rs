//! Lesson 1: brokers, a cluster, topics, partitions and replicas.
//!
//! Creates a topic with 3 partitions, each replicated on 3 brokers, shows the
//! cluster's view of it (leader, replicas and in-sync replicas of every
//! partition), then writes a few keyed records and shows where each one
//! landed. The point: a topic is not one queue but several independent,
//! ordered logs, and a record's key picks which log it goes to.
//!
//! Run it: `just lesson-1` or `cargo run --release -- lesson 1`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::kit::Ctx;
use crate::say;

/// The topic this lesson creates (its logical name).
pub const TOPIC: &str = "machine-commands";
pub const PARTITIONS: i32 = 3;
pub const REPLICATION_FACTOR: i32 = 3;

/// The records written: (key, value). The key is a production lot; every
/// command for the lot is one machine-tool step, in the order it must run.
pub const RECORDS: &[(&str, &str)] = &[
    ("lot-A", "M1 mill"),
    ("lot-B", "M1 mill"),
    ("lot-A", "M2 drill"),
    ("lot-C", "M1 mill"),
    ("lot-D", "M1 mill"),
    ("lot-B", "M2 drill"),
    ("lot-A", "M3 polish"),
    ("lot-C", "M2 drill"),
    ("lot-D", "M2 drill"),
    ("lot-B", "M3 polish"),
    ("lot-C", "M3 polish"),
    ("lot-D", "M3 polish"),
];

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    /// The topic's actual name on this cluster.
    pub topic: String,
    pub brokers: Vec<i32>,
    pub partitions: Vec<PartitionInfo>,
    /// One per record of [`RECORDS`], in the order they were sent.
    pub deliveries: Vec<Delivery>,
    /// Per partition: (low, high) watermarks after producing.
    pub watermarks: BTreeMap<i32, (i64, i64)>,
}

#[derive(Debug, Clone)]
pub struct PartitionInfo {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub key: String,
    pub value: String,
    pub partition: i32,
    pub offset: i64,
}

pub async fn run(ctx: &Ctx) -> Result<Report> {
    ctx.section("The cluster");
    // ANCHOR: create_topic
    // A topic is created with a partition count and a replication factor:
    // 3 partitions, and 3 copies (replicas) of each, on 3 different brokers.
    let topic = ctx
        .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    // ANCHOR_END: create_topic

    let producer: FutureProducer = ctx
        .client_config()
        // Send each record as soon as it is produced (no batching delay):
        // this lesson awaits every record before sending the next anyway.
        .set("linger.ms", "0")
        .create()
        .context("creating the producer")?;

    // ANCHOR: metadata
    // Any broker can answer a metadata request: it describes the whole
    // cluster, so clients know which broker leads each partition.
    let metadata = producer
        .client()
        .fetch_metadata(Some(&topic), Timeout::After(Duration::from_secs(5)))?;
    let mut brokers: Vec<i32> = metadata.brokers().iter().map(|b| b.id()).collect();
    brokers.sort();
    let mut partitions: Vec<PartitionInfo> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|p| PartitionInfo {
            id: p.id(),
            leader: p.leader(),
            replicas: sorted(p.replicas()),
            isr: sorted(p.isr()),
        })
        .collect();
    partitions.sort_by_key(|p| p.id);
    // ANCHOR_END: metadata

    let ids: Vec<String> = brokers.iter().map(|b| format!("broker {b}")).collect();
    say!(
        ctx,
        "The cluster has {} brokers: {}.",
        brokers.len(),
        ids.join(", ")
    );
    say!(ctx, "Created topic \"{TOPIC}\": {PARTITIONS} partitions, replication factor {REPLICATION_FACTOR}.");
    say!(ctx, "");
    say!(ctx, "partition  leader  replicas   in-sync replicas (ISR)");
    for p in &partitions {
        say!(
            ctx,
            "{:>9}  {:>6}  {:<9}  {}",
            p.id,
            p.leader,
            list(&p.replicas),
            list(&p.isr)
        );
    }
    say!(ctx, "");
    say!(
        ctx,
        "Each partition has {REPLICATION_FACTOR} replicas (copies of its log), one per broker."
    );
    say!(
        ctx,
        "One replica is the leader: producers write to it and consumers read from it."
    );
    say!(
        ctx,
        "The others are followers that copy the leader. The leaders are spread over"
    );
    say!(
        ctx,
        "the brokers, so every broker takes a share of the work."
    );

    ctx.section("Writing keyed records");
    say!(
        ctx,
        "Each record has a key (the lot) and a value (a machine-tool command)."
    );
    say!(ctx, "");
    say!(ctx, "key    value      -> partition  offset");
    let mut deliveries = Vec::new();
    for (key, value) in RECORDS {
        // ANCHOR: produce
        // No partition is given: the producer hashes the key to choose one,
        // so every record with the same key goes to the same partition.
        let record = FutureRecord::to(&topic).key(*key).payload(*value);
        let delivered = producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .with_context(|| format!("producing {key}={value}"))?;
        // The delivery report says where the broker stored the record.
        let (partition, offset) = (delivered.partition, delivered.offset);
        // ANCHOR_END: produce
        say!(ctx, "{key:<6} {value:<10} -> {partition:>9}  {offset:>6}");
        deliveries.push(Delivery {
            key: key.to_string(),
            value: value.to_string(),
            partition,
            offset,
        });
    }

    ctx.section("One topic, three independent logs");
    let mut watermarks = BTreeMap::new();
    for p in &partitions {
        // ANCHOR: watermarks
        // The low watermark is the first offset still stored. The high
        // watermark is one past the last record copied to every in-sync
        // replica: consumers read up to there. Here nothing is left to copy,
        // so it is also the offset the next record will get.
        let (low, high) =
            producer
                .client()
                .fetch_watermarks(&topic, p.id, Duration::from_secs(5))?;
        // ANCHOR_END: watermarks
        watermarks.insert(p.id, (low, high));
        say!(
            ctx,
            "partition {} (low watermark {low}, high watermark {high})",
            p.id
        );
        for d in deliveries.iter().filter(|d| d.partition == p.id) {
            say!(ctx, "  offset {}  {:<6} {}", d.offset, d.key, d.value);
        }
    }
    say!(ctx, "");
    // Keys are hashed onto partitions: there are usually more keys than
    // partitions, so several keys share one. Say which, from what happened.
    for p in &partitions {
        let mut keys: Vec<&str> = deliveries
            .iter()
            .filter(|d| d.partition == p.id)
            .map(|d| d.key.as_str())
            .collect();
        keys.dedup();
        keys.sort();
        keys.dedup();
        if keys.len() > 1 {
            say!(
                ctx,
                "{} share partition {}: a partition holds many keys, a key has one partition.",
                keys.join(" and "),
                p.id
            );
        }
    }
    say!(
        ctx,
        "Offsets count from 0 in each partition separately: an offset means nothing"
    );
    say!(
        ctx,
        "without its partition. Every record of a lot is in one partition, in the"
    );
    say!(
        ctx,
        "order it was written. Records of different partitions have no order at all."
    );

    Ok(Report {
        topic,
        brokers,
        partitions,
        deliveries,
        watermarks,
    })
}

fn sorted(ids: &[i32]) -> Vec<i32> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

fn list(ids: &[i32]) -> String {
    let parts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(","))
}
