//! Checks of exercise 3.2: what to do with a delivery report.
//!
//! On a fresh embedded cluster, the checks' producer (acks=all, no retries
//! of its own) sends nine machine commands one at a time. The broker
//! refuses the first attempt at the third command with NOT_ENOUGH_REPLICAS
//! (a refusal that passes) and every attempt at the sixth with
//! MESSAGE_TOO_LARGE (a refusal for good). For each delivery report the
//! checks call the student's `outcome` and do what it says: nothing more
//! for Stored and GiveUp, another send for SendAgain (three sends at most).
//! Then they read the log back and compare.
//!
//! The log readers here are shared with exercise 3.3's checks.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The lots whose commands are sent: three steps each, nine commands.
pub const LOTS: [&str; 3] = ["lot-A", "lot-B", "lot-C"];
/// Partitions of the commands' topic.
pub const PARTITIONS: i32 = 3;
/// The command (0-based, in sending order) refused once, NOT_ENOUGH_REPLICAS.
const PASSING: usize = 2;
/// The command refused at every attempt, MESSAGE_TOO_LARGE.
const FOR_GOOD: usize = 5;
/// How many times the checks send one command at most.
const MAX_SENDS: usize = 3;

/// What the controller must do with the delivery report of one command:
/// the student's `outcome` says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The broker stored the command there.
    Stored { partition: i32, offset: i64 },
    /// Refused for a reason that passes: send it again later.
    SendAgain(KafkaError),
    /// Refused for good: tell the operators, do not send it again.
    GiveUp(KafkaError),
}

/// The student's function.
pub type Code = fn(&OwnedDeliveryResult) -> Outcome;

/// One record of the log, as the checks read it back.
#[derive(Debug, Clone)]
pub struct Stored {
    pub partition: i32,
    pub offset: i64,
    /// Its key, as text ("" when it has none).
    pub key: String,
    /// The command's label (`lot-A M1 mill`), or the payload as text when
    /// it is not a command.
    pub label: String,
    /// The payload is a `MachineCommand` in JSON.
    pub is_command: bool,
    /// Its timestamp, in ms: the time the producer was handed the record.
    pub timestamp: Option<i64>,
}

/// The checks' producer: acks=all, each record on its own at once, and at
/// most `retries` retries, quickly (so that a refusal that lasts is given
/// up on within the checks' time).
pub fn producer(ctx: &Stage, retries: usize) -> Result<FutureProducer> {
    ctx.client_config()
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("retries", retries.to_string())
        .set("retry.backoff.ms", "20")
        .set("retry.backoff.max.ms", "50")
        .create()
        .context(tr!("creating the checks' producer"))
}

/// Every record of the `partitions` partitions of `topic`, read back with a
/// consumer of the checks' own, partition by partition, in offset order.
pub fn read_log(ctx: &Stage, topic: &str, partitions: i32) -> Result<Vec<Stored>> {
    let consumer: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name("checks-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .context(tr!("creating the checks' reader"))?;
    let mut tpl = TopicPartitionList::new();
    let mut high = BTreeMap::new();
    for p in 0..partitions {
        let (low, h) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(5))
            .context(tr!("reading the watermarks"))?;
        tpl.add_partition_offset(topic, p, Offset::Offset(low))?;
        high.insert(p, (low, h));
    }
    consumer.assign(&tpl)?;
    let mut log = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while high.values().any(|(next, h)| next < h) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{}",
            tr!("the checks could not read the log back within 5 s")
        );
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap_or_default();
                let command = serde_json::from_slice::<MachineCommand>(payload).ok();
                log.push(Stored {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                    is_command: command.is_some(),
                    timestamp: m.timestamp().to_millis(),
                    label: match command {
                        Some(c) => c.label(),
                        None => String::from_utf8_lossy(payload).into_owned(),
                    },
                });
                if let Some(entry) = high.get_mut(&m.partition()) {
                    entry.0 = m.offset() + 1;
                }
            }
            Some(Err(e)) => return Err(e).context(tr!("reading the log back")),
            None => {}
        }
    }
    log.sort_by_key(|s| (s.partition, s.offset));
    Ok(log)
}

/// "the log holds lot-B M2 drill there", "the log holds nothing there".
pub fn holds(log: &[Stored], partition: i32, offset: i64) -> String {
    match log
        .iter()
        .find(|s| s.partition == partition && s.offset == offset)
    {
        Some(s) => tr!("the log holds {} there", s.label),
        None => tr!("the log holds nothing there"),
    }
}

/// Check 1, shared with exercise 3.3: the log holds commands, as JSON,
/// keyed by their lot, each at most once.
pub fn check_log_records(checks: &Checks, log: &[Stored]) {
    let not_json: Vec<&Stored> = log.iter().filter(|s| !s.is_command).collect();
    let unkeyed: Vec<&Stored> = log
        .iter()
        .filter(|s| s.is_command && !s.label.starts_with(&format!("{} ", s.key)))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in log.iter().filter(|s| s.is_command) {
        *counts.entry(&s.label).or_default() += 1;
    }
    let twice: Vec<String> = counts
        .iter()
        .filter(|(_, &n)| n > 1)
        .map(|(l, n)| format!("{l} ({n}x)"))
        .collect();
    let detail = if log.is_empty() {
        tr!("The log is empty: no command reached the broker.")
    } else if let Some(s) = not_json.first() {
        tr!(
            "Partition {}, offset {} holds {:?}, which is not a command in JSON: make the value\n\
             with serde_json::to_string(cmd) (chapter 2: Kafka stores bytes).",
            s.partition,
            s.offset,
            s.label
        )
    } else if let Some(s) = unkeyed.first() {
        tr!(
            "{} is stored with the key {:?}, not its lot: the key chooses the partition, and\n\
             only records with the same key are sure to share one, in order (chapter 2: the key\n\
             chooses the partition).",
            s.label,
            s.key
        )
    } else {
        tr!(
            "Commands in the log more than once: {}. Each command must be sent once\n\
             (chapter 3: at most once, at least once).",
            twice.join(", ")
        )
    };
    checks.check(
        tr_static!("the log holds the commands as JSON, keyed by their lot, each once"),
        !log.is_empty() && not_json.is_empty() && unkeyed.is_empty() && twice.is_empty(),
        detail,
    );
}

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let outcome = code;
        let mock = ctx.mock().context(tr!(
            "the checks inject faults: they need the embedded cluster"
        ))?;
        let topic = ctx.create_topic("machine-commands", PARTITIONS, 3).await?;
        let producer = producer(ctx, 0)?;
        let sent: Vec<MachineCommand> = LOTS
            .iter()
            .flat_map(|lot| MachineCommand::sequence(lot))
            .collect();
        let passing = sent[PASSING].label();
        let for_good = sent[FOR_GOOD].label();

        checks.step(tr!(
            "sending {} commands and calling your outcome on each delivery report; the broker refuses {passing} once (NOT_ENOUGH_REPLICAS) and {for_good} every time (MESSAGE_TOO_LARGE)",
            sent.len()
        ));
        // For each command: what your outcome said, report after report.
        let mut said: Vec<Vec<Outcome>> = Vec::new();
        for (i, cmd) in sent.iter().enumerate() {
            if i == PASSING {
                mock.request_errors(
                    RDKafkaApiKey::Produce,
                    &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS],
                );
            } else if i == FOR_GOOD {
                mock.request_errors(
                    RDKafkaApiKey::Produce,
                    &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE; MAX_SENDS],
                );
            }
            let payload = serde_json::to_string(cmd)?;
            let mut answers = Vec::new();
            for _ in 0..MAX_SENDS {
                let record = FutureRecord::to(&topic).key(&cmd.lot).payload(&payload);
                let report = producer.send(record, Duration::from_secs(5)).await;
                let answer = outcome(&report);
                answers.push(answer.clone());
                if !matches!(answer, Outcome::SendAgain(_)) {
                    break;
                }
            }
            mock.clear_request_errors(RDKafkaApiKey::Produce);
            said.push(answers);
        }
        let log = read_log(ctx, &topic, PARTITIONS)?;
        let place_of = |label: &str| {
            log.iter()
                .find(|s| s.label == label)
                .map(|s| (s.partition, s.offset))
        };
        let in_log = |label: &str| log.iter().filter(|s| s.label == label).count();

        // 1. Every Stored says where.
        let mut detail = Vec::new();
        for (cmd, answers) in sent.iter().zip(&said) {
            let l = cmd.label();
            for a in answers {
                if let Outcome::Stored {
                    partition: p,
                    offset: o,
                } = a
                {
                    if place_of(&l) != Some((*p, *o)) {
                        detail.push(match place_of(&l) {
                            Some((rp, ro)) => tr!(
                                "For {l} your outcome said Stored at partition {p}, offset {o},\n\
                                 but {}: the command is at partition {rp}, offset {ro}. The place\n\
                                 is in the report, `delivery.partition` and `delivery.offset`\n\
                                 (chapter 3: what each setting waits for).",
                                holds(&log, *p, *o)
                            ),
                            None => tr!(
                                "For {l} your outcome said Stored at partition {p}, offset {o},\n\
                                 but the command is not in the log: its report was a refusal\n\
                                 (chapter 3: what each setting loses)."
                            ),
                        });
                    }
                }
            }
        }
        let stored_said = said
            .iter()
            .flatten()
            .any(|a| matches!(a, Outcome::Stored { .. }));
        if !stored_said {
            detail.push(tr!(
                "Your outcome never said Stored, though the broker stored {} commands.",
                log.len()
            ));
        }
        detail.truncate(3);
        checks.check(
            tr_static!(
                "every Stored gives the partition and offset where its command is in the log"
            ),
            detail.is_empty(),
            detail.join("\n"),
        );

        // 2. A refusal that passes: sent again, stored once.
        let answers = &said[PASSING];
        let first = answers.first();
        let detail = match first {
            Some(Outcome::SendAgain(_)) if in_log(&passing) == 1 => String::new(),
            Some(Outcome::SendAgain(_)) => tr!(
                "Your outcome said SendAgain for {passing}, but the command is in the log {} times.",
                in_log(&passing)
            ),
            other => tr!(
                "The broker refused {passing} once with NOT_ENOUGH_REPLICAS: too few in-sync\n\
                 replicas for an acks=all write right then (min.insync.replicas). Your outcome\n\
                 said {}, so the controller never sent it again, and it is {}.\n\
                 This refusal passes: the same record sent again is stored\n\
                 (chapter 3: acks=all waits for the ISR).",
                describe(other),
                if in_log(&passing) == 0 { tr!("lost") } else { tr!("in the log only by chance") }
            ),
        };
        checks.check(
            &tr!("{passing}, refused with NOT_ENOUGH_REPLICAS, is sent again and stored once"),
            detail.is_empty(),
            detail,
        );

        // 3. A refusal for good: given up at once.
        let answers = &said[FOR_GOOD];
        let detail = match answers.as_slice() {
            [Outcome::GiveUp(_)] => String::new(),
            [first, ..] if matches!(first, Outcome::SendAgain(_)) => tr!(
                "The broker refused {for_good} with MESSAGE_TOO_LARGE, and your outcome said\n\
                 SendAgain: the controller sent it {} times, refused each time. A record too\n\
                 large for the broker stays too large: give up and tell the operators.",
                answers.len()
            ),
            other => tr!(
                "The broker refused {for_good} with MESSAGE_TOO_LARGE, and your outcome said {}:\n\
                 the controller would believe it stored (chapter 3: what each setting loses).",
                describe(other.first())
            ),
        };
        checks.check(
            &tr!("{for_good}, refused with MESSAGE_TOO_LARGE, is given up at once"),
            detail.is_empty(),
            detail,
        );
        Ok(())
    })
}

/// What an outcome says, for the reports.
fn describe(outcome: Option<&Outcome>) -> String {
    match outcome {
        Some(Outcome::Stored { partition, offset }) => {
            tr!("Stored at partition {partition}, offset {offset}")
        }
        Some(Outcome::SendAgain(_)) => "SendAgain".to_string(),
        Some(Outcome::GiveUp(_)) => "GiveUp".to_string(),
        None => tr!("nothing"),
    }
}
