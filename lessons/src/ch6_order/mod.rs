//! Lesson 6: strict order within one topic.
//!
//! A lot's commands must run in order: M1 mill, then M2 drill, then M3 polish.
//! Kafka keeps order only inside one partition, so the three commands share
//! one key (the lot) and therefore one partition. That is necessary, not
//! sufficient:
//!
//! 1. **The producer** can reorder them itself. With several requests in
//!    flight and idempotence off, a retried request lands *after* the ones
//!    that were sent behind it. The lesson injects one retriable error on the
//!    embedded cluster and reads the log back: M2 M3 M1.
//! 2. **The idempotent producer** numbers its records, the broker refuses a
//!    gap, and the same fault leaves the log in order: M1 M2 M3.
//! 3. **The consumer** must execute the commands one at a time and commit a
//!    command's offset only after the machine has done it. A crash between
//!    the work and the commit makes Kafka deliver that command again
//!    (at-least-once), so the machine remembers what it did and skips a
//!    repeat. The lesson crashes its consumer there and restarts it.
//!
//! Run it: `just lesson-6` or `cargo run --release -- lesson 6`.
//!
//! This file is the lesson's stage: it runs the scenario section by
//! section, narrates in the reader's language and records the timeline.
//! The Kafka code the chapter shows is in [`program`].

pub mod program;

use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, Producer};

use crate::kit::timeline::TopicPartition;
use crate::kit::{Event, Stage, GROUP_WAIT};
use crate::workshop::MachineCommand;
use crate::{say, tr};
pub use program::{Outcome, Workshop};

/// The production lot whose three commands the lesson sends.
pub const LOT: &str = "lot-A";
/// The topic written by the producer without idempotence.
pub const TOPIC_PLAIN: &str = "lot-commands-plain";
/// The topic written by the idempotent producer, then read by the controller.
pub const TOPIC_IDEMPOTENT: &str = "lot-commands-idempotent";
pub const PARTITIONS: i32 = 3;
pub const REPLICATION_FACTOR: i32 = 3;
/// The consumer group of the machine controller.
pub const GROUP: &str = "machine-controller";
/// How late every broker answers during the producer demos: long enough
/// for the three requests to be in flight together.
pub const BROKER_RTT: Duration = Duration::from_millis(50);
/// The controller "crashes" right after executing this step of [`LOT`],
/// before committing its offset.
pub const CRASH_AFTER_STEP: u32 = 2;

/// How long any single wait of the lesson may take before it gives up.
const WAIT: Duration = Duration::from_secs(10);
/// The machine controller, as the timeline names the group's one member
/// (the same controller before its crash and after its restart).
const MEMBER: &str = "controller";

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    /// The actual topic names on this cluster.
    pub topic_plain: String,
    pub topic_idempotent: String,
    /// Producer without idempotence, under a fault (embedded cluster only).
    pub plain: Option<Run>,
    /// Idempotent producer (under the scripted fault on the embedded cluster).
    pub idempotent: Run,
    /// Every command the controller received, in order, over both runs.
    pub received: Vec<Received>,
    /// The group's committed offset on the lot's partition right after the crash.
    pub committed_after_crash: i64,
    /// What the machines actually did, in order.
    pub effects: Vec<MachineCommand>,
}

/// One producer run: where each command was delivered, and the log read back.
#[derive(Debug, Clone)]
pub struct Run {
    /// In send order: (command, partition, offset) from the delivery reports.
    pub deliveries: Vec<(MachineCommand, i32, i64)>,
    /// The lot's partition, read back from offset 0.
    pub log: Vec<MachineCommand>,
}

/// One record the controller received.
#[derive(Debug, Clone)]
pub struct Received {
    /// 1: before the crash, 2: after the restart.
    pub session: u32,
    pub offset: i64,
    pub command: MachineCommand,
    pub outcome: Outcome,
}

pub async fn run(ctx: &Stage) -> Result<Report> {
    let commands = MachineCommand::sequence(LOT);
    let (topic_plain, topic_idempotent) = one_key(ctx, &commands).await?;
    // The idempotent producer starts now: it first asks the cluster for its
    // producer id, which takes a moment, and will have it by its turn.
    let idempotent_producer = producer(ctx, true, &topic_idempotent)?;
    let plain = without_idempotence(ctx, &topic_plain, &commands).await?;
    let idempotent =
        with_idempotence(ctx, idempotent_producer, &topic_idempotent, &commands).await?;
    let lot_partition = idempotent.deliveries[0].1;
    let state = sequential_consumer(ctx, &topic_idempotent, lot_partition, &commands).await?;
    Ok(Report {
        topic_plain,
        topic_idempotent,
        plain,
        idempotent,
        received: state.received,
        committed_after_crash: state.committed_after_crash,
        effects: state.workshop.effects,
    })
}

/// Section "One lot, one key, one partition": why the lot is the key, and
/// the two topics of the lesson (their actual names).
async fn one_key(ctx: &Stage, commands: &[MachineCommand]) -> Result<(String, String)> {
    ctx.section(&tr!("One lot, one key, one partition"));
    let labels: Vec<String> = commands
        .iter()
        .map(|c| format!("{} {}", c.machine, c.operation))
        .collect();
    say!(
        ctx,
        "The commands of {LOT} must run in this order: {}.",
        labels.join(&tr!(", then "))
    );
    say!(
        ctx,
        "Kafka keeps order only inside a partition, so each command carries the key\n\
         \"{LOT}\": the producer hashes the key to pick the partition, and the same key\n\
         always picks the same one (as long as the partition count and the partitioner\n\
         do not change)."
    );
    let plain = ctx
        .create_topic(TOPIC_PLAIN, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    let idempotent = ctx
        .create_topic(TOPIC_IDEMPOTENT, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    // The timeline's record of them, through a client that exists only now.
    let client: BaseConsumer = ctx.client_config().create()?;
    ctx.topic_created(client.client(), &plain)?;
    ctx.topic_created(client.client(), &idempotent)?;
    Ok((plain, idempotent))
}

/// Section "Retries without idempotence": on the embedded cluster, one
/// injected retriable error reorders the lot; elsewhere, say why not.
async fn without_idempotence(
    ctx: &Stage,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Option<Run>> {
    ctx.section(&tr!("Retries without idempotence"));
    let Some(mock) = ctx.mock() else {
        say!(
            ctx,
            "Skipped: injecting a retriable error needs the embedded cluster (run the\n\
             lesson without KAFKA_BOOTSTRAP_SERVERS). On a real cluster this reordering\n\
             happens when a transient error (a leader change, NOT_ENOUGH_REPLICAS while a\n\
             broker restarts) hits one request while later ones succeed: it is real, but\n\
             it cannot be triggered on demand."
        );
        return Ok(None);
    };
    say!(
        ctx,
        "Topic \"{TOPIC_PLAIN}\", {PARTITIONS} partitions. The producer sends one record per\n\
         request (linger.ms=0, batch.num.messages=1), keeps up to 5 requests in flight,\n\
         uses acks=all, and has enable.idempotence=false (librdkafka's default)."
    );
    let producer = producer(ctx, false, topic)?;
    // Every broker answers 50 ms late, so the three requests are in
    // flight together; and the first Produce request is refused.
    program::inject_retriable_error(mock, BROKER_RTT)?;
    refusals(ctx, 0);
    say!(
        ctx,
        "Fault: every broker answers {} ms late, and the first Produce request\n\
         is refused with NOT_ENOUGH_REPLICAS, an error the producer retries.",
        BROKER_RTT.as_millis()
    );
    say!(ctx, "");
    let deliveries = send_all(ctx, &producer, topic, commands).await;
    mock.broker_round_trip_time(-1, Duration::ZERO)?;
    let run = read_back(ctx, topic, deliveries?)?;
    show_run(ctx, &run);
    explain_reorder(ctx, &run, commands);
    Ok(Some(run))
}

/// What the log of the run without idempotence shows, from the log itself
/// and the offsets in the delivery reports.
fn explain_reorder(ctx: &Stage, run: &Run, commands: &[MachineCommand]) {
    if run.log == commands {
        say!(
            ctx,
            "In order this time: the fault did not hit while requests were in flight."
        );
        return;
    }
    say!(
        ctx,
        "OUT OF ORDER: {} would run first. Every command was delivered, with\n\
         acks=all: acks says how many replicas store a record, not in which order.",
        run.log[0].label()
    );
    for (cmd, overtaken_by) in overtaken(&run.deliveries) {
        say!(
            ctx,
            "{}'s request failed and was retried; meanwhile the requests sent\n\
             after it ({}) succeeded and took the offsets before it.",
            cmd.label(),
            overtaken_by.join(", ")
        );
    }
}

/// Section "Retries with idempotence": the same settings and, on the
/// embedded cluster, the same fault, with the idempotent producer.
async fn with_idempotence(
    ctx: &Stage,
    producer: FutureProducer,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Run> {
    ctx.section(&tr!("Retries with idempotence"));
    say!(
        ctx,
        "Topic \"{TOPIC_IDEMPOTENT}\": the same settings, but enable.idempotence=true. The\n\
         producer gets a producer id and numbers its records in each partition\n\
         (sequence 0, 1, 2...); the broker appends a record only if it carries the next\n\
         number, so a retry can neither duplicate a record nor overtake one."
    );
    let deliveries = match ctx.mock() {
        Some(mock) => {
            script_refusals(ctx, mock, commands.len() - 1)?;
            let deliveries = send_all(ctx, &producer, topic, commands).await;
            mock.broker_round_trip_time(-1, Duration::ZERO)?;
            deliveries?
        }
        None => {
            say!(ctx, "(No fault on a real cluster: see above.)");
            say!(ctx, "");
            send_all(ctx, &producer, topic, commands).await?
        }
    };
    drop(producer);
    let run = read_back(ctx, topic, deliveries)?;
    show_run(ctx, &run);
    idempotence_verdict(ctx, &run, commands);
    Ok(run)
}

/// Inject the fault again, and script the refusals a real broker adds to it
/// for an idempotent producer (`behind`: the requests in flight behind the
/// failed one).
fn script_refusals(
    ctx: &Stage,
    mock: &MockCluster<'_, DefaultProducerContext>,
    behind: usize,
) -> Result<()> {
    say!(ctx, "");
    say!(
        ctx,
        "Same fault. One thing must be scripted: the embedded cluster checks sequence\n\
         numbers only for transactional producers, and would wrongly accept the records\n\
         behind a failed one (then M1 would be lost, which no real broker allows). A real\n\
         broker refuses them with OUT_OF_ORDER_SEQUENCE_NUMBER, because sequence 0 is\n\
         missing. So the lesson scripts those answers, as librdkafka's own tests do:\n\
         NOT_ENOUGH_REPLICAS for the first request, OUT_OF_ORDER_SEQUENCE_NUMBER for the\n\
         {behind} in flight behind it."
    );
    say!(ctx, "");
    program::script_idempotent_refusals(mock, BROKER_RTT, behind)?;
    refusals(ctx, behind);
    Ok(())
}

/// Record the refusals the lesson asked of the embedded cluster: the first
/// Produce request refused with NOT_ENOUGH_REPLICAS, and the `behind` after
/// it with OUT_OF_ORDER_SEQUENCE_NUMBER. (The 50 ms every broker answers
/// late is a time: not in the timeline.)
fn refusals(ctx: &Stage, behind: usize) {
    let mut errors = vec!["NOT_ENOUGH_REPLICAS".to_string()];
    errors.extend(vec!["OUT_OF_ORDER_SEQUENCE_NUMBER".to_string(); behind]);
    ctx.record(Event::RequestsRefused {
        request: "Produce".to_string(),
        errors,
    });
}

/// What the idempotent run's log shows, and what it does not: on a real
/// cluster nothing was injected, so nothing was retried.
fn idempotence_verdict(ctx: &Stage, run: &Run, commands: &[MachineCommand]) {
    match (run.log == commands, ctx.is_embedded()) {
        (true, true) => say!(
            ctx,
            "IN ORDER: the producer resent the three records in sequence, and the broker\n\
             appended each exactly once."
        ),
        (true, false) => say!(
            ctx,
            "In order, each once. No fault was injected here, so nothing was retried; on the\n\
             embedded cluster the lesson injects one, and the log stays in order all the same."
        ),
        (false, _) => say!(
            ctx,
            "OUT OF ORDER, which idempotence should have prevented: see the log above."
        ),
    }
    say!(
        ctx,
        "Idempotence works per partition and per producer session (a restarted producer\n\
         gets a new id). It needs acks=all, retries, and at most 5 requests in flight.\n\
         librdkafka leaves it off by default; the Java client turns it on by default\n\
         (since 3.0.1, 3.1.1 and 3.2.0) unless a setting such as acks=1 conflicts with it."
    );
}

/// Section "A sequential consumer that commits after the work": the
/// controller crashes between the work and the commit, and restarts.
async fn sequential_consumer(
    ctx: &Stage,
    topic: &str,
    lot_partition: i32,
    commands: &[MachineCommand],
) -> Result<Controller> {
    ctx.section(&tr!("A sequential consumer that commits after the work"));
    say!(
        ctx,
        "The machine controller reads \"{TOPIC_IDEMPOTENT}\" in group \"{GROUP}\".\n\
         The group gives each partition to one member; inside it, the controller handles\n\
         one command at a time and commits a command's offset only once the machine has\n\
         finished it (enable.auto.commit=false, enable.auto.offset.store=false).\n\
         Each machine remembers which (lot, step) it has done, and skips a repeat."
    );
    let mut state = Controller::default();
    say!(ctx, "");
    say!(ctx, "[session 1]");
    controller(ctx, &mut state, topic, 1, Some(CRASH_AFTER_STEP), None).await?;
    state.committed_after_crash = after_crash(ctx, topic, lot_partition, &state)?;
    say!(ctx, "");
    say!(
        ctx,
        "[session 2: the controller restarts in the same group]"
    );
    let resume_at = Some(state.committed_after_crash);
    controller(ctx, &mut state, topic, 2, None, resume_at).await?;
    what_the_machines_did(ctx, &state, commands);
    Ok(state)
}

/// The group's committed offset after the crash, compared with the offset
/// whose work was done.
fn after_crash(ctx: &Stage, topic: &str, partition: i32, state: &Controller) -> Result<i64> {
    let committed = committed_offset(ctx, topic, partition)?;
    let crashed_at = state
        .received
        .last()
        .map(|r| r.offset)
        .context(tr!("the controller received nothing"))?;
    if committed == crashed_at {
        say!(
            ctx,
            "The group's committed offset is still {committed}: the work on offset {crashed_at} is done,\n\
             but Kafka does not know it."
        );
    } else {
        say!(
            ctx,
            "The group's committed offset is {committed}, not {crashed_at} (unexpected!)."
        );
    }
    Ok(committed)
}

/// The machines' record, and what the repeated deliveries did to it.
fn what_the_machines_did(ctx: &Stage, state: &Controller, commands: &[MachineCommand]) {
    say!(ctx, "");
    let effects: Vec<String> = state.workshop.effects.iter().map(|c| c.label()).collect();
    say!(ctx, "What the machines did: {}.", effects.join(", "));
    if state.workshop.effects == commands {
        say!(ctx, "Each command took effect exactly once, in order.");
    } else {
        say!(ctx, "NOT each command exactly once in order: see above.");
    }
    for r in state
        .received
        .iter()
        .filter(|r| r.outcome == Outcome::AlreadyDone)
    {
        say!(
            ctx,
            "{} was delivered twice (at-least-once): the crash came between its work and\n\
             its commit. The machine's memory made the second delivery harmless.",
            r.command.label()
        );
    }
}

/// A producer from chapter 6's program, connected to every partition's
/// leader of `topic`.
fn producer(ctx: &Stage, idempotent: bool, topic: &str) -> Result<FutureProducer> {
    let producer = program::producer(&ctx.client_config(), idempotent)
        .context(tr!("creating the producer"))?;
    // Connect to every partition's leader (asking each for its watermarks)
    // before any fault is injected, so the fault hits the records and not
    // the producer's start-up.
    for partition in 0..PARTITIONS {
        producer
            .client()
            .fetch_watermarks(topic, partition, WAIT)
            .with_context(|| tr!("connecting to the leader of {topic}/{partition}"))?;
    }
    Ok(producer)
}

/// Send `commands` all at once (chapter 6's program), and record where
/// each one landed.
async fn send_all(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Vec<(MachineCommand, i32, i64)>> {
    let deliveries = program::send_all(producer, topic, commands)
        .await
        .with_context(|| tr!("producing the commands of {LOT}"))?;
    for (cmd, partition, offset) in &deliveries {
        ctx.record(Event::Delivered {
            topic: ctx.logical(topic).to_string(),
            partition: *partition,
            offset: *offset,
            key: Some(cmd.lot.clone()),
            value: Some(cmd.label()),
            producer: None,
        });
    }
    Ok(deliveries)
}

/// Read back the partition the deliveries went to.
fn read_back(ctx: &Stage, topic: &str, deliveries: Vec<(MachineCommand, i32, i64)>) -> Result<Run> {
    let partition = deliveries[0].1;
    let log = read_partition(ctx, topic, partition)?;
    // What the log holds, read outside any group.
    for (offset, cmd) in log.iter().enumerate() {
        ctx.record(Event::Read {
            group: None,
            member: None,
            topic: ctx.logical(topic).to_string(),
            partition,
            offset: offset as i64,
            key: Some(cmd.lot.clone()),
            value: None,
        });
    }
    Ok(Run { deliveries, log })
}

fn show_run(ctx: &Stage, run: &Run) {
    say!(ctx, "sent in this order      delivered to");
    for (cmd, partition, offset) in &run.deliveries {
        say!(
            ctx,
            "{:<22}  partition {partition}, offset {offset}",
            cmd.label()
        );
    }
    let partition = run.deliveries[0].1;
    say!(ctx, "The log of partition {partition}, read back:");
    for (offset, cmd) in run.log.iter().enumerate() {
        say!(ctx, "  offset {offset}  {}", cmd.label());
    }
}

/// The commands that other commands sent after them overtook in the log:
/// (command, labels of the commands that overtook it).
fn overtaken(deliveries: &[(MachineCommand, i32, i64)]) -> Vec<(&MachineCommand, Vec<String>)> {
    let mut found = Vec::new();
    for (i, (cmd, _, offset)) in deliveries.iter().enumerate() {
        let by: Vec<String> = deliveries[i + 1..]
            .iter()
            .filter(|(_, _, o)| o < offset)
            .map(|(c, _, _)| c.label())
            .collect();
        if !by.is_empty() {
            found.push((cmd, by));
        }
    }
    found
}

/// True if `log` is the lot's steps 1, 2, 3... each once, in order.
pub fn is_in_order(log: &[MachineCommand]) -> bool {
    log.iter().enumerate().all(|(i, c)| c.step == i as u32 + 1)
}

/// Every command stored in one partition, in offset order, read back with
/// the kit's reader (no group, nothing committed).
pub fn read_partition(ctx: &Stage, topic: &str, partition: i32) -> Result<Vec<MachineCommand>> {
    ctx.read_topic(topic)?
        .iter()
        .filter(|m| m.partition() == partition)
        .map(|m| {
            program::decode(m).with_context(|| tr!("decoding the record at offset {}", m.offset()))
        })
        .collect()
}

/// The machine controller across its sessions: the machines (whose memory
/// survives the controller's crash) and what it received.
#[derive(Default)]
struct Controller {
    workshop: Workshop,
    received: Vec<Received>,
    /// The group's committed offset right after the crash.
    committed_after_crash: i64,
}

/// One session of the machine controller: consume, execute, commit, until the partition is drained
/// (or, if `crash_after` is set, until it has executed that step and
/// "crashes" before committing it). `resume_at`: the offset it should
/// start at, the group's committed offset.
async fn controller(
    ctx: &Stage,
    state: &mut Controller,
    topic: &str,
    session: u32,
    crash_after: Option<u32>,
    resume_at: Option<i64>,
) -> Result<()> {
    let Controller {
        workshop, received, ..
    } = state;
    let consumer = program::controller(&ctx.consumer_config(GROUP), topic)
        .context(tr!("creating the controller"))?;
    // Held for the stage: if the group never forms, closing it does not
    // hold up the explanation (see `kit::closing`).
    let consumer = ctx.hold(consumer);
    ctx.record(Event::MemberJoined {
        group: GROUP.to_string(),
        member: MEMBER.to_string(),
    });
    let last_offset = MachineCommand::sequence(LOT).len() as i64 - 1;
    let mut first = true;
    loop {
        let msg = next_command(ctx, &consumer, first).await?;
        if first {
            // The partitions the group gave this session, as its consumer
            // holds them now that a command came.
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
                group: GROUP.to_string(),
                member: MEMBER.to_string(),
                partitions,
            });
        }
        if let (Some(at), true) = (resume_at, first) {
            resumed_at(ctx, at, msg.offset());
        }
        first = false;
        ctx.record(Event::Read {
            group: Some(GROUP.to_string()),
            member: Some(MEMBER.to_string()),
            topic: ctx.logical(topic).to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            value: None,
        });
        // 1. Do the work; 2. only then commit (or crash in between).
        let (cmd, outcome) = program::process(workshop, &msg)
            .with_context(|| tr!("decoding the record at offset {}", msg.offset()))?;
        ctx.record(Event::Processed {
            group: GROUP.to_string(),
            member: Some(MEMBER.to_string()),
            topic: ctx.logical(topic).to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: Some(cmd.lot.clone()),
            outcome: match outcome {
                Outcome::Done => "done",
                Outcome::AlreadyDone => "already_done",
            }
            .to_string(),
        });
        let done = match outcome {
            Outcome::Done => tr!("done"),
            Outcome::AlreadyDone => tr!("{} already did it: skipped", cmd.machine),
        };
        received.push(Received {
            session,
            offset: msg.offset(),
            command: cmd.clone(),
            outcome,
        });
        if crash_after == Some(cmd.step) {
            say!(
                ctx,
                "offset {}  {:<18} -> {done}",
                msg.offset(),
                cmd.label()
            );
            say!(ctx, "CRASH after the work, before the commit.");
            ctx.record(Event::MemberCrashed {
                group: GROUP.to_string(),
                member: MEMBER.to_string(),
            });
            // Dropping the consumer without committing is what a crash leaves
            // behind. (It also leaves the group politely, which a real crash
            // would not: the group would wait for the session to time out.)
            return Ok(());
        }
        program::commit(&consumer, &msg).context(tr!("committing"))?;
        ctx.record(Event::Committed {
            group: GROUP.to_string(),
            member: Some(MEMBER.to_string()),
            topic: ctx.logical(topic).to_string(),
            partition: msg.partition(),
            offset: msg.offset() + 1,
        });
        say!(
            ctx,
            "offset {}  {:<18} -> {done:<28} committed {}",
            msg.offset(),
            cmd.label(),
            msg.offset() + 1
        );
        if msg.offset() >= last_offset {
            // Dropping the consumer leaves the group cleanly (the record
            // first: closing waits for every message it handed out).
            drop(msg);
            drop(consumer);
            ctx.record(Event::MemberLeft {
                group: GROUP.to_string(),
                member: MEMBER.to_string(),
            });
            return Ok(());
        }
    }
}

/// The controller's next command. The session's first one waits at most
/// [`GROUP_WAIT`]: if the group has given it no partition by then, that is
/// the error (a cluster whose groups do not work, explained).
async fn next_command<'c>(
    ctx: &Stage,
    consumer: &'c StreamConsumer,
    first: bool,
) -> Result<BorrowedMessage<'c>> {
    let wait = if first { GROUP_WAIT } else { WAIT };
    match crate::ch5_buffer::program::next_record(consumer, wait).await? {
        Some(msg) => Ok(msg),
        None if first && consumer.assignment()?.count() == 0 => {
            Err(ctx.no_partitions(GROUP, GROUP_WAIT))
        }
        None => {
            bail!(tr!(
                "group \"{GROUP}\" has its partitions but received no command within {wait:?}"
            ))
        }
    }
}

/// Where the restarted controller began, compared with the committed offset.
fn resumed_at(ctx: &Stage, committed: i64, offset: i64) {
    if offset == committed {
        say!(ctx, "It resumes at the committed offset, {committed}.");
    } else {
        say!(
            ctx,
            "It resumes at offset {offset}, not at the committed offset {committed} (unexpected!)."
        );
    }
}

/// The group's committed offset for one partition (-1 if none).
fn committed_offset(ctx: &Stage, topic: &str, partition: i32) -> Result<i64> {
    let committed = program::committed_offset(&ctx.consumer_config(GROUP), topic, partition)
        .context(tr!("fetching committed offsets"))?;
    Ok(committed.unwrap_or(-1))
}
