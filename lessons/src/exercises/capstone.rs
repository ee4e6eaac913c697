//! Checks of the capstone: the whole workshop, end to end, under faults.
//!
//! The student writes the workshop's two kinds of process: a machine's
//! controller (consume its command topic in a group, perform each command
//! once, report it done on `machine-status`, commit after that) and the
//! workflow (on each "done" report, send the lot's next command, commit
//! after that). The checks start three machines and the workflow on the
//! embedded cluster, as a supervisor would, send each lot's M1 command, and
//! inject three faults while the lots go through:
//!
//! - a **retried write**: the cluster refuses the first write of the
//!   workshop once (NOT_ENOUGH_REPLICAS, retriable): its producer retries it;
//! - a **broker down and back**: when M1 mills the last lot, broker 2, the
//!   leader of the command topics, goes down for a second;
//! - a **crash mid-lot**: when M2 has drilled `lot-B`, its controller is
//!   stopped before it can report or commit, and started again.
//!
//! Each fault is asserted to have happened and been seen (the producers'
//! own statistics: retries, disconnections; the group's committed offset at
//! the crash; the command read again after it). The machines are a model
//! that counts what each one really did, so "nothing lost", "nothing done
//! twice" and "no step out of order" are measured on the work itself.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message as _;
use rdkafka::mocking::MockCoordinator;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::{watch, Notify};
use tokio::time::{sleep, Instant};

use super::Checks;
use crate::ch7_workflow::{MachineStatus, COMMAND_TOPICS, STATUS_TOPIC};
use crate::kit::{mock_pause, Stage};
use crate::workshop::{MachineCommand, STEPS};
use crate::{tr, tr_static};

/// The lots the workshop runs, in the order their M1 commands are sent.
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// The crash: machine M2's controller stops once it has drilled this lot.
const CRASH_LOT: &str = "lot-B";
const CRASH_MACHINE: usize = 1;
/// The outage: broker 2 goes down when M1 mills this lot, for this long.
const OUTAGE_LOT: &str = "lot-D";
const OUTAGE: Duration = Duration::from_millis(1000);
/// Where things live: the status topic's leader (where the refused write
/// lands), the command topics' leader (the broker that goes down), and the
/// groups' coordinator (never down, so that commits are never held up).
const STATUS_BROKER: i32 = 1;
const DOWN_BROKER: i32 = 2;
const COORDINATOR: i32 = 3;
/// How long a machine's work takes.
const WORK: Duration = Duration::from_millis(20);
/// How many times the checks start each part (a crash or an error restarts it).
const MAX_STARTS: usize = 6;
/// How long the whole run may take, and how long the parts then have to
/// commit their last records.
const RUN_TIME: Duration = Duration::from_secs(10);
const SETTLE_TIME: Duration = Duration::from_secs(2);

/// The consumer groups, as the student's file names them: the checks ask
/// the cluster for their committed offsets.
pub fn machine_group(k: usize) -> String {
    format!("machine-{}", STEPS[k].0)
}
pub const WORKFLOW_GROUP: &str = "workflow";

/// The producer each part is given: an ordinary `FutureProducer` with
/// chapter 6's settings (idempotent, `acks=all`), whose context watches the
/// client's statistics and its log, so that the checks see its refused
/// writes and lost connections.
pub type Producer = FutureProducer<Watch>;

/// A client context that keeps what the checks need to see of a producer:
/// per broker id, the disconnections its statistics counted, and the
/// writes the cluster refused (librdkafka's `msg` debug log says so).
#[derive(Default, Clone)]
pub struct Watch {
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    disconnects: BTreeMap<i64, i64>,
    /// The log lines of refused writes that the producer retried.
    refused: Vec<String>,
    /// The log lines of lost or refused connections, e.g.
    /// "127.0.0.1:36245/2: Connect to ipv4#127.0.0.1:36245 failed: Connection refused".
    failures: Vec<String>,
}

impl ClientContext for Watch {
    fn stats_raw(&self, statistics: &[u8]) {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(statistics) else {
            return;
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(brokers) = json.get("brokers").and_then(|b| b.as_object()) {
            for b in brokers.values() {
                let id = b.get("nodeid").and_then(|v| v.as_i64()).unwrap_or(-1);
                let n = b.get("disconnects").and_then(|v| v.as_i64()).unwrap_or(0);
                if id >= 0 {
                    seen.disconnects.insert(id, n);
                }
            }
        }
    }

    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, fac: &str, line: &str) {
        // "machine-status [0]: MessageSet with 1 message(s) (MsgId 1, BaseSeq 0)
        // encountered error: Broker: Not enough in-sync replicas (actions Retry,...)"
        if fac == "MSGSET" && line.contains("encountered error") && line.contains("Retry") {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.refused.push(line.to_string());
        }
        if fac == "FAIL" {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.failures.push(line.to_string());
        }
    }
}

impl Watch {
    /// Disconnections from `broker` the client has counted: in its
    /// statistics, or in its log, whichever says more.
    fn disconnects(&self, broker: i32) -> i64 {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let counted = seen
            .disconnects
            .get(&i64::from(broker))
            .copied()
            .unwrap_or(0);
        let name = format!("/{broker}: ");
        let logged = seen.failures.iter().filter(|l| l.contains(&name)).count() as i64;
        counted.max(logged)
    }

    /// How many writes the cluster refused and the producer retried.
    fn refused(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refused
            .len()
    }
}

/// One process of the workshop, as the checks start it.
pub enum Part<'a> {
    /// A machine's controller: `machine` is the machine it drives.
    Machine {
        ctx: &'a Stage,
        machine: &'a Machine,
        producer: &'a Producer,
    },
    /// The workflow.
    Workflow {
        ctx: &'a Stage,
        producer: &'a Producer,
    },
}

/// The student's `run` (or the solution's, or the starter's).
pub type Code = for<'a> fn(Part<'a>) -> LocalBoxFuture<'a, Result<()>>;

/// A machine tool, as its controller sees it. `perform` is **not**
/// idempotent: performing a command twice mills, drills or polishes twice.
/// The machine remembers what it has done (`has_done`), and that memory
/// survives its controller's crash.
pub struct Machine {
    k: usize,
    plant: Rc<Plant>,
}

impl Machine {
    /// "M1", "M2" or "M3".
    pub fn name(&self) -> &'static str {
        STEPS[self.k].0
    }

    /// The step of every lot this machine performs: 1, 2 or 3.
    pub fn step(&self) -> u32 {
        self.k as u32 + 1
    }

    /// Has this machine already performed this step of this lot?
    pub fn has_done(&self, cmd: &MachineCommand) -> bool {
        let mut s = self.plant.state.borrow_mut();
        let done = s.done.contains(&(cmd.lot.clone(), cmd.step));
        if let Some(crash) = s.crash.as_mut() {
            if done && crash.cmd == *cmd {
                crash.asked_again = true;
            }
        }
        done
    }

    /// Perform `cmd` (it takes a moment). An error: the command is not for
    /// this machine.
    pub async fn perform(&self, cmd: &MachineCommand) -> Result<()> {
        let plant = &self.plant;
        let valid = LOTS.contains(&cmd.lot.as_str())
            && cmd.step == self.step()
            && *cmd == MachineCommand::step(&cmd.lot, cmd.step);
        if !valid {
            let line = tr!(
                "{} was asked to perform {cmd:?}, which is not one of its steps",
                self.name()
            );
            plant.state.borrow_mut().wrong.push(line.clone());
            bail!("{line}");
        }
        {
            let mut s = plant.state.borrow_mut();
            if cmd.step > 1 && !s.done.contains(&(cmd.lot.clone(), cmd.step - 1)) {
                let previous = MachineCommand::step(&cmd.lot, cmd.step - 1);
                let line = tr!(
                    "{} started before {} was done",
                    cmd.label(),
                    previous.label()
                );
                s.out_of_order.push(line);
            }
            if let Some(crash) = s.crash.as_mut() {
                if crash.cmd == *cmd {
                    crash.asked_again = true;
                }
            }
        }
        sleep(WORK).await; // the machine mills, drills or polishes
        let at = plant.now();
        {
            let mut s = plant.state.borrow_mut();
            s.done.insert((cmd.lot.clone(), cmd.step));
            s.effects.push((cmd.clone(), at));
        }
        // The injected crash: the work is done, and the controller stops
        // here, before it can report or commit anything.
        if self.k == CRASH_MACHINE && cmd.lot == CRASH_LOT && plant.state.borrow().crash.is_none() {
            plant.state.borrow_mut().crash = Some(Crash {
                cmd: cmd.clone(),
                at,
                committed: None,
                command_offset: None,
                asked_again: false,
                restarted: false,
            });
            plant.crash.notify_one();
            std::future::pending::<()>().await;
        }
        // The injected outage: broker 2 goes down now, before the
        // controller reports this lot.
        if self.k == 0 && cmd.lot == OUTAGE_LOT && !plant.outage_asked.get() {
            plant.outage_asked.set(true);
            plant.outage.notify_one();
            let deadline = Instant::now() + Duration::from_secs(2);
            while plant.state.borrow().outage.is_none() && Instant::now() < deadline {
                sleep(Duration::from_millis(2)).await;
            }
        }
        Ok(())
    }
}

/// What the parts and the checks share (all on one thread).
struct Plant {
    start: Instant,
    state: RefCell<State>,
    /// M2 has drilled the crash lot: its supervisor stops it.
    crash: Notify,
    /// M1 has milled the outage lot: broker 2 goes down.
    outage: Notify,
    outage_asked: Cell<bool>,
}

impl Plant {
    /// Time since the start of the run.
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

#[derive(Default)]
struct State {
    done: BTreeSet<(String, u32)>,
    /// Every operation performed, in order, with when.
    effects: Vec<(MachineCommand, Duration)>,
    out_of_order: Vec<String>,
    wrong: Vec<String>,
    crash: Option<Crash>,
    outage: Option<Outage>,
    /// Per part (M1, M2, M3, workflow): how each of its runs ended.
    ends: [Vec<String>; 4],
}

/// The injected crash, as it happened.
struct Crash {
    cmd: MachineCommand,
    at: Duration,
    /// The group's committed offset right after the crash (-1: none).
    committed: Option<i64>,
    /// Where the crashed command is in its topic.
    command_offset: Option<i64>,
    /// After the crash, the machine was asked about the command again.
    asked_again: bool,
    /// The controller was started again.
    restarted: bool,
}

/// The injected outage, as it happened.
struct Outage {
    down_at: Duration,
    up_at: Option<Duration>,
    /// Disconnections from broker 2 the producers had counted when it went down.
    disconnects_before: i64,
}

/// The checks, run on `code`: the student's `run`, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let Some(mock) = ctx.mock() else {
            bail!("{}", tr!("the capstone's faults need the embedded cluster"));
        };
        // The topics: the command topics led by broker 2, the status topic
        // by broker 1; every group coordinated by broker 3.
        let mut command_topics = Vec::new();
        for logical in COMMAND_TOPICS {
            let topic = ctx.create_topic(logical, 1, 3).await?;
            mock_pause().await;
            mock.partition_leader(&topic, 0, Some(DOWN_BROKER))?;
            command_topics.push(topic);
        }
        let status_topic = ctx.create_topic(STATUS_TOPIC, 1, 3).await?;
        mock_pause().await;
        mock.partition_leader(&status_topic, 0, Some(STATUS_BROKER))?;
        let groups: Vec<String> = (0..3)
            .map(machine_group)
            .chain([WORKFLOW_GROUP.to_string()])
            .collect();
        for group in &groups {
            mock_pause().await;
            mock.coordinator(MockCoordinator::Group(ctx.name(group)), COORDINATOR)?;
        }

        // Each lot's first command, as the planner sends it.
        // It stays connected to broker 2 all along: whatever your parts do,
        // the checks see the outage through it too.
        let planner_watch = Watch::default();
        let planner: Producer = ctx
            .client_config()
            .set("enable.idempotence", "true")
            .set("linger.ms", "0")
            .set("statistics.interval.ms", "50")
            .set_log_level(rdkafka::config::RDKafkaLogLevel::Debug)
            .create_with_context(planner_watch.clone())
            .context(tr!("creating the planner's producer"))?;
        for lot in LOTS {
            let cmd = MachineCommand::step(lot, 1);
            let value = serde_json::to_string(&cmd)?;
            planner
                .send(
                    FutureRecord::to(&command_topics[0])
                        .key(lot)
                        .payload(&value),
                    Duration::from_secs(5),
                )
                .await
                .map_err(|(e, _)| e)
                .with_context(|| tr!("sending {}", cmd.label()))?;
        }
        let watches: Vec<Watch> = (0..4).map(|_| Watch::default()).collect();
        let producers = watches
            .iter()
            .map(|watch| {
                ctx.client_config()
                    .set("enable.idempotence", "true")
                    .set("acks", "all")
                    .set("linger.ms", "0")
                    .set("statistics.interval.ms", "50")
                    // The `msg` log says when a write is refused and retried.
                    .set("debug", "msg")
                    .set_log_level(rdkafka::config::RDKafkaLogLevel::Debug)
                    .create_with_context(watch.clone())
            })
            .collect::<rdkafka::error::KafkaResult<Vec<Producer>>>()
            .context(tr!("creating the parts' producers"))?;

        // The retried write: the next write anywhere in the cluster (the
        // parts' first, since nothing else writes now) is refused once.
        mock_pause().await;
        mock.request_errors(
            RDKafkaApiKey::Produce,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS],
        );

        let plant = Rc::new(Plant {
            start: Instant::now(),
            state: RefCell::new(State::default()),
            crash: Notify::new(),
            outage: Notify::new(),
            outage_asked: Cell::new(false),
        });
        let machines: Vec<Machine> = (0..3)
            .map(|k| Machine {
                k,
                plant: plant.clone(),
            })
            .collect();
        let (stop_tx, stop) = watch::channel(false);
        checks.step(tr!(
            "the checks run your machines and workflow on {} lots, with a write refused once, a broker down and back, and M2 crashing on {CRASH_LOT}",
            LOTS.len()
        ));
        let parts = futures::future::join_all((0..4).map(|who| {
            supervise(
                code,
                ctx,
                &plant,
                who,
                machines.get(who),
                &producers[who],
                &command_topics,
                stop.clone(),
            )
        }));
        let mut all_watches = watches.clone();
        all_watches.push(planner_watch.clone());
        let outage = outage(ctx, &plant, &all_watches, stop.clone());
        let driver = async {
            let settled = drive(ctx, &plant, &command_topics, &status_topic).await;
            let _ = stop_tx.send(true);
            settled
        };
        let (_, outage, settled) = tokio::join!(parts, outage, driver);
        outage?;
        let settled = settled?;
        // One more round of statistics, then read them.
        sleep(Duration::from_millis(120)).await;
        let retried: Vec<(usize, u64)> = watches
            .iter()
            .enumerate()
            .map(|(who, w)| (who, w.refused() as u64))
            .filter(|(_, n)| *n > 0)
            .collect();
        let disconnects: i64 = all_watches.iter().map(|w| w.disconnects(DOWN_BROKER)).sum();
        // What the topics hold.
        let statuses: Vec<MachineStatus> = ctx
            .read_topic(&status_topic)?
            .iter()
            .filter_map(|m| crate::ch7_workflow::decode(m).ok())
            .collect();
        let crash_cmd = plant.state.borrow().crash.as_ref().map(|c| c.cmd.clone());
        if let Some(cmd) = crash_cmd {
            let records = ctx.read_topic(&command_topics[CRASH_MACHINE])?;
            let offset = records
                .iter()
                .find(|m| {
                    crate::ch7_workflow::decode::<MachineCommand>(*m)
                        .ok()
                        .as_ref()
                        == Some(&cmd)
                })
                .map(|m| m.offset());
            if let Some(c) = plant.state.borrow_mut().crash.as_mut() {
                c.command_offset = offset;
            }
        }
        let state = plant.state.borrow();
        report(checks, &state, &settled, &retried, disconnects, &statuses);
        Ok(())
    })
}

/// Start one part (`who`: M1, M2, M3, then the workflow) and keep it
/// running as a supervisor would: start it again when it stops (an error,
/// a panic, the injected crash), at most [`MAX_STARTS`] times, until `stop`.
#[allow(clippy::too_many_arguments)]
async fn supervise(
    code: Code,
    ctx: &Stage,
    plant: &Rc<Plant>,
    who: usize,
    machine: Option<&Machine>,
    producer: &Producer,
    command_topics: &[String],
    mut stop: watch::Receiver<bool>,
) {
    for start in 0..MAX_STARTS {
        if start > 0 && who == CRASH_MACHINE {
            if let Some(c) = plant.state.borrow_mut().crash.as_mut() {
                c.restarted = true;
            }
        }
        let part = match machine {
            Some(machine) => Part::Machine {
                ctx,
                machine,
                producer,
            },
            None => Part::Workflow { ctx, producer },
        };
        let run = AssertUnwindSafe(code(part)).catch_unwind();
        let crashed = async {
            if who == CRASH_MACHINE {
                plant.crash.notified().await
            } else {
                std::future::pending().await
            }
        };
        let end = tokio::select! {
            ended = run => match ended {
                Ok(Ok(())) => tr!("returned"),
                Ok(Err(e)) => tr!("returned an error: {e:#}"),
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    match super::take_panic_place() {
                        Some(place) => tr!("panicked at {place}: {why}"),
                        None => tr!("panicked: {why}"),
                    }
                }
            },
            _ = crashed => {
                // The part's future is dropped here: its consumer closes
                // without committing anything more, as after a crash.
                let committed = committed_offset(ctx, &machine_group(who), &command_topics[who]);
                if let Some(c) = plant.state.borrow_mut().crash.as_mut() {
                    c.committed = committed.ok();
                }
                tr!("crashed (the injected crash)")
            }
            _ = stop.wait_for(|s| *s) => return,
        };
        plant.state.borrow_mut().ends[who].push(end);
        tokio::select! {
            _ = sleep(Duration::from_millis(50)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The outage: when M1 has milled [`OUTAGE_LOT`], broker 2 goes down, and
/// comes back [`OUTAGE`] later.
async fn outage(
    ctx: &Stage,
    plant: &Plant,
    watches: &[Watch],
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    tokio::select! {
        _ = plant.outage.notified() => {}
        _ = stop.wait_for(|s| *s) => return Ok(()),
    }
    let mock = ctx.mock().expect("the checks run on the embedded cluster");
    let disconnects_before = watches.iter().map(|w| w.disconnects(DOWN_BROKER)).sum();
    mock_pause().await;
    mock.broker_down(DOWN_BROKER)?;
    plant.state.borrow_mut().outage = Some(Outage {
        down_at: plant.now(),
        up_at: None,
        disconnects_before,
    });
    sleep(OUTAGE).await;
    mock.broker_up(DOWN_BROKER)?;
    if let Some(o) = plant.state.borrow_mut().outage.as_mut() {
        o.up_at = Some(plant.now());
    }
    Ok(())
}

/// What the groups had committed when the run ended, per part.
struct Settled {
    /// Per part: (committed offset, end of its topic).
    committed: [(i64, i64); 4],
    finished_in_time: bool,
}

/// Wait until every lot is finished (M3 done), then until every part has
/// committed its topic to the end, each bounded.
async fn drive(
    ctx: &Stage,
    plant: &Plant,
    command_topics: &[String],
    status_topic: &str,
) -> Result<Settled> {
    let deadline = Instant::now() + RUN_TIME;
    let finished = |plant: &Plant| {
        let s = plant.state.borrow();
        LOTS.iter()
            .all(|lot| s.done.contains(&(lot.to_string(), STEPS.len() as u32)))
            && (!plant.outage_asked.get() || s.outage.as_ref().is_some_and(|o| o.up_at.is_some()))
    };
    // A part the checks gave up on (it stopped MAX_STARTS times) stalls the lots: stop then.
    let gave_up = |plant: &Plant| {
        plant
            .state
            .borrow()
            .ends
            .iter()
            .any(|e| e.len() >= MAX_STARTS)
    };
    while !finished(plant) && !gave_up(plant) && Instant::now() < deadline {
        sleep(Duration::from_millis(20)).await;
    }
    let finished_in_time = finished(plant);
    let topics: Vec<&str> = command_topics
        .iter()
        .map(String::as_str)
        .chain([status_topic])
        .collect();
    let probe: BaseConsumer = ctx.client_config().create()?;
    let settle = Instant::now() + SETTLE_TIME;
    loop {
        let mut committed = [(0, 0); 4];
        for who in 0..4 {
            let group = if who < 3 {
                machine_group(who)
            } else {
                WORKFLOW_GROUP.to_string()
            };
            let (_, high) = probe.fetch_watermarks(topics[who], 0, Duration::from_secs(5))?;
            let c = committed_offset(ctx, &group, topics[who]).unwrap_or(-1);
            committed[who] = (c, high);
        }
        if committed.iter().all(|(c, high)| c == high) || Instant::now() > settle {
            return Ok(Settled {
                committed,
                finished_in_time,
            });
        }
        sleep(Duration::from_millis(100)).await;
    }
}

/// `group`'s committed offset on partition 0 of `topic` (-1: none).
fn committed_offset(ctx: &Stage, group: &str, topic: &str) -> Result<i64> {
    let probe: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name(group))
        .create()?;
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(topic, 0);
    let committed = probe.committed_offsets(wanted, Duration::from_secs(5))?;
    Ok(
        match committed.find_partition(topic, 0).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            _ => -1,
        },
    )
}

/// The parts' names, for the reports.
fn part_name(who: usize) -> String {
    if who < 3 {
        tr!("{}'s controller", STEPS[who].0)
    } else {
        tr!("the workflow")
    }
}

/// How the parts' runs ended, if any did: for the details.
fn ends(state: &State) -> Vec<String> {
    let mut lines = Vec::new();
    for (who, ends) in state.ends.iter().enumerate() {
        let mut distinct: Vec<(&String, usize)> = Vec::new();
        for e in ends {
            match distinct.iter_mut().find(|(l, _)| *l == e) {
                Some((_, n)) => *n += 1,
                None => distinct.push((e, 1)),
            }
        }
        for (e, n) in distinct {
            let name = part_name(who);
            if n > 1 {
                lines.push(tr!("{name} {e} ({n} times; the checks started it again)"));
            } else {
                lines.push(tr!("{name} {e}"));
            }
        }
    }
    lines
}

/// The checks' verdicts, from what happened.
fn report(
    checks: &Checks,
    s: &State,
    settled: &Settled,
    retried: &[(usize, u64)],
    disconnects: i64,
    statuses: &[MachineStatus],
) {
    let did = |lot: &str| -> Vec<&MachineCommand> {
        s.effects
            .iter()
            .map(|(c, _)| c)
            .filter(|c| c.lot == lot)
            .collect()
    };
    let stopped = ends(s);

    // 1. No step out of order.
    let progressed = s.effects.iter().any(|(c, _)| c.step > 1);
    let mut detail = s.out_of_order.clone();
    detail.extend(s.wrong.iter().cloned());
    if !progressed {
        detail.push(tr!(
            "No lot got past M1, so there was no order to check yet."
        ));
    }
    detail.push(tr!(
        "A lot's next command may be sent only once its machine has reported the previous step\n\
         done: a machine runs whatever it reads, as soon as it reads it (chapter 7: the fix:\n\
         the application orders the steps). Report a step done only after its work."
    ));
    checks.check(
        tr_static!("no step out of order: every lot goes M1, then M2, then M3"),
        progressed && s.out_of_order.is_empty() && s.wrong.is_empty(),
        detail.join("\n"),
    );

    // 2. Nothing lost.
    let mut lost = Vec::new();
    for lot in LOTS {
        let did = did(lot);
        let missing: Vec<String> = MachineCommand::sequence(lot)
            .iter()
            .filter(|c| !did.contains(c))
            .map(|c| c.machine.clone())
            .collect();
        if !missing.is_empty() {
            lost.push(tr!("{lot}: never done: {}", missing.join(", ")));
        }
    }
    let mut detail = lost.clone();
    detail.extend(stopped.iter().cloned());
    detail.push(tr!(
        "Each lot's M1 command was sent; every step after it must follow from the previous\n\
         step's \"done\" report. A lot stalls when a report is never written, or never acted on,\n\
         or when a command is committed before its work and the work is then cut short\n\
         (chapter 6: commit after the work; chapter 7: surviving a crash in the middle)."
    ));
    checks.check(
        &tr!(
            "nothing lost: all {} lots finished (M1, M2 and M3 done)",
            LOTS.len()
        ),
        lost.is_empty() && settled.finished_in_time,
        detail.join("\n"),
    );

    // 3. Nothing done twice.
    let mut twice = Vec::new();
    for lot in LOTS {
        for cmd in MachineCommand::sequence(lot) {
            let times = s.effects.iter().filter(|(c, _)| *c == cmd).count();
            if times > 1 {
                twice.push(tr!("{} was performed {times} times", cmd.label()));
            }
        }
    }
    let mut detail = twice.clone();
    if s.effects.is_empty() {
        detail.push(tr!("The machines did nothing at all."));
    }
    detail.push(tr!(
        "Kafka delivers a command again when its controller stopped after the work and before\n\
         the commit (at-least-once): before performing a command, ask the machine whether it\n\
         has already done it (machine.has_done), and skip the work if so (chapter 6:\n\
         idempotent steps)."
    ));
    checks.check(
        tr_static!("nothing done twice: each machine performs each lot's step once"),
        twice.is_empty() && !s.effects.is_empty(),
        detail.join("\n"),
    );

    // 4. The commits.
    let mut behind = Vec::new();
    for (who, (committed, high)) in settled.committed.iter().enumerate() {
        if committed != high {
            let topic = if who < 3 {
                COMMAND_TOPICS[who]
            } else {
                STATUS_TOPIC
            };
            let group = if who < 3 {
                machine_group(who)
            } else {
                WORKFLOW_GROUP.to_string()
            };
            let what = if *committed < 0 {
                tr!("nothing committed")
            } else {
                tr!("committed offset {committed}")
            };
            behind.push(tr!("{topic}: {high} records, group {group}: {what}"));
        }
    }
    let mut detail = behind.clone();
    detail.push(tr!(
        "Once a record is dealt with (a command performed and reported, a report acted on), its\n\
         part must commit it: store its offset and commit (consumer.store_offset_from_message,\n\
         then consumer.commit_consumer_state), or a restart does it all again. Keep the group\n\
         names given in the file: the checks read their commits (chapter 4: offsets and commits)."
    ));
    checks.check(
        tr_static!("every part commits what it has dealt with, after the work"),
        behind.is_empty(),
        detail.join("\n"),
    );

    // 5. The broker down and back.
    let lot_d_m2 = s
        .effects
        .iter()
        .find(|(c, _)| c.lot == OUTAGE_LOT && c.step == 2)
        .map(|(_, at)| *at);
    let (passed, detail) = match &s.outage {
        None => (
            false,
            tr!(
                "The fault was never injected: it comes when M1 mills {OUTAGE_LOT}, and M1 never did.\n\
                 Get the machines working first (the checks above)."
            ),
        ),
        Some(o) => {
            let seen = disconnects - o.disconnects_before;
            let up = o.up_at.unwrap_or_default();
            let mut lines = vec![tr!(
                "Broker {DOWN_BROKER}, the leader of the command topics, was down from {} ms to {} ms into the run.",
                o.down_at.as_millis(),
                up.as_millis()
            )];
            if seen <= 0 {
                lines.push(tr!(
                    "No producer (the checks' nor your parts') lost its connection to it: the fault did\n\
                     not take, and this run proves nothing. Run the checks again."
                ));
            } else {
                lines.push(tr!(
                    "The producers (the checks' and your parts') lost their connection to it {seen} time(s)."
                ));
            }
            match lot_d_m2 {
                Some(at) if at > up => lines.push(tr!(
                    "{OUTAGE_LOT} went on to M2 at {} ms, once the broker was back.",
                    at.as_millis()
                )),
                Some(at) => lines.push(tr!(
                    "{OUTAGE_LOT} went on to M2 at {} ms, before the broker was back: its command could\n\
                     not have been read from broker {DOWN_BROKER}.",
                    at.as_millis()
                )),
                None => lines.push(tr!(
                    "{OUTAGE_LOT} never went on to M2: the workshop did not carry on after the broker came\n\
                     back. A write waits for its broker (the producer retries); a part that gives up on\n\
                     an error is started again by the checks, and must pick up where its group\n\
                     committed (chapter 3: retries; chapter 6)."
                )),
            }
            let passed = seen > 0 && o.up_at.is_some() && lot_d_m2.is_some_and(|at| at > up);
            (passed, lines.join("\n"))
        }
    };
    checks.check(
        &tr!("a broker down and back (broker {DOWN_BROKER}, while M1 mills {OUTAGE_LOT}): the workshop waits and carries on"),
        passed,
        detail,
    );

    // 6. The crash mid-lot.
    let reported_after = statuses
        .iter()
        .any(|st| st.lot == CRASH_LOT && st.step as usize == CRASH_MACHINE + 1 && st.done);
    let (passed, detail) = match &s.crash {
        None => (
            false,
            tr!(
                "The fault was never injected: it comes when M2 drills {CRASH_LOT}, and M2 never did.\n\
                 Get the machines and the workflow working first (the checks above)."
            ),
        ),
        Some(c) => {
            let label = c.cmd.label();
            let mut lines = vec![tr!(
                "{label} was done at {} ms; the checks then stopped M2's controller, before it could\n\
                 report or commit anything more, and started it again.",
                c.at.as_millis()
            )];
            let before_commit = match (c.committed, c.command_offset) {
                (Some(committed), Some(offset)) if committed > offset => {
                    lines.push(tr!(
                        "But group {} had already committed offset {committed}, past {label}'s offset {offset}:\n\
                         the command was committed before its work was reported, so the restarted\n\
                         controller never received it again, and {CRASH_LOT} was never reported done.\n\
                         Commit a command only after its work and its report (chapter 6).",
                        machine_group(CRASH_MACHINE)
                    ));
                    false
                }
                (Some(_), Some(_)) => true,
                _ => {
                    lines.push(tr!(
                        "The checks could not find the group's committed offset or the command's offset."
                    ));
                    false
                }
            };
            if !c.restarted {
                lines.push(tr!("The controller was not started again within the run."));
            } else if !c.asked_again {
                lines.push(tr!(
                    "The restarted controller never came back to {label}: it did not read it again,\n\
                     or did not ask the machine about it."
                ));
            }
            if !reported_after {
                lines.push(tr!(
                    "{label} was never reported done: after a restart, a command the machine has\n\
                     already done is skipped, but still reported done, since the report may be what\n\
                     the crash cut short (chapter 7: surviving a crash in the middle)."
                ));
            }
            (
                before_commit && c.restarted && c.asked_again && reported_after,
                lines.join("\n"),
            )
        }
    };
    checks.check(
        &tr!("a machine crashing mid-lot (M2, after drilling {CRASH_LOT}, before its commit): restarted, it picks the lot up again"),
        passed,
        detail,
    );

    // 7. The retried write.
    let reported: BTreeSet<(String, u32)> = statuses
        .iter()
        .filter(|st| st.done)
        .map(|st| (st.lot.clone(), st.step))
        .collect();
    let unreported: Vec<String> = s
        .effects
        .iter()
        .map(|(c, _)| c)
        .filter(|c| !reported.contains(&(c.lot.clone(), c.step)))
        .map(|c| c.label())
        .collect();
    let mut lines = vec![tr!(
        "Before your parts started, the checks made the cluster refuse the next write once\n\
         (NOT_ENOUGH_REPLICAS, a temporary refusal)."
    )];
    if retried.is_empty() {
        lines.push(tr!(
            "None of the producers the checks gave your parts retried a write: did your parts write\n\
             their reports and commands with them, and wait for each write's acknowledgement?"
        ));
    } else {
        for (who, n) in retried {
            lines.push(tr!(
                "The cluster refused {n} write(s) of {}, and its producer retried them.",
                part_name(*who)
            ));
        }
    }
    if !unreported.is_empty() {
        lines.push(tr!(
            "Done but never reported in {STATUS_TOPIC}: {}.",
            unreported.join(", ")
        ));
    }
    if s.effects.is_empty() {
        lines.push(tr!("The machines did nothing, so nothing was reported."));
    }
    lines.push(tr!(
        "A refused write is not lost as long as the producer retries it and the program waits for\n\
         its acknowledgement before committing (chapter 3: what each setting loses)."
    ));
    checks.check(
        tr_static!("a retried write: refused once, retried by its producer, and every finished step reported"),
        !retried.is_empty() && unreported.is_empty() && !s.effects.is_empty(),
        lines.join("\n"),
    );
}
