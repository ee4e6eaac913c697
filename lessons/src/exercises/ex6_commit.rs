//! Checks of exercise 6: commit after the work, and make the work idempotent.
//!
//! The student's `handle` runs one command on a [`Machine`] and commits its
//! offset. The checks run a real controller on the embedded cluster (a
//! consumer in a group, automatic commits off) around that function, make
//! the machine "crash" at a chosen moment, restart the controller in the
//! same group, and compare what the machine did with M1, M2, M3 once each.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Offset;

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The lot whose three commands the controller handles.
const LOT: &str = "lot-A";
/// The step during which the machine crashes.
const CRASH_STEP: u32 = 2;
/// How many times the checks start the controller (a crash restarts it).
const MAX_SESSIONS: usize = 3;
/// How long one scenario may take, all sessions together.
const SCENARIO_TIME: Duration = Duration::from_secs(4);

/// A machine tool of the workshop, as the student's controller sees it.
///
/// `run` is **not** idempotent: running a command twice performs the
/// operation twice. The machine remembers what it has done (`has_done`):
/// that memory belongs to the machine, so it survives the controller's crash.
/// For the checks, the machine can also make the controller "crash" once,
/// just before or just after the work of one step.
#[derive(Debug, Default)]
pub struct Machine {
    done: BTreeSet<(String, u32)>,
    /// Every operation performed, in order (a repeat appears twice).
    effects: Vec<MachineCommand>,
    crash: Option<CrashPoint>,
    /// The injected crash has happened.
    crashed: bool,
}

/// When the injected crash comes, relative to the work of [`CRASH_STEP`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrashPoint {
    BeforeWork,
    AfterWork,
}

impl Machine {
    /// Perform `cmd`'s operation: mill, drill or polish the lot. An error
    /// means the controller has crashed at that moment.
    pub fn run(&mut self, cmd: &MachineCommand) -> Result<()> {
        let crash_now =
            |point| !self.crashed && self.crash == Some(point) && cmd.step == CRASH_STEP;
        if crash_now(CrashPoint::BeforeWork) {
            self.crashed = true;
            bail!(
                "{} {}",
                crash_words(),
                tr!("just before {} started", cmd.label())
            );
        }
        let after = crash_now(CrashPoint::AfterWork);
        self.done.insert((cmd.lot.clone(), cmd.step));
        self.effects.push(cmd.clone());
        if after {
            self.crashed = true;
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
        self.done.contains(&(cmd.lot.clone(), cmd.step))
    }
}

/// How the machine's injected crash begins its error: the diagnosis tells
/// it from the errors of the student's own code by these words.
fn crash_words() -> &'static str {
    tr_static!("CRASH: the controller stopped")
}

/// The student's function (or the solution's, or the starter's).
pub type Code = fn(&BaseConsumer, &BorrowedMessage<'_>, &mut Machine) -> Result<()>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let handle = code;
        let topic = ctx.create_topic("lot-commands", 1, 3).await?;
        send_commands(ctx, &topic).await?;
        let commands = MachineCommand::sequence(LOT);
        let m2 = MachineCommand::step(LOT, CRASH_STEP).label();

        checks.step(tr!("the controller runs {LOT} through your handle; the machine crashes just before {m2}'s work"));
        let before = scenario(
            ctx,
            &topic,
            "controller-crash-before-work",
            CrashPoint::BeforeWork,
            handle,
        )?;
        checks.check(
            &tr!("a crash just before {m2}'s work: no step is skipped"),
            before.effects == commands,
            before.diagnose(),
        );
        checks.step(tr!("the controller runs {LOT} through your handle; the machine crashes just after {m2}'s work"));
        let after = scenario(
            ctx,
            &topic,
            "controller-crash-after-work",
            CrashPoint::AfterWork,
            handle,
        )?;
        checks.check(
            &tr!("a crash just after {m2}'s work, before its commit: nothing is done twice"),
            after.effects == commands,
            after.diagnose(),
        );

        let expected = commands.len() as i64;
        let uncommitted: Vec<String> = [&before, &after]
            .iter()
            .filter(|s| s.committed_at_end != Some(expected))
            .map(|s| match s.committed_at_end {
                Some(c) if c >= 0 => tr!("group {}: the committed offset is {c}", s.group),
                Some(_) => tr!("group {}: nothing committed", s.group),
                None => tr!(
                    "group {}: the controller never got to the end of the partition",
                    s.group
                ),
            })
            .collect();
        checks.check(
            tr_static!("the controller commits its progress: offset 3 once M3 is done"),
            uncommitted.is_empty(),
            tr!(
                "After the last command:\n  {}\n\
                 Expected {expected}, the next offset to read: a committed offset below it makes the next\n\
                 controller of the group receive those commands again. Commit each record once its\n\
                 work is done, e.g. consumer.commit_message(msg, CommitMode::Sync) (chapter 6).",
                uncommitted.join("\n  ")
            ),
        );
        Ok(())
    })
}

/// Produce the lot's three commands, in order, to the topic's one partition.
async fn send_commands(ctx: &Stage, topic: &str) -> Result<()> {
    let producer: FutureProducer = ctx
        .client_config()
        .set("enable.idempotence", "true")
        .set("linger.ms", "0")
        .create()?;
    for cmd in MachineCommand::sequence(LOT) {
        let value = serde_json::to_string(&cmd)?;
        producer
            .send(
                FutureRecord::to(topic).key(LOT).payload(&value),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(e, _)| e)
            .with_context(|| tr!("producing {}", cmd.label()))?;
    }
    Ok(())
}

/// What happened in one scenario.
struct Scenario {
    group: String,
    point: CrashPoint,
    /// What the machine did, in order.
    effects: Vec<MachineCommand>,
    /// The injected crash happened (the machine's `run` returned it).
    machine_crashed: bool,
    /// Per session: the offsets handled, and the error that ended it if any.
    sessions: Vec<(Vec<i64>, Option<String>)>,
    /// The group's committed offset right after the first crash.
    committed_after_crash: Option<i64>,
    /// The group's committed offset once a session reached the end (-1: none).
    committed_at_end: Option<i64>,
}

/// Run the controller around `handle` until it has drained the partition,
/// restarting it in the same group after each crash (bounded).
fn scenario(
    ctx: &Stage,
    topic: &str,
    group: &str,
    point: CrashPoint,
    handle: Code,
) -> Result<Scenario> {
    let mut machine = Machine {
        crash: Some(point),
        ..Machine::default()
    };
    let mut s = Scenario {
        group: group.to_string(),
        point,
        effects: vec![],
        machine_crashed: false,
        sessions: vec![],
        committed_after_crash: None,
        committed_at_end: None,
    };
    let deadline = Instant::now() + SCENARIO_TIME;
    while s.sessions.len() < MAX_SESSIONS && Instant::now() < deadline {
        let consumer: BaseConsumer = ctx
            .consumer_config(group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            // Tell the controller when it has read everything.
            .set("enable.partition.eof", "true")
            .create()
            .context(tr!("creating the controller's consumer"))?;
        consumer.subscribe(&[topic])?;
        let mut handled = Vec::new();
        let mut ended_by = None;
        let mut drained = false;
        while Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(100)) {
                None => continue,
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    drained = true;
                    break;
                }
                Some(Err(e)) => return Err(e).context(tr!("the controller's consumer failed")),
                Some(Ok(msg)) => {
                    handled.push(msg.offset());
                    if let Err(e) = handle(&consumer, &msg, &mut machine) {
                        ended_by = Some(format!("{e:#}"));
                        break;
                    }
                }
            }
        }
        let committed = committed_offset(&consumer, topic)?;
        // Dropping the consumer without another commit is what a crash leaves.
        drop(consumer);
        let crashed = ended_by.is_some();
        s.sessions.push((handled, ended_by));
        if crashed {
            s.committed_after_crash.get_or_insert(committed);
            continue;
        }
        if drained {
            s.committed_at_end = Some(committed);
        }
        break;
    }
    s.effects = machine.effects;
    s.machine_crashed = machine.crashed;
    Ok(s)
}

/// The group's committed offset on partition 0 (-1 if none), as the
/// cluster reports it.
fn committed_offset(consumer: &BaseConsumer, topic: &str) -> Result<i64> {
    let committed = consumer
        .committed(Duration::from_secs(5))
        .context(tr!("reading the committed offset"))?;
    Ok(
        match committed.find_partition(topic, 0).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            _ => -1,
        },
    )
}

impl Scenario {
    /// Explain what went wrong, from what happened.
    fn diagnose(&self) -> String {
        let mut lines = Vec::new();
        let m2 = MachineCommand::step(LOT, CRASH_STEP).label();
        let did: Vec<String> = self.effects.iter().map(|c| c.label()).collect();
        let runs = self.sessions.len();
        let did = if did.is_empty() {
            tr!("nothing")
        } else {
            did.join(", ")
        };
        lines.push(match self.point {
            CrashPoint::BeforeWork => tr!(
                "The machine made the controller crash just before the work of {m2}; the checks ran the\n\
                 controller {runs} time(s) in the same group, and the machine did: {did}."
            ),
            CrashPoint::AfterWork => tr!(
                "The machine made the controller crash just after the work of {m2}; the checks ran the\n\
                 controller {runs} time(s) in the same group, and the machine did: {did}."
            ),
        });
        let other_errors: Vec<&String> = self
            .sessions
            .iter()
            .filter_map(|(_, e)| e.as_ref())
            .filter(|e| !e.contains(crash_words()))
            .collect();
        for e in &other_errors {
            lines.push(tr!("handle returned an error of its own: {e}"));
        }
        if self.machine_crashed && self.sessions.iter().all(|(_, e)| e.is_none()) {
            lines.push(tr!(
                "machine.run returned an error (the crash) but handle carried on as if nothing had\n\
                 happened: return the error at once, with `?`."
            ));
        }
        for cmd in MachineCommand::sequence(LOT) {
            let times = self.effects.iter().filter(|c| **c == cmd).count();
            let offset = cmd.step as i64 - 1;
            if times == 0 {
                match self.committed_after_crash {
                    Some(c)
                        if c > offset
                            && self.point == CrashPoint::BeforeWork
                            && cmd.step == CRASH_STEP =>
                    {
                        lines.push(tr!(
                            "{} was never done: its offset was committed before the work, and the crash came\n\
                             in between. Right after the crash the group's committed offset was already {c},\n\
                             past it, so the restarted controller resumed after it: a skipped step.\n\
                             Commit only once the work is done (chapter 6).",
                            cmd.label()
                        ));
                    }
                    _ => lines.push(tr!("{} was never done (chapter 6).", cmd.label())),
                }
            } else if times > 1 {
                let redelivered = self
                    .sessions
                    .iter()
                    .filter(|(offsets, _)| offsets.contains(&offset))
                    .count();
                lines.push(tr!(
                    "{} took effect {times} times. It was delivered in {redelivered} sessions: the crash came after\n\
                     its work and before its commit, so Kafka delivered it again (at-least-once). A\n\
                     repeat must be harmless: skip a command the machine has already done\n\
                     (machine.has_done) (chapter 6: idempotent steps).",
                    cmd.label()
                ));
            }
        }
        let steps: Vec<u32> = self.effects.iter().map(|c| c.step).collect();
        if steps.windows(2).any(|w| w[1] < w[0]) {
            lines.push(tr!("The steps were not done in order (chapter 6)."));
        }
        if self.committed_at_end.is_none() {
            lines.push(tr!(
                "The controller did not get through the partition in {} sessions within {SCENARIO_TIME:?}.",
                self.sessions.len()
            ));
        }
        lines.join("\n")
    }
}
