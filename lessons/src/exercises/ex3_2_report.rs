//! Checks of exercise 3.2: what the delivery report says.
//!
//! On a fresh embedded cluster, the checks' producer (acks=all, at most two
//! retries) sends nine machine commands one at a time through the
//! student's `send_command`. The broker refuses every attempt at the fourth
//! one with NOT_ENOUGH_REPLICAS (so the producer gives up on it), and the
//! first attempt at the seventh (which the producer's retry then writes).
//! The checks then read the log back with a consumer of their own and
//! compare it with what `send_command` returned for each command.
//!
//! The log readers here are shared with exercise 3.3's checks.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, Producer};
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
/// The command (0-based, in sending order) whose every attempt is refused.
const REFUSED: usize = 3;
/// The command whose first attempt is refused, then written by a retry.
const RETRIED: usize = 6;
/// Attempts the checks' producer makes at one command: 1 + `retries`.
const ATTEMPTS: usize = 3;
/// How long one call of the student's function may take.
const CALL_BOUND: Duration = Duration::from_secs(5);

/// The student's function: an `async fn`, boxed.
pub type Code = for<'a> fn(
    &'a FutureProducer,
    &'a str,
    &'a MachineCommand,
) -> LocalBoxFuture<'a, Result<(i32, i64), KafkaError>>;

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
        let send_command = code;
        let mock = ctx.mock().context(tr!(
            "the checks inject faults: they need the embedded cluster"
        ))?;
        let topic = ctx.create_topic("machine-commands", PARTITIONS, 3).await?;
        let producer = producer(ctx, ATTEMPTS - 1)?;
        let sent: Vec<MachineCommand> = LOTS
            .iter()
            .flat_map(|lot| MachineCommand::sequence(lot))
            .collect();
        let refused = sent[REFUSED].label();
        let refusal = RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;

        checks.step(tr!(
            "calling your send_command for {} commands; the broker refuses every attempt at {refused}",
            sent.len()
        ));
        let mut returned = Vec::new();
        for (i, cmd) in sent.iter().enumerate() {
            // Each command alone on the wire, whether or not your function
            // waits for its report: what came before is sent first.
            let _ = producer.flush(Duration::from_secs(5));
            if i == REFUSED {
                mock.request_errors(RDKafkaApiKey::Produce, &[refusal; ATTEMPTS]);
            } else if i == RETRIED {
                mock.request_errors(RDKafkaApiKey::Produce, &[refusal]);
            }
            match tokio::time::timeout(CALL_BOUND, send_command(&producer, &topic, cmd)).await {
                Ok(result) => {
                    returned.push(result);
                    let _ = producer.flush(Duration::from_secs(5));
                    mock.clear_request_errors(RDKafkaApiKey::Produce);
                }
                Err(_) => {
                    mock.clear_request_errors(RDKafkaApiKey::Produce);
                    anyhow::bail!(
                        "{}",
                        tr!(
                            "your send_command did not return within {} s for {}",
                            CALL_BOUND.as_secs(),
                            cmd.label()
                        )
                    );
                }
            }
        }
        // Whatever your function left in the producer's queue, sent now.
        let _ = producer.flush(Duration::from_secs(5));
        mock.clear_request_errors(RDKafkaApiKey::Produce);
        let log = read_log(ctx, &topic, PARTITIONS)?;
        let place_of = |label: &str| {
            log.iter()
                .find(|s| s.label == label)
                .map(|s| (s.partition, s.offset))
        };

        // 1. What is in the log.
        check_log_records(checks, &log);

        // 2. Every Ok says where.
        let oks: Vec<(String, (i32, i64))> = sent
            .iter()
            .zip(&returned)
            .filter_map(|(c, r)| r.as_ref().ok().map(|p| (c.label(), *p)))
            .collect();
        let wrong: Vec<&(String, (i32, i64))> = oks
            .iter()
            .filter(|(l, p)| place_of(l) != Some(*p))
            .collect();
        let detail = match wrong.first() {
            _ if oks.is_empty() => tr!(
                "Your send_command returned no Ok at all, though the broker stored {} of the {}\n\
                 commands (chapter 3: what each setting waits for).",
                log.len(),
                sent.len()
            ),
            Some((l, (p, o))) => match place_of(l) {
                Some((real_p, real_o)) => tr!(
                    "For {l} your send_command returned Ok(({p}, {o})),\n\
                     but {}: the command is at partition {real_p}, offset {real_o}.\n\
                     Only the delivery report knows the place: wait for it\n\
                     (chapter 3: what each setting waits for).",
                    holds(&log, *p, *o)
                ),
                None => tr!(
                    "For {l} your send_command returned Ok(({p}, {o})),\n\
                     but the command is not in the log at all: the broker refused it. Ok must\n\
                     mean \"stored\", and only the delivery report says so\n\
                     (chapter 3: what each setting loses)."
                ),
            },
            None => String::new(),
        };
        checks.check(
            tr_static!("every Ok gives the partition and offset where its command is stored"),
            !oks.is_empty() && wrong.is_empty(),
            detail,
        );

        // 3. A refusal is an error, the broker's own, and only a refusal is.
        let mut detail = Vec::new();
        for (cmd, r) in sent.iter().zip(&returned) {
            let label = cmd.label();
            let stored = place_of(&label);
            match (r, stored) {
                (Ok(_), None) => detail.push(tr!(
                    "{label} is not in the log (the broker refused it {ATTEMPTS} times, with\n\
                     NOT_ENOUGH_REPLICAS), but your send_command returned Ok for it: the\n\
                     controller would move on as if it were stored (chapter 3: what each setting loses)."
                )),
                (Err(e), Some((p, o))) => detail.push(tr!(
                    "Your send_command returned the error \"{e}\" for {label}, which is stored at\n\
                     partition {p}, offset {o}: return the delivery report's answer (chapter 3)."
                )),
                (Err(e), None)
                    if e.rdkafka_error_code() != Some(RDKafkaErrorCode::NotEnoughReplicas) =>
                {
                    detail.push(tr!(
                        "For {label}, which the broker refused with NOT_ENOUGH_REPLICAS, your\n\
                         send_command returned the error \"{e}\": return the report's own error,\n\
                         so that the caller knows why (chapter 3: acks=all waits for the ISR)."
                    ))
                }
                _ => {}
            }
        }
        checks.check(
            &tr!("{refused}, refused by the broker, comes back as its error, NOT_ENOUGH_REPLICAS"),
            detail.is_empty(),
            detail.join("\n"),
        );
        Ok(())
    })
}
