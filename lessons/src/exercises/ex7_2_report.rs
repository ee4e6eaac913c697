//! Checks of exercise 7.2: a machine reports a step done only after the work.
//!
//! The student's `machine_step` handles one command of the M2 machine's
//! topic: read it, drill the lot (unless the machine remembers doing it),
//! publish the status event "done" to `machine-status`, keyed by the lot,
//! and commit the command. The checks run it as chapter 7's machines run:
//! a controller (a consumer in the machine's group) calls it again and
//! again, and is restarted in the same group when the machine crashes. The
//! machine crashes twice: just before drilling `lot-B`, and just after
//! drilling `lot-C`. The checks then read `machine-status` back, look at
//! what the machine did, and at the group's committed offset.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use rdkafka::Offset;
use tokio::time::{timeout_at, Instant};

use super::Checks;
use crate::ch7_workflow::{program, MachineStatus, STATUS_TOPIC};
use crate::kit::groups::{committed_offsets, leave};
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The lots whose M2 command the machine handles, in the topic's order.
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// The machine's step: M2, drill.
const STEP: u32 = 2;
/// The lot the machine crashes on just before its work.
const CRASH_BEFORE: &str = "lot-B";
/// The lot the machine crashes on just after its work.
const CRASH_AFTER: &str = "lot-C";
/// The machine's command topic and consumer group.
const COMMAND_TOPIC: &str = "m2-commands";
const GROUP: &str = "machine-M2";
/// How many times the checks start the controller (each crash restarts it).
const MAX_SESSIONS: usize = 4;
/// How long the whole run may take, all sessions together.
const RUN_TIME: Duration = Duration::from_secs(6);

/// The M2 machine tool, as the student's step sees it.
///
/// `run` is **not** idempotent: running a command twice drills twice. The
/// machine remembers what it has done (`has_done`): that memory belongs to
/// the machine, so it survives the controller's crash (chapter 6).
#[derive(Debug, Default)]
pub struct Machine {
    state: RefCell<MachineState>,
}

#[derive(Debug, Default)]
struct MachineState {
    done: BTreeSet<String>,
    /// Every operation performed, in order (a repeat appears twice).
    effects: Vec<MachineCommand>,
    /// The injected crashes that have happened.
    crashed_before: bool,
    crashed_after: bool,
}

impl Machine {
    /// Drill `cmd`'s lot. An error means the controller has crashed at that
    /// moment: return it at once (`?`), and the checks restart it.
    pub fn run(&self, cmd: &MachineCommand) -> Result<()> {
        let mut s = self.state.borrow_mut();
        if cmd.lot == CRASH_BEFORE && !s.crashed_before {
            s.crashed_before = true;
            bail!(
                "{} {}",
                crash_words(),
                tr!("just before {} started", cmd.label())
            );
        }
        s.done.insert(cmd.lot.clone());
        s.effects.push(cmd.clone());
        if cmd.lot == CRASH_AFTER && !s.crashed_after {
            s.crashed_after = true;
            bail!(
                "{} {}",
                crash_words(),
                tr!("just after {} was done", cmd.label())
            );
        }
        Ok(())
    }

    /// Has this machine already performed this step of this lot?
    pub fn has_done(&self, cmd: &MachineCommand) -> bool {
        cmd.step == STEP && self.state.borrow().done.contains(&cmd.lot)
    }
}

/// How the machine's injected crash begins its error: the checks tell it
/// from the errors of the student's own code by these words.
fn crash_words() -> &'static str {
    tr_static!("CRASH: the controller stopped")
}

/// What the student's `machine_step` is given: the M2 machine's controller.
pub struct Controller {
    /// Subscribed to `m2-commands`, in group `machine-M2`, with
    /// `enable.auto.commit=false` and `enable.auto.offset.store=false`:
    /// nothing is committed unless the step does it.
    pub consumer: StreamConsumer,
    /// A producer for the status events.
    pub producer: FutureProducer,
    /// The actual name of the `machine-status` topic on this cluster.
    pub status_topic: String,
    /// The machine tool (its memory survives the controller's restarts).
    pub machine: Rc<Machine>,
}

/// The student's function (or the solution's, or the starter's).
pub type Code = for<'c> fn(&'c Controller) -> LocalBoxFuture<'c, Result<()>>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let step = code;
        let topic = ctx.create_topic(COMMAND_TOPIC, 1, 3).await?;
        let status_topic = ctx.create_topic(STATUS_TOPIC, 3, 3).await?;
        let producer: FutureProducer = ctx
            .client_config()
            .set("linger.ms", "0")
            .set("enable.idempotence", "true")
            .create()
            .context(tr!("creating the producer"))?;
        for lot in LOTS {
            let cmd = MachineCommand::step(lot, STEP);
            crate::ch7_workflow::await_delivery(crate::ch7_workflow::send_command(
                &producer, &topic, &cmd,
            )?)
            .await?;
        }

        checks.step(tr!(
            "the M2 controller calls your machine_step for {} commands; the machine crashes just before drilling {CRASH_BEFORE} and just after drilling {CRASH_AFTER}",
            LOTS.len()
        ));
        let run = run(ctx, step, &topic, &status_topic, &producer).await?;
        let log = ctx.read_topic(&status_topic)?;
        let reports: Vec<Report> = log.iter().map(Report::from).collect();

        // 1. The records themselves.
        let mut wrong: Vec<String> = reports.iter().filter_map(Report::problem).take(4).collect();
        if reports.is_empty() {
            wrong.push(tr!(
                "machine-status is empty: the machine published no status event."
            ));
        }
        wrong.push(tr!(
            "Publish to ctl.status_topic, for the command just handled, the JSON of\n\
             MachineStatus {{ lot, machine, step, done: true }}, with the lot as the record's key:\n\
             a lot's reports then stay in one partition, in order (chapters 2 and 7)."
        ));
        checks.check(
            tr_static!("each status event says which step of which lot is done, keyed by the lot"),
            wrong.len() == 1,
            wrong.join("\n"),
        );

        // 2. No report before the work.
        let b = MachineCommand::step(CRASH_BEFORE, STEP).label();
        let early = match &run.at_crash_before {
            None => Some(tr!(
                "The machine never started drilling {CRASH_BEFORE}: call ctl.machine.run(&cmd) for each command\n\
                 the machine has not done yet (ctl.machine.has_done(&cmd))."
            )),
            Some(log) => log
                .iter()
                .map(Report::from)
                .find(|r| r.lot.as_deref() == Some(CRASH_BEFORE))
                .map(|r| {
                    tr!(
                        "The machine crashed just before drilling {CRASH_BEFORE}, and machine-status already held a\n\
                         report on it (partition {}, offset {}): the workflow would have sent {CRASH_BEFORE}\n\
                         to M3 although it was never drilled. Publish \"done\" only once\n\
                         ctl.machine.run(&cmd) has returned Ok (chapter 7: the fix: the application orders the steps).",
                        r.partition, r.offset
                    )
                }),
        };
        checks.check(
            &tr!(
                "a step is reported done only after its work (the machine crashes just before {b})"
            ),
            early.is_none(),
            early.unwrap_or_default(),
        );

        // 3. Each lot drilled once and reported, despite the crashes.
        let effects = run.machine.state.borrow().effects.clone();
        let mut lines = Vec::new();
        for lot in LOTS {
            let cmd = MachineCommand::step(lot, STEP);
            let times = effects.iter().filter(|c| **c == cmd).count();
            let reported = reports
                .iter()
                .any(|r| r.lot.as_deref() == Some(lot) && r.problem().is_none());
            if times == 0 {
                lines.push(match (lot == CRASH_BEFORE, run.committed_after_crash) {
                    (true, Some(c)) if c > 1 => tr!(
                        "{} was never drilled: the group's committed offset was already {c} when the machine\n\
                         crashed just before its work, so the restarted controller resumed after it.\n\
                         Commit a command only once it is done and reported (chapter 6).",
                        cmd.label()
                    ),
                    _ => tr!("{} was never drilled.", cmd.label()),
                });
            } else if times > 1 {
                lines.push(tr!(
                    "{} was drilled {times} times: the controller crashed after its work and before its\n\
                     commit, so Kafka delivered it again. Skip a command the machine has already done\n\
                     (ctl.machine.has_done(&cmd)) (chapter 6: idempotent steps).",
                    cmd.label()
                ));
            }
            if times > 0 && !reported {
                lines.push(if lot == CRASH_AFTER {
                    tr!(
                        "{} was never reported done: the controller crashed after the work and before the\n\
                         report, and the restarted one skipped the command without reporting it. Report\n\
                         \"done\" also for a command the machine had already done: that report may be the\n\
                         only one the workflow ever reads (chapter 7: surviving a crash in the middle).",
                        cmd.label()
                    )
                } else {
                    tr!("{} was drilled but never reported done.", cmd.label())
                });
            }
        }
        for (n, error) in run.errors.iter().enumerate() {
            lines.push(tr!(
                "Session {}: machine_step returned an error of its own: {error}",
                n + 1
            ));
        }
        if let Some(hang) = &run.hung {
            lines.push(hang.clone());
        }
        let state = run.machine.state.borrow();
        if (state.crashed_before || state.crashed_after) && run.sessions == 1 {
            lines.push(tr!(
                "ctl.machine.run returned an error (the crash) but machine_step carried on as if\n\
                 nothing had happened: return the error at once, with `?`."
            ));
        }
        drop(state);
        if !lines.is_empty() {
            let sessions = run.sessions;
            lines.push(tr!(
                "(The checks started the controller {sessions} time(s) in group {GROUP}.)"
            ));
        }
        checks.check(
            tr_static!("every lot is drilled once and reported done, despite two crashes"),
            lines.is_empty(),
            lines.join("\n"),
        );

        // 4. Progress committed.
        let expected = LOTS.len() as i64;
        let committed = committed_offsets(ctx, GROUP, &topic, 1)?
            .get(&0)
            .copied()
            .flatten();
        checks.check(
            &tr!("the machine's group commits its progress: offset {expected} once the last command is handled"),
            committed == Some(expected),
            tr!(
                "Group {GROUP}'s committed offset on {COMMAND_TOPIC} is {}, expected {expected}, the next offset to read:\n\
                 a restarted controller would receive those commands again. Once the report is\n\
                 acknowledged, commit the command: ctl.consumer.commit_message(&msg, CommitMode::Sync)\n\
                 (chapters 4 and 6).",
                committed.map_or_else(|| tr!("none"), |c| c.to_string())
            ),
        );
        Ok(())
    })
}

/// What happened while the controller ran.
struct Run {
    machine: Rc<Machine>,
    /// How many times the controller was started.
    sessions: usize,
    /// `machine-status` as it was right after the crash before the work.
    at_crash_before: Option<Vec<OwnedMessage>>,
    /// The group's committed offset right after that crash.
    committed_after_crash: Option<i64>,
    /// Errors of the student's own (not the machine's crashes).
    errors: Vec<String>,
    /// Why the run stopped waiting on the student's step, if it did.
    hung: Option<String>,
}

/// Run the controller around `step` until it has handled every command,
/// restarting it in the same group after each crash (bounded).
async fn run(
    ctx: &Stage,
    step: Code,
    topic: &str,
    status_topic: &str,
    producer: &FutureProducer,
) -> Result<Run> {
    let machine = Rc::new(Machine::default());
    let mut run = Run {
        machine: machine.clone(),
        sessions: 0,
        at_crash_before: None,
        committed_after_crash: None,
        errors: vec![],
        hung: None,
    };
    let deadline = Instant::now() + RUN_TIME;
    let total = LOTS.len() as i64;
    while run.sessions < MAX_SESSIONS {
        run.sessions += 1;
        let consumer = program::consumer(&ctx.consumer_config(GROUP))
            .context(tr!("creating the controller's consumer"))?;
        consumer.subscribe(&[topic])?;
        let ctl = Controller {
            consumer,
            producer: producer.clone(),
            status_topic: status_topic.to_string(),
            machine: machine.clone(),
        };
        let crashed_before = machine.state.borrow().crashed_before;
        let mut crashed = false;
        let mut calls = 0;
        // Call the step until the controller has read the last command (a
        // step that reads nothing is called a bounded number of times).
        while position(&ctl.consumer, topic) != Some(total) && calls < 2 * LOTS.len() {
            calls += 1;
            match timeout_at(deadline, step(&ctl)).await {
                Err(_) => {
                    run.hung = Some(tr!(
                        "The run stopped after {RUN_TIME:?}, waiting for machine_step to return."
                    ));
                    break;
                }
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let e = format!("{e:#}");
                    if e.contains(crash_words()) {
                        crashed = true;
                    } else {
                        run.errors.push(e);
                    }
                    break;
                }
            }
        }
        if !crashed_before && machine.state.borrow().crashed_before {
            run.at_crash_before = Some(ctx.read_topic(status_topic)?);
            run.committed_after_crash = committed_offsets(ctx, GROUP, topic, 1)?
                .get(&0)
                .copied()
                .flatten();
        }
        // The crashed controller is gone: its consumer leaves the group,
        // and a new one takes its place.
        let _ = leave(ctl.consumer).await;
        if !crashed || run.hung.is_some() {
            break;
        }
    }
    Ok(run)
}

/// The consumer's position on the topic's partition 0: the offset after
/// the last record it returned (`None` before the first).
fn position(consumer: &StreamConsumer, topic: &str) -> Option<i64> {
    let position = consumer.position().ok()?;
    match position.find_partition(topic, 0)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

/// One record of `machine-status`, as read back.
struct Report {
    partition: i32,
    offset: i64,
    key: Option<String>,
    status: Option<MachineStatus>,
    /// The lot the record is about, from its value (else its key).
    lot: Option<String>,
}

impl From<&OwnedMessage> for Report {
    fn from(m: &OwnedMessage) -> Report {
        let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
        let status: Option<MachineStatus> = program::decode(m).ok();
        let lot = status.as_ref().map(|s| s.lot.clone()).or(key.clone());
        Report {
            partition: m.partition(),
            offset: m.offset(),
            key,
            status,
            lot,
        }
    }
}

impl Report {
    /// What is wrong with this record, if anything.
    fn problem(&self) -> Option<String> {
        let (p, o) = (self.partition, self.offset);
        let Some(status) = &self.status else {
            return Some(tr!(
                "Partition {p}, offset {o}: the value is not the JSON of a MachineStatus."
            ));
        };
        let expected = MachineStatus {
            lot: status.lot.clone(),
            machine: "M2".to_string(),
            step: STEP,
            done: true,
        };
        if !LOTS.contains(&status.lot.as_str()) || *status != expected {
            return Some(tr!(
                "Partition {p}, offset {o}: {status:?}, expected {expected:?}."
            ));
        }
        if self.key.as_deref() != Some(status.lot.as_str()) {
            return Some(tr!(
                "Partition {p}, offset {o}: the report on {} has the key {:?}, expected {:?}.",
                status.lot,
                self.key,
                status.lot
            ));
        }
        None
    }
}
