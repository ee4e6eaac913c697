//! Lesson 5: Kafka as a durable buffer between a producer and its consumers.
//!
//! A producer writes to a topic, not to a consumer: it neither knows nor
//! cares whether anyone reads. This lesson writes the workshop's commands
//! while no consumer exists at all, and lets the producer finish and close.
//! Only then does a consumer group start; it finds every record waiting, and
//! reads them in order within each partition. While it is away, more
//! records arrive, and it picks up exactly those when it comes back. A
//! second group, started last, still gets everything: reading removes
//! nothing. What does remove records is retention, on a timer that ignores
//! consumers entirely; the embedded cluster has none, and the lesson says
//! how to watch it on a real cluster.
//!
//! Run it: `just lesson-5` or `cargo run --release -- lesson 5`.
//!
//! This file is the lesson's stage: it runs the scenario section by
//! section, narrates in the reader's language and records the timeline.
//! The Kafka code the chapter shows is in [`program`].

pub mod program;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset};

use crate::kit::timeline::TopicPartition;
use crate::kit::{Event, Stage, GROUP_WAIT};
use crate::workshop::MachineCommand;
use crate::{say, tr, tr_static};

/// The topic (logical name).
pub const TOPIC: &str = "machine-commands";
pub const PARTITIONS: i32 = 3;
pub const REPLICATION_FACTOR: i32 = 3;
/// The consumer group of the machine controllers, which execute the commands.
pub const CONTROLLER_GROUP: &str = "machine-controller";
/// A second application, started last, that audits every command.
pub const AUDIT_GROUP: &str = "quality-audit";
/// Lots written before any consumer exists.
pub const FIRST_LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// The topic of the retention demonstration: large records, 1 partition.
pub const PHOTO_TOPIC: &str = "inspection-photos";
pub const PHOTOS: usize = 12;
pub const PHOTO_BYTES: usize = 512 * 1024;
/// The group that reads the photos after the cap has deleted some.
pub const ARCHIVE_GROUP: &str = "photo-archive";
/// Lot written while the controllers are stopped.
pub const LATER_LOT: &str = "lot-E";

/// How long any single wait of the lesson may take before it gives up (a
/// group's first record: [`GROUP_WAIT`]).
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    /// The topic's actual name on this cluster.
    pub topic: String,
    /// The controller group's actual name.
    pub controller_group: String,
    /// Every record written, in send order, with its delivery report.
    pub sent: Vec<Record>,
    /// How many of `sent` were written before the first consumer started.
    pub sent_before_consumers: usize,
    /// The controller group's committed offsets before it ever ran
    /// (`None`: no committed offset).
    pub committed_before: BTreeMap<i32, Option<i64>>,
    /// Low and high watermarks once the first records were written.
    pub watermarks_before: BTreeMap<i32, (i64, i64)>,
    /// What the controller group received in its first session, in arrival order.
    pub first_session: Vec<Record>,
    /// Its committed offsets after that session.
    pub committed_after: BTreeMap<i32, Option<i64>>,
    /// What it received when it came back, in arrival order.
    pub second_session: Vec<Record>,
    /// What the audit group received, in arrival order.
    pub audit: Vec<Record>,
    /// Low watermarks at the end: nothing was deleted by reading.
    pub low_watermarks_after: BTreeMap<i32, i64>,
    /// The embedded cluster's size cap at work (`None` on a real cluster).
    pub retention: Option<Overflow>,
}

/// What happened to a partition written past the embedded cluster's size cap.
#[derive(Debug)]
pub struct Overflow {
    pub topic: String,
    /// Offsets of the photos written, in order.
    pub written: Vec<i64>,
    /// Low and high watermarks after writing, before any consumer.
    pub low: i64,
    pub high: i64,
    /// Offsets the group started afterwards received, in order.
    pub received: Vec<i64>,
}

/// One record: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub command: MachineCommand,
}

pub async fn run(ctx: &Stage) -> Result<Report> {
    let topic = ctx
        .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    // The timeline's record of it, through a client that exists only now.
    let client: BaseConsumer = ctx.client_config().create()?;
    ctx.topic_created(client.client(), &topic)?;
    // The retention demonstration's topic, embedded cluster only (see `overflow`).
    let photo_topic = match ctx.mock() {
        Some(_) => {
            let photos = ctx.create_topic(PHOTO_TOPIC, 1, REPLICATION_FACTOR).await?;
            ctx.topic_created(client.client(), &photos)?;
            Some(photos)
        }
        None => None,
    };
    let controller_group = ctx.name(CONTROLLER_GROUP);
    let (committed_before, mut sent) = no_consumer(ctx, &topic, &controller_group).await?;
    let sent_before_consumers = sent.len();
    let watermarks_before = what_waits(ctx, &topic, &sent)?;
    let (first_session, committed_after) =
        consumer_starts_later(ctx, &topic, &controller_group, &sent, &watermarks_before).await?;
    let (more, second_session) = while_away(ctx, &topic, &committed_after).await?;
    sent.extend(more);
    let (audit, low_watermarks_after) =
        second_group(ctx, &topic, &sent, &watermarks_before).await?;
    let retention = retention(ctx, photo_topic).await?;
    Ok(Report {
        topic,
        controller_group,
        sent,
        sent_before_consumers,
        committed_before,
        watermarks_before,
        first_session,
        committed_after,
        second_session,
        audit,
        low_watermarks_after,
        retention,
    })
}

/// Section "A producer, and no consumer anywhere": the group has never
/// read the topic, and a producer writes four lots and closes. Returns the
/// group's committed offsets, and what was written.
async fn no_consumer(
    ctx: &Stage,
    topic: &str,
    group: &str,
) -> Result<(BTreeMap<i32, Option<i64>>, Vec<Record>)> {
    ctx.section(&tr!("A producer, and no consumer anywhere"));
    let committed = committed_offsets(ctx, group, topic)?;
    if committed.values().all(Option::is_none) {
        say!(
            ctx,
            "Group \"{CONTROLLER_GROUP}\" has no committed offset: it has never read the topic."
        );
    } else {
        say!(
            ctx,
            "Group \"{CONTROLLER_GROUP}\" has {}: it has read the topic before (unexpected on a new topic!).",
            describe_committed(&committed)
        );
    }
    let first: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| {
            FIRST_LOTS
                .iter()
                .map(move |lot| MachineCommand::step(lot, step))
        })
        .collect();
    let sent = produce_and_close(ctx, topic, &first).await?;
    say!(
        ctx,
        "The producer wrote {} commands ({} lots), got a delivery report for each,\n\
         flushed, and closed. It never asked whether anyone would read them.",
        sent.len(),
        FIRST_LOTS.len()
    );
    Ok((committed, sent))
}

/// Section "What waits in the topic": the partitions' watermarks, with no
/// client running.
fn what_waits(ctx: &Stage, topic: &str, sent: &[Record]) -> Result<BTreeMap<i32, (i64, i64)>> {
    ctx.section(&tr!("What waits in the topic"));
    let marks = watermarks(ctx, topic, PARTITIONS)?;
    // The last column is as wide as its title, in either language.
    let stored = tr_static!("records stored");
    let width = stored.chars().count();
    say!(ctx, "partition  low  high  {stored}");
    for (p, (low, high)) in &marks {
        say!(ctx, "{p:>9}  {low:>3}  {high:>4}  {:>width$}", high - low);
    }
    let waiting: i64 = marks.values().map(|(low, high)| high - low).sum();
    if waiting == sent.len() as i64 {
        say!(
            ctx,
            "{waiting} records are stored, and no producer or consumer is running."
        );
    } else {
        say!(
            ctx,
            "{waiting} records are stored, but {} were written (unexpected!).",
            sent.len()
        );
    }
    say!(
        ctx,
        "With no committed offset, a new group starts where auto.offset.reset says:\n\
         \"earliest\" is the low watermark, the oldest record still stored."
    );
    Ok(marks)
}

/// Section "A consumer starts later": the group reads what waited, commits
/// and stops. Returns what it received, and its committed offsets.
async fn consumer_starts_later(
    ctx: &Stage,
    topic: &str,
    group: &str,
    sent: &[Record],
    marks: &BTreeMap<i32, (i64, i64)>,
) -> Result<(Vec<Record>, BTreeMap<i32, Option<i64>>)> {
    ctx.section(&tr!("A consumer starts later"));
    let received = consume(ctx, CONTROLLER_GROUP, topic, sent.len()).await?;
    say!(
        ctx,
        "Group \"{CONTROLLER_GROUP}\" joined and received {} records:",
        received.len()
    );
    print_by_partition(ctx, &received);
    say!(ctx, "{}", compare_order(sent, &received));
    let committed = committed_offsets(ctx, group, topic)?;
    let at_end = marks
        .iter()
        .all(|(p, (_, high))| committed.get(p) == Some(&Some(*high)));
    if committed.values().all(Option::is_none) {
        say!(ctx, "It committed no committed offset and stopped:");
    } else {
        say!(
            ctx,
            "It committed {} and stopped:",
            describe_committed(&committed)
        );
    }
    if at_end {
        say!(
            ctx,
            "in each partition, the offset of the next record to read."
        );
    } else {
        say!(
            ctx,
            "NOT the next record to read in each partition (unexpected!)."
        );
    }
    Ok((received, committed))
}

/// Section "The producer goes on while the consumer is away": a fifth lot,
/// the group's lag, and what the group reads when it comes back. Returns
/// what was written, and what the group received.
async fn while_away(
    ctx: &Stage,
    topic: &str,
    committed: &BTreeMap<i32, Option<i64>>,
) -> Result<(Vec<Record>, Vec<Record>)> {
    ctx.section(&tr!("The producer goes on while the consumer is away"));
    let later = MachineCommand::sequence(LATER_LOT);
    let more = produce_and_close(ctx, topic, &later).await?;
    let partition = more.first().map(|r| r.partition).unwrap_or_default();
    say!(
        ctx,
        "A new producer wrote the {} commands of {LATER_LOT} (partition {partition}) and closed.",
        more.len()
    );
    // The group's lag: records written that it has not read yet.
    let mut lag = 0;
    for (p, (_, high)) in watermarks(ctx, topic, PARTITIONS)? {
        let done = committed.get(&p).copied().flatten();
        let behind = high - done.unwrap_or(0);
        ctx.record(Event::Lag {
            group: CONTROLLER_GROUP.to_string(),
            topic: TOPIC.to_string(),
            partition: p,
            committed: done,
            high,
            lag: behind,
        });
        lag += behind;
    }
    say!(
        ctx,
        "Meanwhile the group's lag (records written, not yet read by it) is {lag}."
    );
    let received = consume(ctx, CONTROLLER_GROUP, topic, more.len()).await?;
    say!(
        ctx,
        "Group \"{CONTROLLER_GROUP}\" came back and received {} records:",
        received.len()
    );
    print_by_partition(ctx, &received);
    if received == more {
        say!(
            ctx,
            "Exactly the new ones: it resumed from its committed offsets, and the topic had\n\
             kept what it missed."
        );
    } else {
        say!(ctx, "Not exactly the new ones (unexpected!).");
    }
    Ok((more, received))
}

/// Section "A second group, started last": a new group reads everything,
/// and the low watermarks show that reading deleted nothing. Returns what
/// it received, and the low watermarks.
async fn second_group(
    ctx: &Stage,
    topic: &str,
    sent: &[Record],
    before: &BTreeMap<i32, (i64, i64)>,
) -> Result<(Vec<Record>, BTreeMap<i32, i64>)> {
    ctx.section(&tr!("A second group, started last"));
    let committed = committed_offsets(ctx, &ctx.name(AUDIT_GROUP), topic)?;
    let audit = consume(ctx, AUDIT_GROUP, topic, sent.len()).await?;
    let n = audit.len();
    if committed.values().all(Option::is_none) {
        say!(
            ctx,
            "Group \"{AUDIT_GROUP}\" never ran before. It received {n} records."
        );
    } else {
        say!(
            ctx,
            "Group \"{AUDIT_GROUP}\" has {} (unexpected!). It received {n} records.",
            describe_committed(&committed)
        );
    }
    say!(ctx, "{}", compare_order(sent, &audit));
    let lows: BTreeMap<i32, i64> = watermarks(ctx, topic, PARTITIONS)?
        .into_iter()
        .map(|(p, (low, _))| (p, low))
        .collect();
    let shown: Vec<String> = lows.values().map(|l| l.to_string()).collect();
    if before.iter().all(|(p, (low, _))| lows.get(p) == Some(low)) {
        say!(
            ctx,
            "Low watermarks after all this reading: {}. Reading removes nothing: each\n\
             group only moves its own committed offsets.",
            shown.join(", ")
        );
    } else {
        say!(
            ctx,
            "Low watermarks after all this reading: {}. They moved: records were deleted\n\
             meanwhile, and not by reading (see retention, below).",
            shown.join(", ")
        );
    }
    Ok((audit, lows))
}

/// Section "What does remove records: retention": what retention is, and
/// on the embedded cluster, its size cap at work.
async fn retention(ctx: &Stage, photo_topic: Option<String>) -> Result<Option<Overflow>> {
    ctx.section(&tr!("What does remove records: retention"));
    say!(
        ctx,
        "A topic keeps records for retention.ms (default 7 days) and, if retention.bytes\n\
         is set, up to that many bytes per partition. Older records are deleted whether\n\
         or not anyone has read them: the buffer is durable, not endless."
    );
    match photo_topic {
        Some(topic) => Ok(Some(overflow(ctx, topic).await?)),
        None => {
            say!(
                ctx,
                "On a real cluster that takes minutes to days: chapter 5 of the book shows how to\n\
                 watch it on the docker-compose cluster."
            );
            Ok(None)
        }
    }
}

/// Embedded cluster only: write a partition past the embedded cluster's
/// fixed size cap, and show that the oldest records are gone before any
/// consumer existed.
async fn overflow(ctx: &Stage, topic: String) -> Result<Overflow> {
    say!(
        ctx,
        "The embedded cluster has neither setting. It has a fixed cap instead: 5 MiB per\n\
         partition, beyond which it drops the oldest batches. That is not how Kafka\n\
         deletes (whole segment files, on a schedule: see the book), but the consequence\n\
         for a consumer is the same:"
    );
    let written = program::write_photos(&ctx.client_config(), &topic, PHOTOS, PHOTO_BYTES)
        .await
        .context(tr!("producing"))?;
    for (i, offset) in written.iter().enumerate() {
        ctx.record(Event::Delivered {
            topic: PHOTO_TOPIC.to_string(),
            partition: 0,
            offset: *offset,
            key: Some(format!("part-{:02}", i + 1)),
            value: None,
            producer: None,
        });
    }
    let (low, high) = watermarks(ctx, &topic, 1)?
        .get(&0)
        .copied()
        .unwrap_or_default();
    say!(
        ctx,
        "  {PHOTOS} photos of {} KiB written to \"{PHOTO_TOPIC}\" (1 partition), no consumer.",
        PHOTO_BYTES / 1024
    );
    if low > 0 {
        say!(
            ctx,
            "  Now: low watermark {low}, high watermark {high}. Offsets {} were deleted unread.",
            range(0, low)
        );
    } else {
        say!(
            ctx,
            "  Now: low watermark 0, high watermark {high}: nothing was deleted (unexpected!)."
        );
    }
    let received = consume_offsets(ctx, ARCHIVE_GROUP, &topic, (high - low) as usize).await?;
    say!(
        ctx,
        "  Group \"{ARCHIVE_GROUP}\" starts now (earliest), receives {} photos: offsets {}.",
        received.len(),
        range(
            received.first().copied().unwrap_or(0),
            received.last().map_or(0, |o| o + 1)
        )
    );
    if low > 0 && received.first() == Some(&low) {
        say!(
            ctx,
            "\"earliest\" is the oldest record still stored, not offset 0. A group whose\n\
             committed offset falls below the low watermark is reset by the same setting\n\
             (earliest: to the low watermark; latest: to the end): the records in between\n\
             are lost to it, with no error. Watch the lag (chapter 4)."
        );
    } else {
        say!(ctx, "It did not start past deleted records (unexpected!).");
    }
    Ok(Overflow {
        topic,
        written,
        low,
        high,
        received,
    })
}

/// "0 and 1", "0 to 4", "none": the offsets from `from` up to `to` (excluded).
fn range(from: i64, to: i64) -> String {
    match to - from {
        n if n <= 0 => tr!("none"),
        1 => from.to_string(),
        2 => tr!("{from} and {}", from + 1),
        _ => tr!("{from} to {}", to - 1),
    }
}

/// Write `commands` with a producer that then closes (chapter 5's
/// program), and record where each one landed.
async fn produce_and_close(
    ctx: &Stage,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Vec<Record>> {
    let written = program::produce_and_close(&ctx.client_config(), topic, commands)
        .await
        .with_context(|| tr!("producing"))?;
    let mut records = Vec::new();
    for ((partition, offset), command) in written.into_iter().zip(commands) {
        ctx.record(Event::Delivered {
            topic: ctx.logical(topic).to_string(),
            partition,
            offset,
            key: Some(command.lot.clone()),
            value: Some(command.label()),
            producer: None,
        });
        records.push(Record {
            partition,
            offset,
            command: command.clone(),
        });
    }
    Ok(records)
}

/// Run one session of a consumer in `logical_group` and deserialize what it got.
async fn consume(
    ctx: &Stage,
    logical_group: &str,
    topic: &str,
    expected: usize,
) -> Result<Vec<Record>> {
    session(ctx, logical_group, topic, expected, |m| {
        let command = program::command(m).context(tr!("deserializing a command"))?;
        Ok(Record {
            partition: m.partition(),
            offset: m.offset(),
            command,
        })
    })
    .await
}

/// Run one session of a consumer in `logical_group` and keep only offsets.
async fn consume_offsets(
    ctx: &Stage,
    logical_group: &str,
    topic: &str,
    expected: usize,
) -> Result<Vec<i64>> {
    session(ctx, logical_group, topic, expected, |m| Ok(m.offset())).await
}

/// One session of a consumer in `logical_group`: join, receive `expected`
/// records, commit what was read, leave.
async fn session<T>(
    ctx: &Stage,
    logical_group: &str,
    topic: &str,
    expected: usize,
    keep: impl Fn(&BorrowedMessage<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let consumer = program::late_consumer(&ctx.consumer_config(logical_group), topic)
        .context(tr!("creating the consumer"))?;
    // Held for the stage: if the group never forms, closing it does not
    // hold up the explanation (see `kit::closing`).
    let consumer = ctx.hold(consumer);
    // The group's one member, named after its group.
    let member = logical_group.to_string();
    ctx.record(Event::MemberJoined {
        group: logical_group.to_string(),
        member: member.clone(),
    });
    let mut received = Vec::new();
    let mut reads = Vec::new();
    while received.len() < expected {
        let message = next_record(ctx, &consumer, logical_group, received.len(), expected).await?;
        reads.push(Event::Read {
            group: Some(logical_group.to_string()),
            member: Some(member.clone()),
            topic: ctx.logical(topic).to_string(),
            partition: message.partition(),
            offset: message.offset(),
            key: message
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            value: None,
        });
        received.push(keep(&message)?);
    }
    // Each partition's records come from its own leader, so how those of
    // different partitions interleave changes from run to run: the
    // timeline lists them partition by partition (each in the order read),
    // as the lesson prints them.
    reads.sort_by_key(|e| match e {
        Event::Read { partition, .. } => *partition,
        _ => 0,
    });
    // The partitions the group gave it, as its assignment shows them once
    // it has read everything (before the reads, as it got them first).
    let mut partitions: Vec<TopicPartition> = consumer
        .assignment()?
        .elements()
        .iter()
        .map(|e| TopicPartition {
            topic: ctx.logical(e.topic()).to_string(),
            partition: e.partition(),
        })
        .collect();
    partitions.sort();
    ctx.record(Event::Assigned {
        group: logical_group.to_string(),
        member: member.clone(),
        partitions,
    });
    for read in reads {
        ctx.record(read);
    }
    program::commit(&consumer).context(tr!("committing"))?;
    // What the group's coordinator now holds: where the group resumes.
    let committed = consumer
        .committed(TIMEOUT)
        .context(tr!("fetching committed offsets"))?;
    let mut committed: Vec<(i32, i64)> = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect();
    committed.sort();
    for (partition, offset) in committed {
        ctx.record(Event::Committed {
            group: logical_group.to_string(),
            member: None,
            topic: ctx.logical(topic).to_string(),
            partition,
            offset,
        });
    }
    // It stops: closed when the stage lets go of it, it leaves the group.
    ctx.record(Event::MemberLeft {
        group: logical_group.to_string(),
        member,
    });
    Ok(received)
}

/// The session's next record, `got` of `expected` so far. The first one
/// waits at most [`GROUP_WAIT`]: if the group has given the consumer no
/// partition by then, that is the error (a cluster whose groups do not
/// work, explained). The others arrive right behind it.
async fn next_record<'c>(
    ctx: &Stage,
    consumer: &'c StreamConsumer,
    logical_group: &str,
    got: usize,
    expected: usize,
) -> Result<BorrowedMessage<'c>> {
    let wait = if got == 0 { GROUP_WAIT } else { TIMEOUT };
    match program::next_record(consumer, wait)
        .await
        .context(tr!("consuming"))?
    {
        Some(m) => Ok(m),
        None if got == 0 && consumer.assignment()?.count() == 0 => {
            Err(ctx.no_partitions(logical_group, GROUP_WAIT))
        }
        None => bail!(
            "{}",
            tr!("group \"{logical_group}\" has its partitions but received only {got} of {expected} records: nothing more within {wait:?}")
        ),
    }
}

/// The group's committed offset on each partition of `topic` (chapter
/// 5's program), asked by a client that does not join the group.
fn committed_offsets(ctx: &Stage, group: &str, topic: &str) -> Result<BTreeMap<i32, Option<i64>>> {
    program::committed_offsets(&ctx.client_config(), group, topic, PARTITIONS)
        .context(tr!("fetching committed offsets"))
}

/// Low and high watermark of each of the `partitions` partitions of
/// `topic` (chapter 5's program), recorded in the timeline.
fn watermarks(ctx: &Stage, topic: &str, partitions: i32) -> Result<BTreeMap<i32, (i64, i64)>> {
    let marks = program::watermarks(&ctx.client_config(), topic, partitions)?;
    for (&partition, &(low, high)) in &marks {
        ctx.record(Event::Watermarks {
            topic: ctx.logical(topic).to_string(),
            partition,
            low,
            high,
        });
    }
    Ok(marks)
}

/// "no committed offset" or "committed offsets 3, 6, 3 (partitions 0, 1, 2)".
fn describe_committed(committed: &BTreeMap<i32, Option<i64>>) -> String {
    if committed.values().all(Option::is_none) {
        return tr!("no committed offset");
    }
    let offsets: Vec<String> = committed
        .values()
        .map(|o| o.map_or(tr!("none"), |o| o.to_string()))
        .collect();
    let parts: Vec<String> = committed.keys().map(|p| p.to_string()).collect();
    tr!(
        "offsets {} (partitions {})",
        offsets.join(", "),
        parts.join(", ")
    )
}

/// Records received, partition by partition, in the order they arrived.
fn print_by_partition(ctx: &Stage, records: &[Record]) {
    for p in 0..PARTITIONS {
        let in_p: Vec<&Record> = records.iter().filter(|r| r.partition == p).collect();
        if in_p.is_empty() {
            continue;
        }
        say!(ctx, "  partition {p}");
        for r in in_p {
            say!(ctx, "    offset {}  {}", r.offset, r.command.label());
        }
    }
}

/// Whether `received` holds every record of `sent`, and in each partition in
/// the order they were sent.
fn compare_order(sent: &[Record], received: &[Record]) -> String {
    let same_set = {
        let mut a: Vec<(i32, i64)> = sent.iter().map(|r| (r.partition, r.offset)).collect();
        let mut b: Vec<(i32, i64)> = received.iter().map(|r| (r.partition, r.offset)).collect();
        a.sort();
        b.sort();
        a == b
    };
    let in_order = (0..PARTITIONS).all(|p| {
        let s: Vec<&Record> = sent.iter().filter(|r| r.partition == p).collect();
        let r: Vec<&Record> = received.iter().filter(|r| r.partition == p).collect();
        s == r
    });
    match (same_set, in_order) {
        (true, true) => tr!(
            "That is every record written ({}), and in each partition in the order it was sent.",
            sent.len()
        ),
        (true, false) => tr!("Every record written, but NOT in the order sent (unexpected!)."),
        _ => tr!("NOT the records written (unexpected!)."),
    }
}
