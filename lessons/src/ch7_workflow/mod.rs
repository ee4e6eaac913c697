//! Lesson 7: order across topics, enforced by status events.
//!
//! Each machine tool reads its own topic: `m1-commands`, `m2-commands`,
//! `m3-commands`. Kafka orders records inside one partition only, so nothing
//! orders a lot's M1 command (in one topic) before its M2 command (in
//! another): each machine's consumer goes at its own pace.
//!
//! 1. **The naive plant**: a planner sends M1, M2 and M3 of each lot at once,
//!    in that order, and each machine acts on whatever it reads. The M1
//!    machine is busy for a while, the M2 machine a little less (the lesson
//!    holds them back so the run is reproducible), and the lots are polished
//!    and drilled before they are milled.
//! 2. **Status events**: each machine publishes `{lot, machine, step, done}`
//!    to `machine-status` when it has finished, and the workflow sends the
//!    next step's command only when it reads that event. The application,
//!    not Kafka, enforces the order.
//! 3. **A crash in the middle**: the workflow crashes after sending a command
//!    but before committing the status event that triggered it. It restarts,
//!    reads the event again and sends the command again; the machine, which
//!    remembers what it did, skips it. No step is skipped, none is done twice.
//!
//! Run it: `just lesson-7` or `cargo run --release -- lesson 7`.
//!
//! This file is the lesson's stage: it runs the scenario section by
//! section, narrates in the reader's language and records the timeline.
//! The Kafka code the chapter shows is in [`program`].

pub mod program;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use futures::future::try_join_all;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::FutureProducer;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::{sleep, timeout_at, Instant};

use crate::ch6_order::{Outcome, Workshop};
use crate::i18n;
use crate::kit::timeline::TopicPartition;
use crate::kit::{Event, Held, Stage, GROUP_WAIT};
use crate::workshop::{MachineCommand, STEPS};
use crate::{say, tr, tr_static, trn};
pub use program::{Action, MachineStatus};

/// One command topic per machine: M1's, M2's, M3's.
pub const COMMAND_TOPICS: [&str; 3] = ["m1-commands", "m2-commands", "m3-commands"];
/// Where machines report finished work.
pub const STATUS_TOPIC: &str = "machine-status";
/// The lots of the naive run, and of the run with status events.
pub const NAIVE_LOTS: [&str; 2] = ["lot-A", "lot-B"];
pub const WORKFLOW_LOTS: [&str; 2] = ["lot-C", "lot-D"];
/// The consumer group of the workflow (each machine has its own group too).
pub const WORKFLOW_GROUP: &str = "workflow";
/// How long any single wait of the lesson may take before it gives up.
const WAIT: Duration = Duration::from_secs(10);

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    /// Actual topic names on this cluster: m1, m2, m3 commands, then status.
    pub command_topics: Vec<String>,
    pub status_topic: String,
    /// The naive run: (lot, step) in the order the machines executed them.
    pub naive_executed: Vec<(String, u32)>,
    /// Every command a machine received in the status-event run, in the
    /// order that machine received it.
    pub received: Vec<(MachineCommand, Outcome)>,
    /// What the machines actually did in the status-event run, in order.
    pub effects: Vec<MachineCommand>,
    /// Every status event the workflow handled, over both sessions.
    pub handled: Vec<Handled>,
}

/// One status event handled by the workflow.
#[derive(Debug, Clone)]
pub struct Handled {
    /// 1: before the crash, 2: after the restart.
    pub session: u32,
    pub offset: i64,
    pub status: MachineStatus,
    pub action: Action,
}

/// State shared by the lesson's concurrent tasks (all on one thread).
#[derive(Default)]
struct Plant {
    workshop: Workshop,
    /// Machines publish status events (the second run) or not (the first).
    publish_status: bool,
    /// Per machine: commands sent to its topic, and commands it handled.
    sent: [usize; 3],
    handled: [usize; 3],
    /// Per machine: the offsets of its topic it read, in the order read.
    read: [Vec<i64>; 3],
    /// Per machine: the group has given its consumer the partition; what
    /// it was given, as the consumer's assignment first showed it.
    ready: [bool; 3],
    assigned: [Vec<TopicPartition>; 3],
    /// Per machine: the lesson wants it busy; it is busy (takes no command).
    hold: [bool; 3],
    held: [bool; 3],
    /// Status events published, and the workflow's position in them.
    published: i64,
    status_position: i64,
    received: Vec<(MachineCommand, Outcome)>,
    handled_events: Vec<Handled>,
    finished: BTreeSet<String>,
}

impl Plant {
    /// Every lot finished, every command handled, every status event read.
    fn quiet(&self) -> bool {
        WORKFLOW_LOTS.iter().all(|l| self.finished.contains(*l))
            && self.sent == self.handled
            && self.status_position == self.published
    }
}

/// The lesson's topics (actual names): the machines' command topics, in
/// step order, and the status topic.
struct Topics {
    commands: Vec<String>,
    status: String,
}

/// What the lesson's concurrent parts share.
#[derive(Clone, Copy)]
struct Site<'a> {
    ctx: &'a Stage,
    topics: &'a Topics,
    producer: &'a FutureProducer,
    plant: &'a RefCell<Plant>,
}

pub async fn run(ctx: &Stage) -> Result<Report> {
    let topics = three_machines(ctx).await?;
    let producer: FutureProducer = ctx
        .client_config()
        .set("linger.ms", "0")
        .set("enable.idempotence", "true")
        .create()
        .context(tr!("creating the producer"))?;

    let plant = RefCell::new(Plant::default());
    let site = Site {
        ctx,
        topics: &topics,
        producer: &producer,
        plant: &plant,
    };
    // The workflow's consumer joins its group now, while the plant runs.
    let workflow_consumer = consumer(ctx, WORKFLOW_GROUP)?;
    workflow_consumer.subscribe(&[&topics.status])?;
    joined(ctx, WORKFLOW_GROUP);
    // The machines run for the whole lesson, beside the two runs.
    let (stop, stopped) = watch::channel(false);
    let machines = try_join_all((0..3).map(|k| machine(site, k, stopped.clone())));
    let runs = async {
        let result: Result<_> = async {
            machines_ready(site).await?;
            let naive = naive_plant(site).await?;
            status_events(site, workflow_consumer).await?;
            Ok(naive)
        }
        .await;
        let _ = stop.send(true); // whatever happened, the machines stop
        result
    };
    let (machines, naive) = tokio::join!(machines, runs);
    close_side_by_side(machines?);
    for k in 0..STEPS.len() {
        ctx.record(Event::MemberLeft {
            group: machine_group(k),
            member: machine_group(k),
        });
    }
    let naive_executed = naive?;
    let plant = plant.into_inner();
    Ok(Report {
        command_topics: topics.commands,
        status_topic: topics.status,
        naive_executed,
        received: plant.received,
        effects: plant
            .workshop
            .effects
            .into_iter()
            .filter(|c| WORKFLOW_LOTS.contains(&c.lot.as_str()))
            .collect(),
        handled: plant.handled_events,
    })
}

/// Closing a consumer (it leaves its group) takes a round of requests:
/// close the machines' consumers side by side.
fn close_side_by_side(consumers: Vec<Held<StreamConsumer>>) {
    std::thread::scope(|s| {
        for consumer in consumers {
            s.spawn(move || drop(consumer));
        }
    });
}

/// Section "Three machines, three topics": one command topic per machine,
/// and the status topic.
async fn three_machines(ctx: &Stage) -> Result<Topics> {
    ctx.section(&tr!("Three machines, three topics"));
    let mut commands = Vec::new();
    for logical in COMMAND_TOPICS {
        commands.push(ctx.create_topic(logical, 1, 3).await?);
    }
    let status = ctx.create_topic(STATUS_TOPIC, 1, 3).await?;
    // The timeline's record of them, through a client that exists only now.
    let client: BaseConsumer = ctx.client_config().create()?;
    for topic in commands.iter().chain([&status]) {
        ctx.topic_created(client.client(), topic)?;
    }
    say!(
        ctx,
        "Each machine reads its own topic: \"{}\", \"{}\", \"{}\".\n\
         Each is a consumer group of its own, runs one command at a time, commits after\n\
         the work, and remembers what it has done (chapter 6).",
        COMMAND_TOPICS[0],
        COMMAND_TOPICS[1],
        COMMAND_TOPICS[2]
    );
    Ok(Topics { commands, status })
}

/// The consumer group of machine `k` (0: M1).
fn machine_group(k: usize) -> String {
    format!("machine-{}", STEPS[k].0)
}

/// Wait until every machine's group has given it its partition, at most
/// [`GROUP_WAIT`]; then, a group that has none is explained.
async fn machines_ready(site: Site<'_>) -> Result<()> {
    let deadline = Instant::now() + GROUP_WAIT;
    loop {
        let ready = site.plant.borrow().ready;
        match ready.iter().position(|r| !r) {
            None => {
                // Each machine's partitions, in machine order (they came
                // in any order).
                for k in 0..STEPS.len() {
                    let partitions = site.plant.borrow().assigned[k].clone();
                    site.ctx.record(Event::Assigned {
                        group: machine_group(k),
                        member: machine_group(k),
                        partitions,
                    });
                }
                return Ok(());
            }
            Some(k) if Instant::now() > deadline => {
                return Err(site.ctx.no_partitions(&machine_group(k), GROUP_WAIT))
            }
            Some(_) => sleep(Duration::from_millis(2)).await,
        }
    }
}

/// Section "The naive plant: each machine acts on what it reads": all of a
/// lot's commands at once, and machines that go at different paces. Returns
/// the order in which the machines executed them.
async fn naive_plant(site: Site<'_>) -> Result<Vec<(String, u32)>> {
    let ctx = site.ctx;
    ctx.section(&tr!("The naive plant: each machine acts on what it reads"));
    say!(
        ctx,
        "The planner sends M1, M2 and M3 of {} and {}, in that order, each to its\n\
         machine's topic; each command is appended to its topic's log at once. But the\n\
         M1 machine is busy with a long job and takes new work late, and the M2 machine\n\
         a little less. The lesson makes this reproducible: M1 and M2 take no command\n\
         until M3 has done its work; then M2 takes its commands; then M1.",
        NAIVE_LOTS[0],
        NAIVE_LOTS[1]
    );
    plan_all_at_once(site).await?;
    let executed: Vec<(String, u32)> = site
        .plant
        .borrow()
        .workshop
        .effects
        .iter()
        .map(|c| (c.lot.clone(), c.step))
        .collect();
    say!(ctx, "");
    say!(ctx, "The machines executed, in this order:");
    for (lot, step) in &executed {
        say!(ctx, "  {}", MachineCommand::step(lot, *step).label());
    }
    naive_verdict(site, &executed);
    Ok(executed)
}

/// The naive planner sends everything while M1 and M2 are busy; then M2,
/// then M1, become free. Returns when every machine has run its commands.
async fn plan_all_at_once(site: Site<'_>) -> Result<()> {
    let Site {
        producer,
        topics,
        plant,
        ..
    } = site;
    let command_topics = &topics.commands[..];
    // M1 and M2 are busy: they take no command for now.
    set_hold(plant, [true, true, false]).await?;
    let pending = program::plan_all_at_once(producer, command_topics, &NAIVE_LOTS)
        .context(tr!("delivering a command"))?;
    for (cmd, _) in &pending {
        plant.borrow_mut().sent[cmd.step as usize - 1] += 1;
    }
    for (cmd, delivery) in pending {
        let at = await_delivery(delivery).await?;
        let topic = &command_topics[cmd.step as usize - 1];
        delivered(site.ctx, topic, &cmd, at, "planner");
    }
    for (k, hold_after) in [(2, [true, false, false]), (1, [false; 3]), (0, [false; 3])] {
        let what = tr!("{} to run its commands", STEPS[k].0);
        wait_until(plant, &what, |p| p.handled[k] == p.sent[k]).await?;
        set_hold(plant, hold_after).await?;
    }
    Ok(())
}

/// Whether each naive lot ran in order, and why not, from what the
/// machines executed and the offsets they read.
fn naive_verdict(site: Site<'_>, executed: &[(String, u32)]) {
    let ctx = site.ctx;
    for lot in NAIVE_LOTS {
        let order: Vec<u32> = executed
            .iter()
            .filter(|(l, _)| l == lot)
            .map(|(_, s)| *s)
            .collect();
        let names: Vec<&str> = order.iter().map(|s| STEPS[*s as usize - 1].0).collect();
        if order.windows(2).all(|w| w[0] < w[1]) {
            say!(ctx, "{lot}: {} (in order, by luck).", names.join(", "));
        } else {
            say!(ctx, "{lot}: {}: OUT OF ORDER.", names.join(", "));
        }
    }
    let read_in_order = site
        .plant
        .borrow()
        .read
        .iter()
        .all(|offsets| offsets.windows(2).all(|w| w[0] < w[1]));
    if read_in_order {
        say!(
            ctx,
            "Every command was written in the right order, and every machine read its own\n\
             topic in order. Nothing orders records across topics: each topic's partitions\n\
             are independent logs, read at their own pace. (The same holds across the\n\
             partitions of one topic.) Replication has nothing to do with it."
        );
    } else {
        say!(
            ctx,
            "Every command was written in the right order, but a machine did NOT read its\n\
             topic in order (unexpected!). Nothing orders records across topics: each topic's partitions\n\
             are independent logs, read at their own pace. (The same holds across the\n\
             partitions of one topic.) Replication has nothing to do with it."
        );
    }
}

/// Section "Status events: the workflow enforces the order": the workflow
/// starts two lots, crashes after its first event, restarts.
async fn status_events(site: Site<'_>, workflow_consumer: Held<StreamConsumer>) -> Result<()> {
    let ctx = site.ctx;
    ctx.section(&tr!("Status events: the workflow enforces the order"));
    say!(
        ctx,
        "Now each machine publishes {{lot, machine, step, done}} to \"{STATUS_TOPIC}\" when it\n\
         has finished. The workflow sends only M1; it sends a lot's next step when it reads\n\
         that the previous step is done, and commits the status event's offset only after\n\
         the next command is acknowledged. A repeated status event is ignored."
    );
    site.plant.borrow_mut().publish_status = true;
    for lot in WORKFLOW_LOTS {
        let cmd = MachineCommand::step(lot, 1);
        let delivery = send_command(site.producer, &site.topics.commands[0], &cmd)?;
        site.plant.borrow_mut().sent[0] += 1;
        let at = await_delivery(delivery).await?;
        delivered(ctx, &site.topics.commands[0], &cmd, at, WORKFLOW_GROUP);
    }
    say!(
        ctx,
        "The workflow sent {} and {}.",
        MachineCommand::step(WORKFLOW_LOTS[0], 1).label(),
        MachineCommand::step(WORKFLOW_LOTS[1], 1).label()
    );
    say!(ctx, "");
    say!(ctx, "[workflow, session 1]");
    workflow(site, workflow_consumer, 1, true).await?;
    say!(ctx, "");
    say!(
        ctx,
        "[workflow, session 2: restarted in group \"{WORKFLOW_GROUP}\"]"
    );
    let workflow_consumer = consumer(ctx, WORKFLOW_GROUP)?;
    workflow_consumer.subscribe(&[&site.topics.status])?;
    joined(ctx, WORKFLOW_GROUP);
    workflow(site, workflow_consumer, 2, false).await?;
    ctx.record(Event::MemberLeft {
        group: WORKFLOW_GROUP.to_string(),
        member: WORKFLOW_GROUP.to_string(),
    });
    let plant = site.plant.borrow();
    progress_by_step(ctx, &plant);
    machines_record(ctx, &plant);
    Ok(())
}

/// Make each machine busy (true) or free (false), and wait until the
/// machines have noticed.
async fn set_hold(plant: &RefCell<Plant>, hold: [bool; 3]) -> Result<()> {
    plant.borrow_mut().hold = hold;
    wait_until(plant, &tr!("the machines to become busy or free"), |p| {
        p.held == p.hold
    })
    .await
}

/// One machine: consume its topic, execute, publish a status event (in the
/// second run), commit. Runs until `stop`.
async fn machine(
    site: Site<'_>,
    k: usize,
    mut stop: watch::Receiver<bool>,
) -> Result<Held<StreamConsumer>> {
    let Site {
        ctx,
        topics,
        producer,
        plant,
    } = site;
    let status_topic = &topics.status;
    let consumer = consumer(ctx, &machine_group(k))?;
    consumer.subscribe(&[&topics.commands[k]])?;
    joined(ctx, &machine_group(k));
    loop {
        let msg = tokio::select! {
            // A busy machine does not take its next command (its consumer
            // still fetches in the background; the records wait in memory).
            msg = consumer.recv(), if !plant.borrow().held[k] => msg?,
            // Every few milliseconds, see whether the machine is ready, and
            // whether the lesson wants it busy.
            _ = sleep(Duration::from_millis(2)) => {
                let assignment = consumer.assignment()?;
                let assigned = assignment.count() > 0;
                let mut p = plant.borrow_mut();
                if assigned && !p.ready[k] {
                    p.assigned[k] = partitions(ctx, &assignment);
                }
                p.ready[k] = assigned;
                p.held[k] = p.hold[k];
                continue;
            }
            _ = stop.changed() => return Ok(consumer),
        };
        let cmd: MachineCommand = decode(&msg)?;
        let publish = plant.borrow().publish_status;
        // In the naive plant, what each machine reads is the same every run
        // (the lesson holds the machines back in a fixed order); with status
        // events, machines interleave as they please, and the tests compare
        // that part of the timeline as such.
        let group = machine_group(k);
        let topic = ctx.logical(&topics.commands[k]).to_string();
        ctx.record(Event::Read {
            group: Some(group.clone()),
            member: Some(group.clone()),
            topic: topic.clone(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: Some(cmd.lot.clone()),
            value: None,
        });
        // 1. Do the work (or skip it: the machine remembers what it did).
        let outcome = plant.borrow_mut().workshop.execute(&cmd);
        ctx.record(Event::Processed {
            group: group.clone(),
            member: Some(group.clone()),
            topic,
            partition: msg.partition(),
            offset: msg.offset(),
            key: Some(cmd.lot.clone()),
            outcome: match outcome {
                Outcome::Done => "done",
                Outcome::AlreadyDone => "already_done",
            }
            .to_string(),
        });
        // 2. Say it is done; 3. only then commit the command (its commit is
        // asynchronous: unconfirmed, so not in the timeline).
        let report_to = publish.then_some(status_topic.as_str());
        let reported = program::finish_command(&consumer, producer, report_to, &msg, &cmd)
            .await
            .context(tr!("publishing a status event"))?;
        if let Some((partition, offset)) = reported {
            ctx.record(Event::Delivered {
                topic: STATUS_TOPIC.to_string(),
                partition,
                offset,
                key: Some(cmd.lot.clone()),
                value: Some(format!("{} {} done", cmd.lot, cmd.machine)),
                producer: Some(group),
            });
        }
        let mut p = plant.borrow_mut();
        if publish {
            p.published += 1;
        }
        if p.publish_status {
            p.received.push((cmd, outcome));
        }
        p.handled[k] += 1;
        p.read[k].push(msg.offset());
    }
}

/// The workflow's next status event. The session's first one waits at most
/// [`GROUP_WAIT`] (`deadline` is `None`): if the group has given the session
/// no partition by then, that is the error. Later ones share `deadline`.
async fn next_event<'c>(
    ctx: &Stage,
    consumer: &'c StreamConsumer,
    deadline: Option<Instant>,
) -> Result<BorrowedMessage<'c>> {
    let until = deadline.unwrap_or_else(|| Instant::now() + GROUP_WAIT);
    match timeout_at(until, consumer.recv()).await {
        Ok(msg) => Ok(msg?),
        Err(_) if deadline.is_some() => bail!(tr!("the workflow did not finish within {WAIT:?}")),
        Err(_) if consumer.assignment()?.count() == 0 => {
            Err(ctx.no_partitions(WORKFLOW_GROUP, GROUP_WAIT))
        }
        Err(_) => bail!(tr!(
            "group \"{WORKFLOW_GROUP}\" has its partition but received no status event within {GROUP_WAIT:?}"
        )),
    }
}

/// One session of the workflow: read status events, send next steps.
/// With `crash`, it "crashes" after acting on its first event, before
/// committing it.
async fn workflow(
    site: Site<'_>,
    consumer: Held<StreamConsumer>,
    session: u32,
    crash: bool,
) -> Result<()> {
    let Site {
        ctx,
        topics,
        producer,
        plant,
    } = site;
    let command_topics = &topics.commands[..];
    // What this session has acted on. A restart forgets it: after a crash,
    // an event is acted on again, and the machine absorbs the repeat.
    let mut acted: BTreeSet<(String, u32)> = BTreeSet::new();
    // Set at the session's first event: the rest must follow within WAIT.
    let mut deadline = None;
    loop {
        let last_reports = tr!("the last machines' delivery reports");
        let msg = tokio::select! {
            msg = next_event(ctx, &consumer, deadline) => msg?,
            // A status event can reach the workflow before the machine that
            // wrote it has its delivery report: the plant becomes quiet only
            // then, after the last commit. Once quiet, nothing is left to read.
            quiet = wait_until(plant, &last_reports, Plant::quiet),
                if deadline.is_some() => return quiet,
        };
        let first = deadline.is_none();
        deadline.get_or_insert(Instant::now() + WAIT);
        let status: MachineStatus = decode(&msg)?;
        if first {
            // The partition the group gave this session, as its consumer
            // holds it now that an event came.
            ctx.record(Event::Assigned {
                group: WORKFLOW_GROUP.to_string(),
                member: WORKFLOW_GROUP.to_string(),
                partitions: partitions(ctx, &consumer.assignment()?),
            });
        }
        // The session's first event is the same every run (the one the
        // first session crashed on); the rest interleave lots at random.
        ctx.record(Event::Read {
            group: Some(WORKFLOW_GROUP.to_string()),
            member: Some(WORKFLOW_GROUP.to_string()),
            topic: STATUS_TOPIC.to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: Some(status.lot.clone()),
            value: None,
        });
        let (action, stored) = program::act_on(producer, command_topics, &mut acted, &status)
            .await
            .context(tr!("delivering a command"))?;
        if let Action::Sent(next) = &action {
            plant.borrow_mut().sent[next.step as usize - 1] += 1;
            if let Some(at) = stored {
                let topic = &command_topics[next.step as usize - 1];
                delivered(ctx, topic, next, at, WORKFLOW_GROUP);
            }
        }
        ctx.record(Event::Processed {
            group: WORKFLOW_GROUP.to_string(),
            member: Some(WORKFLOW_GROUP.to_string()),
            topic: STATUS_TOPIC.to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: Some(status.lot.clone()),
            outcome: match &action {
                Action::Sent(_) => "sent_next",
                Action::IgnoredDuplicate => "ignored_repeat",
                Action::Finished => "finished",
            }
            .to_string(),
        });
        if action == Action::Finished {
            plant.borrow_mut().finished.insert(status.lot.clone());
        }
        let handled = Handled {
            session,
            offset: msg.offset(),
            status,
            action,
        };
        if crash {
            say!(ctx, "{}", describe(&handled));
            say!(
                ctx,
                "CRASH after sending the command, before committing offset {}.",
                msg.offset()
            );
            ctx.record(Event::MemberCrashed {
                group: WORKFLOW_GROUP.to_string(),
                member: WORKFLOW_GROUP.to_string(),
            });
            plant.borrow_mut().handled_events.push(handled);
            return Ok(());
        }
        if first {
            restarted_at(ctx, &plant.borrow(), msg.offset());
        }
        // Only now is the status event dealt with: commit it.
        // The commit is synchronous: once it returns, the coordinator holds it.
        program::commit_event(&consumer, &msg).context(tr!("committing"))?;
        ctx.record(Event::Committed {
            group: WORKFLOW_GROUP.to_string(),
            member: Some(WORKFLOW_GROUP.to_string()),
            topic: STATUS_TOPIC.to_string(),
            partition: msg.partition(),
            offset: msg.offset() + 1,
        });
        let mut p = plant.borrow_mut();
        p.handled_events.push(handled);
        p.status_position = msg.offset() + 1;
        if p.quiet() {
            // The last commit: every status event published, dealt with.
            return Ok(());
        }
    }
}

/// Where the restarted workflow began, compared with where it crashed.
fn restarted_at(ctx: &Stage, plant: &Plant, offset: i64) {
    let crashed_at = plant
        .handled_events
        .iter()
        .rfind(|h| h.session == 1)
        .map(|h| h.offset);
    if crashed_at == Some(offset) {
        say!(
            ctx,
            "Its first event is offset {offset}, the one it crashed on: that offset was never\n\
             committed. The lots' progress in this session, step by step:"
        );
    } else {
        say!(
            ctx,
            "Its first event is offset {offset}, not the one it crashed on (unexpected!)."
        );
        say!(ctx, "The lots' progress in this session, step by step:");
    }
}

fn describe(h: &Handled) -> String {
    let event = tr!("{} {} done", h.status.lot, h.status.machine);
    match &h.action {
        Action::Sent(cmd) => tr!(
            "offset {}: {event} -> sent {} to \"{}\"",
            h.offset,
            cmd.label(),
            COMMAND_TOPICS[cmd.step as usize - 1]
        ),
        Action::IgnoredDuplicate => {
            tr!("offset {}: {event} -> already acted on: ignored", h.offset)
        }
        Action::Finished => tr!("offset {}: {event} -> lot finished", h.offset),
    }
}

/// Session 2's work, lot by lot and step by step (within a lot, the steps
/// are causally ordered; across lots the interleaving varies from run to
/// run, so it is not printed).
fn progress_by_step(ctx: &Stage, plant: &Plant) {
    for lot in WORKFLOW_LOTS {
        say!(ctx, "{lot}{}:", i18n::before_punctuation());
        for step in 1..=STEPS.len() as u32 {
            let events: Vec<&Handled> = plant
                .handled_events
                .iter()
                .filter(|h| h.session == 2 && h.status.lot == lot && h.status.step == step)
                .collect();
            let count = |a: fn(&Action) -> bool| events.iter().filter(|h| a(&h.action)).count();
            let sent = count(|a| matches!(a, Action::Sent(_)));
            let ignored = count(|a| *a == Action::IgnoredDuplicate);
            let mut what = Vec::new();
            if sent > 0 {
                let next = MachineCommand::step(lot, step + 1);
                let again = plant
                    .handled_events
                    .iter()
                    .any(|h| h.session == 1 && h.action == Action::Sent(next.clone()));
                let again = if again { tr_static!(" (again)") } else { "" };
                what.push(tr!("sent {}{again}", next.label()));
            }
            if ignored > 0 {
                what.push(trn!(ignored;
                    "{ignored} repeat ignored",
                    "{ignored} repeats ignored"
                ));
            }
            if count(|a| *a == Action::Finished) > 0 {
                what.push(tr!("lot finished"));
            }
            let machine = STEPS[step as usize - 1].0;
            say!(
                ctx,
                "  {machine} done, read {}x -> {}",
                events.len(),
                what.join(&format!("{}; ", i18n::before_punctuation()))
            );
        }
    }
}

/// The machines' record of the run with status events, and what the crash
/// cost.
fn machines_record(ctx: &Stage, plant: &Plant) {
    say!(ctx, "");
    say!(ctx, "What the machines did in this run:");
    for lot in WORKFLOW_LOTS {
        let did: Vec<&str> = plant
            .workshop
            .effects
            .iter()
            .filter(|c| c.lot == lot)
            .map(|c| c.machine.as_str())
            .collect();
        let skipped: Vec<String> = plant
            .received
            .iter()
            .filter(|(c, o)| c.lot == lot && *o == Outcome::AlreadyDone)
            .map(|(c, _)| c.machine.clone())
            .collect();
        let in_order = did == STEPS.iter().map(|s| s.0).collect::<Vec<_>>();
        let skip = if skipped.is_empty() {
            String::new()
        } else {
            tr!("; skipped a repeated {}", skipped.join(", "))
        };
        let did = did.join(", ");
        if in_order {
            say!(ctx, "  {lot}: {did} (each step once, in order{skip})");
        } else {
            say!(ctx, "  {lot}: {did} (NOT each step once in order{skip})");
        }
    }
    let repeats = plant
        .received
        .iter()
        .filter(|(_, o)| *o == Outcome::AlreadyDone)
        .count();
    let ignored = plant
        .handled_events
        .iter()
        .filter(|h| h.action == Action::IgnoredDuplicate)
        .count();
    say!(
        ctx,
        "What the crash repeated: commands, skipped by the machines: {repeats}; status\n\
         events, ignored by the workflow: {ignored}. Had the workflow committed before\n\
         sending, the crash would have lost the command and stalled the lot."
    );
    say!(
        ctx,
        "Other ways to order a workflow: put all its steps in one topic under one key\n\
         (chapter 6). Transactions make writes to several topics atomic; they do not\n\
         order them."
    );
}

/// A consumer in `group` that commits only what the program stores
/// (chapter 7's program), held for the stage: if the group never forms,
/// closing it does not hold up the explanation (see `kit::closing`).
pub(crate) fn consumer(ctx: &Stage, group: &str) -> Result<Held<StreamConsumer>> {
    let consumer = program::consumer(&ctx.consumer_config(group))
        .with_context(|| tr!("creating the consumer of group {group}"))?;
    Ok(ctx.hold(consumer))
}

pub(crate) fn send_command(
    producer: &FutureProducer,
    topic: &str,
    cmd: &MachineCommand,
) -> Result<rdkafka::producer::DeliveryFuture> {
    program::send_command(producer, topic, cmd).with_context(|| tr!("sending {}", cmd.label()))
}

/// Wait for a command's delivery report: (partition, offset).
pub(crate) async fn await_delivery(
    delivery: rdkafka::producer::DeliveryFuture,
) -> Result<(i32, i64)> {
    program::await_delivery(delivery)
        .await
        .context(tr!("delivering a command"))
}

/// A record's JSON value, decoded.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(m: &impl Message) -> Result<T> {
    program::decode(m).with_context(|| tr!("decoding the record at offset {}", m.offset()))
}

/// Record that the one member of `group` (named after its group) joined.
fn joined(ctx: &Stage, group: &str) {
    ctx.record(Event::MemberJoined {
        group: group.to_string(),
        member: group.to_string(),
    });
}

/// Record a command's delivery, and who sent it (the naive `planner`, or
/// the `workflow`).
fn delivered(
    ctx: &Stage,
    topic: &str,
    cmd: &MachineCommand,
    (partition, offset): (i32, i64),
    producer: &str,
) {
    ctx.record(Event::Delivered {
        topic: ctx.logical(topic).to_string(),
        partition,
        offset,
        key: Some(cmd.lot.clone()),
        value: Some(cmd.label()),
        producer: Some(producer.to_string()),
    });
}

/// A consumer's assignment, under the topics' logical names.
fn partitions(ctx: &Stage, assignment: &rdkafka::TopicPartitionList) -> Vec<TopicPartition> {
    let mut partitions: Vec<TopicPartition> = assignment
        .elements()
        .iter()
        .map(|e| TopicPartition {
            topic: ctx.logical(e.topic()).to_string(),
            partition: e.partition(),
        })
        .collect();
    partitions.sort();
    partitions
}

/// Wait (bounded) until `done` holds of the plant.
async fn wait_until(
    plant: &RefCell<Plant>,
    what: &str,
    done: impl Fn(&Plant) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    while !done(&plant.borrow()) {
        if Instant::now() > deadline {
            bail!(tr!("gave up waiting for {what} after {WAIT:?}"));
        }
        sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}
