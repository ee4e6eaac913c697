//! Checks of exercise 7.3: a workflow step driven by status events.
//!
//! The student writes, from a blank function, the step of the workflow
//! that sends lots from M2 to M3: a consumer of `machine-status` (in group
//! `workflow-m3`) that sends a lot's M3 command to `m3-commands` when it
//! reads that M2 has finished that lot, and commits what it has dealt with.
//!
//! The checks run the rest of chapter 7's plant on the embedded cluster:
//! three machines, each a consumer of its own command topic that reports
//! "started" and "done" to `machine-status`, and the step from M1 to M2.
//! Four lots are started at once, so their events interleave. The M2
//! machine is busy: it finishes a lot only a while after reporting
//! "started", and only once M3 has nothing left to read, so that an M3
//! command sent too early reaches M3 before M2 is done. It reports one
//! lot's "done" twice, as after a restart. The student's step starts only
//! once the first "M2 done" is written, as a workflow that starts late (or
//! restarts) would. The checks then look at what the machines did, at
//! `m3-commands` read back, and at the group's committed offsets.

use std::cell::RefCell;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::{try_join_all, LocalBoxFuture};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureProducer;
use tokio::sync::watch;
use tokio::time::{sleep, Instant};

use super::ex7_status::{send_command, summarize};
use super::Checks;
use crate::ch6_order::Workshop;
use crate::ch7_workflow::{self, consumer, decode, MachineStatus, COMMAND_TOPICS, STATUS_TOPIC};
use crate::kit::groups::committed_offsets;
use crate::kit::{Held, Stage};
use crate::workshop::{MachineCommand, STEPS};
use crate::{tr, tr_static};

/// The lots the plant runs, all started at once.
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// For this lot, the M2 machine reports "done" twice.
const REPEATED: &str = "lot-B";
/// The student's consumer group.
pub const GROUP: &str = "workflow-m3";
/// Partitions of `machine-status` and of `m3-commands`.
const PARTITIONS: i32 = 3;
/// How long the M2 machine works on a lot, at least.
const M2_WORK: Duration = Duration::from_millis(300);
/// How long the plant may take to come to rest.
const RUN_TIME: Duration = Duration::from_secs(5);

/// The student's function (or the solution's, or the starter's).
pub type Code = for<'c> fn(&'c Stage) -> LocalBoxFuture<'c, Result<()>>;

/// What the plant's tasks share (all on one thread).
#[derive(Default)]
struct Plant {
    workshop: Workshop,
    /// "M2 done" events published, and whether the student's step had
    /// started when each lot's first one was.
    m2_done: Vec<(String, bool)>,
    /// The student's step has started.
    started: bool,
    /// M3 commands the M3 machine has read.
    m3_read: i64,
    /// M3 commands that reached M3 before M2 had finished their lot.
    early: Vec<String>,
    /// What the student's function returned, if it returned.
    returned: Option<String>,
    /// Status events being published right now, not yet acknowledged.
    reporting: usize,
}

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let step = code;
        let mut command_topics = Vec::new();
        for (k, logical) in COMMAND_TOPICS.iter().enumerate() {
            let partitions = if k == 2 { PARTITIONS } else { 1 };
            command_topics.push(ctx.create_topic(logical, partitions, 3).await?);
        }
        let status_topic = ctx.create_topic(STATUS_TOPIC, PARTITIONS, 3).await?;
        let producer: FutureProducer = ctx
            .client_config()
            .set("linger.ms", "0")
            .set("enable.idempotence", "true")
            .create()
            .context(tr!("creating the producer"))?;
        let probe: BaseConsumer = ctx
            .client_config()
            .set("group.id", ctx.name("exercise-probe"))
            .create()
            .context(tr!("creating a reader"))?;

        let plant = RefCell::new(Plant::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let machines = try_join_all((0..3).map(|k| {
            machine(
                ctx,
                k,
                &command_topics,
                &status_topic,
                &producer,
                &probe,
                &plant,
                stop_rx.clone(),
            )
        }));
        let m1_to_m2 = m1_to_m2(
            ctx,
            &command_topics,
            &status_topic,
            &producer,
            stop_rx.clone(),
        );
        checks.step(tr!(
            "the plant runs {} lots; your m2_to_m3 starts once the first \"M2 done\" is written",
            LOTS.len()
        ));
        let mut stop_student = stop_rx.clone();
        let student = async {
            while plant.borrow().m2_done.is_empty() {
                tokio::select! {
                    _ = sleep(Duration::from_millis(2)) => {}
                    _ = stop_student.changed() => return,
                }
            }
            plant.borrow_mut().started = true;
            let returned = tokio::select! {
                r = step(ctx) => r,
                _ = stop_student.changed() => return,
            };
            plant.borrow_mut().returned = Some(match returned {
                Ok(()) => tr!("m2_to_m3 returned Ok(())"),
                Err(e) => tr!("m2_to_m3 returned an error: {e:#}"),
            });
        };
        let driver = async {
            let result = drive(
                ctx,
                &command_topics,
                &status_topic,
                &producer,
                &probe,
                &plant,
            )
            .await;
            let _ = stop_tx.send(true);
            result
        };
        let (machines, m1_to_m2, (), settled) = tokio::join!(machines, m1_to_m2, student, driver);
        // Close the consumers side by side (each leaves its group).
        let mut consumers = machines?;
        consumers.push(m1_to_m2?);
        std::thread::scope(|s| {
            for consumer in consumers {
                s.spawn(move || drop(consumer));
            }
        });
        let settled = settled?;
        let plant = plant.into_inner();

        // 1. Nothing reaches M3 early.
        let mut early = summarize(&plant.early);
        if plant.m3_read == 0 {
            early.push(tr!("No M3 command ever reached the M3 machine."));
        }
        early.push(tr!(
            "The M2 machine reports \"started\" (done: false) when it takes a lot and \"done\"\n\
             (done: true) when it has finished; M1 and M3 report on the same topic. Send a lot's\n\
             M3 command only on \"M2 done\": Kafka will not hold it back, it is in another\n\
             topic (chapter 7: nothing orders records across topics)."
        ));
        checks.check(
            tr_static!("no lot reaches M3 before M2 has finished it"),
            plant.early.is_empty() && plant.m3_read > 0,
            early.join("\n"),
        );

        // 2. Every lot, each step once, in order.
        let mut wrong = Vec::new();
        let mut missed_at_start = false;
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
            let mut line = if names.is_empty() {
                tr!("{lot}: the machines did nothing")
            } else {
                tr!("{lot}: the machines did {}", names.join(", "))
            };
            if !did.contains(&MachineCommand::step(lot, 3)) {
                line.push_str(tr_static!("; M3 never polished it (the lot stalled)"));
                let before = plant
                    .m2_done
                    .iter()
                    .any(|(l, started)| l == lot && !started);
                if before {
                    missed_at_start = true;
                    line.push_str(tr_static!(
                        "; its \"M2 done\" was written before your m2_to_m3 started"
                    ));
                }
            } else {
                line.push_str(tr_static!(": OUT OF ORDER"));
            }
            wrong.push(line + ".");
        }
        if missed_at_start {
            wrong.push(tr!(
                "A group that has never committed starts where auto.offset.reset says, and\n\
                 consumer_config sets \"latest\": only what is written after the consumer joins.\n\
                 The workflow must also read what was written before it started (chapter 5:\n\
                 a consumer that starts later)."
            ));
        }
        if let Some(returned) = &plant.returned {
            wrong.push(tr!(
                "{returned}: a workflow step never stops, it reads the status events one after\n\
                 the other in a loop (chapter 4: the consumer loop)."
            ));
        }
        if !settled {
            wrong.push(tr!(
                "The plant had not finished after {RUN_TIME:?}, with every status event committed by\n\
                 group {GROUP}."
            ));
        }
        checks.check(
            &tr!("every lot goes M1, M2, M3, each once, in order ({REPEATED}'s \"M2 done\" is written twice)"),
            wrong.is_empty(),
            wrong.join("\n"),
        );

        // 3. What is in m3-commands.
        let log = ctx.read_topic(&command_topics[2])?;
        let mut records: Vec<String> = log
            .iter()
            .filter_map(|m| {
                let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
                let (p, o) = (m.partition(), m.offset());
                match decode::<MachineCommand>(m) {
                    Err(_) => Some(tr!(
                        "Partition {p}, offset {o}: the value is not the JSON of a MachineCommand."
                    )),
                    Ok(cmd) if cmd != MachineCommand::step(&cmd.lot, 3) => Some(tr!(
                        "Partition {p}, offset {o}: {cmd:?} is not the M3 step of a lot (MachineCommand::step(lot, 3))."
                    )),
                    Ok(cmd) if key.as_deref() != Some(cmd.lot.as_str()) => Some(tr!(
                        "Partition {p}, offset {o}: {} has the key {key:?}, expected {:?}.",
                        cmd.label(),
                        cmd.lot
                    )),
                    Ok(_) => None,
                }
            })
            .collect();
        records = summarize(&records);
        if log.is_empty() {
            records.push(tr!("m3-commands is empty."));
        }
        records.push(tr!(
            "Send MachineCommand::step(lot, 3) as JSON to m3-commands, with the lot as the key:\n\
             a lot's commands then stay in one partition, in order (chapter 2)."
        ));
        checks.check(
            tr_static!("each M3 command is the lot's M3 step, keyed by the lot"),
            records.len() == 1,
            records.join("\n"),
        );

        // 4. Progress committed.
        let committed = committed_offsets(ctx, GROUP, &status_topic, PARTITIONS)?;
        let mut behind = Vec::new();
        for p in 0..PARTITIONS {
            let (_, high) = probe
                .fetch_watermarks(&status_topic, p, Duration::from_secs(5))
                .context(tr!("reading the watermarks"))?;
            let c = committed.get(&p).copied().flatten();
            if c != Some(high) {
                let c = c.map_or_else(|| tr!("none"), |c| c.to_string());
                behind.push(tr!(
                    "partition {p}: committed {c}, end of the partition {high}"
                ));
            }
        }
        checks.check(
            &tr!("group {GROUP} commits every status event it has dealt with"),
            behind.is_empty(),
            tr!(
                "Group {GROUP}'s committed offsets on machine-status, at the end:\n  {}\n\
                 Commit each status event once it is dealt with, after the M3 command it causes\n\
                 is acknowledged: a workflow that restarts resumes from there (chapter 7:\n\
                 surviving a crash in the middle).",
                behind.join("\n  ")
            ),
        );
        Ok(())
    })
}

/// Start every lot (its M1 command), then wait until the plant settles:
/// every lot polished by M3, and every status event committed by the
/// student's group. Returns whether it did within [`RUN_TIME`].
async fn drive(
    ctx: &Stage,
    command_topics: &[String],
    status_topic: &str,
    producer: &FutureProducer,
    probe: &BaseConsumer,
    plant: &RefCell<Plant>,
) -> Result<bool> {
    let deadline = Instant::now() + RUN_TIME;
    for lot in LOTS {
        send_command(producer, &command_topics[0], &MachineCommand::step(lot, 1)).await?;
    }
    loop {
        if Instant::now() > deadline {
            return Ok(false);
        }
        sleep(Duration::from_millis(50)).await;
        // Polished, and M3's last "done" written: a lot counts as polished
        // as soon as M3 has done the work, before its report is
        // acknowledged. Without waiting for that report, the plant stopped
        // with it unread by the student's group (committed 7, end of the
        // partition 8: a correct solution failed, under load).
        let polished = {
            let plant = plant.borrow();
            plant.reporting == 0 && LOTS.iter().all(|lot| plant.workshop.has_done(lot, 3))
        };
        if polished && committed_all(ctx, probe, status_topic)? {
            return Ok(true);
        }
    }
}

/// Has the student's group committed every status event written so far?
fn committed_all(ctx: &Stage, probe: &BaseConsumer, status_topic: &str) -> Result<bool> {
    let committed = committed_offsets(ctx, GROUP, status_topic, PARTITIONS)?;
    for p in 0..PARTITIONS {
        let (_, high) = probe.fetch_watermarks(status_topic, p, Duration::from_secs(5))?;
        if committed.get(&p).copied().flatten() != Some(high) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The records written to `topic` so far, over its partitions.
fn written(probe: &BaseConsumer, topic: &str, partitions: i32) -> Result<i64> {
    let mut total = 0;
    for p in 0..partitions {
        let (low, high) = probe.fetch_watermarks(topic, p, Duration::from_secs(5))?;
        total += high - low;
    }
    Ok(total)
}

/// One machine: consume its topic; for each command not done yet, report
/// "started", do the work (M2 takes its time), report "done", commit. A
/// command it has already done is skipped, and reported "done" again. Runs
/// until `stop`.
#[allow(clippy::too_many_arguments)]
async fn machine(
    ctx: &Stage,
    k: usize,
    command_topics: &[String],
    status_topic: &str,
    producer: &FutureProducer,
    probe: &BaseConsumer,
    plant: &RefCell<Plant>,
    mut stop: watch::Receiver<bool>,
) -> Result<Held<StreamConsumer>> {
    let consumer = consumer(ctx, &format!("machine-{}", STEPS[k].0))?;
    consumer.subscribe(&[command_topics[k].as_str()])?;
    loop {
        let msg = tokio::select! {
            msg = consumer.recv() => msg?,
            _ = stop.changed() => return Ok(consumer),
        };
        let cmd: MachineCommand = match decode::<MachineCommand>(&msg) {
            Ok(cmd) if k < 2 || cmd == MachineCommand::step(&cmd.lot, 3) => cmd,
            // Not an M3 command (the student's): M3 reads it and does nothing
            // with it; check 3 reports it.
            Ok(_) | Err(_) if k == 2 => {
                plant.borrow_mut().m3_read += 1;
                consumer.store_offset_from_message(&msg)?;
                continue;
            }
            other => other?,
        };
        if k == 2 {
            let mut p = plant.borrow_mut();
            p.m3_read += 1;
            if !p.workshop.has_done(&cmd.lot, 2) {
                let line = tr!(
                    "{} reached the M3 machine while M2 had not finished {}.",
                    cmd.label(),
                    cmd.lot
                );
                p.early.push(line);
            }
        }
        let already = plant.borrow().workshop.has_done(&cmd.lot, cmd.step);
        if !already {
            publish(producer, status_topic, plant, &cmd, false).await?;
            // The busy M2 machine takes its time, and finishes a lot only
            // once M3 has read everything it was sent meanwhile.
            if k == 1 {
                let began = Instant::now();
                loop {
                    let quiet = began.elapsed() >= M2_WORK
                        && written(probe, &command_topics[2], PARTITIONS)?
                            == plant.borrow().m3_read;
                    if quiet {
                        break;
                    }
                    tokio::select! {
                        _ = sleep(Duration::from_millis(10)) => {}
                        _ = stop.changed() => return Ok(consumer),
                    }
                }
            }
        }
        plant.borrow_mut().workshop.execute(&cmd);
        let reports = if k == 1 && cmd.lot == REPEATED && !already {
            // As after a restart of the machine between its report and its commit.
            2
        } else {
            1
        };
        for _ in 0..reports {
            publish(producer, status_topic, plant, &cmd, true).await?;
            if k == 1 {
                let mut p = plant.borrow_mut();
                let started = p.started;
                p.m2_done.push((cmd.lot.clone(), started));
            }
        }
        consumer.store_offset_from_message(&msg)?;
        consumer.commit_consumer_state(CommitMode::Async)?;
    }
}

/// The workflow's step from M1 to M2 (the checks' own): on "M1 done",
/// send the lot's M2 command. Runs until `stop`.
async fn m1_to_m2(
    ctx: &Stage,
    command_topics: &[String],
    status_topic: &str,
    producer: &FutureProducer,
    mut stop: watch::Receiver<bool>,
) -> Result<Held<StreamConsumer>> {
    let consumer = consumer(ctx, "workflow-m2")?;
    consumer.subscribe(&[status_topic])?;
    loop {
        let msg = tokio::select! {
            msg = consumer.recv() => msg?,
            _ = stop.changed() => return Ok(consumer),
        };
        let status: MachineStatus = decode(&msg)?;
        if status.step == 1 && status.done {
            send_command(
                producer,
                &command_topics[1],
                &MachineCommand::step(&status.lot, 2),
            )
            .await?;
        }
        consumer.store_offset_from_message(&msg)?;
        consumer.commit_consumer_state(CommitMode::Sync)?;
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
    plant.borrow_mut().reporting += 1;
    let published = ch7_workflow::program::publish_status(producer, status_topic, cmd, done).await;
    plant.borrow_mut().reporting -= 1;
    published.context(tr!("publishing a status event"))?;
    Ok(())
}
