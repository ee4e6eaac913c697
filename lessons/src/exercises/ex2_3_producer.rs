//! Checks of exercise 2.3: a producer that keeps each lot in order and
//! loses nothing.
//!
//! The student's function owns everything: the producer, its settings, the
//! sends. The checks give it six lots' commands, step by step (every lot's
//! step 1, then every lot's step 2...), look at the partitions' watermarks
//! the moment it returns, then read the topic back.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Result;
use futures::future::LocalBoxFuture;
use rdkafka::producer::{FutureProducer, Producer as _};
use rdkafka::Message;

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The student's function: an `async fn`, boxed.
pub type Code =
    for<'c> fn(&'c str, &'c str, &'c [MachineCommand]) -> LocalBoxFuture<'c, Result<()>>;

const LOTS: [&str; 6] = ["lot-A", "lot-B", "lot-C", "lot-D", "lot-E", "lot-F"];
const PARTITIONS: i32 = 3;
const TIMEOUT: Duration = Duration::from_secs(5);

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

/// One record as a consumer finds it.
struct Stored {
    partition: i32,
    offset: i64,
    key: Option<Vec<u8>>,
    /// Its value, parsed back, or the value as text if it does not parse.
    command: std::result::Result<MachineCommand, String>,
}

async fn check_with(send_all: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic("machine-commands", PARTITIONS, 3).await?;
    let commands: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| LOTS.iter().map(move |lot| MachineCommand::step(lot, step)))
        .collect();

    checks.step(tr!(
        "calling your send_all with {} commands of {} lots",
        commands.len(),
        LOTS.len()
    ));
    send_all(ctx.bootstrap(), &topic, &commands).await?;
    // What the partitions hold the moment it returned.
    let probe: FutureProducer = ctx.client_config().create()?;
    let mut at_return = 0;
    for p in 0..PARTITIONS {
        let (low, high) = probe.client().fetch_watermarks(&topic, p, TIMEOUT)?;
        at_return += high - low;
    }

    checks.step(tr!("reading the topic back"));
    let stored: Vec<Stored> = ctx
        .read_topic(&topic)?
        .iter()
        .map(|m| {
            let value = m.payload().unwrap_or_default();
            Stored {
                partition: m.partition(),
                offset: m.offset(),
                key: m.key().map(<[u8]>::to_vec),
                command: serde_json::from_slice(value)
                    .map_err(|_| String::from_utf8_lossy(value).into_owned()),
            }
        })
        .collect();

    // 1. Returned only once everything was stored.
    let total = commands.len() as i64;
    checks.check(
        tr_static!("when send_all returns, the cluster has stored every command"),
        at_return >= total,
        tr!(
            "when your send_all returned, the topic held {at_return} record(s) of the {total} sent{}.\n\
             A record handed to the producer is only queued: it is stored when its delivery\n\
             report says so. Await every report before returning; a producer dropped with records\n\
             still queued loses them (chapter 2: the delivery report).",
            if stored.len() as i64 != at_return {
                tr!(" ({} a moment later)", stored.len())
            } else {
                String::new()
            }
        ),
    );

    // 2. Every command once, its value parsing back into it.
    let mut wrong = Vec::new();
    for command in &commands {
        let n = stored
            .iter()
            .filter(|s| s.command.as_ref().is_ok_and(|c| c == command))
            .count();
        if n != 1 {
            wrong.push(tr!("  {}: stored {n} time(s)", command.label()));
        }
    }
    let unreadable = stored.iter().find_map(|s| s.command.as_ref().err());
    checks.check(
        tr_static!("every command is stored once, and its value parses back into it"),
        wrong.is_empty() && unreadable.is_none(),
        tr!(
            "{} of the {} commands are not found exactly once as JSON:\n{}\n{}\
             The controllers read each value with serde_json::from_slice::<MachineCommand>:\n\
             serialize the command with serde_json, send each once, lose none\n\
             (chapter 2: Kafka stores bytes).",
            wrong.len(),
            commands.len(),
            wrong.iter().take(4).cloned().collect::<Vec<_>>().join("\n"),
            unreadable
                .map(|v| tr!("A value that is not a MachineCommand in JSON: {v:?}\n"))
                .unwrap_or_default()
        ),
    );

    // 3. Each lot: keyed by its lot, in one partition, in the order of steps.
    let mut split = Vec::new();
    for lot in LOTS {
        let mut of_lot: Vec<&Stored> = stored
            .iter()
            .filter(|s| s.command.as_ref().is_ok_and(|c| c.lot == lot))
            .collect();
        of_lot.sort_by_key(|s| (s.partition, s.offset));
        let partitions: BTreeSet<i32> = of_lot.iter().map(|s| s.partition).collect();
        let steps: Vec<u32> = of_lot
            .iter()
            .filter_map(|s| s.command.as_ref().ok().map(|c| c.step))
            .collect();
        let keyed = of_lot
            .iter()
            .all(|s| s.key.as_deref() == Some(lot.as_bytes()));
        if partitions.len() != 1 || steps != [1, 2, 3] || !keyed {
            let places: Vec<String> = of_lot
                .iter()
                .map(|s| {
                    let key = s
                        .key
                        .as_deref()
                        .map(|k| format!("{:?}", String::from_utf8_lossy(k)))
                        .unwrap_or_else(|| tr!("none"));
                    let step = s.command.as_ref().map(|c| c.step).unwrap_or_default();
                    tr!(
                        "  step {step} in partition {} at offset {} (key {key})",
                        s.partition,
                        s.offset
                    )
                })
                .collect();
            split.push(tr!(
                "{lot}, as found in the topic:\n{}",
                if places.is_empty() {
                    tr!("  nothing")
                } else {
                    places.join("\n")
                }
            ));
        }
    }
    checks.check(
        tr_static!("each lot's commands are keyed by the lot, in one partition, in order"),
        split.is_empty(),
        tr!(
            "{} of the {} lots are not keyed by their lot, in one partition, in order. For example:\n{}\n\
             The key picks the partition: the lot as key keeps a lot's commands in one partition,\n\
             which keeps them in the order they were appended. Send them in the order of the list\n\
             (awaiting each delivery report before the next send keeps that order; chapter 2: the\n\
             key chooses the partition).",
            split.len(),
            LOTS.len(),
            split.first().cloned().unwrap_or_default()
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The checks must catch the plausible mistakes reliably, not by luck.

    use super::*;
    use crate::ch2_producer::program::{producer, send};

    fn failed(send_all: Code) -> Vec<String> {
        crate::exercises::failed_checks(checks, send_all)
    }

    async fn solution(bootstrap: &str, topic: &str, commands: &[MachineCommand]) -> Result<()> {
        let producer = producer(bootstrap)?;
        for command in commands {
            send(&producer, topic, command).await?;
        }
        Ok(())
    }

    /// Records without a key: a lot may stay in one partition by the luck of
    /// the sticky partitioner, but not keyed by its lot.
    async fn keyless(bootstrap: &str, topic: &str, commands: &[MachineCommand]) -> Result<()> {
        let producer = producer(bootstrap)?;
        for command in commands {
            let value = serde_json::to_vec(command)?;
            let record: rdkafka::producer::FutureRecord<'_, (), _> =
                rdkafka::producer::FutureRecord::to(topic).payload(&value);
            producer.send(record, TIMEOUT).await.map_err(|(e, _)| e)?;
        }
        Ok(())
    }

    #[test]
    fn the_solution_passes_and_a_keyless_producer_fails() {
        assert!(failed(|b, t, c| Box::pin(solution(b, t, c))).is_empty());
        for _ in 0..3 {
            assert_eq!(
                failed(|b, t, c| Box::pin(keyless(b, t, c))),
                ["each lot's commands are keyed by the lot, in one partition, in order"]
            );
        }
    }
}
