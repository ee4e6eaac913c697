//! Checks of exercise 7: the next step waits for the previous step's status event.
//!
//! The checks run chapter 7's plant on the embedded cluster: three machines,
//! each a consumer of its own command topic that publishes "started" and
//! "done" reports to `machine-status`, and a workflow that reads those
//! reports and sends what the student's `next_command` returns. The M1
//! machine is busy: it finishes a lot only once nothing else is happening
//! in the workshop, so a step sent too early runs before M1 is done. For
//! one lot, M1 reports "done" twice. The checks then look at when each
//! command was sent and at what the machines did.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::{try_join_all, LocalBoxFuture};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureProducer;
use tokio::sync::watch;
use tokio::time::{sleep, Instant};

use super::Checks;
use crate::ch6_order::Workshop;
use crate::ch7_workflow::{self, consumer, decode, MachineStatus, COMMAND_TOPICS, STATUS_TOPIC};
use crate::kit::{Held, Stage};
use crate::workshop::{MachineCommand, STEPS};
use crate::{tr, tr_static};

/// The lots the workflow runs.
const LOTS: [&str; 2] = ["lot-A", "lot-B"];
/// For this lot, the M1 machine reports "done" twice.
const REPEATED: &str = "lot-A";
/// How long the plant may take to come to rest.
const RUN_TIME: Duration = Duration::from_secs(4);

/// The student's function (or the solution's, or the starter's).
pub type Code = fn(&MachineStatus) -> Option<MachineCommand>;

/// What the plant's tasks share (all on one thread).
#[derive(Default)]
struct Plant {
    workshop: Workshop,
    /// Per machine: commands sent to its topic, and commands it has handled.
    sent: [usize; 3],
    handled: [usize; 3],
    /// Status events published, and the workflow's position in them.
    published: i64,
    position: i64,
    /// Every status event the workflow read, with the command it sent.
    reactions: Vec<(MachineStatus, Option<MachineCommand>)>,
    /// Commands sent before the previous step of their lot was done.
    early: Vec<String>,
    /// Panics of `next_command`, and commands that are no step of a lot.
    bad: Vec<String>,
}

impl Plant {
    /// M2 and M3 have nothing to do and the workflow has read every report.
    fn others_quiet(&self) -> bool {
        self.sent[1..] == self.handled[1..] && self.position == self.published
    }

    /// Nothing is happening and nothing more will.
    fn settled(&self) -> bool {
        self.sent == self.handled && self.position == self.published
    }
}

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let next = code;
        let mut command_topics = Vec::new();
        for logical in COMMAND_TOPICS {
            command_topics.push(ctx.create_topic(logical, 1, 3).await?);
        }
        let status_topic = ctx.create_topic(STATUS_TOPIC, 1, 3).await?;
        let producer: FutureProducer = ctx
            .client_config()
            .set("linger.ms", "0")
            .set("enable.idempotence", "true")
            .create()
            .context(tr!("creating the producer"))?;

        let plant = RefCell::new(Plant::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let machines = try_join_all((0..3).map(|k| {
            machine(
                ctx,
                k,
                &command_topics[k],
                &status_topic,
                &producer,
                &plant,
                stop_rx.clone(),
            )
        }));
        checks.step(tr!("the workflow reads the machines' status events and sends what your next_command returns"));
        let workflow = workflow(
            ctx,
            &command_topics,
            &status_topic,
            &producer,
            &plant,
            next,
            stop_rx.clone(),
        );
        let driver = async {
            let result = drive(&command_topics, &producer, &plant).await;
            let _ = stop_tx.send(true);
            result
        };
        let (machines, workflow, settled) = tokio::join!(machines, workflow, driver);
        // Close the consumers side by side (each leaves its group).
        let mut consumers = machines?;
        consumers.push(workflow?);
        std::thread::scope(|s| {
            for consumer in consumers {
                s.spawn(move || drop(consumer));
            }
        });
        let settled = settled?;
        let plant = plant.into_inner();

        // 1. No command before the previous step is done.
        let mut detail = summarize(&plant.early);
        detail.push(tr!(
            "A machine reports \"started\" (done: false) as soon as it takes a command, and \"done\"\n\
             (done: true) when it has finished. Only a finished step lets the next one start;\n\
             Kafka will not hold the next command back, since it is in another topic (chapter 7)."
        ));
        checks.check(
            tr_static!("the workflow sends a step only once the previous step is done"),
            plant.early.is_empty(),
            detail.join("\n"),
        );

        // 2. What the machines did, lot by lot.
        let repeats = plant
            .reactions
            .iter()
            .filter(|(s, _)| s.lot == REPEATED && s.step == 1 && s.done)
            .count();
        let mut wrong = Vec::new();
        for lot in LOTS {
            let did: Vec<MachineCommand> = plant
                .workshop
                .effects
                .iter()
                .filter(|c| c.lot == lot)
                .cloned()
                .collect();
            if did == MachineCommand::sequence(lot) {
                continue;
            }
            let names: Vec<&str> = did.iter().map(|c| c.machine.as_str()).collect();
            let missing: Vec<String> = MachineCommand::sequence(lot)
                .iter()
                .filter(|c| !did.contains(c))
                .map(|c| c.label())
                .collect();
            let mut line = if names.is_empty() {
                tr!("{lot}: the machines did nothing")
            } else {
                tr!("{lot}: the machines did {}", names.join(", "))
            };
            if !missing.is_empty() {
                line.push_str(&tr!(
                    "; never done: {} (the lot stalled)",
                    missing.join(", ")
                ));
            } else {
                line.push_str(tr_static!(": OUT OF ORDER"));
            }
            wrong.push(line + ".");
        }
        wrong.push(tr!(
            "Each machine runs what it reads from its own topic, as soon as it reads it: the\n\
             order must come from the workflow, which sends a lot's next command when it reads\n\
             that the previous step is done (chapter 7). ({REPEATED}'s \"M1 done\" was read {repeats} times;\n\
             a repeated command is skipped by its machine.)"
        ));
        checks.check(
            &tr!("every lot goes M1, M2, M3, each once, in order ({REPEATED}'s \"M1 done\" arrives twice)"),
            wrong.len() == 1 && repeats >= 2,
            wrong.join("\n"),
        );

        // 3. The end of a lot.
        let mut after_last: Vec<String> = plant
            .reactions
            .iter()
            .filter(|(s, c)| s.step as usize == STEPS.len() && c.is_some())
            .map(|(s, c)| {
                tr!(
                    "On {}, the workflow sent {}.",
                    describe(s),
                    c.as_ref().map(|c| c.label()).unwrap_or_default()
                )
            })
            .collect();
        after_last.extend(plant.bad.iter().cloned());
        let mut after_last = summarize(&after_last);
        if !settled {
            after_last.push(tr!("The workshop was still busy after {RUN_TIME:?}: the workflow keeps sending commands."));
        }
        after_last.push(tr!(
            "M3 is the last step: once it is done, the lot is finished (chapter 7)."
        ));
        checks.check(
            tr_static!("once M3 is done, the lot is finished: nothing more is sent"),
            after_last.len() == 1,
            after_last.join("\n"),
        );
        Ok(())
    })
}

/// Start each lot (its M1 command), then wait until the plant settles.
/// Returns whether it did within [`RUN_TIME`].
async fn drive(
    command_topics: &[String],
    producer: &FutureProducer,
    plant: &RefCell<Plant>,
) -> Result<bool> {
    let deadline = Instant::now() + RUN_TIME;
    for lot in LOTS {
        plant.borrow_mut().sent[0] += 1;
        send_command(producer, &command_topics[0], &MachineCommand::step(lot, 1)).await?;
    }
    while !plant.borrow().settled() {
        if Instant::now() > deadline {
            return Ok(false);
        }
        sleep(Duration::from_millis(2)).await;
    }
    Ok(true)
}

/// One machine: consume its topic; for each command, report "started", do
/// the work (M1 takes its time), report "done", commit. A command it has
/// already done is skipped, and reported "done" again. Runs until `stop`.
async fn machine(
    ctx: &Stage,
    k: usize,
    topic: &str,
    status_topic: &str,
    producer: &FutureProducer,
    plant: &RefCell<Plant>,
    mut stop: watch::Receiver<bool>,
) -> Result<Held<StreamConsumer>> {
    let consumer = consumer(ctx, &format!("machine-{}", STEPS[k].0))?;
    consumer.subscribe(&[topic])?;
    loop {
        let msg = tokio::select! {
            msg = consumer.recv() => msg?,
            _ = stop.changed() => return Ok(consumer),
        };
        let cmd: MachineCommand = decode(&msg)?;
        let already = plant.borrow().workshop.has_done(&cmd.lot, cmd.step);
        if !already {
            publish(producer, status_topic, plant, &cmd, false).await?;
            // The busy M1 machine finishes a lot only once nothing else is
            // happening: whatever M2 and M3 were sent meanwhile runs first.
            if k == 0 {
                while !plant.borrow().others_quiet() {
                    tokio::select! {
                        _ = sleep(Duration::from_millis(2)) => {}
                        _ = stop.changed() => return Ok(consumer),
                    }
                }
            }
        }
        plant.borrow_mut().workshop.execute(&cmd);
        publish(producer, status_topic, plant, &cmd, true).await?;
        if k == 0 && cmd.lot == REPEATED && !already {
            // As after a restart of the machine between its report and its commit.
            publish(producer, status_topic, plant, &cmd, true).await?;
        }
        consumer.store_offset_from_message(&msg)?;
        consumer.commit_consumer_state(CommitMode::Async)?;
        plant.borrow_mut().handled[k] += 1;
    }
}

/// The workflow: for each status event, send what `next` returns (once it
/// is acknowledged), then commit the event. Runs until `stop`.
async fn workflow(
    ctx: &Stage,
    command_topics: &[String],
    status_topic: &str,
    producer: &FutureProducer,
    plant: &RefCell<Plant>,
    next: Code,
    mut stop: watch::Receiver<bool>,
) -> Result<Held<StreamConsumer>> {
    let consumer = consumer(ctx, "workflow")?;
    consumer.subscribe(&[status_topic])?;
    loop {
        let msg = tokio::select! {
            msg = consumer.recv() => msg?,
            _ = stop.changed() => return Ok(consumer),
        };
        let status: MachineStatus = decode(&msg)?;
        let sent = match catch_unwind(AssertUnwindSafe(|| next(&status))) {
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                // Where, in the student's file (see exercises::quiet_panics).
                let at = super::take_panic_place()
                    .map(|place| tr!(" at {place}"))
                    .unwrap_or_default();
                plant.borrow_mut().bad.push(tr!(
                    "On {}, next_command panicked{at}:\n  {why}",
                    describe(&status)
                ));
                None
            }
            Ok(None) => None,
            Ok(Some(cmd)) => {
                let valid = (1..=STEPS.len() as u32).contains(&cmd.step)
                    && LOTS.contains(&cmd.lot.as_str())
                    && cmd == MachineCommand::step(&cmd.lot, cmd.step);
                if !valid {
                    plant.borrow_mut().bad.push(tr!(
                        "On {}, next_command returned {cmd:?}, which is no step of a lot\n\
                         (use MachineCommand::step(lot, n)).",
                        describe(&status)
                    ));
                    None
                } else {
                    let k = cmd.step as usize - 1;
                    {
                        let mut p = plant.borrow_mut();
                        if k > 0 && !p.workshop.has_done(&cmd.lot, cmd.step - 1) {
                            let previous = MachineCommand::step(&cmd.lot, cmd.step - 1);
                            let line = tr!(
                                "On {}, the workflow sent {}\n  although {} was not done yet.",
                                describe(&status),
                                cmd.label(),
                                previous.label()
                            );
                            p.early.push(line);
                        }
                        p.sent[k] += 1;
                    }
                    send_command(producer, &command_topics[k], &cmd).await?;
                    Some(cmd)
                }
            }
        };
        plant.borrow_mut().reactions.push((status, sent));
        consumer.store_offset_from_message(&msg)?;
        consumer.commit_consumer_state(CommitMode::Sync)?;
        plant.borrow_mut().position = msg.offset() + 1;
    }
}

/// The distinct lines of `lines`, in order of first appearance, each with
/// how many times it occurred; at most four, then how many more.
pub(crate) fn summarize(lines: &[String]) -> Vec<String> {
    let mut distinct: Vec<(&String, usize)> = Vec::new();
    for line in lines {
        match distinct.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => distinct.push((line, 1)),
        }
    }
    let mut out: Vec<String> = distinct
        .iter()
        .take(4)
        .map(|(l, n)| {
            if *n > 1 {
                tr!("{l} ({n} times)")
            } else {
                l.to_string()
            }
        })
        .collect();
    if distinct.len() > 4 {
        out.push(tr!("... and {} more like these.", distinct.len() - 4));
    }
    out
}

/// A status event in words, e.g. `"lot-A M1 started" (done: false)`.
fn describe(s: &MachineStatus) -> String {
    let (lot, machine, done) = (&s.lot, &s.machine, s.done);
    if done {
        tr!("\"{lot} {machine} done\" (done: {done})")
    } else {
        tr!("\"{lot} {machine} started\" (done: {done})")
    }
}

/// Publish `cmd`'s machine report: started (`done` false) or done.
async fn publish(
    producer: &FutureProducer,
    status_topic: &str,
    plant: &RefCell<Plant>,
    cmd: &MachineCommand,
    done: bool,
) -> Result<()> {
    ch7_workflow::program::publish_status(producer, status_topic, cmd, done)
        .await
        .context(tr!("publishing a status event"))?;
    plant.borrow_mut().published += 1;
    Ok(())
}

/// Send a command and wait until it is acknowledged.
pub(crate) async fn send_command(
    producer: &FutureProducer,
    topic: &str,
    cmd: &MachineCommand,
) -> Result<()> {
    ch7_workflow::await_delivery(ch7_workflow::send_command(producer, topic, cmd)?).await?;
    Ok(())
}
