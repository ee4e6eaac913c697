//! Lesson 1: brokers, a cluster, topics, partitions and replicas.
//!
//! Creates a topic with 3 partitions, each replicated on 3 brokers, shows the
//! cluster's view of it (leader, replicas and in-sync replicas of every
//! partition), then writes a few keyed records and shows where each one
//! landed. The point: a topic is not one queue but several independent,
//! ordered logs, and a record's key picks which log it goes to.
//!
//! Run it: `just lesson-1` or `cargo run --release -- lesson 1`.
//!
//! This file is the lesson's stage: it runs the scenario section by
//! section, narrates in the reader's language and records the timeline.
//! The Kafka code the chapter shows is in [`program`].

pub mod program;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use rdkafka::producer::{FutureProducer, Producer};

use crate::kit::{brokers_named, in_words, Event, Stage};
pub use program::PartitionInfo;

use crate::{say, tr, tr_static, trn};

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
pub struct Delivery {
    pub key: String,
    pub value: String,
    pub partition: i32,
    pub offset: i64,
}

pub async fn run(ctx: &Stage) -> Result<Report> {
    // 3 partitions, and 3 copies (replicas) of each, on 3 different
    // brokers: with the admin API on a real cluster (`program::create_topic`),
    // through the mock's controls on the embedded one, which has no
    // CreateTopics (see `Cluster::create_topic`).
    let topic = ctx
        .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    // The topic exists before any client connects.
    let producer = program::producer(ctx.bootstrap()).context(tr!("creating the producer"))?;

    let (brokers, partitions) = the_cluster(ctx, &producer, &topic)?;
    let deliveries = write_keyed_records(ctx, &producer, &topic).await?;
    let watermarks = independent_logs(ctx, &producer, &topic, &partitions, &deliveries)?;
    Ok(Report {
        topic,
        brokers,
        partitions,
        deliveries,
        watermarks,
    })
}

/// Section "The cluster": ask the cluster for its brokers and for the
/// topic's partitions, and say what that metadata shows.
fn the_cluster(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
) -> Result<(Vec<i32>, Vec<PartitionInfo>)> {
    ctx.section(&tr!("The cluster"));
    let (brokers, partitions) = program::describe(producer.client(), topic)
        .with_context(|| tr!("asking the cluster for {TOPIC}'s metadata"))?;
    ctx.record(Event::Cluster {
        brokers: brokers.clone(),
    });
    ctx.record_topic(topic, &partitions);

    let ids: Vec<String> = brokers.iter().map(|b| format!("broker {b}")).collect();
    let n = brokers.len();
    ctx.say(trn!(n;
        "The cluster has {n} broker: {}.",
        "The cluster has {n} brokers: {}.",
        ids.join(", ")
    ));
    let n = partitions.len();
    ctx.say(trn!(n;
        "Created topic \"{TOPIC}\": {n} partition, replication factor {}.",
        "Created topic \"{TOPIC}\": {n} partitions, replication factor {}.",
        replication_factor(&partitions)
    ));
    say!(ctx, "");
    // The replicas column is as wide as its widest list: broker ids can be long.
    let w = partitions
        .iter()
        .map(|p| list(&p.replicas).len())
        .fold(9, usize::max);
    say!(
        ctx,
        "partition  leader  {:<w$}  in-sync replicas (ISR)",
        tr_static!("replicas")
    );
    for p in &partitions {
        let (replicas, isr) = (list(&p.replicas), list(&p.isr));
        say!(ctx, "{:>9}  {:>6}  {replicas:<w$}  {isr}", p.id, p.leader);
    }
    say!(ctx, "");
    describe_replicas(ctx, &brokers, &partitions);
    describe_leaders(ctx, &brokers, &partitions);
    Ok((brokers, partitions))
}

/// Where the replicas of each partition are, as the metadata says, and
/// what that means for a reader new to Kafka.
fn describe_replicas(ctx: &Stage, brokers: &[i32], partitions: &[PartitionInfo]) {
    let rf = replication_factor(partitions);
    // Replicas on distinct brokers are distinct copies; two "replicas" on
    // one broker are one copy as far as losing that broker goes.
    let apart = partitions
        .iter()
        .all(|p| distinct(&p.replicas).len() == p.replicas.len());
    if apart && rf > 1 {
        let placement = if rf == brokers.len() {
            tr_static!("one per broker")
        } else {
            tr_static!("each on a different broker")
        };
        say!(
            ctx,
            "Each partition has {rf} replicas (copies of its log), {placement}."
        );
        say!(
            ctx,
            "One replica is the leader: producers write to it and consumers read from it."
        );
        if ctx.is_embedded() {
            // The mock cluster keeps one log per partition: its followers
            // exist only in the metadata (as lesson 3 says too).
            say!(
                ctx,
                "The others are followers. On a real cluster they copy the leader; on the\n\
                 embedded cluster they are names in the metadata, without logs."
            );
        } else {
            say!(ctx, "The others are followers that copy the leader.");
        }
        return;
    }
    let hosts: BTreeSet<i32> = partitions.iter().flat_map(|p| p.replicas.clone()).collect();
    let on = if hosts.len() == 1 {
        tr!("all of them on {}", brokers_named(&hosts))
    } else {
        tr!("sharing brokers ({})", brokers_named(&hosts))
    };
    ctx.say(trn!(rf;
        "Each partition lists {rf} replica (a copy of its log), {on}:",
        "Each partition lists {rf} replicas (copies of its log), {on}:"
    ));
    say!(
        ctx,
        "replicas on one broker fail together with it, no safer than a single copy. The\n\
         leader replica is the one producers write to and consumers read from; on a\n\
         cluster of several brokers, followers on the other brokers copy it. On the\n\
         course's 3-broker cluster each partition has 3 replicas, one per broker."
    );
}

/// Which brokers lead the partitions: a leader does the work of its
/// partitions (every write and, by default, every read).
fn describe_leaders(ctx: &Stage, brokers: &[i32], partitions: &[PartitionInfo]) {
    let leaders: BTreeSet<i32> = partitions.iter().map(|p| p.leader).collect();
    let idle: BTreeSet<i32> = distinct(brokers).difference(&leaders).copied().collect();
    if let [only] = brokers {
        say!(
            ctx,
            "Broker {only} leads every partition: alone, it does all the work."
        );
        say!(
            ctx,
            "On the course's 3-broker cluster the leaders are spread over the brokers, so\n\
             that every broker takes a share of the work."
        );
    } else if idle.is_empty() {
        say!(
            ctx,
            "The leaders are spread over the brokers: every broker takes a share of the work."
        );
    } else {
        let one_idle = idle.len() == 1;
        let (leaders, idle) = (brokers_named(&leaders), brokers_named(&idle));
        say!(
            ctx,
            "The leaders are not spread over the brokers: they are on {leaders} only,"
        );
        if one_idle {
            say!(ctx, "and {idle} leads no partition of this topic.");
        } else {
            say!(ctx, "and {idle} lead no partition of this topic.");
        }
    }
    if ctx.is_embedded() {
        // `Stage::create_topic` placed the leaders: say so, rather than let a
        // reader believe the embedded cluster chose them.
        say!(
            ctx,
            "(On the embedded cluster, the course's kit placed the leaders round-robin so\n\
             that every run prints the same; by itself, the cluster picks them at random.)"
        );
    }
}

/// Section "Writing keyed records": send every record of [`RECORDS`], one
/// at a time, and print where the broker stored it.
async fn write_keyed_records(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
) -> Result<Vec<Delivery>> {
    ctx.section(&tr!("Writing keyed records"));
    say!(
        ctx,
        "Each record has a key (the lot) and a value (a machine-tool command)."
    );
    say!(ctx, "");
    say!(ctx, "key    value      -> partition  offset");
    let mut deliveries = Vec::new();
    for (key, value) in RECORDS {
        let (partition, offset) = program::send(producer, topic, key, value)
            .await
            .with_context(|| tr!("producing {key}={value}"))?;
        ctx.record(Event::Delivered {
            topic: TOPIC.to_string(),
            partition,
            offset,
            key: Some(key.to_string()),
            value: Some(value.to_string()),
            producer: None,
        });
        say!(ctx, "{key:<6} {value:<10} -> {partition:>9}  {offset:>6}");
        deliveries.push(Delivery {
            key: key.to_string(),
            value: value.to_string(),
            partition,
            offset,
        });
    }
    Ok(deliveries)
}

/// Section "One topic, N independent logs": each partition's watermarks and
/// records, then what the deliveries showed about keys and offsets.
fn independent_logs(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
    partitions: &[PartitionInfo],
    deliveries: &[Delivery],
) -> Result<BTreeMap<i32, (i64, i64)>> {
    let logs = match partitions.len() {
        1 => tr!("one independent log"),
        n => tr!("{} independent logs", in_words(n)),
    };
    ctx.section(&tr!("One topic, {logs}"));
    let mut watermarks = BTreeMap::new();
    for p in partitions {
        let (low, high) = program::watermarks(producer.client(), topic, p.id)
            .with_context(|| tr!("asking partition {} for its watermarks", p.id))?;
        ctx.record(Event::Watermarks {
            topic: TOPIC.to_string(),
            partition: p.id,
            low,
            high,
        });
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
    describe_keys_and_offsets(ctx, partitions, deliveries);
    Ok(watermarks)
}

/// What the delivery reports showed: which keys share a partition, whether
/// each key kept to one partition, and how offsets are counted. Every
/// sentence is checked against the deliveries before it is printed.
fn describe_keys_and_offsets(ctx: &Stage, partitions: &[PartitionInfo], deliveries: &[Delivery]) {
    // A key's partitions, and its offsets in send order.
    let mut by_key: BTreeMap<&str, (BTreeSet<i32>, Vec<i64>)> = BTreeMap::new();
    for d in deliveries {
        let (ps, offsets) = by_key.entry(d.key.as_str()).or_default();
        ps.insert(d.partition);
        offsets.push(d.offset);
    }
    let one_partition_each = by_key.values().all(|(ps, _)| ps.len() == 1);
    // Keys are hashed onto partitions: there are usually more keys than
    // partitions, so several keys share one. Say which, from what happened.
    for p in partitions {
        let keys: Vec<&str> = by_key
            .iter()
            .filter(|(_, (ps, _))| ps.contains(&p.id))
            .map(|(k, _)| *k)
            .collect();
        if keys.len() > 1 {
            let one = if one_partition_each {
                tr_static!(", a key has one partition")
            } else {
                ""
            };
            say!(
                ctx,
                "{} share partition {}: a partition holds many keys{one}.",
                keys.join(tr_static!(" and ")),
                p.id
            );
        }
    }
    for (key, (ps, _)) in by_key.iter().filter(|(_, (ps, _))| ps.len() > 1) {
        let ids: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
        say!(
            ctx,
            "{key} went to partitions {} (unexpected!).",
            ids.join(tr_static!(" and "))
        );
    }
    let from_zero = partitions.iter().all(|p| {
        let offsets: Vec<i64> = deliveries
            .iter()
            .filter(|d| d.partition == p.id)
            .map(|d| d.offset)
            .collect();
        offsets == (0..offsets.len() as i64).collect::<Vec<_>>()
    });
    let in_order = one_partition_each
        && by_key
            .values()
            .all(|(_, offsets)| offsets.windows(2).all(|w| w[0] < w[1]));
    if from_zero {
        say!(
            ctx,
            "Offsets count from 0 in each partition separately: an offset means nothing"
        );
    } else {
        say!(
            ctx,
            "Offsets are counted in each partition separately: an offset means nothing"
        );
    }
    if in_order {
        say!(
            ctx,
            "without its partition. Every record of a lot is in one partition, in the\n\
             order it was written. Records of different partitions have no order at all."
        );
    } else {
        say!(
            ctx,
            "without its partition. Records of different partitions have no order at all."
        );
    }
}

/// The replication factor the metadata shows: the number of replicas of the
/// topic's partitions (the largest, should they differ).
fn replication_factor(partitions: &[PartitionInfo]) -> usize {
    partitions
        .iter()
        .map(|p| p.replicas.len())
        .max()
        .unwrap_or(0)
}

fn distinct(ids: &[i32]) -> BTreeSet<i32> {
    ids.iter().copied().collect()
}

fn list(ids: &[i32]) -> String {
    let parts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(","))
}
