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
//! This file is the lesson's stage: `run` calls one function per section of
//! the page, in order; what they share (the topics, one producer, the lag
//! observer) is a `Site`. It narrates, watches the members' rebalances and
//! records the timeline; the groups are kept deterministic by
//! [`crate::kit::groups`]. The Kafka code the chapter shows is in
//! [`program`].
//!
//! Run it: `just lesson-4` or `cargo run --release -- lesson 4`.

pub mod program;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::producer::{FutureProducer, Producer as _};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant};

use crate::ch1_cluster::program as ch1;
use crate::kit::groups::{self, leave, partitions, show_set};
use crate::kit::timeline::TopicPartition;
use crate::kit::{Event, GroupProtocol, Stage, GROUP_WAIT};
use crate::workshop::MachineCommand;
use crate::{say, tr, tr_static};

pub use program::{deserialize, Handled, Lag};

/// A member of one of the lesson's groups, with the context that writes
/// down its rebalances.
pub type Member = groups::Member<Watched>;

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
    /// What the two members read from the first batch, in the order they
    /// handled it: by member, partition and offset.
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
    pub key: Option<String>,
    /// The command, or why the payload did not deserialize.
    pub outcome: Result<MachineCommand, String>,
    /// Where it went on the dead-letter topic: (partition, offset).
    pub dead_letter: Option<(i32, i64)>,
    /// Whether the member committed it (the offset after it).
    pub committed: bool,
}

#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Where it is in the dead-letter topic (partition 0).
    pub offset: i64,
    pub key: String,
    /// The original bytes, untouched.
    pub payload: Vec<u8>,
    /// From the headers: where the record came from, and why it is here.
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    pub error: String,
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
    /// The member's group (logical name).
    pub group: String,
    pub member: String,
    /// `true`: the member gives `partitions` up; `false`: it gets them.
    pub revoked: bool,
    pub partitions: Vec<i32>,
    /// The member's whole assignment once the change is made.
    pub holds: Vec<i32>,
}

/// What the sections share: the cluster, the two topics (actual names),
/// one producer, the lag observer of group "machines", and what the
/// lesson records along the way.
struct Site<'a> {
    ctx: &'a Stage,
    topic: String,
    dlt: String,
    producer: FutureProducer,
    /// Carries group "machines"' id, to read its lag; never subscribes.
    observer: BaseConsumer,
    /// Every member's rebalance callbacks, in the order they ran.
    changes: Changes,
    /// Which of `changes` the timeline has (their indexes).
    recorded: RefCell<BTreeSet<usize>>,
    /// The lag tables printed so far.
    lag_tables: RefCell<Vec<Vec<Lag>>>,
    /// Clients being closed on other threads, with the (group, member)
    /// they were if members; `run` waits for them last.
    closing: RefCell<Vec<Closing>>,
}

/// A client being closed on another thread, and the (group, member) it
/// was if it was a member.
type Closing = (JoinHandle<()>, Option<(String, String)>);

/// Group "machines" once both members have joined.
struct Pair {
    a: Member,
    b: Member,
    assignment: BTreeMap<String, Vec<i32>>,
    b_joins: Vec<Change>,
    overlaps: usize,
}

pub async fn run(ctx: &Stage) -> Result<Report> {
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
    // The members that left gave up their partitions as they closed: their
    // last rebalance callbacks go to the timeline once each has closed, in
    // the order they left.
    for (closing, member) in site.closing.take() {
        closing.await?;
        if let Some((group, name)) = member {
            site.record_changes(&group, &[&name]);
        }
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
    async fn new(ctx: &'a Stage) -> Result<Site<'a>> {
        let topic = ctx
            .create_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR)
            .await?;
        let dlt = ctx.create_topic(DLT, 1, REPLICATION_FACTOR).await?;
        let producer = ch1::producer(ctx.bootstrap()).context(tr!("creating the producer"))?;
        for actual in [&topic, &dlt] {
            ctx.topic_created(producer.client(), actual)?;
        }
        let observer = ctx
            .client_config()
            .set("group.id", ctx.name(GROUP))
            .create()?;
        Ok(Site {
            ctx,
            topic,
            dlt,
            producer,
            observer,
            changes: Changes::default(),
            recorded: RefCell::new(BTreeSet::new()),
            lag_tables: RefCell::new(Vec::new()),
            closing: RefCell::new(Vec::new()),
        })
    }

    /// A new member of `group` (not yet subscribed): see [`join`].
    fn join(&self, group: &'static str, name: &str, reset: &str, eof: bool) -> Result<Member> {
        let member = join(self.ctx, &self.changes, group, name, reset, eof)?;
        self.ctx.record(Event::MemberJoined {
            group: group.to_string(),
            member: name.to_string(),
        });
        Ok(member)
    }

    /// Subscribe `member` to the topic: it joins its group.
    fn subscribe(&self, member: &Member) -> Result<()> {
        member.consumer.subscribe(&[&self.topic])?;
        Ok(())
    }

    /// Write one record to the topic, and record where it was stored.
    async fn send(&self, key: &str, payload: &str) -> Result<(i32, i64)> {
        let (partition, offset) = ch1::send(&self.producer, &self.topic, key, payload)
            .await
            .with_context(|| tr!("producing a record for {key}"))?;
        self.ctx.record(Event::Delivered {
            topic: TOPIC.to_string(),
            partition,
            offset,
            key: Some(key.to_string()),
            value: Some(payload.to_string()),
            producer: None,
        });
        Ok((partition, offset))
    }

    /// Print group "machines"' lag `when`, and keep the table for the report.
    fn show_lag(&self, when: &str) -> Result<Vec<Lag>> {
        let table = program::lag(&self.observer, &self.topic, PARTITIONS)
            .context(tr!("reading the group's lag"))?;
        for row in &table {
            self.ctx.record(Event::Lag {
                group: GROUP.to_string(),
                topic: TOPIC.to_string(),
                partition: row.partition,
                committed: row.committed,
                high: row.high_watermark,
                lag: row.lag,
            });
        }
        show_lag(self.ctx, when, &table);
        self.lag_tables.borrow_mut().push(table.clone());
        Ok(table)
    }

    /// `member` leaves its group: it is closed on another thread; `run`
    /// waits for it at the end.
    fn close_later(&self, member: Member) {
        self.ctx.record(Event::MemberLeft {
            group: member.group.clone(),
            member: member.name.clone(),
        });
        let who = (member.group.clone(), member.name.clone());
        self.closing.borrow_mut().push((leave(member), Some(who)));
    }

    /// Close a client that is not a member on another thread.
    fn close_client_later<T: Send + 'static>(&self, client: T) {
        self.closing.borrow_mut().push((leave(client), None));
    }

    /// Record in the timeline the rebalance callbacks of `members` of
    /// `group` not recorded yet, in the order they ran. The stage calls it
    /// where those callbacks are over (a group has settled, a member has
    /// closed), so that the timeline is the same at every run.
    fn record_changes(&self, group: &str, members: &[&str]) {
        let mut recorded = self.recorded.borrow_mut();
        for (i, c) in self.changes.since(0).into_iter().enumerate() {
            if recorded.contains(&i) || c.group != group || !members.contains(&c.member.as_str()) {
                continue;
            }
            recorded.insert(i);
            let partitions = c
                .partitions
                .iter()
                .map(|p| TopicPartition {
                    topic: TOPIC.to_string(),
                    partition: *p,
                })
                .collect();
            let (group, member) = (c.group.clone(), c.member.clone());
            self.ctx.record(if c.revoked {
                Event::Revoked {
                    group,
                    member,
                    partitions,
                }
            } else {
                Event::Assigned {
                    group,
                    member,
                    partitions,
                }
            });
        }
    }

    /// Record in the timeline what members of `group` read: each record,
    /// where it was dead-lettered, and the offset committed after it.
    fn record_reads(&self, group: &str, reads: &[Read]) {
        for r in reads {
            self.ctx.record(Event::Read {
                group: Some(group.to_string()),
                member: Some(r.member.clone()),
                topic: TOPIC.to_string(),
                partition: r.partition,
                offset: r.offset,
                key: r.key.clone(),
                value: None,
            });
            if let (Some((partition, offset)), Err(reason)) = (r.dead_letter, &r.outcome) {
                self.ctx.record(Event::DeadLettered {
                    topic: TOPIC.to_string(),
                    partition: r.partition,
                    offset: r.offset,
                    dead_letter_topic: DLT.to_string(),
                    dead_letter_partition: partition,
                    dead_letter_offset: offset,
                    reason: reason.clone(),
                });
            }
            if r.committed {
                self.ctx.record(Event::Committed {
                    group: group.to_string(),
                    member: Some(r.member.clone()),
                    topic: TOPIC.to_string(),
                    partition: r.partition,
                    offset: r.offset + 1,
                });
            }
        }
    }
}

/// What `member` read in `m`, and what it did with it (`handled`): not yet
/// committed.
fn read_of(member: &Member, m: &BorrowedMessage<'_>, handled: &Handled) -> Read {
    let (outcome, dead_letter) = match handled {
        Handled::Command(command) => (Ok(command.clone()), None),
        Handled::DeadLettered {
            reason,
            partition,
            offset,
        } => (Err(reason.clone()), Some((*partition, *offset))),
    };
    Read {
        member: member.name.clone(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        outcome,
        dead_letter,
        committed: false,
    }
}

/// `member` handles the record `m` with the program's [`program::handle`]:
/// deserialize, dead-letter or work, commit. The work is to note what it
/// read. Returns it.
async fn handle(site: &Site<'_>, member: &Member, m: &BorrowedMessage<'_>) -> Result<Read> {
    let mut read = None;
    // One record at a time: the work always says to go on.
    let _continue = program::handle(
        &member.consumer,
        &site.producer,
        &site.dlt,
        m,
        &mut |m, handled| {
            read = Some(read_of(member, m, handled));
            Ok(ControlFlow::Continue(()))
        },
    )
    .await
    .with_context(|| tr!("{} handling a record", member.name))?;
    let mut read = read.context(tr!("the work was not called"))?;
    read.committed = true;
    Ok(read)
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
    let a = site.join(GROUP, "member-a", "earliest", true)?;
    site.subscribe(&a)?;
    groups::settle(ctx, &[&a], |sets| sets[0].len() == PARTITIONS as usize).await?;
    // Wait until member-a is really reading: it has reached the end of each
    // of its (still empty) partitions (see `groups::at_end`).
    groups::at_end(ctx, &a).await?;
    site.record_changes(GROUP, &["member-a"]);
    let before = a.assigned()?;
    say!(
        ctx,
        "member-a joins alone: member-a has {}",
        show_set(&before)
    );

    let mark = site.changes.len();
    let b = site.join(GROUP, "member-b", "earliest", true)?;
    site.subscribe(&b)?;
    groups::settle(ctx, &[&a, &b], |sets| {
        is_partitioned(sets) && sets.iter().all(|s| !s.is_empty())
    })
    .await?;
    site.record_changes(GROUP, &["member-a", "member-b"]);
    let b_joins = site.changes.since_in(mark, GROUP);
    let assignment: BTreeMap<String, Vec<i32>> = [&a, &b]
        .iter()
        .map(|m| Ok((m.name.clone(), m.assigned()?)))
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
fn tell_split(ctx: &Stage, assignment: &BTreeMap<String, Vec<i32>>) {
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
fn tell_rebalance(ctx: &Stage, before: &[i32], changes: &[Change]) -> usize {
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
        let (partition, offset) = site.send(&key, &payload).await?;
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
    let ctx = site.ctx;
    let Pair { a, b, .. } = pair;
    ctx.section(&tr!(
        "The members read, deserialize, dead-letter and commit"
    ));
    // Whichever member has a record ready: each one reads only its own
    // partitions, in offset order within each partition.
    let mut received = Vec::new();
    let deadline = Instant::now() + GROUP_WAIT;
    while received.len() < produced.len() {
        received.push(groups::next_record(ctx, &[a, b], deadline).await?);
    }
    // Which partition's records come first depends on which fetch came
    // back first, and so would the order of the dead letters. The stage
    // handles the records in (member, partition, offset) order, so that
    // every run writes the same dead-letter topic and the same timeline.
    received.sort_by(|(x, m), (y, n)| {
        (&x.name, m.partition(), m.offset()).cmp(&(&y.name, n.partition(), n.offset()))
    });
    let mut reads = Vec::new();
    for (member, m) in &received {
        // Each record is handled as the program's consumer loop does
        // (`program::handle`): deserialize, dead-letter or work, commit.
        reads.push(handle(site, member, m).await?);
    }
    drop(received);
    site.record_reads(GROUP, &reads);
    tell_reads(ctx, &pair.assignment, &reads);
    Ok(reads)
}

/// What each member read, against its partitions (`assignment`), and what
/// became of the malformed records.
fn tell_reads(ctx: &Stage, assignment: &BTreeMap<String, Vec<i32>>, reads: &[Read]) {
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
    let (dlt_low, dlt_size) = reader.fetch_watermarks(&site.dlt, 0, WAIT)?;
    site.close_client_later(reader);
    // What the reader read, in the topic's order, then how far it goes.
    for d in &dead_letters {
        ctx.record(Event::Read {
            group: None,
            member: None,
            topic: DLT.to_string(),
            partition: 0,
            offset: d.offset,
            key: Some(d.key.clone()),
            value: None,
        });
    }
    ctx.record(Event::Watermarks {
        topic: DLT.to_string(),
        partition: 0,
        low: dlt_low,
        high: dlt_size,
    });
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
    ctx: &Stage,
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
    let auditor = site.join(AUDIT_GROUP, "auditor", "earliest", true)?;
    site.subscribe(&auditor)?;
    let mut reads = Vec::new();
    let deadline = Instant::now() + GROUP_WAIT;
    while reads.len() < produced.len() {
        // The audit only reads: it deserializes, and commits; the
        // malformed records are already on the dead-letter topic.
        let (member, m) = groups::next_record(ctx, &[&auditor], deadline).await?;
        program::commit_next(&member.consumer, &m).context(tr!("committing"))?;
        reads.push(Read {
            member: member.name.clone(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            outcome: deserialize(m.payload()),
            dead_letter: None,
            committed: true,
        });
    }
    site.record_changes(AUDIT_GROUP, &["auditor"]);
    // The order between partitions depends on when each fetch came back:
    // the timeline has the reads in (partition, offset) order.
    let mut shown = reads.clone();
    shown.sort_by_key(|r| (r.partition, r.offset));
    site.record_reads(AUDIT_GROUP, &shown);
    site.close_later(auditor);
    tell_audit(ctx, produced, group_reads, &reads);
    Ok(reads)
}

/// What group "audit" read (`reads`), against what was written and what
/// group "machines" read.
fn tell_audit(ctx: &Stage, produced: &[Produced], group_reads: &[Read], reads: &[Read]) {
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
    let before = a.assigned()?;
    let mark = site.changes.len();
    ctx.record(Event::MemberLeft {
        group: GROUP.to_string(),
        member: b.name.clone(),
    });
    let b_left = leave(b);
    groups::settle(ctx, &[&a], |sets| sets[0].len() == PARTITIONS as usize).await?;
    b_left.await?;
    site.record_changes(GROUP, &["member-a", "member-b"]);
    // This group's changes only: the auditor (group "audit"), closing on
    // another thread since the previous section, may give up its
    // partitions meanwhile.
    let b_leaves = site.changes.since_in(mark, GROUP);
    say!(ctx, "  {}", what_changed("member-a", &before, &b_leaves));
    say!(ctx, "  member-a now has {}", show_set(&a.assigned()?));

    say!(ctx, "");
    let mut written = Vec::new();
    for cmd in MachineCommand::sequence(SECOND_LOT) {
        let json = serde_json::to_string(&cmd)?;
        let (partition, offset) = site.send(&cmd.lot, &json).await?;
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
    let ctx = site.ctx;
    let deadline = Instant::now() + GROUP_WAIT;
    // member-a executes the first new command and commits it...
    let (_, m) = groups::next_record(ctx, &[&a], deadline).await?;
    let first = handle(site, &a, &m).await?;
    let (p, o) = (m.partition(), m.offset());
    say!(
        ctx,
        "member-a: partition {p} offset {o} {}, commits offset {}",
        describe(&first.outcome),
        o + 1
    );
    drop(m);
    // ...executes the second one, and crashes before committing it: the
    // work fails, and `program::handle` returns at its `?`, before the
    // commit, as the program's loop would.
    let (_, m) = groups::next_record(ctx, &[&a], deadline).await?;
    let mut second = None;
    let crashed = program::handle(
        &a.consumer,
        &site.producer,
        &site.dlt,
        &m,
        &mut |m, handled| {
            second = Some(read_of(&a, m, handled));
            Err(anyhow::Error::new(Crashed))
        },
    )
    .await;
    match crashed {
        Err(e) if e.is::<Crashed>() => {}
        Err(e) => return Err(e).context(tr!("member-a handling a record")),
        Ok(_) => anyhow::bail!("{}", tr!("member-a committed a record it crashed on")),
    }
    let second = second.context(tr!("the work was not called"))?;
    let (p, o) = (m.partition(), m.offset());
    say!(
        ctx,
        "member-a: partition {p} offset {o} {}, then crashes before committing",
        describe(&second.outcome)
    );
    drop(m);
    let processed = vec![first.offset, second.offset];
    site.record_reads(GROUP, &[first, second]);
    ctx.record(Event::MemberCrashed {
        group: GROUP.to_string(),
        member: a.name.clone(),
    });
    // The process dies here. With enable.auto.commit=false nothing is
    // committed behind our back, so closing the consumer now loses exactly
    // what a crash loses: the work done since the last commit. (One
    // difference: a crashed process cannot tell the group it left.)
    leave(a).await?;
    site.record_changes(GROUP, &["member-a"]);
    Ok(processed)
}

/// The work of member-a's last command before the crash fails with this.
#[derive(Debug)]
struct Crashed;

impl std::fmt::Display for Crashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the lesson's simulated crash")
    }
}

impl std::error::Error for Crashed {}

/// A new member-a joins group "machines" and runs the program's consumer
/// loop ([`program::consume`]) for `count` records, saying which of them it
/// had processed before the crash. Returns their offsets.
async fn restart(site: &Site<'_>, count: usize, processed: &[i64]) -> Result<Vec<i64>> {
    let ctx = site.ctx;
    let restarted = site.join(GROUP, "member-a", "earliest", false)?;
    let mut reads = Vec::new();
    let consuming = program::consume(
        &restarted.consumer,
        &site.topic,
        &site.producer,
        &site.dlt,
        |m, handled| {
            let read = read_of(&restarted, m, handled);
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
            reads.push(read);
            Ok(if reads.len() < count {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            })
        },
    );
    groups::within(ctx, &[&restarted], Instant::now() + GROUP_WAIT, consuming)
        .await
        .context(tr!("member-a handling a record"))?;
    // The loop commits each record after its work.
    for r in &mut reads {
        r.committed = true;
    }
    site.record_changes(GROUP, &["member-a"]);
    site.record_reads(GROUP, &reads);
    site.close_later(restarted);
    Ok(reads.iter().map(|r| r.offset).collect())
}

/// What the crash cost, from the offsets: processed twice, and skipped.
fn tell_redelivery(
    ctx: &Stage,
    written: &[i64],
    processed: &[i64],
    committed: i64,
    reread: &[i64],
) {
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
    let never_committed = groups::committed_offsets(ctx, LATE_GROUP, &site.topic, PARTITIONS)?
        .values()
        .all(Option::is_none);
    let marks: BTreeMap<i32, (i64, i64)> = (0..PARTITIONS)
        .map(|p| Ok((p, ch1::watermarks(site.observer.client(), &site.topic, p)?)))
        .collect::<Result<_>>()?;
    for (partition, (low, high)) in &marks {
        ctx.record(Event::Watermarks {
            topic: TOPIC.to_string(),
            partition: *partition,
            low: *low,
            high: *high,
        });
    }
    let dashboard = site.join(LATE_GROUP, "dashboard", "latest", true)?;
    site.subscribe(&dashboard)?;
    let at_end = groups::at_end(ctx, &dashboard).await?;
    site.record_changes(LATE_GROUP, &["dashboard"]);
    let cmd = MachineCommand::step(LAST_LOT, 1);
    let json = serde_json::to_string(&cmd)?;
    let written = site.send(&cmd.lot, &json).await?;
    let (_, m) = groups::next_record(ctx, &[&dashboard], Instant::now() + GROUP_WAIT).await?;
    let first_read = (m.partition(), m.offset());
    site.record_reads(
        LATE_GROUP,
        &[Read {
            member: dashboard.name.clone(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            outcome: deserialize(m.payload()),
            dead_letter: None,
            committed: false,
        }],
    );
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
fn tell_late(ctx: &Stage, late: &Late, at_end: usize, there: i64, audit_reads: &[Read]) {
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

/// A new member of `group` (not subscribed yet), whose rebalances go to
/// `changes`. `reset` says where it starts in a partition the group has
/// never committed an offset for; `eof`, whether it says when it reaches
/// the end of a partition.
fn join(
    ctx: &Stage,
    changes: &Changes,
    group: &'static str,
    name: &str,
    reset: &str,
    eof: bool,
) -> Result<Member> {
    let watched = Watched {
        group: group.to_string(),
        member: name.to_string(),
        changes: changes.clone(),
        holds: Default::default(),
    };
    let consumer: StreamConsumer<Watched> = ctx
        // The program's `consumer_config`, and the course's tuning.
        .consumer_config(group)
        // The member's name, which the broker shows in its view of the group.
        .set("client.id", name)
        // "earliest" (every group of the lesson but the last reads what was
        // written before it joined) or "latest" (only new records).
        .set("auto.offset.reset", reset)
        // Say when the member reaches the end of a partition (an event, not
        // a record): the lesson waits for it to know a member is in place.
        .set("enable.partition.eof", if eof { "true" } else { "false" })
        // A context of our own: librdkafka calls it at every rebalance, and
        // it writes down what the member was told.
        .create_with_context(watched)
        .with_context(|| tr!("creating consumer {name}"))?;
    Ok(Member::new(name, group, ctx.hold(consumer)))
}

/// A member's context. librdkafka calls it around each rebalance, from
/// the thread that polls the consumer; this one writes down what the
/// member was told. (An application would commit its finished work here,
/// before a partition is taken away.)
pub struct Watched {
    group: String,
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
            group: self.group.clone(),
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

    /// The changes of `group` since the first `mark` ones: another group's
    /// member, closing on another thread, may give up its partitions
    /// meanwhile.
    fn since_in(&self, mark: usize, group: &str) -> Vec<Change> {
        let mut changes = self.since(mark);
        changes.retain(|c| c.group == group);
        changes
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
fn rebalance_style(ctx: &Stage, what: &str, kept: &[i32]) -> String {
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

/// Who computed the assignment, for the protocol this run uses.
fn who_assigns(ctx: &Stage) -> &'static str {
    match ctx.groups().protocol {
        GroupProtocol::Consumer => tr_static!(
            "The group coordinator (a broker) computed this split (KIP-848 consumer protocol)."
        ),
        GroupProtocol::Classic => {
            tr_static!("The group's leader (one member) computed this split (classic protocol).")
        }
    }
}

/// True if every partition belongs to exactly one of the sets.
fn is_partitioned(sets: &[Vec<i32>]) -> bool {
    let all: Vec<i32> = sets.iter().flatten().copied().collect();
    let distinct: BTreeSet<i32> = all.iter().copied().collect();
    all.len() == distinct.len() && distinct == (0..PARTITIONS).collect()
}

/// A consumer that reads partition 0 of `topic` from its beginning, outside
/// any group: assign() names the partitions instead of subscribing.
fn dlt_reader(ctx: &Stage, topic: &str) -> Result<StreamConsumer> {
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
            offset: m.offset(),
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

fn show_lag(ctx: &Stage, when: &str, rows: &[Lag]) {
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
