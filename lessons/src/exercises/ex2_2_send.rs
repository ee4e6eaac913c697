//! Checks of exercise 2.2: send one command and report where it was stored.
//!
//! The checks own the producer (chapter 2's settings) and the topic; the
//! student's function sends one command with them. Four lots' commands are
//! sent through it, one after the other, and the topic is read back; then
//! the embedded cluster refuses the next record for good, and the function
//! must say so with an error.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;

use anyhow::Result;
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;
use rdkafka::producer::FutureProducer;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::Message;

use super::Checks;
use crate::kit::{mock_pause, Stage};
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The student's function: an `async fn`, boxed.
pub type Code = for<'c> fn(
    &'c FutureProducer,
    &'c str,
    &'c MachineCommand,
) -> LocalBoxFuture<'c, Result<(i32, i64)>>;

/// The lots sent: under librdkafka's default partitioner they use all 3
/// partitions.
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
const PARTITIONS: i32 = 3;
/// A refusal the producer does not retry: the record is lost for good.
const REFUSAL: RDKafkaRespErr = RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

async fn check_with(send_command: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic("machine-commands", PARTITIONS, 3).await?;
    let producer = crate::ch2_producer::program::producer(ctx.bootstrap())?;
    let commands: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| LOTS.iter().map(move |lot| MachineCommand::step(lot, step)))
        .collect();

    checks.step(tr!(
        "calling your send_command for {} commands, one after the other",
        commands.len()
    ));
    // What the function returned for each command, in order.
    let mut returned: Vec<(MachineCommand, (i32, i64))> = Vec::new();
    let mut errors = Vec::new();
    for command in &commands {
        match send_command(&producer, &topic, command).await {
            Ok(at) => returned.push((command.clone(), at)),
            Err(e) => errors.push(tr!("  {}: {e:#}", command.label())),
        }
    }
    checks.step(tr!("reading the topic back"));
    let stored: BTreeMap<(i32, i64), (Option<Vec<u8>>, Vec<u8>)> = ctx
        .read_topic(&topic)?
        .iter()
        .map(|m| {
            (
                (m.partition(), m.offset()),
                (
                    m.key().map(<[u8]>::to_vec),
                    m.payload().unwrap_or_default().to_vec(),
                ),
            )
        })
        .collect();

    // 1. Each command's record: keyed by its lot, the command as JSON.
    let mut wrong = Vec::new();
    for command in &commands {
        let found = stored.values().find(|(_, value)| {
            serde_json::from_slice::<MachineCommand>(value).is_ok_and(|c| &c == command)
        });
        match found {
            None => wrong.push(tr!(
                "  {}: no record of the topic holds it as JSON",
                command.label()
            )),
            Some((key, _)) if key.as_deref() != Some(command.lot.as_bytes()) => wrong.push(tr!(
                "  {}: its record's key is {}, not the lot",
                command.label(),
                key.as_deref()
                    .map(|k| format!("{:?}", String::from_utf8_lossy(k)))
                    .unwrap_or_else(|| tr!("none"))
            )),
            Some(_) => {}
        }
    }
    let example = stored
        .values()
        .next()
        .map(|(_, v)| {
            tr!(
                "A value found in the topic: {:?}\n",
                String::from_utf8_lossy(v)
            )
        })
        .unwrap_or_default();
    let returned_errors = if errors.is_empty() {
        String::new()
    } else {
        tr!(
            "Your function returned an error for {} command(s), for example:\n{}\n",
            errors.len(),
            errors.first().cloned().unwrap_or_default()
        )
    };
    checks.check(
        tr_static!("each command is stored keyed by its lot, its value the command as JSON"),
        wrong.is_empty(),
        tr!(
            "{} of the {} commands are not stored as they should be:\n{}\n{returned_errors}{example}\
             The consumers read the value with serde_json::from_slice::<MachineCommand>, and the\n\
             key, the lot, keeps each lot in one partition (chapter 2: Kafka stores bytes; the key\n\
             chooses the partition).",
            wrong.len(),
            commands.len(),
            wrong.iter().take(4).cloned().collect::<Vec<_>>().join("\n")
        ),
    );

    // 2. The positions returned are where the records are: each one a
    // stored record, no two the same, and the value stored there, when it
    // is a command, is the command sent.
    let mut off = Vec::new();
    let mut seen = BTreeSet::new();
    for (command, (p, o)) in &returned {
        match stored.get(&(*p, *o)) {
            None => off.push(tr!(
                "  {}: you returned partition {p} offset {o}, where the topic holds no record",
                command.label()
            )),
            Some((_, value)) => match serde_json::from_slice::<MachineCommand>(value) {
                Ok(c) if &c != command => off.push(tr!(
                    "  {}: you returned partition {p} offset {o}, which holds {}",
                    command.label(),
                    c.label()
                )),
                _ => {}
            },
        }
        let first = seen.insert((*p, *o));
        if !first && stored.contains_key(&(*p, *o)) {
            off.push(tr!(
                "  {}: partition {p} offset {o} was returned for another command too",
                command.label()
            ));
        }
    }
    checks.check(
        tr_static!("the partition and offset returned are where the record is stored"),
        off.is_empty() && returned.len() == commands.len(),
        tr!(
            "{} of the {} calls returned a position{}{returned_errors}\
             Await the send: its delivery report gives the partition and the offset the broker\n\
             stored the record at (chapter 2: the delivery report).",
            returned.len(),
            commands.len(),
            if off.is_empty() {
                ".\n".to_string()
            } else {
                tr!(
                    "; {} of them are wrong:\n{}\n",
                    off.len(),
                    off.iter().take(4).cloned().collect::<Vec<_>>().join("\n")
                )
            }
        ),
    );

    // 3. A refused record: an error, not a position, not a crash.
    let Some(mock) = ctx.mock() else {
        return Ok(());
    };
    mock_pause().await;
    mock.request_errors(RDKafkaApiKey::Produce, &[REFUSAL]);
    let refused = MachineCommand::step("lot-E", 1);
    checks.step(tr!(
        "calling your send_command while the cluster refuses the record"
    ));
    let outcome = AssertUnwindSafe(send_command(&producer, &topic, &refused))
        .catch_unwind()
        .await;
    mock_pause().await;
    mock.clear_request_errors(RDKafkaApiKey::Produce);
    let (passed, detail) = match outcome {
        Ok(Err(_)) => (true, String::new()),
        Ok(Ok((p, o))) => (
            false,
            tr!(
                "the cluster refused the record of {} (MSG_SIZE_TOO_LARGE), yet your function\n\
                 returned partition {p} offset {o}: the caller believes it is stored.",
                refused.label()
            ),
        ),
        Err(_) => (
            false,
            tr!(
                "the cluster refused the record of {} (MSG_SIZE_TOO_LARGE), and your function\n\
                 panicked{}: the whole program stops for one refused record.",
                refused.label(),
                super::take_panic_place()
                    .map(|at| tr!(" at {at}"))
                    .unwrap_or_default()
            ),
        ),
    };
    checks.check(
        tr_static!("a record the cluster refuses comes back as an error"),
        passed,
        tr!("{detail}\n\
             A failed delivery report is an error: return it with `?`, so that the caller\n\
             knows the record is not stored (chapter 2: the delivery report)."),
    );
    Ok(())
}
