//! Checks of exercise 6.3: a producer that keeps each lot in order under
//! retries.
//!
//! The checks make a producer from the student's settings, on the embedded
//! cluster: every broker answers 50 ms late, so that the lot's three
//! requests (one record each) are in flight together, and one Produce
//! request is refused with NOT_ENOUGH_REPLICAS, which the producer retries.
//! Then they read the partition back. Twice: M1's request refused, then M2's.
//!
//! One thing is scripted, as lesson 6 does and as librdkafka's own tests
//! do: the embedded cluster checks an idempotent producer's sequence
//! numbers only for transactional producers. A real broker refuses the
//! requests in flight behind a refused one of an idempotent producer with
//! OUT_OF_ORDER_SEQUENCE_NUMBER (their sequence numbers leave a gap); so,
//! when the student's settings turn idempotence on, the checks add those
//! refusals, one per request that the settings let be in flight behind it.

use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::{timeout, Instant};

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// How late every broker answers while a lot is sent.
const BROKER_RTT: Duration = Duration::from_millis(50);
const WAIT: Duration = Duration::from_secs(5);

/// The student's function.
pub type Code = fn(&mut ClientConfig);

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

/// What one scenario left in the partition.
struct Run {
    /// The commands in the partition, in offset order.
    log: Vec<MachineCommand>,
    /// The delivery errors the producer reported.
    errors: Vec<String>,
}

async fn check_with(settings: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let names = [
        tr_static!("M1's request refused once: every command is stored, once").to_string(),
        tr_static!("M1's request refused once: the partition holds M1, M2, M3 in order")
            .to_string(),
        tr_static!("M2's request refused once: the partition holds M1, M2, M3 in order, once each")
            .to_string(),
    ];
    let lot_a = MachineCommand::sequence("lot-A");
    let lot_b = MachineCommand::sequence("lot-B");

    checks.step(tr!(
        "a producer with your settings sends lot-A; M1's request is refused once"
    ));
    let a = match scenario(ctx, settings, "lot-commands-a", &lot_a, 1).await? {
        Ok(run) => run,
        Err(e) => {
            for name in &names {
                checks.check(name, false, &e);
            }
            return Ok(());
        }
    };
    let once = lot_a
        .iter()
        .all(|c| a.log.iter().filter(|l| *l == c).count() == 1)
        && a.log.len() == lot_a.len();
    checks.check(
        &names[0],
        once,
        tr!(
            "The partition holds: {}{}.\n\
             A refused request must be retried (retries: on by default; acks=0 reads no answer, so\n\
             it never learns of the refusal), and a retry must not store a record twice\n\
             (chapter 6: the producer can reorder a partition by itself; chapter 3).",
            labels(&a.log),
            errors(&a.errors)
        ),
    );
    checks.check(
        &names[1],
        a.log == lot_a,
        tr!(
            "The partition holds: {}.\n\
             M1's request was refused and retried while M2's and M3's, sent behind it, were\n\
             stored: the retry landed after them. acks says how many replicas store a record,\n\
             not in which order. The idempotent producer numbers its records and the broker\n\
             refuses a gap (chapter 6: the producer can reorder a partition by itself).",
            labels(&a.log)
        ),
    );

    checks.step(tr!(
        "a new producer with your settings sends lot-B; M2's request is refused once"
    ));
    let name = &names[2];
    match scenario(ctx, settings, "lot-commands-b", &lot_b, 2).await? {
        Ok(b) => {
            checks.check(
                name,
                b.log == lot_b,
                tr!(
                    "The partition holds: {}{}.\n\
                     M2's request was refused and retried while M3's, sent behind it, could be\n\
                     stored first (chapter 6: the producer can reorder a partition by itself).",
                    labels(&b.log),
                    errors(&b.errors)
                ),
            );
        }
        Err(e) => {
            checks.check(name, false, e);
        }
    }
    Ok(())
}

/// Send `commands` (one lot) with a producer made from `settings` to a new
/// topic of one partition, the `refused`-th Produce request (1 or 2)
/// refused once; read the partition back. `Ok(Err(why))` when the producer
/// could not even be made or connect.
async fn scenario(
    ctx: &Stage,
    settings: Code,
    logical: &str,
    commands: &[MachineCommand],
    refused: usize,
) -> Result<Result<Run, String>> {
    let mock = ctx.mock().context(tr!(
        "this exercise injects faults: it needs the embedded cluster"
    ))?;
    let topic = ctx.create_topic(logical, 1, 3).await?;
    let mut config = ctx.client_config();
    settings(&mut config);
    // What a real broker answers depends on these two settings (see the
    // module's comment).
    let idempotent = config.get("enable.idempotence") == Some("true");
    let in_flight: usize = config
        .get("max.in.flight.requests.per.connection")
        .or_else(|| config.get("max.in.flight"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if idempotent { 5 } else { 1_000_000 });
    // One record per request, sent at once: as a busy producer's requests.
    config.set("linger.ms", "0").set("batch.num.messages", "1");
    let producer: FutureProducer = match config.create() {
        Ok(p) => p,
        Err(e) => {
            return Ok(Err(tr!(
                "Creating a producer with your settings failed: {e}\n\
                 (chapter 6: the idempotent producer needs acks=all and at most 5 requests in flight)."
            )))
        }
    };
    // Connect to the partition's leader before the fault, so that it hits
    // the records and not the producer's start-up.
    if let Err(e) = producer.client().fetch_watermarks(&topic, 0, WAIT) {
        return Ok(Err(tr!("Your producer could not reach the cluster: {e}")));
    }

    let mut answers = vec![RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR; refused - 1];
    answers.push(RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    if idempotent {
        let behind = in_flight.min(commands.len() - refused + 1) - 1;
        answers.extend(vec![
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            behind
        ]);
    }
    mock.broker_round_trip_time(-1, BROKER_RTT)?;
    mock.request_errors(RDKafkaApiKey::Produce, &answers);
    let errors = send_all(&producer, &topic, commands).await;
    mock.broker_round_trip_time(-1, Duration::ZERO)?;
    mock.clear_request_errors(RDKafkaApiKey::Produce);
    let _ = producer.flush(WAIT);
    drop(producer);
    let log = read_back(ctx, &topic)?;
    Ok(Ok(Run { log, errors }))
}

/// Send every command without waiting between them, keyed by lot, then
/// wait for each delivery report. The errors reported.
async fn send_all(
    producer: &FutureProducer,
    topic: &str,
    commands: &[MachineCommand],
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut pending = Vec::new();
    for cmd in commands {
        let Ok(value) = serde_json::to_string(cmd) else {
            continue;
        };
        let record = FutureRecord::to(topic).key(&cmd.lot).payload(&value);
        match producer.send_result(record) {
            Ok(delivery) => pending.push((cmd, delivery)),
            Err((e, _)) => errors.push(format!("{}: {e}", cmd.label())),
        }
    }
    for (cmd, delivery) in pending {
        match timeout(WAIT, delivery).await {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err((e, _)))) => errors.push(format!("{}: {e}", cmd.label())),
            Ok(Err(_)) => errors.push(format!("{}: {}", cmd.label(), tr!("no delivery report"))),
            Err(_) => errors.push(format!(
                "{}: {}",
                cmd.label(),
                tr!("no delivery report within {WAIT:?}")
            )),
        }
    }
    errors
}

/// The commands partition 0 of `topic` holds, in offset order.
fn read_back(ctx: &Stage, topic: &str) -> Result<Vec<MachineCommand>> {
    let consumer: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name("order-check"))
        .set("enable.partition.eof", "true")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    let mut log = Vec::new();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(50)) {
            None => {}
            Some(Ok(m)) => {
                let cmd: MachineCommand = serde_json::from_slice(m.payload().unwrap_or_default())
                    .context(tr!("decoding a command"))?;
                log.push(cmd);
            }
            Some(Err(KafkaError::PartitionEOF(_))) => return Ok(log),
            Some(Err(e)) => return Err(e).context(tr!("reading the partition back")),
        }
    }
    Ok(log)
}

/// "M1 mill, M2 drill" or "nothing".
fn labels(log: &[MachineCommand]) -> String {
    if log.is_empty() {
        return tr!("nothing");
    }
    log.iter()
        .map(MachineCommand::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// "; the producer reported: ..." or nothing.
fn errors(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        tr!("; the producer reported: {}", errors.join("; "))
    }
}
