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
//! `run` calls one function per section of the page, in order; what they
//! share (the topics, one producer, the lag observer) is a `Site`.
//!
//! Run it: `just lesson-4` or `cargo run --release -- lesson 4`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use futures::future::select_all;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

use crate::kit::{Ctx, GroupProtocol, GROUP_WAIT};
use crate::workshop::MachineCommand;
use crate::{say, tr, tr_static};

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

/// Every wait of the lesson that does not wait for a group is bounded by
/// this. (Waits for a group's partitions or records are bounded by
/// [`GROUP_WAIT`], and then explained.)
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
    /// While member-b joined: the members' rebalance callbacks, in order.
    pub b_joins: Vec<Change>,
    /// Replaying `b_joins`: how many times a partition had two owners.
    pub overlaps: usize,
    /// While member-b left: the members' rebalance callbacks, in order.
    pub b_leaves: Vec<Change>,
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

/// One rebalance callback of one member: what librdkafka told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub member: String,
    /// `true`: the member gives `partitions` up; `false`: it gets them.
    pub revoked: bool,
    pub partitions: Vec<i32>,
    /// The member's whole assignment once the change is made.
    pub holds: Vec<i32>,
}

/// One member of a consumer group: a name for the narration, its group
/// (logical name), and its consumer.
pub struct Member {
    name: String,
    group: &'static str,
    consumer: StreamConsumer<Watched>,
    /// The partitions whose end it has reached (an end-of-partition event).
    at_end: RefCell<BTreeSet<i32>>,
}

/// What the sections share: the cluster, the two topics (actual names),
/// one producer, the lag observer of group "machines", and what the
/// lesson records along the way.
struct Site<'a> {
    ctx: &'a Ctx,
    topic: String,
    dlt: String,
    producer: FutureProducer,
    observer: LagObserver,
    /// Every member's rebalance callbacks, in the order they ran.
    changes: Changes,
    /// The lag tables printed so far.
    lag_tables: RefCell<Vec<Vec<Lag>>>,
    /// Clients being closed on other threads; `run` waits for them last.
    closing: RefCell<Vec<JoinHandle<()>>>,
}

/// Group "machines" once both members have joined.
struct Pair {
    a: Member,
    b: Member,
    assignment: BTreeMap<String, Vec<i32>>,
    b_joins: Vec<Change>,
    overlaps: usize,
}

pub async fn run(ctx: &Ctx) -> Result<Report> {
    let site = Site::new(ctx).await?;
    let pair = one_group_two_members(&site).await?;
    let produced = commands_and_malformed(&site).await?;
    let group_reads = members_read(&site, &pair, &produced).await?;
    let dead_letters = dead_letter_topic(&site, &produced, &group_reads).await?;
    let audit_reads = second_group(&site, &produced, &group_reads).await?;
    let Pair {
        a,
        b,
        assignment,
        b_joins,
        overlaps,
    } = pair;
    let (a, b_leaves, written) = lag_and_leaving(&site, a, b).await?;
    let crash = commit_crash_restart(&site, a, &written).await?;
    let late = new_group_start(&site, &audit_reads).await?;
    for closing in site.closing.take() {
        closing.await?;
    }
    Ok(Report {
        topic: site.topic,
        dlt: site.dlt,
        produced,
        assignment,
        b_joins,
        overlaps,
        b_leaves,
        group_reads,
        audit_reads,
        dead_letters,
        lag_tables: site.lag_tables.into_inner(),
        crash,
        late,
    })
}

impl<'a> Site<'a> {
    /// Create the topics, before any client exists (see `kit::mock_pause`),
    /// then the producer and the lag observer.
    async fn new(ctx: &'a Ctx) -> Result<Site<'a>> {
        let topic = ctx
            .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
            .await?;
        let dlt = ctx.create_topic(DLT, 1, REPLICATION_FACTOR).await?;
        let producer: FutureProducer = ctx
            .client_config()
            .set("linger.ms", "0")
            .create()
            .context(tr!("creating the producer"))?;
        let observer = LagObserver::new(ctx, GROUP, &topic)?;
        Ok(Site {
            ctx,
            topic,
            dlt,
            producer,
            observer,
            changes: Changes::default(),
            lag_tables: RefCell::new(Vec::new()),
            closing: RefCell::new(Vec::new()),
        })
    }

    /// A new member of `group`, subscribed to the topic.
    fn join(&self, group: &'static str, name: &str, reset: &str) -> Result<Member> {
        join(self.ctx, &self.changes, group, name, &self.topic, reset)
    }

    /// Print group "machines"' lag `when`, and keep the table for the report.
    fn show_lag(&self, when: &str) -> Result<Vec<Lag>> {
        let table = self.observer.lag()?;
        show_lag(self.ctx, when, &table);
        self.lag_tables.borrow_mut().push(table.clone());
        Ok(table)
    }

    /// Close `client` on another thread; `run` waits for it at the end.
    fn close_later<T: Send + 'static>(&self, client: T) {
        self.closing.borrow_mut().push(leave(client));
    }
}

/// Section "One group, two members": member-a joins, then member-b, and
/// the group splits the partitions between them.
async fn one_group_two_members(site: &Site<'_>) -> Result<Pair> {
    let ctx = site.ctx;
    ctx.section(&tr!("One group, two members"));
    say!(
        ctx,
        "Group \"{GROUP}\" executes the commands of topic \"{TOPIC}\" ({PARTITIONS} partitions)."
    );
    say!(
        ctx,
        "Its members join before any command is written, as a running service would."
    );
    say!(ctx, "");
    let a = site.join(GROUP, "member-a", "earliest")?;
    settle(ctx, &[&a], |sets| sets[0].len() == PARTITIONS as usize).await?;
    // Wait until member-a is really reading: it has reached the end of each
    // of its (still empty) partitions. On the embedded cluster, librdkafka
    // 2.12 with the classic protocol was seen to revoke a partition whose
    // fetcher was still starting, and go on fetching it unseen: when the
    // partition came back to that member, it handed out those old records.
    at_end(ctx, &a).await?;
    let before = assigned(&a)?;
    say!(
        ctx,
        "member-a joins alone: member-a has {}",
        show_set(&before)
    );

    let mark = site.changes.len();
    let b = site.join(GROUP, "member-b", "earliest")?;
    settle(ctx, &[&a, &b], |sets| {
        is_partitioned(sets) && sets.iter().all(|s| !s.is_empty())
    })
    .await?;
    let b_joins = site.changes.since(mark);
    let assignment: BTreeMap<String, Vec<i32>> = [&a, &b]
        .iter()
        .map(|m| Ok((m.name.clone(), assigned(m)?)))
        .collect::<Result<_>>()?;
    say!(ctx, "member-b joins, and the group rebalances:");
    say!(
        ctx,
        "  member-a has {}, member-b has {}",
        show_set(&assignment["member-a"]),
        show_set(&assignment["member-b"])
    );
    say!(ctx, "");
    tell_split(ctx, &assignment);
    let overlaps = tell_rebalance(ctx, &before, &b_joins);
    Ok(Pair {
        a,
        b,
        assignment,
        b_joins,
        overlaps,
    })
}

/// Whether each partition has exactly one owner, and who computed the split.
fn tell_split(ctx: &Ctx, assignment: &BTreeMap<String, Vec<i32>>) {
    let sets: Vec<Vec<i32>> = assignment.values().cloned().collect();
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
}

/// What member-b's joining did to member-a (which held `before`), said
/// from their rebalance callbacks. Returns how many times, replaying the
/// callbacks in order, a partition had two owners.
fn tell_rebalance(ctx: &Ctx, before: &[i32], changes: &[Change]) -> usize {
    let kept = kept(before, changes, "member-a");
    let what = what_changed("member-a", before, changes);
    say!(ctx, "{}", rebalance_style(ctx, &what, &kept));
    let holders = BTreeMap::from([("member-a".to_string(), before.to_vec())]);
    let overlaps = two_owners(&holders, changes);
    let moved = changes
        .iter()
        .filter(|c| c.member == "member-b" && !c.revoked)
        .flat_map(|c| c.partitions.clone())
        .collect::<BTreeSet<i32>>();
    let moved: Vec<i32> = moved.into_iter().collect();
    if overlaps == 0 && released_first(changes, "member-a", "member-b", &moved) {
        say!(
            ctx,
            "Their rebalance callbacks, in the order they ran, show that no partition had\n\
             two owners: member-a gave up {} before member-b got them.",
            show_set(&moved)
        );
    } else {
        say!(
            ctx,
            "Their rebalance callbacks, in the order they ran, show a partition with two\n\
             owners ({overlaps} time(s)), or given to member-b before member-a gave it up."
        );
    }
    overlaps
}

/// Section "Commands, and a few malformed records": the first batch,
/// twelve commands and three records that are not commands. Returns what
/// was written, in send order.
async fn commands_and_malformed(site: &Site<'_>) -> Result<Vec<Produced>> {
    let ctx = site.ctx;
    ctx.section(&tr!("Commands, and a few malformed records"));
    let mut produced = Vec::new();
    for (key, payload, good) in first_batch()? {
        let (partition, offset) =
            send(&site.producer, &site.topic, &key, payload.as_bytes()).await?;
        produced.push(Produced {
            key,
            payload,
            partition,
            offset,
            good,
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
    Ok(produced)
}

/// The first batch, in send order: (key, payload, whether it is a command).
fn first_batch() -> Result<Vec<(String, String, bool)>> {
    let mut good: Vec<MachineCommand> = FIRST_LOTS
        .iter()
        .flat_map(|lot| MachineCommand::sequence(lot))
        .collect();
    // Interleave the lots (A1 B1 C1 D1 A2 ...), as commands arrive in a workshop.
    good.sort_by_key(|c| c.step);
    let mut batch = Vec::new();
    for (i, cmd) in good.iter().enumerate() {
        batch.push((cmd.lot.clone(), serde_json::to_string(cmd)?, true));
        for (after, key, payload) in MALFORMED {
            if after == i + 1 {
                batch.push((key.to_string(), payload.to_string(), false));
            }
        }
    }
    Ok(batch)
}

/// Section "The members read, deserialize, dead-letter and commit": the
/// two members read the first batch. Returns what they read, in order.
async fn members_read(site: &Site<'_>, pair: &Pair, produced: &[Produced]) -> Result<Vec<Read>> {
    let Site {
        ctx, producer, dlt, ..
    } = site;
    let Pair { a, b, .. } = pair;
    ctx.section(&tr!(
        "The members read, deserialize, dead-letter and commit"
    ));
    let mut reads = Vec::new();
    let deadline = Instant::now() + GROUP_WAIT;
    while reads.len() < produced.len() {
        // ANCHOR: loop
        // Whichever member has a record ready: each one reads only its own
        // partitions, in offset order within each partition.
        let (member, m) = next_record(ctx, &[a, b], deadline).await?;
        let read = process(producer, dlt, member, &m).await?;
        // Only now, with the work done, record that the group is past it.
        commit_next(member, &m)?;
        // ANCHOR_END: loop
        reads.push(read);
    }
    tell_reads(ctx, &pair.assignment, &reads);
    Ok(reads)
}

/// What each member read, against its partitions (`assignment`), and what
/// became of the malformed records.
fn tell_reads(ctx: &Ctx, assignment: &BTreeMap<String, Vec<i32>>, reads: &[Read]) {
    // The two members read concurrently: show what each read, sorted, so
    // the printout does not depend on which one was faster.
    let mut shown = reads.to_vec();
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
    for (name, partitions) in assignment {
        let mine = reads.iter().filter(|r| &r.member == name);
        let own = mine.clone().all(|r| partitions.contains(&r.partition));
        let n = mine.count();
        let set = show_set(partitions);
        if own {
            say!(ctx, "{name} read {n} records, all from its own {set}.");
        } else {
            say!(ctx, "{name} read {n} records, NOT all from its {set}.");
        }
    }
    let malformed: Vec<&Read> = reads.iter().filter(|r| r.outcome.is_err()).collect();
    // "Went on": each member read on past every malformed record it found.
    let went_on = malformed.iter().all(|bad| {
        reads.iter().any(|r| {
            r.member == bad.member && r.partition == bad.partition && r.offset > bad.offset
        })
    });
    let n = malformed.len();
    if went_on {
        say!(
            ctx,
            "The {n} malformed records went to \"{DLT}\", and the members went on."
        );
    } else {
        say!(
            ctx,
            "The {n} malformed records went to \"{DLT}\", but a member did NOT read past one."
        );
    }
}

/// Section "The dead-letter topic": read it back, outside any group, and
/// check it against what was written and what the members found.
async fn dead_letter_topic(
    site: &Site<'_>,
    produced: &[Produced],
    reads: &[Read],
) -> Result<Vec<DeadLetter>> {
    let ctx = site.ctx;
    ctx.section(&tr!("The dead-letter topic"));
    let found_bad: BTreeSet<(i32, i64)> = reads
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| (r.partition, r.offset))
        .collect();
    let reader = dlt_reader(ctx, &site.dlt)?;
    let mut dead_letters = read_dead_letters(&reader, found_bad.len()).await?;
    let (_, dlt_size) = reader.fetch_watermarks(&site.dlt, 0, WAIT)?;
    site.close_later(reader);
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
    say!(ctx, "");
    tell_dead_letters(ctx, produced, &found_bad, &dead_letters, dlt_size);
    Ok(dead_letters)
}

/// The dead letters, checked against the records written (`produced`),
/// the ones the members found malformed, and the topic's size.
fn tell_dead_letters(
    ctx: &Ctx,
    produced: &[Produced],
    found_bad: &BTreeSet<(i32, i64)>,
    dead_letters: &[DeadLetter],
    dlt_size: i64,
) {
    // Each dead letter against the record written at its source position.
    let written: BTreeMap<(i32, i64), &Produced> = produced
        .iter()
        .map(|p| ((p.partition, p.offset), p))
        .collect();
    let kept = dead_letters.iter().all(|d| {
        let source = written.get(&(d.source_partition, d.source_offset));
        source.is_some_and(|p| p.payload.as_bytes() == d.payload.as_slice() && p.key == d.key)
            && !d.error.is_empty()
    });
    if kept {
        say!(
            ctx,
            "Each is kept with its original bytes and the reason, to fix and replay later."
        );
    } else {
        say!(
            ctx,
            "NOT every one matches the bytes written at its source position, with a reason."
        );
    }
    // All of the topic (the high watermark), and exactly the ones the
    // members found malformed.
    let sources: BTreeSet<(i32, i64)> = dead_letters
        .iter()
        .map(|d| (d.source_partition, d.source_offset))
        .collect();
    if dlt_size as usize == dead_letters.len() && &sources == found_bad {
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
    if dead_letters
        .iter()
        .all(|d| deserialize(Some(&d.payload)).is_err())
    {
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
}

/// Section "A second group reads everything again": group "audit" reads
/// the first batch on its own. Returns what it read.
async fn second_group(
    site: &Site<'_>,
    produced: &[Produced],
    group_reads: &[Read],
) -> Result<Vec<Read>> {
    let ctx = site.ctx;
    ctx.section(&tr!("A second group reads everything again"));
    let auditor = site.join(AUDIT_GROUP, "auditor", "earliest")?;
    let mut reads = Vec::new();
    let deadline = Instant::now() + GROUP_WAIT;
    while reads.len() < produced.len() {
        let (member, m) = next_record(ctx, &[&auditor], deadline).await?;
        reads.push(Read {
            member: member.name.clone(),
            partition: m.partition(),
            offset: m.offset(),
            outcome: deserialize(m.payload()),
        });
        commit_next(member, &m)?;
    }
    site.close_later(auditor);
    tell_audit(ctx, produced, group_reads, &reads);
    Ok(reads)
}

/// What group "audit" read (`reads`), against what was written and what
/// group "machines" read.
fn tell_audit(ctx: &Ctx, produced: &[Produced], group_reads: &[Read], reads: &[Read]) {
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = reads
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
    say!(ctx, "");
    let positions = |reads: &[Read]| -> BTreeSet<(i32, i64)> {
        reads.iter().map(|r| (r.partition, r.offset)).collect()
    };
    let written: BTreeSet<(i32, i64)> = produced.iter().map(|p| (p.partition, p.offset)).collect();
    let commands = reads.iter().filter(|r| r.outcome.is_ok()).count();
    let n = reads.len();
    if positions(reads) == written {
        say!(
            ctx,
            "{n} records ({commands} commands): every record written, again."
        );
    } else {
        say!(
            ctx,
            "{n} records ({commands} commands): NOT every record, again."
        );
    }
    if positions(group_reads) == written {
        say!(
            ctx,
            "Group \"{GROUP}\" had read them all too: each group has its own committed\n\
             offsets, so what one group reads takes nothing from another."
        );
    } else {
        say!(ctx, "Group \"{GROUP}\" had NOT read them all.");
    }
}

/// Section "Lag, and a member leaving": lag after the first batch;
/// member-b leaves; a second batch arrives. Returns member-a, the
/// rebalance callbacks while member-b left, and where the batch went.
async fn lag_and_leaving(
    site: &Site<'_>,
    a: Member,
    b: Member,
) -> Result<(Member, Vec<Change>, Vec<(i32, i64)>)> {
    let ctx = site.ctx;
    ctx.section(&tr!("Lag, and a member leaving"));
    site.show_lag(&tr!("after the first batch"))?;
    say!(ctx, "");
    say!(
        ctx,
        "member-b leaves the group (it shuts down cleanly), and the group rebalances:"
    );
    let before = assigned(&a)?;
    let mark = site.changes.len();
    let b_left = leave(b);
    settle(ctx, &[&a], |sets| sets[0].len() == PARTITIONS as usize).await?;
    b_left.await?;
    let b_leaves = site.changes.since(mark);
    say!(ctx, "  {}", what_changed("member-a", &before, &b_leaves));
    say!(ctx, "  member-a now has {}", show_set(&assigned(&a)?));

    say!(ctx, "");
    let mut written = Vec::new();
    for cmd in MachineCommand::sequence(SECOND_LOT) {
        let json = serde_json::to_string(&cmd)?;
        let (partition, offset) =
            send(&site.producer, &site.topic, &cmd.lot, json.as_bytes()).await?;
        say!(
            ctx,
            "new command: partition {partition} offset {offset}  {}",
            cmd.label()
        );
        written.push((partition, offset));
    }
    ensure!(
        written.iter().all(|(p, _)| *p == written[0].0),
        tr!("one lot, one partition")
    );
    say!(ctx, "");
    site.show_lag(&tr!("after the second batch was written"))?;
    Ok((a, b_leaves, written))
}

/// Section "Commit, crash, restart": member-a commits one new command,
/// processes the next and crashes; restarted, it resumes at the committed
/// offset.
async fn commit_crash_restart(site: &Site<'_>, a: Member, written: &[(i32, i64)]) -> Result<Crash> {
    let ctx = site.ctx;
    ctx.section(&tr!("Commit, crash, restart"));
    let partition = written[0].0;
    let processed = crash(site, a).await?;
    say!(ctx, "");
    let committed_at_crash = site
        .show_lag(&tr!("after the crash"))?
        .iter()
        .find(|l| l.partition == partition)
        .and_then(|l| l.committed)
        .context(tr!("no committed offset for the crashed partition"))?;

    say!(ctx, "");
    say!(ctx, "member-a restarts, and joins the group again:");
    // The restarted member must read everything from the committed offset on.
    let pending = written
        .iter()
        .filter(|(_, o)| *o >= committed_at_crash)
        .count();
    let reread = restart(site, pending, &processed).await?;
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
    let offsets: Vec<i64> = written.iter().map(|(_, o)| *o).collect();
    tell_redelivery(ctx, &offsets, &processed, committed_at_crash, &reread);
    say!(ctx, "");
    site.show_lag(&tr!("after the restart caught up"))?;
    Ok(Crash {
        partition,
        written: offsets,
        processed,
        committed_at_crash,
        reread,
    })
}

/// member-a processes two of the new commands, commits only the first,
/// and crashes. Returns the offsets it processed.
async fn crash(site: &Site<'_>, a: Member) -> Result<Vec<i64>> {
    let Site {
        ctx, producer, dlt, ..
    } = site;
    let mut processed = Vec::new();
    let deadline = Instant::now() + GROUP_WAIT;
    // ANCHOR: crash
    // member-a executes the first new command and commits it...
    {
        let (_, m) = next_record(ctx, &[&a], deadline).await?;
        let read = process(producer, dlt, &a, &m).await?;
        commit_next(&a, &m)?;
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
        let (_, m) = next_record(ctx, &[&a], deadline).await?;
        let read = process(producer, dlt, &a, &m).await?;
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
    Ok(processed)
}

/// A new member-a joins group "machines" and reads `count` records, saying
/// which of them it had processed before the crash. Returns their offsets.
async fn restart(site: &Site<'_>, count: usize, processed: &[i64]) -> Result<Vec<i64>> {
    let Site {
        ctx, producer, dlt, ..
    } = site;
    let restarted = site.join(GROUP, "member-a", "earliest")?;
    let mut reread = Vec::new();
    let deadline = Instant::now() + GROUP_WAIT;
    while reread.len() < count {
        let (member, m) = next_record(ctx, &[&restarted], deadline).await?;
        let read = process(producer, dlt, member, &m).await?;
        commit_next(member, &m)?;
        let again = if processed.contains(&m.offset()) {
            tr_static!("  <- again")
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
    site.close_later(restarted);
    Ok(reread)
}

/// What the crash cost, from the offsets: processed twice, and skipped.
fn tell_redelivery(ctx: &Ctx, written: &[i64], processed: &[i64], committed: i64, reread: &[i64]) {
    let twice: Vec<i64> = processed
        .iter()
        .copied()
        .filter(|o| reread.contains(o))
        .collect();
    let skipped = written
        .iter()
        .filter(|o| !processed.contains(o) && !reread.contains(o))
        .count();
    let list: Vec<String> = twice.iter().map(|o| o.to_string()).collect();
    if twice.is_empty() {
        say!(ctx, "Processed twice: none.");
    } else if twice.iter().all(|o| *o >= committed) {
        say!(
            ctx,
            "Processed twice: offset {}, done after the last commit and before the crash.",
            list.join(", ")
        );
    } else {
        say!(
            ctx,
            "Processed twice: offset {}, some of it BEFORE the last commit.",
            list.join(", ")
        );
    }
    if !twice.is_empty() && skipped == 0 {
        say!(
            ctx,
            "That is at-least-once delivery. Skipped: {skipped} records."
        );
    } else {
        say!(ctx, "Skipped: {skipped} records.");
    }
}

/// Section "Where a new group starts: auto.offset.reset": group
/// "dashboard", with no committed offset and `latest`, joins; one more
/// command is written; it reads only that one.
async fn new_group_start(site: &Site<'_>, audit_reads: &[Read]) -> Result<Late> {
    let ctx = site.ctx;
    ctx.section(&tr!("Where a new group starts: auto.offset.reset"));
    let late_observer = LagObserver::new(ctx, LATE_GROUP, &site.topic)?;
    let never_committed = late_observer.lag()?.iter().all(|l| l.committed.is_none());
    site.close_later(late_observer);
    let marks = site.observer.watermarks()?;
    let dashboard = site.join(LATE_GROUP, "dashboard", "latest")?;
    let at_end = at_end(ctx, &dashboard).await?;
    let cmd = MachineCommand::step(LAST_LOT, 1);
    let json = serde_json::to_string(&cmd)?;
    let written = send(&site.producer, &site.topic, &cmd.lot, json.as_bytes()).await?;
    let (_, m) = next_record(ctx, &[&dashboard], Instant::now() + GROUP_WAIT).await?;
    let first_read = (m.partition(), m.offset());
    drop(m);
    site.close_later(dashboard);
    if never_committed {
        say!(
            ctx,
            "Group \"{LATE_GROUP}\" has no committed offset and auto.offset.reset=latest."
        );
    } else {
        say!(
            ctx,
            "Group \"{LATE_GROUP}\" HAS committed offsets (unexpected), and auto.offset.reset=latest."
        );
    }
    say!(
        ctx,
        "After it joined, one more command was written ({}).",
        cmd.label()
    );
    let late = Late {
        high_watermarks: marks.iter().map(|(p, (_, high))| (*p, *high)).collect(),
        written,
        first_read,
    };
    let there: i64 = marks.values().map(|(low, high)| high - low).sum();
    tell_late(ctx, &late, at_end, there, audit_reads);
    Ok(late)
}

/// Where group "dashboard" started: its first record against the high
/// watermarks when it joined (`there` records were stored then), and
/// where group "audit" had started.
fn tell_late(ctx: &Ctx, late: &Late, at_end: usize, there: i64, audit_reads: &[Read]) {
    let (p, o) = late.first_read;
    if late.high_watermarks.get(&p) == Some(&o) {
        say!(
            ctx,
            "The first record it read: partition {p} offset {o}, the high watermark when it joined."
        );
    } else {
        say!(ctx, "The first record it read: partition {p} offset {o}.");
    }
    say!(
        ctx,
        "Before that it had reached the end of all {at_end} partitions without reading any of\n\
         the {there} records already there. {}",
        audit_start(audit_reads)
    );
}

/// Where group "audit" (earliest) started, from what it read.
fn audit_start(reads: &[Read]) -> String {
    let mut first = BTreeMap::new();
    for r in reads {
        first.entry(r.partition).or_insert(r.offset);
    }
    let offsets: BTreeSet<i64> = first.values().copied().collect();
    match offsets.iter().collect::<Vec<_>>().as_slice() {
        [one] => tr!("\"{AUDIT_GROUP}\" (earliest) started at offset {one}."),
        _ => tr!("\"{AUDIT_GROUP}\" (earliest) started at offsets {first:?}."),
    }
}

/// A new member of `group`, subscribed to `topic`, whose rebalances go to
/// `changes`. `reset` says where it starts in a partition the group has
/// never committed an offset for.
fn join(
    ctx: &Ctx,
    changes: &Changes,
    group: &'static str,
    name: &str,
    topic: &str,
    reset: &str,
) -> Result<Member> {
    let watched = Watched {
        member: name.to_string(),
        changes: changes.clone(),
        holds: Default::default(),
    };
    // ANCHOR: consumer_config
    let consumer: StreamConsumer<Watched> = ctx
        .consumer_config(group) // group.id, and the group protocol
        // The member's name, which the broker shows in its view of the group.
        .set("client.id", name)
        // Commit only when we say so, after the work is done.
        .set("enable.auto.commit", "false")
        // Where to start in a partition the group has never committed:
        // "earliest" (the oldest record kept) or "latest" (only new records,
        // librdkafka's default).
        .set("auto.offset.reset", reset)
        // Say when the member reaches the end of a partition (an event, not
        // a record): the lesson waits for it to know a member is in place.
        .set("enable.partition.eof", "true")
        // A context of our own: librdkafka calls it at every rebalance, and
        // it writes down what the member was told.
        .create_with_context(watched)
        .with_context(|| tr!("creating consumer {name}"))?;
    consumer.subscribe(&[topic])?;
    // ANCHOR_END: consumer_config
    Ok(Member {
        name: name.to_string(),
        group,
        consumer,
        at_end: RefCell::new(BTreeSet::new()),
    })
}

/// A member's context. librdkafka calls it around each rebalance, from
/// the thread that polls the consumer; this one writes down what the
/// member was told. (An application would commit its finished work here,
/// before a partition is taken away.)
struct Watched {
    member: String,
    changes: Changes,
    /// The member's assignment after its last rebalance callback.
    holds: std::sync::Mutex<Vec<i32>>,
}

impl ClientContext for Watched {}

impl ConsumerContext for Watched {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mut holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        let (revoked, tpl) = match rebalance {
            Rebalance::Assign(tpl) => {
                // What the member holds now: asked of librdkafka, because
                // an assignment is the whole set (classic) or an addition
                // (KIP-848).
                *holds = consumer
                    .assignment()
                    .map(|a| partitions(&a))
                    .unwrap_or_default();
                (false, tpl)
            }
            Rebalance::Revoke(tpl) => {
                // Computed, not asked: a member that leaves revokes its
                // partitions from inside its own close, where asking
                // librdkafka for the assignment can wait forever.
                let gone = partitions(tpl);
                holds.retain(|p| !gone.contains(p));
                (true, tpl)
            }
            Rebalance::Error(_) => return,
        };
        self.changes.push(Change {
            member: self.member.clone(),
            revoked,
            partitions: partitions(tpl),
            holds: holds.clone(),
        });
    }
}

/// Every member's rebalance callbacks, in the order they ran.
#[derive(Clone, Default)]
struct Changes(Arc<Mutex<Vec<Change>>>);

impl Changes {
    fn push(&self, change: Change) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(change);
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The changes since the first `mark` ones.
    fn since(&self, mark: usize) -> Vec<Change> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())[mark..].to_vec()
    }
}

/// The partitions `member` gave up in `changes`.
fn gave_up(changes: &[Change], member: &str) -> BTreeSet<i32> {
    changes
        .iter()
        .filter(|c| c.member == member && c.revoked)
        .flat_map(|c| c.partitions.clone())
        .collect()
}

/// The partitions of `before` that `member` never gave up in `changes`.
fn kept(before: &[i32], changes: &[Change], member: &str) -> Vec<i32> {
    let gave_up = gave_up(changes, member);
    before
        .iter()
        .copied()
        .filter(|p| !gave_up.contains(p))
        .collect()
}

/// What `member`, which held `before`, was told in `changes`: e.g.
/// "member-a kept partitions [0, 1] and gave up partitions [2]".
fn what_changed(member: &str, before: &[i32], changes: &[Change]) -> String {
    let gave_up: Vec<i32> = gave_up(changes, member).into_iter().collect();
    let kept = kept(before, changes, member);
    let now = changes
        .iter()
        .rev()
        .find(|c| c.member == member)
        .map_or(before.to_vec(), |c| c.holds.clone());
    let got: Vec<i32> = now.iter().copied().filter(|p| !kept.contains(p)).collect();
    // One whole sentence per case, so that each language can say it its own way.
    let (g, k, y) = (show_set(&gave_up), show_set(&kept), show_set(&got));
    let m = member;
    match (
        before.is_empty(),
        kept.is_empty(),
        gave_up.is_empty(),
        got.is_empty(),
    ) {
        (true, _, _, true) => m.to_string(),
        (true, _, _, false) => tr!("{m} got {y}"),
        (false, true, _, true) => tr!("{m} gave up {g} (all it had)"),
        (false, true, _, false) => tr!("{m} gave up {g} (all it had), then got {y}"),
        (false, false, true, true) => tr!("{m} kept {k}"),
        (false, false, false, true) => tr!("{m} kept {k} and gave up {g}"),
        (false, false, true, false) => tr!("{m} kept {k} and got {y}"),
        (false, false, false, false) => tr!("{m} kept {k} and gave up {g} and got {y}"),
    }
}

/// What member-a was told (`what`, from `what_changed`), then how this
/// protocol rebalances, said where member-a's callbacks show it (`kept`:
/// the partitions member-a never gave up). Two lines.
fn rebalance_style(ctx: &Ctx, what: &str, kept: &[i32]) -> String {
    match (ctx.groups().protocol, kept.is_empty()) {
        (GroupProtocol::Consumer, false) => tr!("{what}:\n\
             a KIP-848 rebalance takes away only the partitions that change owner."),
        (GroupProtocol::Classic, true) => tr!("{what}:\n\
             the classic protocol's rebalance is eager: each member first gives up all it has."),
        (GroupProtocol::Consumer, true) => tr!("{what}:\n\
             unlike the usual KIP-848 rebalance, which takes away only what changes owner."),
        (GroupProtocol::Classic, false) => tr!("{what}:\n\
             unlike the usual classic rebalance, where each member first gives up all it has."),
    }
}

/// Replay `changes` in order from `holders` (member -> partitions): how
/// many times a partition was held by two members at once.
fn two_owners(holders: &BTreeMap<String, Vec<i32>>, changes: &[Change]) -> usize {
    let mut holds = holders.clone();
    let mut overlaps = 0;
    for c in changes {
        holds.insert(c.member.clone(), c.holds.clone());
        let all: Vec<i32> = holds.values().flatten().copied().collect();
        if all.len() != all.iter().collect::<BTreeSet<_>>().len() {
            overlaps += 1;
        }
    }
    overlaps
}

/// Whether, in `changes`, `from` gave up each of `moved` before `to` got it.
fn released_first(changes: &[Change], from: &str, to: &str, moved: &[i32]) -> bool {
    let at = |member: &str, revoked: bool, p: i32| {
        changes
            .iter()
            .position(|c| c.member == member && c.revoked == revoked && c.partitions.contains(&p))
    };
    moved
        .iter()
        .all(|p| match (at(from, true, *p), at(to, false, *p)) {
            (Some(released), Some(got)) => released < got,
            _ => false,
        })
}

/// Wait until `member` has reached the end of every partition it has (as
/// an end-of-partition event said, here or while it was polled before),
/// reading no record on the way: nothing was written yet, or it starts at
/// the end. Bounded by [`GROUP_WAIT`]; a member that got no partitions by
/// then is explained. Returns how many partitions it has.
async fn at_end(ctx: &Ctx, member: &Member) -> Result<usize> {
    let deadline = Instant::now() + GROUP_WAIT;
    loop {
        let partitions = assigned(member)?;
        let reached = partitions
            .iter()
            .all(|p| member.at_end.borrow().contains(p));
        if !partitions.is_empty() && reached {
            return Ok(partitions.len());
        }
        match timeout_at(deadline, member.consumer.recv()).await {
            Ok(Err(KafkaError::PartitionEOF(p))) => {
                member.at_end.borrow_mut().insert(p);
            }
            Ok(Ok(m)) => bail!(
                "{}",
                tr!(
                    "{} read partition {} offset {} on its way to the end",
                    member.name,
                    m.partition(),
                    m.offset()
                )
            ),
            Ok(Err(e)) => return Err(e).context(tr!("waiting for the end of the partitions")),
            Err(_) if assigned(member)?.is_empty() => {
                return Err(ctx.no_partitions(member.group, GROUP_WAIT))
            }
            Err(_) => bail!(
                "{}",
                tr!(
                    "{} did not reach the end of its partitions within {GROUP_WAIT:?}",
                    member.name
                )
            ),
        }
    }
}

/// The next record any of `members` receives, and which member got it;
/// end-of-partition events are skipped. At `deadline` (at most
/// [`GROUP_WAIT`] away), members without partitions are explained.
async fn next_record<'m>(
    ctx: &Ctx,
    members: &[&'m Member],
    deadline: Instant,
) -> Result<(&'m Member, BorrowedMessage<'m>)> {
    loop {
        let receives = members.iter().map(|m| Box::pin(m.consumer.recv()));
        match timeout_at(deadline, select_all(receives)).await {
            Ok((Ok(message), i, _)) => return Ok((members[i], message)),
            Ok((Err(KafkaError::PartitionEOF(p)), i, _)) => {
                members[i].at_end.borrow_mut().insert(p);
            }
            Ok((Err(e), i, _)) => {
                return Err(e).with_context(|| tr!("{} receiving", members[i].name))
            }
            Err(_) => return Err(nothing_arrived(ctx, members)?),
        }
    }
}

/// Why no record came in time: members without partitions are explained
/// (`Ctx::no_partitions`); members with partitions are named with them.
fn nothing_arrived(ctx: &Ctx, members: &[&Member]) -> Result<anyhow::Error> {
    let sets = members
        .iter()
        .map(|m| assigned(m))
        .collect::<Result<Vec<_>>>()?;
    if sets.iter().all(|s| s.is_empty()) {
        return Ok(ctx.no_partitions(members[0].group, GROUP_WAIT));
    }
    Ok(anyhow!(tr!(
        "no record arrived within {GROUP_WAIT:?}, though {}",
        holding(members, &sets)
    )))
}

/// "member-a has partitions [0, 1], member-b has partitions [2]".
fn holding(members: &[&Member], sets: &[Vec<i32>]) -> String {
    let held: Vec<String> = members
        .iter()
        .zip(sets)
        .map(|(m, s)| tr!("{} has {}", m.name, show_set(s)))
        .collect();
    held.join(", ")
}

/// Keep the members polling (a consumer takes part in rebalances while it
/// polls) until their assignments satisfy `done`, at most [`GROUP_WAIT`];
/// then a group without partitions is explained.
async fn settle(ctx: &Ctx, members: &[&Member], done: impl Fn(&[Vec<i32>]) -> bool) -> Result<()> {
    let deadline = Instant::now() + GROUP_WAIT;
    loop {
        let sets = members
            .iter()
            .map(|m| assigned(m))
            .collect::<Result<Vec<_>>>()?;
        if done(&sets) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            if sets.iter().all(|s| s.is_empty()) {
                return Err(ctx.no_partitions(members[0].group, GROUP_WAIT));
            }
            bail!(
                "{}",
                tr!(
                    "group \"{}\" did not reach the expected assignment within {GROUP_WAIT:?}: {}",
                    members[0].group,
                    holding(members, &sets)
                )
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
        match timeout(LOOK_EVERY, select_all(receives)).await {
            Ok((Ok(m), i, _)) => bail!(
                "{}",
                tr!(
                    "{} received a record while the group was forming: partition {} offset {}",
                    members[i].name,
                    m.partition(),
                    m.offset()
                )
            ),
            Ok((Err(KafkaError::PartitionEOF(p)), i, _)) => {
                members[i].at_end.borrow_mut().insert(p);
            }
            Err(_) => {}
            Ok((Err(e), i, _)) => {
                return Err(e).with_context(|| tr!("{} receiving", members[i].name))
            }
        }
    }
}

/// Who computed the assignment, for the protocol this run uses.
fn who_assigns(ctx: &Ctx) -> &'static str {
    match ctx.groups().protocol {
        GroupProtocol::Consumer => tr_static!(
            "The group coordinator (a broker) computed this split (KIP-848 consumer protocol)."
        ),
        GroupProtocol::Classic => {
            tr_static!("The group's leader (one member) computed this split (classic protocol).")
        }
    }
}

/// A member leaves its group: closing the consumer sends the broker a
/// "leaving" heartbeat and waits for the answer. librdkafka checks for the
/// answer every 100 ms; do it on a separate thread, so the lesson goes on.
/// (Any client can be closed this way.)
fn leave<T: Send + 'static>(member: T) -> JoinHandle<()> {
    tokio::task::spawn_blocking(move || drop(member))
}

/// The partitions currently assigned to a member, sorted.
fn assigned(member: &Member) -> Result<Vec<i32>> {
    Ok(partitions(&member.consumer.assignment()?))
}

/// The partition numbers of a list, sorted.
fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    let mut ids: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    ids.sort();
    ids
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
            .context(tr!("writing to the dead-letter topic"))?;
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
fn commit_next(member: &Member, m: &BorrowedMessage<'_>) -> Result<()> {
    let mut offsets = TopicPartitionList::new();
    offsets.add_partition_offset(m.topic(), m.partition(), Offset::Offset(m.offset() + 1))?;
    // Sync: wait until the broker has stored it. (`commit_message(m, ..)`
    // does the same +1 for you.)
    member
        .consumer
        .commit(&offsets, CommitMode::Sync)
        .context(tr!("committing"))?;
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
        .with_context(|| tr!("producing a record for {key}"))?;
    Ok((delivered.partition, delivered.offset))
}

/// A consumer that reads partition 0 of `topic` from its beginning, outside
/// any group: assign() names the partitions instead of subscribing.
fn dlt_reader(ctx: &Ctx, topic: &str) -> Result<StreamConsumer> {
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
    Ok(consumer)
}

/// Read `count` records of the dead-letter topic.
async fn read_dead_letters(reader: &StreamConsumer, count: usize) -> Result<Vec<DeadLetter>> {
    let mut out = Vec::new();
    while out.len() < count {
        let m = timeout(WAIT, reader.recv())
            .await
            .context(tr!("reading the dead-letter topic"))??;
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

    /// Each partition's (low, high) watermarks.
    fn watermarks(&self) -> Result<BTreeMap<i32, (i64, i64)>> {
        (0..PARTITIONS)
            .map(|p| Ok((p, self.consumer.fetch_watermarks(&self.topic, p, WAIT)?)))
            .collect()
    }
}

fn show_lag(ctx: &Ctx, when: &str, rows: &[Lag]) {
    say!(ctx, "Lag of group \"{GROUP}\", {when}:");
    say!(ctx, "  partition  high watermark  committed offset  lag");
    for r in rows {
        let committed = r
            .committed
            .map(|c| c.to_string())
            .unwrap_or_else(|| tr!("none"));
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
        tr_static!("total"),
        "",
        "",
        total
    );
}

fn describe(outcome: &Result<MachineCommand, String>) -> String {
    match outcome {
        Ok(cmd) => cmd.label(),
        Err(reason) => tr!("MALFORMED -> dead-letter topic ({reason})"),
    }
}

/// "partitions [0, 1]". The English always says "partitions"; the three
/// messages (none, one, several) let French say "la partition [2]" and
/// "les partitions [0, 1]".
fn show_set(ids: &[i32]) -> String {
    let parts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    match parts.as_slice() {
        [] => tr!("partitions []"),
        [one] => tr!("partitions [{one}]"),
        _ => tr!("partitions [{}]", parts.join(", ")),
    }
}
