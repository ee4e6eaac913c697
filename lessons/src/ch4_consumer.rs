//! Lesson 4: the consumer: groups, offsets, commits, lag and dead letters.
//!
//! Two consumers join one consumer group and split the topic's partitions
//! between them; they deserialize each record into a `MachineCommand`, and a
//! record that does not deserialize is set aside on a dead-letter topic with
//! the reason, instead of crashing the consumer or vanishing. A second group
//! reads the same records again, independently. Then a member commits, crashes
//! and restarts: reading resumes at the committed offset, so what it processed
//! after its last commit is processed again (at-least-once). Lag is computed
//! from committed offsets and high watermarks along the way, and a last group
//! shows where a group with no committed offset starts (`auto.offset.reset`).
//!
//! Run it: `just lesson-4` or `cargo run --release -- lesson 4`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, ensure, Context as _, Result};
use futures::future::select_all;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

use crate::kit::{Ctx, GroupProtocol, GROUP_WAIT};
use crate::say;
use crate::workshop::MachineCommand;

/// The topic of machine commands, and its dead-letter topic (logical names).
pub const TOPIC: &str = "machine-commands";
pub const DLT: &str = "machine-commands.dlt";
pub const PARTITIONS: i32 = 3;
pub const REPLICATION_FACTOR: i32 = 3;

/// The group that executes the commands; it will have two members.
pub const GROUP: &str = "machines";
/// A second group, which reads every record again for its own purpose.
pub const AUDIT_GROUP: &str = "audit";
/// A group that starts late, at the end of the log (`auto.offset.reset=latest`).
pub const LATE_GROUP: &str = "dashboard";

/// The lots of the first batch (three commands each), of the second batch
/// (written while the group is running), and the one written last.
pub const FIRST_LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
pub const SECOND_LOT: &str = "lot-E";
pub const LAST_LOT: &str = "lot-F";

/// Payloads that are not a valid `MachineCommand`: (sent after this many good
/// commands, key, payload). Such records happen in real life: an old
/// producer, a bug, a message typed by hand.
pub const MALFORMED: [(usize, &str, &str); 3] = [
    // Plain text, from a producer that never switched to JSON.
    (2, "lot-B", "M2 drill"),
    // JSON, but the step is a string where a number is expected.
    (
        6,
        "lot-C",
        r#"{"lot":"lot-C","step":"two","machine":"M2","operation":"drill"}"#,
    ),
    // JSON with a field missing.
    (10, "lot-D", r#"{"lot":"lot-D","step":3,"machine":"M3"}"#),
];

/// Every wait of the lesson is bounded by this.
const WAIT: Duration = Duration::from_secs(10);
/// While a group rebalances, the lesson looks at the assignments this often.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    pub topic: String,
    pub dlt: String,
    /// The first batch written to the topic, in send order.
    pub produced: Vec<Produced>,
    /// After both members joined: member name -> its partitions.
    pub assignment: BTreeMap<String, Vec<i32>>,
    /// While member-b joined, how many looks found a partition with two owners.
    pub overlaps: usize,
    /// What the two members read from the first batch, in the order they read it.
    pub group_reads: Vec<Read>,
    /// What the second group read.
    pub audit_reads: Vec<Read>,
    /// The dead-letter topic, read back.
    pub dead_letters: Vec<DeadLetter>,
    /// The group's lag tables, in the order the lesson printed them.
    pub lag_tables: Vec<Vec<Lag>>,
    pub crash: Crash,
    pub late: Late,
}

#[derive(Debug, Clone)]
pub struct Produced {
    pub key: String,
    pub payload: String,
    pub partition: i32,
    pub offset: i64,
    /// Whether the payload is a valid `MachineCommand`.
    pub good: bool,
}

#[derive(Debug, Clone)]
pub struct Read {
    pub member: String,
    pub partition: i32,
    pub offset: i64,
    /// The command, or why the payload did not deserialize.
    pub outcome: Result<MachineCommand, String>,
}

#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub key: String,
    /// The original bytes, untouched.
    pub payload: Vec<u8>,
    /// From the headers: where the record came from, and why it is here.
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub partition: i32,
    pub high_watermark: i64,
    /// `None`: the group has committed nothing for this partition.
    pub committed: Option<i64>,
    pub lag: i64,
}

#[derive(Debug, Clone)]
pub struct Crash {
    pub partition: i32,
    /// The second batch: its offsets, all in `partition`.
    pub written: Vec<i64>,
    /// Offsets processed before the crash, and the committed offset then.
    pub processed: Vec<i64>,
    pub committed_at_crash: i64,
    /// Offsets read after the restart, in order.
    pub reread: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Late {
    /// The high watermarks when the late group joined.
    pub high_watermarks: BTreeMap<i32, i64>,
    /// Where the record written after it joined was stored.
    pub written: (i32, i64),
    /// The first record the late group read: (partition, offset).
    pub first_read: (i32, i64),
}

/// One member of a consumer group: a name for the narration, and its consumer.
pub struct Member {
    name: String,
    consumer: StreamConsumer,
}

pub async fn run(ctx: &Ctx) -> Result<Report> {
    let topic = ctx
        .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    let dlt = ctx.create_topic(DLT, 1, REPLICATION_FACTOR).await?;
    let producer: FutureProducer = ctx
        .client_config()
        .set("linger.ms", "0")
        .create()
        .context("creating the producer")?;
    let observer = LagObserver::new(ctx, GROUP, &topic)?;

    // ------------------------------------------------------------------
    ctx.section("One group, two members");
    say!(
        ctx,
        "Group \"{GROUP}\" executes the commands of topic \"{TOPIC}\" ({PARTITIONS} partitions)."
    );
    say!(
        ctx,
        "Its members join before any command is written, as a running service would."
    );
    say!(ctx, "");
    let a = join(ctx, GROUP, "member-a", &topic, "earliest")?;
    settle(ctx, &[&a], |sets| sets[0].len() == PARTITIONS as usize).await?;
    say!(
        ctx,
        "member-a joins alone: member-a has {}",
        show_set(&assigned(&a)?)
    );
    let b = join(ctx, GROUP, "member-b", &topic, "earliest")?;
    let overlaps = settle(ctx, &[&a, &b], |sets| {
        is_partitioned(sets) && sets.iter().all(|s| !s.is_empty())
    })
    .await?;
    say!(ctx, "member-b joins, and the group rebalances:");
    say!(
        ctx,
        "  member-a has {}, member-b has {}",
        show_set(&assigned(&a)?),
        show_set(&assigned(&b)?)
    );
    let assignment: BTreeMap<String, Vec<i32>> = [&a, &b]
        .iter()
        .map(|m| Ok((m.name.clone(), assigned(m)?)))
        .collect::<Result<_>>()?;
    let sets: Vec<Vec<i32>> = assignment.values().cloned().collect();
    say!(ctx, "");
    if is_partitioned(&sets) {
        say!(
            ctx,
            "Each of the {PARTITIONS} partitions belongs to exactly one member."
        );
    } else {
        say!(
            ctx,
            "The assignment does NOT give each partition to exactly one member: {sets:?}"
        );
    }
    say!(ctx, "{}", who_assigns(ctx));
    if overlaps == 0 {
        let ms = LOOK_EVERY.as_millis();
        say!(
            ctx,
            "Checked about every {ms} ms during the rebalance: no partition was ever held by"
        );
        say!(
            ctx,
            "both members. member-a released {} before member-b got them.",
            show_set(&assignment["member-b"])
        );
    } else {
        let ms = LOOK_EVERY.as_millis();
        say!(ctx, "Checked about every {ms} ms during the rebalance: {overlaps} time(s) a partition was held by both.");
    }

    // ------------------------------------------------------------------
    ctx.section("Commands, and a few malformed records");
    let mut good: Vec<MachineCommand> = FIRST_LOTS
        .iter()
        .flat_map(|lot| MachineCommand::sequence(lot))
        .collect();
    // Interleave the lots (A1 B1 C1 D1 A2 ...), as commands arrive in a workshop.
    good.sort_by_key(|c| c.step);
    let mut to_send: Vec<(String, String, bool)> = Vec::new();
    for (i, cmd) in good.iter().enumerate() {
        to_send.push((cmd.lot.clone(), serde_json::to_string(cmd)?, true));
        for (after, key, payload) in MALFORMED {
            if after == i + 1 {
                to_send.push((key.to_string(), payload.to_string(), false));
            }
        }
    }
    let mut produced = Vec::new();
    for (key, payload, is_good) in to_send {
        let (partition, offset) = send(&producer, &topic, &key, payload.as_bytes()).await?;
        produced.push(Produced {
            key,
            payload,
            partition,
            offset,
            good: is_good,
        });
    }
    say!(ctx, "partition offset  key    value");
    let mut by_position = produced.clone();
    by_position.sort_by_key(|p| (p.partition, p.offset));
    for p in &by_position {
        say!(
            ctx,
            "{:>9} {:>6}  {:<6} {}",
            p.partition,
            p.offset,
            p.key,
            p.payload
        );
    }
    let bad = produced.iter().filter(|p| !p.good).count();
    say!(ctx, "");
    say!(
        ctx,
        "{} records: {} commands in JSON, and {bad} that are not a valid command.",
        produced.len(),
        produced.len() - bad
    );

    // ------------------------------------------------------------------
    ctx.section("The members read, deserialize, dead-letter and commit");
    let mut group_reads = Vec::new();
    let deadline = Instant::now() + WAIT;
    while group_reads.len() < produced.len() {
        // ANCHOR: loop
        // Whichever member has a record ready: each one reads only its own
        // partitions, in offset order within each partition.
        let (member, m) = next_message(&[&a, &b], deadline).await?;
        let read = process(&producer, &dlt, member, &m).await?;
        // Only now, with the work done, record that the group is past it.
        commit_next(&member.consumer, &m)?;
        // ANCHOR_END: loop
        group_reads.push(read);
    }
    // The two members read concurrently: show what each read, sorted, so
    // the printout does not depend on which one was faster.
    let mut shown = group_reads.clone();
    shown.sort_by(|x, y| {
        (&x.member, x.partition, x.offset).cmp(&(&y.member, y.partition, y.offset))
    });
    for r in &shown {
        say!(
            ctx,
            "{}  partition {} offset {}  {}",
            r.member,
            r.partition,
            r.offset,
            describe(&r.outcome)
        );
    }
    say!(ctx, "");
    for (name, partitions) in &assignment {
        let mine = group_reads.iter().filter(|r| &r.member == name);
        let own = mine.clone().all(|r| partitions.contains(&r.partition));
        let n = mine.count();
        let whose = if own {
            "all from its own"
        } else {
            "NOT all from its"
        };
        say!(
            ctx,
            "{name} read {n} records, {whose} {}.",
            show_set(partitions)
        );
    }
    let malformed = group_reads.iter().filter(|r| r.outcome.is_err()).count();
    say!(
        ctx,
        "The {malformed} malformed records went to \"{DLT}\", and the members went on."
    );

    // ------------------------------------------------------------------
    ctx.section("The dead-letter topic");
    let dlt_reader = dlt_reader(ctx, &dlt)?;
    let mut dead_letters = read_dead_letters(&dlt_reader, malformed).await?;
    // Two members wrote to it concurrently: show it in source order.
    dead_letters.sort_by_key(|d| (d.source_partition, d.source_offset));
    for d in &dead_letters {
        say!(
            ctx,
            "from {} partition {} offset {}, key {}:",
            TOPIC,
            d.source_partition,
            d.source_offset,
            d.key
        );
        say!(ctx, "  error: {}", d.error);
        say!(ctx, "  bytes: {}", String::from_utf8_lossy(&d.payload));
    }
    // Check what the topic holds: all of it (the high watermark), only bad
    // records, and exactly the ones the members found malformed.
    let (_, dlt_size) = dlt_reader.consumer.fetch_watermarks(&dlt, 0, WAIT)?;
    let sources: BTreeSet<(i32, i64)> = dead_letters
        .iter()
        .map(|d| (d.source_partition, d.source_offset))
        .collect();
    let found_bad: BTreeSet<(i32, i64)> = group_reads
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| (r.partition, r.offset))
        .collect();
    let none_good = dead_letters
        .iter()
        .all(|d| deserialize(Some(&d.payload)).is_err());
    say!(ctx, "");
    say!(
        ctx,
        "Each is kept with its original bytes and the reason, to fix and replay later."
    );
    if dlt_size as usize == dead_letters.len() && sources == found_bad {
        say!(
            ctx,
            "The topic holds {dlt_size} records: exactly the malformed ones, each once."
        );
    } else {
        say!(
            ctx,
            "The topic holds {dlt_size} records, NOT exactly the {} malformed ones.",
            found_bad.len()
        );
    }
    if none_good {
        say!(
            ctx,
            "None of them deserializes: no good command was set aside by mistake."
        );
    } else {
        say!(
            ctx,
            "Some of them DO deserialize: a good command was set aside by mistake."
        );
    }

    // ------------------------------------------------------------------
    ctx.section("A second group reads everything again");
    let audit = join(ctx, AUDIT_GROUP, "auditor", &topic, "earliest")?;
    let mut audit_reads = Vec::new();
    let deadline = Instant::now() + WAIT;
    while audit_reads.len() < produced.len() {
        let (member, m) = next_message(&[&audit], deadline).await?;
        audit_reads.push(Read {
            member: member.name.clone(),
            partition: m.partition(),
            offset: m.offset(),
            outcome: deserialize(m.payload()),
        });
        commit_next(&member.consumer, &m)?;
    }
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = audit_reads
            .iter()
            .filter(|r| r.partition == p)
            .map(|r| r.offset)
            .collect();
        let first = offsets
            .first()
            .map(|o| o.to_string())
            .unwrap_or_else(|| "-".into());
        say!(
            ctx,
            "group \"{AUDIT_GROUP}\" read {} records of partition {p}, from offset {first}",
            offsets.len()
        );
    }
    let audit_good = audit_reads.iter().filter(|r| r.outcome.is_ok()).count();
    say!(ctx, "");
    let audit_positions: BTreeSet<(i32, i64)> = audit_reads
        .iter()
        .map(|r| (r.partition, r.offset))
        .collect();
    let produced_positions: BTreeSet<(i32, i64)> =
        produced.iter().map(|p| (p.partition, p.offset)).collect();
    let which = if audit_positions == produced_positions {
        "every record written"
    } else {
        "NOT every record"
    };
    say!(
        ctx,
        "{} records ({audit_good} commands): {which}, again. Each group has",
        audit_reads.len()
    );
    say!(
        ctx,
        "its own committed offsets, so what one group reads takes nothing from another."
    );

    // ------------------------------------------------------------------
    ctx.section("Lag, and a member leaving");
    let mut lag_tables = Vec::new();
    let table = observer.lag()?;
    show_lag(ctx, "after the first batch", &table);
    lag_tables.push(table);

    say!(ctx, "");
    say!(
        ctx,
        "member-b leaves the group (it shuts down cleanly), and the group rebalances:"
    );
    let b_left = leave(b);
    settle(ctx, &[&a], |sets| sets[0].len() == PARTITIONS as usize).await?;
    say!(ctx, "  member-a now has {}", show_set(&assigned(&a)?));
    b_left.await?;

    say!(ctx, "");
    let mut written = Vec::new();
    for cmd in MachineCommand::sequence(SECOND_LOT) {
        let (partition, offset) = send(
            &producer,
            &topic,
            &cmd.lot,
            serde_json::to_string(&cmd)?.as_bytes(),
        )
        .await?;
        say!(
            ctx,
            "new command: partition {partition} offset {offset}  {}",
            cmd.label()
        );
        written.push((partition, offset));
    }
    let crash_partition = written[0].0;
    ensure!(
        written.iter().all(|(p, _)| *p == crash_partition),
        "one lot, one partition"
    );
    say!(ctx, "");
    let table = observer.lag()?;
    show_lag(ctx, "after the second batch was written", &table);
    lag_tables.push(table);

    // ------------------------------------------------------------------
    ctx.section("Commit, crash, restart");
    let mut processed = Vec::new();
    let deadline = Instant::now() + WAIT;
    // ANCHOR: crash
    // member-a executes the first new command and commits it...
    {
        let (_, m) = next_message(&[&a], deadline).await?;
        let read = process(&producer, &dlt, &a, &m).await?;
        commit_next(&a.consumer, &m)?;
        let (p, o) = (m.partition(), m.offset());
        say!(
            ctx,
            "member-a: partition {p} offset {o} {}, commits offset {}",
            describe(&read.outcome),
            o + 1
        );
        processed.push(m.offset());
    }
    // ...executes the second one, and crashes before committing it.
    {
        let (_, m) = next_message(&[&a], deadline).await?;
        let read = process(&producer, &dlt, &a, &m).await?;
        let (p, o) = (m.partition(), m.offset());
        say!(
            ctx,
            "member-a: partition {p} offset {o} {}, then crashes before committing",
            describe(&read.outcome)
        );
        processed.push(m.offset());
    }
    // The process dies here. With enable.auto.commit=false nothing is
    // committed behind our back, so closing the consumer now loses exactly
    // what a crash loses: the work done since the last commit. (One
    // difference: a crashed process cannot tell the group it left.)
    leave(a).await?;
    // ANCHOR_END: crash
    let table = observer.lag()?;
    let committed_at_crash = table
        .iter()
        .find(|l| l.partition == crash_partition)
        .and_then(|l| l.committed)
        .context("no committed offset for the crashed partition")?;
    say!(ctx, "");
    show_lag(ctx, "after the crash", &table);
    lag_tables.push(table);

    say!(ctx, "");
    say!(ctx, "member-a restarts, and joins the group again:");
    let restarted = join(ctx, GROUP, "member-a", &topic, "earliest")?;
    let mut reread = Vec::new();
    let deadline = Instant::now() + WAIT;
    while reread.len() < written.len() - 1 {
        let (member, m) = next_message(&[&restarted], deadline).await?;
        let read = process(&producer, &dlt, member, &m).await?;
        commit_next(&member.consumer, &m)?;
        let again = if processed.contains(&m.offset()) {
            "  <- again"
        } else {
            ""
        };
        say!(
            ctx,
            "member-a: partition {} offset {} {}{again}",
            m.partition(),
            m.offset(),
            describe(&read.outcome)
        );
        reread.push(m.offset());
    }
    say!(ctx, "");
    let first = reread[0];
    if first == committed_at_crash {
        say!(
            ctx,
            "It started at offset {first}, the committed offset: the next record to read."
        );
    } else {
        say!(
            ctx,
            "It started at offset {first}, NOT at the committed offset {committed_at_crash}."
        );
    }
    let twice: Vec<i64> = processed
        .iter()
        .copied()
        .filter(|o| reread.contains(o))
        .collect();
    let skipped = written
        .iter()
        .filter(|(_, o)| !processed.contains(o) && !reread.contains(o))
        .count();
    let twice: Vec<String> = twice.iter().map(|o| o.to_string()).collect();
    say!(
        ctx,
        "Processed twice: offset {}, done after the last commit and before the crash.",
        twice.join(", ")
    );
    say!(
        ctx,
        "That is at-least-once delivery. Skipped: {skipped} records."
    );
    say!(ctx, "");
    let table = observer.lag()?;
    show_lag(ctx, "after the restart caught up", &table);
    lag_tables.push(table);

    // ------------------------------------------------------------------
    ctx.section("Where a new group starts: auto.offset.reset");
    let high_watermarks: BTreeMap<i32, i64> = lag_tables
        .last()
        .unwrap()
        .iter()
        .map(|l| (l.partition, l.high_watermark))
        .collect();
    let late = join_late(ctx, &topic)?;
    wait_at_end(ctx, &late).await?;
    let cmd = MachineCommand::step(LAST_LOT, 1);
    let late_written = send(
        &producer,
        &topic,
        &cmd.lot,
        serde_json::to_string(&cmd)?.as_bytes(),
    )
    .await?;
    let (_, m) = next_message(&[&late], Instant::now() + WAIT).await?;
    let first_read = (m.partition(), m.offset());
    drop(m);
    say!(
        ctx,
        "Group \"{LATE_GROUP}\" has no committed offset and auto.offset.reset=latest."
    );
    say!(
        ctx,
        "After it joined, one more command was written ({}).",
        cmd.label()
    );
    let (p, o) = first_read;
    let at_end = if high_watermarks.get(&p) == Some(&o) {
        ", the high watermark when it joined"
    } else {
        ""
    };
    say!(
        ctx,
        "The first record it read: partition {p} offset {o}{at_end}."
    );
    let skipped: i64 = high_watermarks.values().sum();
    say!(
        ctx,
        "Before that it had reached the end of all {PARTITIONS} partitions without reading any of"
    );
    say!(
        ctx,
        "the {skipped} records already there. \"{AUDIT_GROUP}\" (earliest) started at offset 0."
    );

    close_all(vec![restarted, audit, late, dlt_reader]).await?;
    Ok(Report {
        topic,
        dlt,
        produced,
        assignment,
        overlaps,
        group_reads,
        audit_reads,
        dead_letters,
        lag_tables,
        crash: Crash {
            partition: crash_partition,
            written: written.iter().map(|(_, o)| *o).collect(),
            processed,
            committed_at_crash,
            reread,
        },
        late: Late {
            high_watermarks,
            written: late_written,
            first_read,
        },
    })
}

/// A new member of `group`, subscribed to `topic`. `reset` says where it
/// starts in a partition the group has never committed an offset for.
fn join(ctx: &Ctx, group: &str, name: &str, topic: &str, reset: &str) -> Result<Member> {
    // ANCHOR: consumer_config
    let consumer: StreamConsumer = ctx
        .consumer_config(group) // group.id, and the group protocol
        // The member's name, which the broker shows in its view of the group.
        .set("client.id", name)
        // Commit only when we say so, after the work is done.
        .set("enable.auto.commit", "false")
        // Where to start in a partition the group has never committed:
        // "earliest" (the oldest record kept) or "latest" (only new records,
        // librdkafka's default).
        .set("auto.offset.reset", reset)
        .create()
        .with_context(|| format!("creating consumer {name}"))?;
    consumer.subscribe(&[topic])?;
    // ANCHOR_END: consumer_config
    Ok(Member {
        name: name.to_string(),
        consumer,
    })
}

/// The late group's member: it starts at the end, and reports when it gets
/// there (a "partition EOF" event), so the lesson knows it is in place.
fn join_late(ctx: &Ctx, topic: &str) -> Result<Member> {
    let consumer: StreamConsumer = ctx
        .consumer_config(LATE_GROUP)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "latest")
        .set("enable.partition.eof", "true")
        .create()
        .context("creating the late group's consumer")?;
    consumer.subscribe(&[topic])?;
    Ok(Member {
        name: "dashboard".to_string(),
        consumer,
    })
}

/// Wait until the member has reached the end of every partition.
async fn wait_at_end(ctx: &Ctx, member: &Member) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    let mut at_end = BTreeSet::new();
    while at_end.len() < PARTITIONS as usize {
        match timeout_at(deadline, member.consumer.recv()).await {
            Ok(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Ok(Ok(m)) => bail!(
                "{} read a record before any was written: offset {}",
                member.name,
                m.offset()
            ),
            Ok(Err(e)) => return Err(e).context("waiting for the end of the partitions"),
            Err(_) if assigned(member)?.is_empty() => {
                return Err(ctx.no_partitions(LATE_GROUP, WAIT))
            }
            Err(_) => bail!(
                "{} did not reach the end of the partitions within {WAIT:?}",
                member.name
            ),
        }
    }
    Ok(())
}

/// The next message any of `members` receives, and which member got it.
async fn next_message<'m>(
    members: &[&'m Member],
    deadline: Instant,
) -> Result<(&'m Member, BorrowedMessage<'m>)> {
    let receives = members.iter().map(|m| Box::pin(m.consumer.recv()));
    match timeout_at(deadline, select_all(receives)).await {
        Ok((Ok(message), i, _)) => Ok((members[i], message)),
        Ok((Err(e), i, _)) => Err(e).with_context(|| format!("{} receiving", members[i].name)),
        Err(_) => bail!("no record arrived within {WAIT:?}"),
    }
}

/// Keep the members polling (a consumer takes part in rebalances while it
/// polls) until their assignments satisfy `done`. Returns how many times,
/// looking along the way, it saw a partition assigned to two members.
async fn settle(
    ctx: &Ctx,
    members: &[&Member],
    done: impl Fn(&[Vec<i32>]) -> bool,
) -> Result<usize> {
    let deadline = Instant::now() + GROUP_WAIT;
    let mut overlaps = 0;
    loop {
        let sets = members
            .iter()
            .map(|m| assigned(m))
            .collect::<Result<Vec<_>>>()?;
        let all: Vec<i32> = sets.iter().flatten().copied().collect();
        if all.len() != all.iter().collect::<BTreeSet<_>>().len() {
            overlaps += 1;
        }
        if done(&sets) {
            return Ok(overlaps);
        }
        if Instant::now() >= deadline {
            if all.is_empty() {
                return Err(ctx.no_partitions(GROUP, GROUP_WAIT));
            }
            let held: Vec<String> = members
                .iter()
                .zip(&sets)
                .map(|(m, s)| format!("{} has {}", m.name, show_set(s)))
                .collect();
            bail!(
                "group \"{GROUP}\" did not reach the expected assignment within {GROUP_WAIT:?}: {}",
                held.join(", ")
            );
        }
        if ctx.groups().protocol == GroupProtocol::Consumer {
            // A KIP-848 member learns about a rebalance from the answer to
            // its next heartbeat, and the embedded cluster asks for one every
            // 3 s (a real broker: group.consumer.heartbeat.interval.ms, 5 s).
            // Subscribing again to the same topic makes librdkafka send one
            // right away: a shortcut that keeps the lesson fast, which
            // applications do not need. (Classic members heartbeat every
            // 100 ms in the course: see `Ctx::consumer_config`.)
            for m in members {
                let subscription = m.consumer.subscription()?;
                let topics = subscription.elements();
                let names: Vec<&str> = topics.iter().map(|e| e.topic()).collect();
                m.consumer.subscribe(&names)?;
            }
        }
        let receives = members.iter().map(|m| Box::pin(m.consumer.recv()));
        if let Ok((message, i, _)) = timeout(LOOK_EVERY, select_all(receives)).await {
            let m = message?;
            bail!(
                "{} received a record while the group was forming: offset {}",
                members[i].name,
                m.offset()
            );
        }
    }
}

/// Who computed the assignment, for the protocol this run uses.
fn who_assigns(ctx: &Ctx) -> &'static str {
    match ctx.groups().protocol {
        GroupProtocol::Consumer => {
            "The group coordinator (a broker) computed this split (KIP-848 consumer protocol)."
        }
        GroupProtocol::Classic => {
            "The group's leader (one member) computed this split (classic protocol)."
        }
    }
}

/// A member leaves its group: closing the consumer sends the broker a
/// "leaving" heartbeat and waits for the answer. librdkafka checks for the
/// answer every 100 ms; do it on a separate thread, so the lesson goes on.
fn leave(member: Member) -> JoinHandle<()> {
    tokio::task::spawn_blocking(move || drop(member))
}

/// Close several consumers at once.
async fn close_all(members: Vec<Member>) -> Result<()> {
    let closing: Vec<JoinHandle<()>> = members.into_iter().map(leave).collect();
    for c in closing {
        c.await?;
    }
    Ok(())
}

/// The partitions currently assigned to a member, sorted.
fn assigned(member: &Member) -> Result<Vec<i32>> {
    let tpl = member.consumer.assignment()?;
    let mut ids: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    ids.sort();
    Ok(ids)
}

/// True if every partition belongs to exactly one of the sets.
fn is_partitioned(sets: &[Vec<i32>]) -> bool {
    let all: Vec<i32> = sets.iter().flatten().copied().collect();
    let distinct: BTreeSet<i32> = all.iter().copied().collect();
    all.len() == distinct.len() && distinct == (0..PARTITIONS).collect()
}

// ANCHOR: deserialize
/// Bytes to a command. A bad payload is a fact about the record, not a
/// reason to stop the consumer: the caller decides what to do with it.
pub fn deserialize(payload: Option<&[u8]>) -> Result<MachineCommand, String> {
    let bytes = payload.ok_or("empty payload")?;
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}
// ANCHOR_END: deserialize

/// Deserialize one record and "execute" it, or send it to the dead-letter
/// topic if it is not a valid command. Returns what happened.
async fn process(
    producer: &FutureProducer,
    dlt: &str,
    member: &Member,
    m: &BorrowedMessage<'_>,
) -> Result<Read> {
    // ANCHOR: process
    let outcome = deserialize(m.payload());
    if let Err(reason) = &outcome {
        // Not a command. Crashing would not help: after a restart the record
        // is still there, and the partition would be stuck behind it forever.
        // Skipping it would lose it. Set it aside, with where it came from and
        // why, and go on. The caller commits only after this send is
        // confirmed, so a crash in between cannot lose the record.
        let partition = m.partition().to_string();
        let offset = m.offset().to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "dlt.error",
                value: Some(reason.as_str()),
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
        producer
            .send(record, WAIT)
            .await
            .map_err(|(e, _)| e)
            .context("writing to the dead-letter topic")?;
    }
    // ANCHOR_END: process
    Ok(Read {
        member: member.name.clone(),
        partition: m.partition(),
        offset: m.offset(),
        outcome,
    })
}

// ANCHOR: commit
/// Mark `m` as processed: the committed offset is the NEXT record to read.
fn commit_next(consumer: &StreamConsumer, m: &BorrowedMessage<'_>) -> Result<()> {
    let mut offsets = TopicPartitionList::new();
    offsets.add_partition_offset(m.topic(), m.partition(), Offset::Offset(m.offset() + 1))?;
    // Sync: wait until the broker has stored it. (`commit_message(m, ..)`
    // does the same +1 for you.)
    consumer
        .commit(&offsets, CommitMode::Sync)
        .context("committing")?;
    Ok(())
}
// ANCHOR_END: commit

async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    payload: &[u8],
) -> Result<(i32, i64)> {
    let delivered = producer
        .send(FutureRecord::to(topic).key(key).payload(payload), WAIT)
        .await
        .map_err(|(e, _)| e)
        .with_context(|| format!("producing a record for {key}"))?;
    Ok((delivered.partition, delivered.offset))
}

/// A consumer that reads partition 0 of `topic` from its beginning, outside
/// any group: assign() names the partitions instead of subscribing.
fn dlt_reader(ctx: &Ctx, topic: &str) -> Result<Member> {
    // librdkafka still wants a group.id for assign(); it commits nothing here.
    let consumer: StreamConsumer = ctx
        .client_config()
        .set("group.id", ctx.name("dlt-reader"))
        .create()?;
    // Learn who leads the partition first; without it, librdkafka would look
    // up the partition's first offset only on a retry, 500 ms later.
    consumer.fetch_metadata(Some(topic), WAIT)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    Ok(Member {
        name: "dlt-reader".to_string(),
        consumer,
    })
}

/// Read `count` records of the dead-letter topic.
async fn read_dead_letters(reader: &Member, count: usize) -> Result<Vec<DeadLetter>> {
    let reader = &reader.consumer;
    let mut out = Vec::new();
    while out.len() < count {
        let m = timeout(WAIT, reader.recv())
            .await
            .context("reading the dead-letter topic")??;
        let header = |name: &str| -> String {
            m.headers()
                .and_then(|h| h.iter().find(|h| h.key == name).and_then(|h| h.value))
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        out.push(DeadLetter {
            key: m
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default(),
            payload: m.payload().unwrap_or_default().to_vec(),
            source_topic: header("dlt.topic"),
            source_partition: header("dlt.partition").parse().unwrap_or(-1),
            source_offset: header("dlt.offset").parse().unwrap_or(-1),
            error: header("dlt.error"),
        });
    }
    Ok(out)
}

/// Computes a group's lag. It carries the group's id to ask for its committed
/// offsets but never subscribes: it is not a member and changes nothing.
struct LagObserver {
    consumer: BaseConsumer,
    topic: String,
}

impl LagObserver {
    fn new(ctx: &Ctx, group: &str, topic: &str) -> Result<LagObserver> {
        let consumer = ctx
            .client_config()
            .set("group.id", ctx.name(group))
            .create()?;
        Ok(LagObserver {
            consumer,
            topic: topic.to_string(),
        })
    }

    // ANCHOR: lag
    /// Lag per partition: the high watermark minus the committed offset.
    fn lag(&self) -> Result<Vec<Lag>> {
        let mut partitions = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            partitions.add_partition(&self.topic, p);
        }
        // The group's committed offsets (an OffsetFetch request)...
        let committed = self.consumer.committed_offsets(partitions, WAIT)?;
        let mut rows = Vec::new();
        for p in 0..PARTITIONS {
            // ...and each partition's high watermark (a ListOffsets request).
            let (low, high) = self.consumer.fetch_watermarks(&self.topic, p, WAIT)?;
            let committed = match committed.find_partition(&self.topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(n)) => Some(n),
                _ => None, // the group never committed this partition
            };
            // Nothing committed yet: every record still kept is waiting.
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
}

fn show_lag(ctx: &Ctx, when: &str, rows: &[Lag]) {
    say!(ctx, "Lag of group \"{GROUP}\", {when}:");
    say!(ctx, "  partition  high watermark  committed offset  lag");
    for r in rows {
        let committed = r
            .committed
            .map(|c| c.to_string())
            .unwrap_or_else(|| "none".into());
        say!(
            ctx,
            "  {:>9}  {:>14}  {:>16}  {:>3}",
            r.partition,
            r.high_watermark,
            committed,
            r.lag
        );
    }
    let total: i64 = rows.iter().map(|r| r.lag).sum();
    say!(
        ctx,
        "  {:>9}  {:>14}  {:>16}  {:>3}",
        "total",
        "",
        "",
        total
    );
}

fn describe(outcome: &Result<MachineCommand, String>) -> String {
    match outcome {
        Ok(cmd) => cmd.label(),
        Err(reason) => format!("MALFORMED -> dead-letter topic ({reason})"),
    }
}

fn show_set(ids: &[i32]) -> String {
    let parts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    format!("partitions [{}]", parts.join(", "))
}
