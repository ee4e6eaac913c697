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

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::timeout;

use crate::kit::{Ctx, GROUP_WAIT};
use crate::workshop::MachineCommand;
use crate::{say, tr};

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

pub async fn run(ctx: &Ctx) -> Result<Report> {
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
async fn one_key(ctx: &Ctx, commands: &[MachineCommand]) -> Result<(String, String)> {
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
         always picks the same one (as long as the partition count does not change)."
    );
    let plain = ctx
        .create_topic(TOPIC_PLAIN, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    let idempotent = ctx
        .create_topic(TOPIC_IDEMPOTENT, PARTITIONS, REPLICATION_FACTOR)
        .await?;
    Ok((plain, idempotent))
}

/// Section "Retries without idempotence": on the embedded cluster, one
/// injected retriable error reorders the lot; elsewhere, say why not.
async fn without_idempotence(
    ctx: &Ctx,
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
    // ANCHOR: fault
    // Every broker answers 50 ms late, so the three requests are in
    // flight together; and the first Produce request is refused with
    // NOT_ENOUGH_REPLICAS, a retriable error: the producer retries it.
    mock.broker_round_trip_time(-1, BROKER_RTT)?;
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS],
    );
    // ANCHOR_END: fault
    say!(
        ctx,
        "Fault: every broker answers {} ms late, and the first Produce request\n\
         is refused with NOT_ENOUGH_REPLICAS, an error the producer retries.",
        BROKER_RTT.as_millis()
    );
    say!(ctx, "");
    let deliveries = send_all(&producer, topic, commands).await;
    mock.broker_round_trip_time(-1, Duration::ZERO)?;
    let run = read_back(ctx, topic, deliveries?)?;
    show_run(ctx, &run);
    explain_reorder(ctx, &run, commands);
    Ok(Some(run))
}

/// What the log of the run without idempotence shows, from the log itself
/// and the offsets in the delivery reports.
fn explain_reorder(ctx: &Ctx, run: &Run, commands: &[MachineCommand]) {
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
    ctx: &Ctx,
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
            let deliveries = send_all(&producer, topic, commands).await;
            mock.broker_round_trip_time(-1, Duration::ZERO)?;
            deliveries?
        }
        None => {
            say!(ctx, "(No fault on a real cluster: see above.)");
            say!(ctx, "");
            send_all(&producer, topic, commands).await?
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
    ctx: &Ctx,
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
    // ANCHOR: scripted_fault
    // What a real broker answers when the first of three in-flight
    // idempotent requests fails: the two behind it have a gap in
    // their sequence numbers, so they are refused too.
    let mut answers = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS];
    answers.extend([RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER].repeat(behind));
    mock.broker_round_trip_time(-1, BROKER_RTT)?;
    mock.request_errors(RDKafkaApiKey::Produce, &answers);
    // ANCHOR_END: scripted_fault
    Ok(())
}

/// What the idempotent run's log shows, and what it does not: on a real
/// cluster nothing was injected, so nothing was retried.
fn idempotence_verdict(ctx: &Ctx, run: &Run, commands: &[MachineCommand]) {
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
    ctx: &Ctx,
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
fn after_crash(ctx: &Ctx, topic: &str, partition: i32, state: &Controller) -> Result<i64> {
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
fn what_the_machines_did(ctx: &Ctx, state: &Controller, commands: &[MachineCommand]) {
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

/// A producer that sends each record in its own request (`linger.ms=0`,
/// `batch.num.messages=1`) and keeps up to five requests in flight: the
/// pipelining that makes a producer fast, and that lets retries reorder.
fn producer(ctx: &Ctx, idempotent: bool, topic: &str) -> Result<FutureProducer> {
    // ANCHOR: producer
    let producer: FutureProducer = ctx
        .client_config()
        .set("enable.idempotence", idempotent.to_string())
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        .set("linger.ms", "0")
        .set("batch.num.messages", "1")
        .create()
        .context(tr!("creating the producer"))?;
    // ANCHOR_END: producer
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

/// Send `commands` without waiting between them, then wait for every
/// delivery report: (command, partition, offset), in send order.
async fn send_all(
    producer: &FutureProducer,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Vec<(MachineCommand, i32, i64)>> {
    // ANCHOR: send
    // send_result() hands a record to the producer and returns at once: the
    // three records are on their way together, as in any producer that does
    // not wait for each delivery before sending the next.
    let mut pending = Vec::new();
    for cmd in commands {
        let value = serde_json::to_string(cmd)?;
        let record = FutureRecord::to(topic).key(&cmd.lot).payload(&value);
        pending.push(producer.send_result(record).map_err(|(e, _)| e)?);
    }
    // Only now wait for the delivery reports.
    let mut deliveries = Vec::new();
    for (cmd, delivery) in commands.iter().zip(pending) {
        let delivered = timeout(WAIT, delivery)
            .await
            .with_context(|| tr!("no delivery report for {} after {WAIT:?}", cmd.label()))?
            .context(tr!("producer dropped"))?
            .map_err(|(e, _)| e)
            .with_context(|| tr!("producing {}", cmd.label()))?;
        deliveries.push((cmd.clone(), delivered.partition, delivered.offset));
    }
    // ANCHOR_END: send
    Ok(deliveries)
}

/// Read back the partition the deliveries went to.
fn read_back(ctx: &Ctx, topic: &str, deliveries: Vec<(MachineCommand, i32, i64)>) -> Result<Run> {
    let partition = deliveries[0].1;
    let log = read_partition(ctx, topic, partition)?;
    Ok(Run { deliveries, log })
}

fn show_run(ctx: &Ctx, run: &Run) {
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
pub fn read_partition(ctx: &Ctx, topic: &str, partition: i32) -> Result<Vec<MachineCommand>> {
    ctx.read_topic(topic)?
        .iter()
        .filter(|m| m.partition() == partition)
        .map(decode)
        .collect()
}

fn decode(m: &impl Message) -> Result<MachineCommand> {
    let payload = m
        .payload()
        .ok_or_else(|| anyhow!(tr!("a record without a value at offset {}", m.offset())))?;
    serde_json::from_slice(payload)
        .with_context(|| tr!("decoding the record at offset {}", m.offset()))
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
    ctx: &Ctx,
    state: &mut Controller,
    topic: &str,
    session: u32,
    crash_after: Option<u32>,
    resume_at: Option<i64>,
) -> Result<()> {
    let Controller {
        workshop, received, ..
    } = state;
    // ANCHOR: consumer_config
    let consumer: StreamConsumer = ctx
        .consumer_config(GROUP)
        // Commit only when the program says so, and only the offsets it has
        // stored: a command's offset is stored after its work is done.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // A new group starts at the beginning of the log.
        .set("auto.offset.reset", "earliest")
        .create()
        .context(tr!("creating the controller"))?;
    // ANCHOR_END: consumer_config
    consumer.subscribe(&[topic])?;
    let last_offset = MachineCommand::sequence(LOT).len() as i64 - 1;
    let mut first = true;
    loop {
        let msg = next_command(ctx, &consumer, first).await?;
        if let (Some(at), true) = (resume_at, first) {
            resumed_at(ctx, at, msg.offset());
        }
        first = false;
        // ANCHOR: process
        let cmd = decode(&msg)?;
        // 1. Do the work (the machine skips a command it has already done).
        let outcome = workshop.execute(&cmd);
        // ANCHOR_END: process
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
            // Dropping the consumer without committing is what a crash leaves
            // behind. (It also leaves the group politely, which a real crash
            // would not: the group would wait for the session to time out.)
            return Ok(());
        }
        // ANCHOR: commit
        // 2. Only then record the progress: store the offset, commit it.
        consumer.store_offset_from_message(&msg)?;
        consumer.commit_consumer_state(CommitMode::Sync)?;
        // ANCHOR_END: commit
        say!(
            ctx,
            "offset {}  {:<18} -> {done:<28} committed {}",
            msg.offset(),
            cmd.label(),
            msg.offset() + 1
        );
        if msg.offset() >= last_offset {
            return Ok(());
        }
    }
}

/// The controller's next command. The session's first one waits at most
/// [`GROUP_WAIT`]: if the group has given it no partition by then, that is
/// the error (a cluster whose groups do not work, explained).
async fn next_command<'c>(
    ctx: &Ctx,
    consumer: &'c StreamConsumer,
    first: bool,
) -> Result<BorrowedMessage<'c>> {
    let wait = if first { GROUP_WAIT } else { WAIT };
    match timeout(wait, consumer.recv()).await {
        Ok(msg) => Ok(msg?),
        Err(_) if first && consumer.assignment()?.count() == 0 => {
            Err(ctx.no_partitions(GROUP, GROUP_WAIT))
        }
        Err(_) => {
            bail!(tr!(
                "group \"{GROUP}\" has its partitions but received no command within {wait:?}"
            ))
        }
    }
}

/// Where the restarted controller began, compared with the committed offset.
fn resumed_at(ctx: &Ctx, committed: i64, offset: i64) {
    if offset == committed {
        say!(ctx, "It resumes at the committed offset, {committed}.");
    } else {
        say!(
            ctx,
            "It resumes at offset {offset}, not at the committed offset {committed} (unexpected!)."
        );
    }
}

/// The group's committed offset for one partition (-1001 if none).
fn committed_offset(ctx: &Ctx, topic: &str, partition: i32) -> Result<i64> {
    let probe: BaseConsumer = ctx.consumer_config(GROUP).create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let committed = probe.committed_offsets(tpl, WAIT)?;
    let offset = committed
        .find_partition(topic, partition)
        .map(|e| e.offset())
        .ok_or_else(|| anyhow!(tr!("no committed offset returned for {topic}/{partition}")))?;
    Ok(match offset {
        Offset::Offset(o) => o,
        _ => -1,
    })
}

/// What a machine did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The machine did the work.
    Done,
    /// The machine had already done this (lot, step): nothing happened.
    AlreadyDone,
}

// ANCHOR: workshop
/// The machines of the workshop. Each remembers which (lot, step) it has
/// done, so executing a command twice has the effect of executing it once:
/// the operation is *idempotent*, which at-least-once delivery requires.
///
/// This memory belongs to the machines, not to the consumer: it survives the
/// consumer's crash (in a real plant, the machine controller's own state, or
/// a database row written together with the work).
#[derive(Debug, Default)]
pub struct Workshop {
    done: BTreeSet<(String, u32)>,
    /// Every operation actually performed, in order.
    pub effects: Vec<MachineCommand>,
}

impl Workshop {
    pub fn execute(&mut self, cmd: &MachineCommand) -> Outcome {
        if !self.done.insert((cmd.lot.clone(), cmd.step)) {
            return Outcome::AlreadyDone;
        }
        self.effects.push(cmd.clone()); // the machine mills, drills or polishes
        Outcome::Done
    }

    /// Has the machine of `step` done it for `lot`?
    pub fn has_done(&self, lot: &str, step: u32) -> bool {
        self.done.contains(&(lot.to_string(), step))
    }
}
// ANCHOR_END: workshop
