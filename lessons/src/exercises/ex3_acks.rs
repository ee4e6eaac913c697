//! Checks of exercise 3: producer settings that lose nothing.
//!
//! The student's settings go on top of the kit's client settings, and the
//! producer they make sends nine machine commands, one at a time, to a topic
//! whose broker refuses the first three Produce requests. Then the checks
//! read the log back with their own consumer (the delivery reports are only
//! what the producer was told) and compare.
//!
//! The embedded cluster keeps one copy of each partition, so it cannot kill
//! a leader before its followers have copied a record: the loss `acks=1`
//! allows cannot happen on it. The third check therefore reads the `acks`
//! value librdkafka will put in every Produce request, and says so.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The lots whose commands are sent: three steps each, nine records.
const LOTS: [&str; 3] = ["lot-A", "lot-B", "lot-C"];

/// What the broker answers to the first Produce requests: leadership moving
/// twice, then too few in-sync replicas (what `min.insync.replicas` makes a
/// leader answer to an `acks=all` write).
const FAULTS: [RDKafkaRespErr; 3] = [
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
];

/// How long all the sends may take together. The reference solution needs
/// about one second (three retries, with librdkafka's backoff); settings
/// that stall the producer fail here instead of at `message.timeout.ms`.
const SEND_BOUND: Duration = Duration::from_secs(5);

/// What the producer was told about one command.
#[derive(Debug, Clone)]
enum Report {
    /// Delivered, at this offset (-1001 when the producer cannot know).
    Delivered(i64),
    /// The producer gave up on it, with this error.
    Failed(String),
    /// No delivery report within [`SEND_BOUND`].
    Pending,
    /// Not sent: the checks stopped waiting on an earlier command.
    NotSent,
}

/// `lot-A M1 mill` for one command, `them` for several (French says « les »
/// where English says "them": the sentences place it).
fn them(commands: &[&String]) -> String {
    match commands {
        [one] => one.to_string(),
        _ => tr!("them"),
    }
}

/// A list of commands, comma-separated, over lines of at most 80 characters.
fn wrapped(commands: &[&String]) -> String {
    let mut lines = vec![String::new()];
    for (i, c) in commands.iter().enumerate() {
        let item = if i + 1 < commands.len() {
            format!("{c},")
        } else {
            format!("{c}.")
        };
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.len() + 1 + item.len() > 78 {
            lines.push(format!("  {item}"));
        } else {
            if line.is_empty() {
                line.push_str("  ");
            } else {
                line.push(' ');
            }
            line.push_str(&item);
        }
    }
    lines.join("\n")
}

/// The student's function.
pub type Code = fn(&mut ClientConfig);

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        checks.step(tr!("calling your producer_settings"));
        let mut config = ctx.client_config();
        code(&mut config);
        let producer: FutureProducer = config
            .create()
            .context(tr!("creating a producer with your settings"))?;
        let mock = ctx.mock().context(tr!(
            "the checks inject faults: they need the embedded cluster"
        ))?;
        let topic = ctx.create_topic("machine-commands", 1, 3).await?;

        // Send the commands one at a time, each in its own Produce request,
        // the first three of which the broker refuses.
        let sent: Vec<MachineCommand> = LOTS
            .iter()
            .flat_map(|lot| MachineCommand::sequence(lot))
            .collect();
        mock.request_errors(RDKafkaApiKey::Produce, &FAULTS);
        let deadline = tokio::time::Instant::now() + SEND_BOUND;
        let mut reports = vec![Report::NotSent; sent.len()];
        for (command, report) in sent.iter().zip(reports.iter_mut()) {
            let payload = serde_json::to_string(command)?;
            let record = FutureRecord::to(&topic).key(&command.lot).payload(&payload);
            let delivery = match producer.send_result(record) {
                Ok(delivery) => delivery,
                Err((e, _)) => {
                    *report = Report::Failed(e.to_string());
                    continue;
                }
            };
            *report = match tokio::time::timeout_at(deadline, delivery).await {
                Ok(Ok(Ok(delivery))) => Report::Delivered(delivery.offset),
                Ok(Ok(Err((e, _)))) => Report::Failed(e.to_string()),
                Ok(Err(_)) => Report::Failed(tr!("the producer dropped the record")),
                Err(_) => {
                    *report = Report::Pending;
                    break;
                }
            };
        }
        // How far the log goes, asked on the producer's own connection: the
        // broker answers only after handling every request written before
        // (an acks=0 report comes before the broker has seen the record).
        let (low, high) = producer
            .client()
            .fetch_watermarks(&topic, 0, Duration::from_secs(5))
            .context(tr!("asking the embedded broker for the log's watermarks"))?;
        mock.clear_request_errors(RDKafkaApiKey::Produce);
        let log = read_log(ctx, &topic, low, high).await?;

        let label = |c: &MachineCommand| c.label();
        let sent_labels: Vec<String> = sent.iter().map(label).collect();
        let report_of = |l: &str| sent_labels.iter().position(|s| s == l).map(|i| &reports[i]);

        // 1. Nothing lost, nothing twice.
        // The commands the checks sent (not those left unsent after a stall)
        // that are not in the log.
        let lost: Vec<&String> = sent_labels
            .iter()
            .zip(&reports)
            .filter(|(l, r)| !matches!(r, Report::NotSent) && !log.contains(l))
            .map(|(l, _)| l)
            .collect();
        let unsent = reports
            .iter()
            .filter(|r| matches!(r, Report::NotSent))
            .count();
        let mut counts: HashMap<&String, usize> = HashMap::new();
        for l in &log {
            *counts.entry(l).or_default() += 1;
        }
        let twice: Vec<String> = sent_labels
            .iter()
            .filter(|l| counts.get(l).copied().unwrap_or(0) > 1)
            .map(|l| format!("{l} ({}x)", counts[l]))
            .collect();
        let mut detail = Vec::new();
        if !lost.is_empty() {
            let attempted = sent.len() - unsent;
            detail.push(tr!(
                "{} of the {attempted} commands sent never reached the log:",
                lost.len()
            ));
            detail.push(wrapped(&lost));
            let with = |pick: fn(&Report) -> bool| -> Vec<&String> {
                lost.iter()
                    .copied()
                    .filter(|l| report_of(l).is_some_and(pick))
                    .collect()
            };
            let unseen = with(|r| matches!(r, Report::Delivered(o) if *o < 0));
            if !unseen.is_empty() {
                detail.push(tr!(
                    "The producer reported {} delivered: with acks=0 it reads no answer\n\
                     from the broker, so it never saw the refusals and never sent again (chapter 3).",
                    them(&unseen)
                ));
            }
            let failed = with(|r| matches!(r, Report::Failed(_)));
            if let Some(Some(Report::Failed(e))) = failed.first().map(|l| report_of(l)) {
                detail.push(tr!(
                    "The producer reported {} failed, with the error:\n  {e}\n\
                     It read the broker's refusal and gave up. NOT_LEADER_FOR_PARTITION and\n\
                     NOT_ENOUGH_REPLICAS are temporary refusals: sent again, a command gets\n\
                     written (chapter 3).",
                    them(&failed)
                ));
            }
            let pending = with(|r| matches!(r, Report::Pending));
            if !pending.is_empty() {
                detail.push(tr!(
                    "{} got no delivery report within {} s: the producer was\n\
                     still holding it (waiting to retry, or to batch it with more records).",
                    them(&pending),
                    SEND_BOUND.as_secs()
                ));
            }
        }
        if unsent > 0 {
            detail.push(tr!(
                "The checks stopped waiting there and did not send the {unsent} commands after it."
            ));
        }
        if !twice.is_empty() {
            detail.push(tr!(
                "Commands in the log more than once: {}. A record sent again after its answer\n\
                 was lost is written twice unless the producer is idempotent (chapters 3 and 6).",
                twice.join(", ")
            ));
        }
        checks.check(
            tr_static!("every command is in the log once, despite 3 refused writes"),
            lost.is_empty() && unsent == 0 && twice.is_empty(),
            detail.join("\n"),
        );

        // 2. A report that says delivered says where.
        let delivered: Vec<(&String, i64)> = sent_labels
            .iter()
            .zip(&reports)
            .filter_map(|(l, r)| match r {
                Report::Delivered(o) => Some((l, *o)),
                _ => None,
            })
            .collect();
        let misplaced: Vec<(&String, i64)> = delivered
            .iter()
            .copied()
            .filter(|(l, o)| *o < low || log.get((o - low) as usize) != Some(*l))
            .collect();
        let detail = match misplaced.first() {
            _ if delivered.is_empty() => {
                tr!("no command was reported delivered, so no report gave an offset.")
            }
            Some((_, o)) if misplaced.iter().all(|(_, m)| m < &0) => tr!(
                "{} of {} reports said delivered at offset {o}: librdkafka's \"invalid offset\".\n\
                 With acks=0 the broker's answer is not read, so the producer never learns\n\
                 where, or whether, a command was stored (chapter 3).",
                misplaced.len(),
                delivered.len()
            ),
            Some((l, o)) => match log.get((o - low).max(0) as usize) {
                Some(there) => tr!(
                    "the report for {l} gave offset {o}, but the log holds {there} there (chapter 3)."
                ),
                None => tr!(
                    "the report for {l} gave offset {o}, but the log holds nothing there (chapter 3)."
                ),
            },
            None => String::new(),
        };
        checks.check(
            tr_static!("every \"delivered\" report gives its command's offset in the log"),
            !delivered.is_empty() && misplaced.is_empty(),
            detail,
        );

        // 3. What "delivered" promises: acks=all. The embedded cluster cannot
        // show acks=1 losing an acknowledged record, so this reads the value
        // librdkafka sends in every Produce request (its default if unset).
        let acks = match config.create_native_config().and_then(|c| c.get("acks")) {
            Ok(v) => v,
            Err(_) => "-1".to_string(), // not set: librdkafka's default, all
        };
        let detail = match acks.as_str() {
            "0" => tr!(
                "your producer sends acks=0: the broker does not even answer, so \"delivered\"\n\
                 only means \"sent\" (chapter 3)."
            ),
            "1" => tr!(
                "your producer sends acks=1: the leader answers once it alone has the command.\n\
                 If it dies before a follower copies the command, a follower without it can\n\
                 become leader and the command is gone, though it was acknowledged. The\n\
                 embedded cluster keeps one copy of each partition and cannot show this, so\n\
                 this check reads the acks your producer sends (chapter 3)."
            ),
            other => tr!("your producer sends acks={other} (chapter 3)."),
        };
        checks.check(
            tr_static!("a delivered command is on every in-sync replica (acks=all)"),
            acks == "-1" || acks == "all",
            detail,
        );
        Ok(())
    })
}

/// The commands (labels, e.g. `lot-A M1 mill`) stored in partition 0 of
/// `topic` between the watermarks, read back with a consumer of our own.
async fn read_log(ctx: &Stage, topic: &str, low: i64, high: i64) -> Result<Vec<String>> {
    let consumer: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name("ex3-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .context(tr!("creating the checks' reader"))?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(low))?;
    consumer.assign(&tpl)?;
    let mut log = Vec::new();
    let mut next = low;
    let deadline = Instant::now() + Duration::from_secs(5);
    while next < high {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{}",
            tr!("the checks could not read the log back within 5 s")
        );
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap_or_default();
                log.push(match serde_json::from_slice::<MachineCommand>(payload) {
                    Ok(c) => c.label(),
                    Err(_) => String::from_utf8_lossy(payload).into_owned(),
                });
                next = m.offset() + 1;
            }
            Some(Err(e)) => return Err(e).context(tr!("reading the log back")),
            None => {}
        }
    }
    Ok(log)
}
