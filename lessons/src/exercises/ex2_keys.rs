//! Checks of exercise 2: every command of a lot in one partition, as JSON.
//!
//! The checks own the producer and the consumer; the student's function only
//! makes each record's key and value. Its records are sent to a topic with 3
//! partitions and read back by a consumer of the checks' own, by position.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::Message;

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The lots sent: under librdkafka's default partitioner their names spread
/// over all 3 partitions, and six lots leave a keyless (random) producer no
/// real chance of putting each lot in one partition by luck: (1/9)^6.
const LOTS: [&str; 6] = ["lot-A", "lot-B", "lot-C", "lot-D", "lot-E", "lot-F"];
const PARTITIONS: i32 = 3;
const TIMEOUT: Duration = Duration::from_secs(5);

/// The student's function.
pub type Code = fn(&MachineCommand) -> (Option<String>, Vec<u8>);

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

/// One record sent, with where its delivery report says it is.
struct Sent {
    command: MachineCommand,
    key: Option<String>,
    partition: i32,
    offset: i64,
}

/// One record as a consumer finds it.
struct Stored {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
}

async fn check_with(to_record: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic("machine-commands", PARTITIONS, 3).await?;
    checks.step(tr!(
        "producing each command with the key and value of your to_record"
    ));
    let sent = produce(ctx, &topic, to_record).await?;
    checks.step(tr!("reading the records back"));
    let stored = match read_back(ctx, &topic, sent.len()) {
        Ok(stored) => stored,
        Err(e) => {
            checks.check(
                tr_static!("the records sent can be read back"),
                false,
                format!("{e:#}"),
            );
            return Ok(());
        }
    };

    // 1. Every value is the command, as JSON.
    let mut bad_values = Vec::new();
    for s in &sent {
        let value = stored
            .get(&(s.partition, s.offset))
            .map(|r| r.value.as_slice())
            .unwrap_or_default();
        match serde_json::from_slice::<MachineCommand>(value) {
            Ok(c) if c == s.command => {}
            Ok(c) => bad_values.push(tr!(
                "The record of \"{}\" (partition {}, offset {}) deserializes to\n  {c:?}\n\
                 not to the command that was sent:\n  {:?}",
                s.command.label(),
                s.partition,
                s.offset,
                s.command
            )),
            Err(e) => bad_values.push(tr!(
                "The record of \"{}\" (partition {}, offset {}) has the value\n  {}\n\
                 which is not a MachineCommand in JSON (serde_json: {e}).",
                s.command.label(),
                s.partition,
                s.offset,
                shown(value)
            )),
        }
    }
    checks.check(
        tr_static!("every value is the command, serialized as JSON"),
        bad_values.is_empty(),
        tr!(
            "{} of the {} values cannot be read back as the command sent. For example:\n{}\n\
             Kafka stores the bytes the producer gives it and never checks them; the consumers\n\
             deserialize them with serde_json::from_slice::<MachineCommand> (chapter 2).",
            bad_values.len(),
            sent.len(),
            bad_values.first().cloned().unwrap_or_default()
        ),
    );

    // 2. Each lot's commands: in one partition, in order. Positions come from
    // the delivery reports, and the read-back confirms a record is there.
    let mut split = Vec::new();
    for lot in LOTS {
        let of_lot: Vec<&Sent> = sent.iter().filter(|s| s.command.lot == lot).collect();
        let partitions: BTreeSet<i32> = of_lot.iter().map(|s| s.partition).collect();
        let mut by_offset: Vec<&&Sent> = of_lot.iter().collect();
        by_offset.sort_by_key(|s| s.offset);
        let steps: Vec<u32> = by_offset.iter().map(|s| s.command.step).collect();
        let there = of_lot
            .iter()
            .all(|s| stored.contains_key(&(s.partition, s.offset)));
        if partitions.len() != 1 || steps != [1, 2, 3] || !there {
            let places: Vec<String> = of_lot
                .iter()
                .map(|s| {
                    let key = stored
                        .get(&(s.partition, s.offset))
                        .and_then(|r| r.key.as_deref());
                    let step = format!("{} {}", s.command.machine, s.command.operation);
                    let partition = s.partition;
                    match key {
                        Some(k) => tr!(
                            "  {step:<15} -> partition {partition} (key {:?})",
                            String::from_utf8_lossy(k)
                        ),
                        None => tr!("  {step:<15} -> partition {partition} (key none)"),
                    }
                })
                .collect();
            split.push(tr!(
                "{lot}, whose commands were sent in this order:\n{}",
                places.join("\n")
            ));
        }
    }
    checks.check(
        tr_static!("all the commands of each lot are in one partition, in order"),
        split.is_empty(),
        tr!(
            "{} of the {} lots are not in one partition in order. For example:\n{}\n\
             The partitioner hashes the key: only records with the same key are sure to share a\n\
             partition, and there is no order between partitions. A record without a key goes\n\
             to a partition drawn at random (chapter 2: the key chooses the partition).",
            split.len(),
            LOTS.len(),
            split.first().cloned().unwrap_or_default()
        ),
    );

    // 3. The lots still spread: the whole workshop in one partition would be
    // in order too, but read by a single consumer of a group.
    let used: BTreeSet<i32> = sent.iter().map(|s| s.partition).collect();
    let keys: BTreeSet<Option<&str>> = sent.iter().map(|s| s.key.as_deref()).collect();
    checks.check(
        tr_static!("different lots can be in different partitions"),
        used.len() > 1,
        tr!(
            "all {} lots are in partition {}, with {} key(s) for all the records. Records with\n\
             the same key share a partition: a key that does not differ from lot to lot puts\n\
             the whole workshop in one partition, read by one consumer of a group while the\n\
             others wait (chapter 2; chapter 1 for groups).",
            LOTS.len(),
            used.iter().next().copied().unwrap_or_default(),
            keys.len()
        ),
    );
    Ok(())
}

/// Send every lot's commands, step by step (every lot's step 1, then every
/// lot's step 2...), each made by `to_record`, and wait for each delivery
/// report before the next send, so each partition holds them in send order.
async fn produce(ctx: &Stage, topic: &str, to_record: Code) -> Result<Vec<Sent>> {
    let producer: FutureProducer = ctx
        .client_config()
        .set("linger.ms", "0")
        // A record without a key gets a partition drawn for it alone, instead
        // of the partition of a sticky run (chapter 2), so keyless lots really
        // are spread, not kept together by a run that happens to last.
        .set("sticky.partitioning.linger.ms", "0")
        .create()
        .context(tr!("creating the producer"))?;
    // Learn the partitions and leaders first: until it knows them, the
    // partitioner cannot draw among all 3 partitions.
    producer
        .client()
        .fetch_metadata(Some(topic), TIMEOUT)
        .context(tr!("fetching the topic's metadata"))?;
    let commands: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| LOTS.iter().map(move |lot| MachineCommand::step(lot, step)))
        .collect();
    let mut sent = Vec::new();
    for command in commands {
        let (key, value) = to_record(&command);
        let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).payload(&value);
        if let Some(k) = key.as_deref() {
            record = record.key(k);
        }
        let delivery = producer
            .send(record, TIMEOUT)
            .await
            .map_err(|(e, _)| e)
            .with_context(|| tr!("producing the record of {}", command.label()))?;
        sent.push(Sent {
            command,
            key,
            partition: delivery.partition,
            offset: delivery.offset,
        });
    }
    producer.flush(TIMEOUT).context(tr!("flushing"))?;
    Ok(sent)
}

/// Every record of `topic`, as a consumer finds it, by (partition, offset).
fn read_back(ctx: &Stage, topic: &str, count: usize) -> Result<BTreeMap<(i32, i64), Stored>> {
    let stored: BTreeMap<(i32, i64), Stored> = ctx
        .read_topic(topic)?
        .iter()
        .map(|m| {
            (
                (m.partition(), m.offset()),
                Stored {
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().unwrap_or_default().to_vec(),
                },
            )
        })
        .collect();
    anyhow::ensure!(
        stored.len() == count,
        "{}",
        tr!("{} records stored, {count} sent", stored.len())
    );
    Ok(stored)
}

/// A value as text for a message: quoted, and cut if long.
fn shown(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    if text.chars().count() > 70 {
        format!("{:?}...", text.chars().take(70).collect::<String>())
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    //! The checks must catch the plausible mistakes reliably, not by luck.

    use super::*;

    fn failed(to_record: Code) -> Vec<String> {
        crate::exercises::failed_checks(checks, to_record)
    }

    const ONE_PARTITION: &str = "all the commands of each lot are in one partition, in order";

    /// Without a key, the lots are spread at random: it fails every time.
    #[test]
    fn keyless_records_fail_every_time() {
        fn keyless(c: &MachineCommand) -> (Option<String>, Vec<u8>) {
            (None, serde_json::to_vec(c).unwrap())
        }
        for _ in 0..5 {
            assert_eq!(failed(keyless), [ONE_PARTITION]);
        }
    }

    /// A key per step (or per machine) splits each lot; one key for all lots
    /// keeps the order but puts every lot in one partition.
    #[test]
    fn wrong_keys_fail() {
        fn per_step(c: &MachineCommand) -> (Option<String>, Vec<u8>) {
            (
                Some(format!("{}-{}", c.lot, c.step)),
                serde_json::to_vec(c).unwrap(),
            )
        }
        fn constant(c: &MachineCommand) -> (Option<String>, Vec<u8>) {
            (Some("workshop".into()), serde_json::to_vec(c).unwrap())
        }
        fn debug_value(c: &MachineCommand) -> (Option<String>, Vec<u8>) {
            (Some(c.lot.clone()), format!("{c:?}").into_bytes())
        }
        assert_eq!(failed(per_step), [ONE_PARTITION]);
        assert_eq!(
            failed(constant),
            ["different lots can be in different partitions"]
        );
        assert_eq!(
            failed(debug_value),
            ["every value is the command, serialized as JSON"]
        );
    }
}
