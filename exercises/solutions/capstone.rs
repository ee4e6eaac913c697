//! The capstone (chapter 7): the whole workshop, end to end, under faults.
//!
//! This file is the workshop's program, as you would deploy it: three
//! machine controllers (M1 mills, M2 drills, M3 polishes), each reading its
//! own command topic (`m1-commands`, `m2-commands`, `m3-commands`), and a
//! workflow that reads the machines' reports from `machine-status` and
//! sends each lot's next command. The checks start each process through
//! `run` below, as a supervisor would (and start it again when it stops),
//! send each lot's M1 command, and let four lots go through M1, M2, M3.
//!
//! Meanwhile they inject three faults:
//!
//! - a retried write: the cluster refuses the first write once;
//! - a broker down and back: broker 2, the leader of the command topics,
//!   is down for a second while M1 mills the last lot;
//! - a crash mid-lot: when M2 has drilled lot-B, its controller is stopped
//!   before it can report or commit anything, then started again.
//!
//! Your program passes when, through all that, nothing is lost (every lot
//! finished), nothing is done twice (each machine performs each lot's step
//! once) and no step runs out of order, with every record committed. It is
//! chapters 4, 6 and 7 together: commit after the work, idempotent steps,
//! status events.
//!
//! Write the five functions marked TODO, in the order of the file. What
//! you are given: `ctx.consumer_config(group)` (chapter 4's settings for a
//! member of `group`, on the checks' cluster), `ctx.name(topic)` (a topic's
//! name on that cluster, e.g. `ctx.name(STATUS_TOPIC)`), one producer per
//! process (chapter 6's settings), and the machine (`perform`, `has_done`).
//!
//! Check your work: `just exercise capstone` (or `cargo run --release --
//! exercise capstone`). Stuck? `just hint capstone`.

use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::FutureRecord;

use crate::ch7_workflow::{MachineStatus, COMMAND_TOPICS, STATUS_TOPIC};
use crate::exercises::capstone::{Machine, Part, Producer};
use crate::kit::Stage;
use crate::workshop::{MachineCommand, STEPS};

/// The workflow's consumer group. Each machine's controller has its own,
/// `machine-M1`, `machine-M2`, `machine-M3` (see `run_machine`): the checks
/// read these groups' commits, so keep the names.
const WORKFLOW_GROUP: &str = "workflow";

/// How long a write may wait for its acknowledgement before it is an error.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The program's entry: the checks start each process of the workshop
/// through it, with its part. (Given: nothing to change here.)
pub async fn run(part: Part<'_>) -> Result<()> {
    match part {
        Part::Machine {
            ctx,
            machine,
            producer,
        } => run_machine(ctx, machine, producer).await,
        Part::Workflow { ctx, producer } => run_workflow(ctx, producer).await,
    }
}

/// A consumer in `group` (its logical name, e.g. `workflow`), subscribed to
/// `topic` (a logical name too, e.g. `STATUS_TOPIC`), that commits only
/// what the program says, and starts at the beginning of the topic when its
/// group has committed nothing yet.
fn consumer(ctx: &Stage, group: &str, topic: &str) -> Result<StreamConsumer> {
    //@ starter: // TODO: start from ctx.consumer_config(group); which settings keep Kafka from
    //@ starter: // committing on its own? Then subscribe to the topic's name on this cluster.
    //@ starter: let _ = (ctx, topic);
    //@ starter: todo!("create the consumer of group {group}")
    //@ solution-begin
    let consumer: StreamConsumer = ctx
        .consumer_config(group)
        // Commit only what the program has stored, once it is dealt with.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .with_context(|| format!("creating the consumer of group {group}"))?;
    consumer.subscribe(&[&ctx.name(topic)])?;
    Ok(consumer)
    //@ solution-end
}

/// Write `json` (a value made with `serde_json::to_string`) to `topic` (its
/// name on the cluster), keyed by `lot`, and wait until the cluster has
/// acknowledged it.
async fn write(producer: &Producer, topic: &str, lot: &str, json: &str) -> Result<()> {
    //@ starter: // TODO: send a FutureRecord keyed by the lot, and wait for its delivery report.
    //@ starter: let _ = (producer, json);
    //@ starter: todo!("write to {topic} for {lot}")
    //@ solution-begin
    let record = FutureRecord::to(topic).key(lot).payload(json);
    producer
        .send(record, WRITE_TIMEOUT)
        .await
        .map_err(|(e, _)| e)
        .with_context(|| format!("writing to {topic} for {lot}"))?;
    Ok(())
    //@ solution-end
}

/// Store `msg`'s offset and commit it, waiting for the group's coordinator.
fn commit(consumer: &StreamConsumer, msg: &BorrowedMessage<'_>) -> Result<()> {
    //@ starter: // TODO: the group must remember that everything up to this record is dealt with.
    //@ starter: let _ = consumer;
    //@ starter: todo!("commit offset {}", msg.offset())
    //@ solution-begin
    consumer.store_offset_from_message(msg)?;
    consumer.commit_consumer_state(CommitMode::Sync)?;
    Ok(())
    //@ solution-end
}

/// A machine's controller, for ever: read the commands of its topic
/// (`COMMAND_TOPICS[step - 1]`) in its group (`machine-M1`...), perform
/// each one (`machine.perform(&cmd).await`), report it done on
/// `STATUS_TOPIC` (a `MachineStatus` with `done: true`), and commit it.
/// A crash can come between any two lines; Kafka then delivers the
/// uncommitted command again, and the machine must not do its work twice.
async fn run_machine(ctx: &Stage, machine: &Machine, producer: &Producer) -> Result<()> {
    //@ starter: // TODO: a loop: receive, decode the MachineCommand, work, report, commit. In which order?
    //@ starter: let _ = (ctx, machine, producer, STEPS);
    //@ starter: todo!("the controller of {}", machine.name())
    //@ solution-begin
    let k = machine.step() as usize - 1;
    let consumer = consumer(ctx, &format!("machine-{}", machine.name()), COMMAND_TOPICS[k])?;
    let status_topic = ctx.name(STATUS_TOPIC);
    loop {
        let msg = consumer.recv().await?;
        let cmd: MachineCommand = serde_json::from_slice(msg.payload().unwrap_or_default())
            .with_context(|| format!("decoding the command at offset {}", msg.offset()))?;
        // 1. The work, once: a command delivered again (the controller
        //    stopped after the work, before the commit) is not performed
        //    again: the machine remembers it.
        if !machine.has_done(&cmd) {
            machine.perform(&cmd).await?;
        }
        // 2. The report, also for a repeat: the crash may have come before
        //    the first one was written, and then only this one tells the
        //    workflow.
        let status = MachineStatus {
            lot: cmd.lot.clone(),
            machine: cmd.machine.clone(),
            step: cmd.step,
            done: true,
        };
        write(producer, &status_topic, &cmd.lot, &serde_json::to_string(&status)?).await?;
        // 3. Only then the commit: a crash before it repeats 1 and 2
        //    (harmless), never skips them.
        commit(&consumer, &msg)?;
    }
    //@ solution-end
}

/// The workflow, for ever: read the reports of `STATUS_TOPIC` in group
/// `WORKFLOW_GROUP`; on "step n of a lot is done", send the lot's step n + 1
/// (`MachineCommand::step(lot, n + 1)`) to its machine's topic, and wait
/// for the acknowledgement; after M3 the lot is finished. Then commit the
/// report. A report may arrive twice: the machines skip a repeated command.
async fn run_workflow(ctx: &Stage, producer: &Producer) -> Result<()> {
    //@ starter: // TODO: a loop: receive, decode the MachineStatus, send the next step if any, commit.
    //@ starter: let _ = (ctx, producer, WORKFLOW_GROUP);
    //@ starter: todo!("the workflow")
    //@ solution-begin
    let consumer = consumer(ctx, WORKFLOW_GROUP, STATUS_TOPIC)?;
    let last_step = STEPS.len() as u32;
    loop {
        let msg = consumer.recv().await?;
        let status: MachineStatus = serde_json::from_slice(msg.payload().unwrap_or_default())
            .with_context(|| format!("decoding the report at offset {}", msg.offset()))?;
        if status.done && status.step < last_step {
            let next = MachineCommand::step(&status.lot, status.step + 1);
            let topic = ctx.name(COMMAND_TOPICS[next.step as usize - 1]);
            // The command first, acknowledged; then the commit: a crash in
            // between sends it again (the machine skips it), never loses it.
            write(producer, &topic, &next.lot, &serde_json::to_string(&next)?).await?;
        }
        commit(&consumer, &msg)?;
    }
    //@ solution-end
}
