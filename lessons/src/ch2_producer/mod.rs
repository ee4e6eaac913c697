//! Lesson 2: the producer, from a typed Rust event to a record in a partition.
//!
//! A producer has two jobs before anything reaches a broker: turn the
//! application's value into bytes (serialization), and choose the partition
//! the record goes to (the partitioner, driven by the record's key). This
//! lesson shows both, with the workshop's `MachineCommand` events:
//!
//! 1. one event serialized to JSON, byte by byte;
//! 2. keyed records: every command of a lot lands in the lot's partition, and
//!    each delivery report says where (partition, offset);
//! 3. records without a key: spread over partitions at random, in "sticky"
//!    runs, with nothing to keep them in order;
//! 4. the same keys under librdkafka's default partitioner and under the Java
//!    client's (murmur2), and on a topic with one more partition: a key picks
//!    a partition only as long as the partitioner and the partition count
//!    stay the same.
//!
//! Run it: `just lesson-2` or `cargo run --release -- lesson 2`.
//!
//! This file is the lesson's stage: it runs the scenario section by
//! section, narrates in the reader's language and records the timeline.
//! The Kafka code the chapter shows is in [`program`].

pub mod program;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use rdkafka::producer::{DeliveryFuture, FutureProducer, Producer};

use crate::ch1_cluster::program::describe;
use crate::kit::{Event, Stage};
use crate::workshop::MachineCommand;
use crate::{say, tr, tr_static};

/// The topic of keyed commands (logical name).
pub const TOPIC: &str = "machine-commands";
/// Where the keyless records go, so they do not mix with the lots' commands.
pub const KEYLESS_TOPIC: &str = "keyless-commands";
/// The topics of the partitioner comparison: one with 3 partitions, one with 4.
pub const ROUTING_TOPIC: &str = "routing";
pub const ROUTING_TOPIC_4: &str = "routing-4";
pub const PARTITIONS: i32 = 3;
pub const REPLICATION_FACTOR: i32 = 3;

/// The lots whose commands are written with their lot as key.
pub const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// How many keyless records each keyless experiment writes.
pub const STICKY_RECORDS: usize = 12;
pub const SPREAD_RECORDS: usize = 60;
/// The keys whose partitions the two partitioners are asked for.
pub const COMPARED_KEYS: [&str; 8] = [
    "lot-A", "lot-B", "lot-C", "lot-D", "lot-E", "lot-F", "lot-G", "lot-H",
];

/// The sticky windows of the two keyless runs: 60 s, then none.
const LONG_STICKY: Duration = Duration::from_secs(60);
const NO_STICKY: Duration = Duration::ZERO;

/// How long the lesson waits for a keyless record's delivery report before
/// it fails (`message.timeout.ms`, 10 s, bounds it already: this is a
/// second guard, so that the lesson never hangs).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The producers, as the timeline names them: by their partitioner.
const DEFAULT_PRODUCER: &str = "consistent_random";
const JAVA_LIKE_PRODUCER: &str = "murmur2_random";

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    /// The actual name of [`TOPIC`] on this cluster.
    pub topic: String,
    /// The JSON bytes of the event shown in the first section.
    pub example_json: Vec<u8>,
    /// Every keyed command, in send order, with its delivery report.
    pub keyed: Vec<Sent>,
    /// The events the lesson read back from the topic, by (partition, offset).
    pub read_back: BTreeMap<(i32, i64), MachineCommand>,
    /// Partitions used by keyless records with a 60 s sticky window.
    pub sticky_partitions: BTreeSet<i32>,
    /// Keyless records per partition without stickiness.
    pub spread: BTreeMap<i32, usize>,
    /// One per key of [`COMPARED_KEYS`].
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub command: MachineCommand,
    pub partition: i32,
    pub offset: i64,
}

/// Where one key went: under each partitioner, and on a 4-partition topic.
#[derive(Debug, Clone)]
pub struct Route {
    pub key: String,
    /// librdkafka's default partitioner (CRC32), 3 partitions.
    pub consistent_random: i32,
    /// `partitioner=murmur2_random`, the Java client's hash, 3 partitions.
    pub murmur2_random: i32,
    /// The default partitioner again, on a topic with 4 partitions.
    pub consistent_random_4: i32,
}

pub async fn run(ctx: &Stage) -> Result<Report> {
    let topics = create_topics(ctx).await?;
    let example_json = event_to_bytes(ctx)?;
    // The default settings: librdkafka's `consistent_random` partitioner.
    let producer = program::producer(ctx.bootstrap()).context(tr!("creating the producer"))?;
    let (keyed, read_back) = same_key_same_partition(ctx, &producer, &topics.commands).await?;
    let (sticky_partitions, spread) = no_key(ctx, &producer, &topics.keyless).await?;
    let routes = two_partitioners(ctx, &producer, &topics).await?;
    Ok(Report {
        topic: topics.commands,
        example_json,
        keyed,
        read_back,
        sticky_partitions,
        spread,
        routes,
    })
}

/// The actual names of the lesson's topics on this cluster.
struct Topics {
    commands: String,
    keyless: String,
    routing: String,
    routing_4: String,
}

/// Every topic the lesson uses, created before any client connects (see
/// the kit's `create_topic` for why that matters on the embedded cluster).
async fn create_topics(ctx: &Stage) -> Result<Topics> {
    Ok(Topics {
        commands: ctx
            .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
            .await?,
        keyless: ctx
            .create_topic(KEYLESS_TOPIC, PARTITIONS, REPLICATION_FACTOR)
            .await?,
        routing: ctx
            .create_topic(ROUTING_TOPIC, PARTITIONS, REPLICATION_FACTOR)
            .await?,
        routing_4: ctx
            .create_topic(ROUTING_TOPIC_4, PARTITIONS + 1, REPLICATION_FACTOR)
            .await?,
    })
}

/// Section "A typed event becomes bytes": serialize one event and show the
/// bytes a broker would store. Returns the value's bytes.
fn event_to_bytes(ctx: &Stage) -> Result<Vec<u8>> {
    ctx.section(&tr!("A typed event becomes bytes"));
    let event = MachineCommand::step("lot-A", 1);
    let (key, value) = program::serialize(&event).context(tr!("serializing the event"))?;
    let n = value.len();
    say!(ctx, "The event, as a Rust value:");
    say!(ctx, "  {event:?}");
    say!(ctx, "Its value, serialized to JSON ({n} bytes):");
    say!(ctx, "  {}", String::from_utf8_lossy(&value));
    say!(
        ctx,
        "What the broker stores, byte by byte (first 16 of {n}):"
    );
    say!(ctx, "  {} ...", hex(&value[..16.min(n)]));
    let lot = String::from_utf8_lossy(&key);
    say!(ctx, "Its key, the lot ({} bytes): {lot}", key.len());
    say!(
        ctx,
        "Kafka never parses these bytes: only producers and consumers know they are JSON."
    );
    Ok(value)
}

/// Section "Same key, same partition": send every lot's commands, keyed by
/// lot, print each delivery report, then read the records back.
async fn same_key_same_partition(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
) -> Result<(Vec<Sent>, BTreeMap<(i32, i64), MachineCommand>)> {
    ctx.section(&tr!("Same key, same partition: the delivery reports"));
    learn_topic(ctx, producer, topic, true)?;
    // Step by step: every lot's step 1, then every lot's step 2, ... so the
    // lots' records are interleaved, as they would be in a busy workshop.
    let commands: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| LOTS.iter().map(move |lot| MachineCommand::step(lot, step)))
        .collect();
    say!(
        ctx,
        "{} commands, keyed by lot, sent one after the other:",
        commands.len()
    );
    say!(ctx, "");
    say!(ctx, "command           key    -> partition  offset");
    let mut keyed = Vec::new();
    for command in &commands {
        let (partition, offset) = program::send(producer, topic, command)
            .await
            .with_context(|| tr!("producing {}", command.label()))?;
        delivered(ctx, TOPIC, DEFAULT_PRODUCER, command, partition, offset);
        let (label, lot) = (command.label(), &command.lot);
        say!(ctx, "{label:<17} {lot:<6} -> {partition:>9}  {offset:>6}");
        keyed.push(Sent {
            command: command.clone(),
            partition,
            offset,
        });
    }
    say!(ctx, "");
    describe_lots(ctx, &keyed);
    // Read the records back and deserialize them, as a consumer would.
    let read_back = read_back(ctx, topic, keyed.len()).await?;
    describe_read_back(ctx, &keyed, &read_back);
    Ok((keyed, read_back))
}

/// Where each lot's commands went, and whether each partition's offsets
/// run 0, 1, 2... in send order: from the delivery reports.
fn describe_lots(ctx: &Stage, keyed: &[Sent]) {
    for lot in LOTS {
        let sent: Vec<&Sent> = keyed.iter().filter(|s| s.command.lot == lot).collect();
        let partitions: BTreeSet<i32> = sent.iter().map(|s| s.partition).collect();
        let offsets: Vec<String> = sent.iter().map(|s| s.offset.to_string()).collect();
        let ordered = partitions.len() == 1 && sent.windows(2).all(|w| w[0].offset < w[1].offset);
        say!(
            ctx,
            "{lot}: {} commands, {}, offsets {}{}.",
            sent.len(),
            where_(&partitions),
            offsets.join(", "),
            if ordered {
                tr_static!(" in send order")
            } else {
                tr_static!(" (NOT in send order!)")
            }
        );
    }
    let consecutive = (0..PARTITIONS).all(|p| {
        let offsets: Vec<i64> = keyed
            .iter()
            .filter(|s| s.partition == p)
            .map(|s| s.offset)
            .collect();
        offsets == (0..offsets.len() as i64).collect::<Vec<_>>()
    });
    if consecutive {
        say!(
            ctx,
            "In every partition the offsets are 0, 1, 2... in the order the records were sent."
        );
    } else {
        say!(
            ctx,
            "In every partition the offsets have gaps (unexpected!)."
        );
    }
}

/// Read `count` records of `topic` back, deserialized, by (partition,
/// offset), and record each one in the timeline.
async fn read_back(
    ctx: &Stage,
    topic: &str,
    count: usize,
) -> Result<BTreeMap<(i32, i64), MachineCommand>> {
    let mut records = program::read_back(
        ctx.bootstrap(),
        &ctx.name("lesson-2-reader"),
        topic,
        PARTITIONS,
        count,
    )
    .await
    .context(tr!("reading the records back"))?;
    if records.len() < count {
        bail!(
            "{}",
            tr!(
                "only {} of {count} records read back after 10 s",
                records.len()
            )
        );
    }
    // In (partition, offset) order: the order they arrived in across
    // partitions varies from run to run, and the timeline does not.
    records.sort_by_key(|r| (r.partition, r.offset));
    let mut read_back = BTreeMap::new();
    for r in records {
        ctx.record(Event::Read {
            group: None,
            member: None,
            topic: TOPIC.to_string(),
            partition: r.partition,
            offset: r.offset,
            key: r.key,
            value: None,
        });
        read_back.insert((r.partition, r.offset), r.command);
    }
    Ok(read_back)
}

/// Whether the records read back deserialize to the events sent there.
fn describe_read_back(
    ctx: &Stage,
    keyed: &[Sent],
    read_back: &BTreeMap<(i32, i64), MachineCommand>,
) {
    let first = &keyed[0];
    let all_equal = read_back.len() == keyed.len()
        && keyed
            .iter()
            .all(|s| read_back.get(&(s.partition, s.offset)) == Some(&s.command));
    say!(ctx, "");
    say!(
        ctx,
        "Reading partition {} at offset {} back and deserializing it gives:",
        first.partition,
        first.offset
    );
    match read_back.get(&(first.partition, first.offset)) {
        Some(event) => say!(ctx, "  {event:?}"),
        None => say!(ctx, "  nothing (unexpected!)"),
    }
    let n = read_back.len();
    if all_equal {
        say!(
            ctx,
            "All {n} records read back deserialize to the events that were sent."
        );
    } else {
        say!(
            ctx,
            "All {n} records read back do NOT all match the events that were sent."
        );
    }
}

/// Section "No key": keyless records with a long sticky window, then
/// without one. Returns the partitions of the first run, and the number of
/// records per partition of the second.
async fn no_key(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
) -> Result<(BTreeSet<i32>, BTreeMap<i32, usize>)> {
    ctx.section(&tr!("No key: a random partition, in sticky runs"));
    // The default producer asks for the topic's partitions, for the
    // timeline; the keyless producers learn them by themselves.
    ctx.topic_created(producer.client(), topic)?;
    say!(
        ctx,
        "A record without a key has no partition of its own. librdkafka draws one at\n\
         random and keeps it for sticky.partitioning.linger.ms (default 10 ms), so that\n\
         a burst of keyless records fills one batch. With that window set to 60 s:"
    );
    let sticky = send_keyless(ctx, topic, LONG_STICKY, STICKY_RECORDS).await?;
    let sticky_partitions: BTreeSet<i32> = sticky.keys().copied().collect();
    match sticky_partitions.len() {
        1 => say!(ctx, "  {STICKY_RECORDS} keyless records all landed in one partition (drawn at random: not shown)."),
        n => say!(ctx, "  {STICKY_RECORDS} keyless records landed in {n} partitions."),
    }
    say!(
        ctx,
        "With the window set to 0, each keyless record gets a draw of its own:"
    );
    let spread = send_keyless(ctx, topic, NO_STICKY, SPREAD_RECORDS).await?;
    say!(
        ctx,
        "  {SPREAD_RECORDS} keyless records landed in {} of the {PARTITIONS} partitions (how many in each varies).",
        spread.len()
    );
    if spread.len() > 1 {
        say!(
            ctx,
            "Either way, the commands of a lot sent without a key can land anywhere, and\n\
             nothing keeps them in order. Give a key to whatever must stay in order."
        );
    } else {
        say!(
            ctx,
            "This time they all drew the same partition, but nothing makes them: the\n\
             commands of a lot sent without a key can land anywhere. Give a key to\n\
             whatever must stay in order."
        );
    }
    Ok((sticky_partitions, spread))
}

/// Section "Two partitioners, one key": the same keys through the default
/// partitioner, through the Java client's, and onto one more partition.
async fn two_partitioners(
    ctx: &Stage,
    producer: &FutureProducer,
    topics: &Topics,
) -> Result<Vec<Route>> {
    ctx.section(&tr!("Two partitioners, one key"));
    let java_like = program::java_like_producer(ctx.bootstrap())
        .context(tr!("creating the murmur2 producer"))?;
    let (routing, routing_4) = (&topics.routing, &topics.routing_4);
    learn_topic(ctx, producer, routing, true)?;
    learn_topic(ctx, producer, routing_4, true)?;
    learn_topic(ctx, &java_like, routing, false)?;
    let mut routes = Vec::new();
    for key in COMPARED_KEYS {
        // Every key is really sent through each producer: the partitions
        // below come from delivery reports, not from a formula. One send at
        // a time, so that the offsets, too, are the same at every run.
        let command = MachineCommand::step(key, 1);
        let mut partitions = Vec::new();
        for (p, name, topic, logical) in [
            (producer, DEFAULT_PRODUCER, routing, ROUTING_TOPIC),
            (&java_like, JAVA_LIKE_PRODUCER, routing, ROUTING_TOPIC),
            (producer, DEFAULT_PRODUCER, routing_4, ROUTING_TOPIC_4),
        ] {
            let (partition, offset) = program::send(p, topic, &command)
                .await
                .with_context(|| tr!("producing key {key}"))?;
            delivered(ctx, logical, name, &command, partition, offset);
            partitions.push(partition);
        }
        routes.push(Route {
            key: key.to_string(),
            consistent_random: partitions[0],
            murmur2_random: partitions[1],
            consistent_random_4: partitions[2],
        });
    }
    print_routes(ctx, &routes);
    describe_routes(ctx, &routes);
    Ok(routes)
}

/// The table of where each key went.
fn print_routes(ctx: &Stage, routes: &[Route]) {
    let more = PARTITIONS + 1;
    say!(
        ctx,
        "The same keys, written by a default producer and by one with\n\
         partitioner=murmur2_random (the hash of the Java client), to {PARTITIONS} partitions,\n\
         and by a default producer to a topic with {more} partitions:\n\
         \n\
         key     CRC32 (default)  murmur2 (Java)  CRC32, {more} partitions"
    );
    for r in routes {
        let mark = if r.consistent_random != r.murmur2_random {
            tr_static!("  <- differ")
        } else {
            ""
        };
        let (crc, murmur, crc_4) = (r.consistent_random, r.murmur2_random, r.consistent_random_4);
        say!(
            ctx,
            "{:<7} {crc:>15}  {murmur:>14}  {crc_4:>19}{mark}",
            r.key
        );
    }
    say!(ctx, "");
}

/// What the table shows: which keys the partitioners disagree on, and which
/// keys one more partition moves; the consequences only where they happened.
fn describe_routes(ctx: &Stage, routes: &[Route]) {
    let keys = |f: fn(&Route) -> bool| -> Vec<&str> {
        routes
            .iter()
            .filter(|r| f(r))
            .map(|r| r.key.as_str())
            .collect()
    };
    let differ = keys(|r| r.consistent_random != r.murmur2_random);
    let moved = keys(|r| r.consistent_random != r.consistent_random_4);
    let n = routes.len();
    if differ.is_empty() {
        say!(
            ctx,
            "The two partitioners put all {n} keys in the same partitions, this time."
        );
    } else {
        say!(
            ctx,
            "The two partitioners put {} of the {n} keys in different partitions:",
            differ.len()
        );
        say!(ctx, "  {}.", join(&differ));
        say!(
            ctx,
            "A Rust and a Java producer, each with its default partitioner, writing the\n\
             same lot to one topic would split it over two partitions: its commands would\n\
             lose their order."
        );
    }
    // One sentence per case, so that each language can say it its way
    // (French: "aucune clé", "1 clé va", "2 clés vont").
    match moved.len() {
        0 => say!(
            ctx,
            "With one more partition, 0 of the {n} keys go elsewhere: none."
        ),
        1 => say!(
            ctx,
            "With one more partition, 1 of the {n} keys go elsewhere: {}.",
            join(&moved)
        ),
        m => say!(
            ctx,
            "With one more partition, {m} of the {n} keys go elsewhere: {}.",
            join(&moved)
        ),
    }
    if !moved.is_empty() {
        say!(
            ctx,
            "Adding a partition to a topic moves such keys: their earlier records stay where\n\
             they were, later ones go to another partition, and their order is lost."
        );
    }
    say!(
        ctx,
        "A key keeps its partition only while the partitioner and the partition count\n\
         stay the same."
    );
}

/// Ask the cluster for `topic`'s partitions and their leaders, and, if
/// `record`, record them in the timeline.
///
/// A producer learns them by itself at its first send to a topic, but a new
/// client can take up to a second or so to do it. Asking first keeps the
/// lesson fast, and lets the partitioner see every partition from the first
/// record on (the sticky partitioner moves on from a partition it cannot use).
fn learn_topic(ctx: &Stage, producer: &FutureProducer, topic: &str, record: bool) -> Result<()> {
    if record {
        ctx.topic_created(producer.client(), topic).map(drop)
    } else {
        describe(producer.client(), topic)
            .map(drop)
            .with_context(|| tr!("fetching the metadata of {topic}"))
    }
}

/// Record a delivery report of `command` in the timeline, and which
/// producer (partitioner) it came from.
fn delivered(
    ctx: &Stage,
    logical: &str,
    producer: &str,
    command: &MachineCommand,
    partition: i32,
    offset: i64,
) {
    ctx.record(Event::Delivered {
        topic: logical.to_string(),
        partition,
        offset,
        key: Some(command.lot.clone()),
        value: serde_json::to_string(command).ok(),
        producer: Some(producer.to_string()),
    });
}

/// Write `count` keyless records with the given sticky window, and count how
/// many landed in each partition (from the delivery reports).
///
/// Their deliveries are in the timeline, in send order, under a producer
/// named after its sticky window; their partitions (and so their offsets)
/// are drawn at random, and differ from run to run: the tests compare them
/// as such (the text says only how many partitions they used).
async fn send_keyless(
    ctx: &Stage,
    topic: &str,
    sticky: Duration,
    count: usize,
) -> Result<BTreeMap<i32, usize>> {
    let producer = program::keyless_producer(ctx.bootstrap(), sticky)
        .context(tr!("creating the keyless producer"))?;
    let name = format!("sticky.partitioning.linger.ms={}", sticky.as_millis());
    let mut partitions = Vec::new();
    let mut pending = Vec::new();
    let mut keyless_delivered = |command: &MachineCommand, (partition, offset): (i32, i64)| {
        ctx.record(Event::Delivered {
            topic: KEYLESS_TOPIC.to_string(),
            partition,
            offset,
            key: None,
            value: serde_json::to_string(command).ok(),
            producer: Some(name.clone()),
        });
        partitions.push(partition);
    };
    for i in 0..count {
        let command = MachineCommand::step(&format!("lot-K{i}"), 1);
        let delivery = program::send_without_key(&producer, topic, &command)?;
        if i == 0 {
            // Wait for the first one: until the producer is connected to a
            // partition's leader, the sticky partitioner skips that partition.
            keyless_delivered(&command, where_delivered(delivery).await?);
        } else {
            // Then enqueue the rest at once, a burst, before awaiting any.
            pending.push((command, delivery));
        }
    }
    for (command, delivery) in pending {
        keyless_delivered(&command, where_delivered(delivery).await?);
    }
    let mut per_partition = BTreeMap::new();
    for p in partitions {
        *per_partition.entry(p).or_insert(0) += 1;
    }
    Ok(per_partition)
}

/// Wait (bounded) for a delivery report: (partition, offset).
async fn where_delivered(delivery: DeliveryFuture) -> Result<(i32, i64)> {
    let at = tokio::time::timeout(SEND_TIMEOUT, program::delivered(delivery))
        .await
        .context(tr!("waiting for a delivery report"))??;
    Ok(at)
}

/// "partition 1" or "partitions 0 and 2".
fn where_(partitions: &BTreeSet<i32>) -> String {
    let ids: Vec<String> = partitions.iter().map(|p| p.to_string()).collect();
    match ids.len() {
        1 => tr!("all in partition {}", ids[0]),
        _ => tr!(
            "in partitions {}",
            join(&ids.iter().map(String::as_str).collect::<Vec<_>>())
        ),
    }
}

/// "a", "a and b", "a, b and c"; "none" for an empty list.
fn join(items: &[&str]) -> String {
    match items {
        [] => tr!("none"),
        [one] => one.to_string(),
        [init @ .., last] => tr!("{} and {last}", init.join(", ")),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
