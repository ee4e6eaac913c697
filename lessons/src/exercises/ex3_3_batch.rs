//! Checks of exercise 3.3: send a whole lot, and say what was stored.
//!
//! On a fresh embedded cluster whose brokers answer every request 100 ms
//! late, the student's `send_all` sends twelve machine commands with the
//! checks' producer (acks=all, no retries); the broker refuses the first
//! two Produce requests with NOT_ENOUGH_REPLICAS. The checks then read the
//! log back and compare it with the results: every Ok gives its command's
//! place, every command missing from the log is an error, and the records'
//! timestamps (set when the producer was handed each record) show whether
//! the commands were sent without waiting for each report.

use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::ex3_2_report::{check_log_records, holds, producer, read_log, PARTITIONS};
use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The lots whose commands are sent: three steps each, twelve commands.
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// How many Produce requests the broker refuses.
const REFUSALS: usize = 2;
/// How late every broker answers.
const RTT: Duration = Duration::from_millis(100);
/// How long the student's function may take (one command at a time takes
/// about 12 round trips, 1.3 s).
const CALL_BOUND: Duration = Duration::from_secs(8);

/// The student's function: an `async fn`, boxed.
pub type Code = for<'a> fn(
    &'a FutureProducer,
    &'a str,
    &'a [MachineCommand],
) -> LocalBoxFuture<'a, Vec<Result<(i32, i64), KafkaError>>>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let send_all = code;
        let mock = ctx.mock().context(tr!(
            "the checks inject faults: they need the embedded cluster"
        ))?;
        let topic = ctx.create_topic("shift-commands", PARTITIONS, 3).await?;
        let producer = producer(ctx, 0)?;
        // Learn where the partitions are before the network slows down.
        producer
            .client()
            .fetch_metadata(Some(&topic), Duration::from_secs(5))
            .context(tr!("reading the topic's metadata"))?;
        let sent: Vec<MachineCommand> = LOTS
            .iter()
            .flat_map(|lot| MachineCommand::sequence(lot))
            .collect();

        checks.step(tr!(
            "calling your send_all with {} commands; every broker answers {} ms late and the first {REFUSALS} writes are refused",
            sent.len(),
            RTT.as_millis()
        ));
        mock.broker_round_trip_time(-1, RTT)?;
        mock.request_errors(
            RDKafkaApiKey::Produce,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; REFUSALS],
        );
        let returned = tokio::time::timeout(CALL_BOUND, send_all(&producer, &topic, &sent)).await;
        let _ = producer.flush(Duration::from_secs(5));
        mock.clear_request_errors(RDKafkaApiKey::Produce);
        mock.broker_round_trip_time(-1, Duration::ZERO)?;
        let returned = returned.map_err(|_| {
            anyhow::anyhow!(tr!(
                "your send_all did not return within {} s",
                CALL_BOUND.as_secs()
            ))
        })?;
        let log = read_log(ctx, &topic, PARTITIONS)?;
        let place_of = |label: &str| {
            log.iter()
                .find(|s| s.label == label)
                .map(|s| (s.partition, s.offset))
        };

        // 1. What is in the log.
        check_log_records(checks, &log);

        // 2. One result per command; every Ok says where.
        let mut detail = Vec::new();
        if returned.len() != sent.len() {
            detail.push(tr!(
                "Your send_all returned {} results for {} commands: one per command, in the\n\
                 order of `commands`, so that the operators know what became of each.",
                returned.len(),
                sent.len()
            ));
        }
        for (cmd, r) in sent.iter().zip(&returned) {
            let l = cmd.label();
            if let Ok((p, o)) = r {
                if place_of(&l) != Some((*p, *o)) && place_of(&l).is_some() {
                    detail.push(tr!(
                        "For {l} your send_all returned Ok(({p}, {o})),\n\
                         but {}: only the command's own delivery report knows\n\
                         its place (chapter 3: what each setting waits for).",
                        holds(&log, *p, *o)
                    ));
                }
            }
        }
        checks.check(
            tr_static!(
                "one result per command, in order; every Ok gives where its command is stored"
            ),
            detail.is_empty(),
            detail.join("\n"),
        );

        // 3. No refused command reported stored, no stored one reported refused.
        let mut detail = Vec::new();
        for (i, cmd) in sent.iter().enumerate() {
            let l = cmd.label();
            match (returned.get(i), place_of(&l)) {
                (Some(Ok(_)), None) => detail.push(tr!(
                    "{l} is not in the log (the broker refused it), but your send_all returned Ok\n\
                     for it: nobody would ever send it again (chapter 3: what each setting loses)."
                )),
                (None, None) => detail.push(tr!(
                    "{l} is not in the log, and your send_all returned no result for it."
                )),
                (Some(Err(e)), Some((p, o))) => detail.push(tr!(
                    "Your send_all returned the error \"{e}\" for {l}, which is stored at\n\
                     partition {p}, offset {o}: each result must be that command's own report."
                )),
                (Some(Err(e)), None)
                    if e.rdkafka_error_code() != Some(RDKafkaErrorCode::NotEnoughReplicas) =>
                {
                    detail.push(tr!(
                        "For {l}, which the broker refused with NOT_ENOUGH_REPLICAS, your send_all\n\
                         returned the error \"{e}\": return the delivery report's own error."
                    ))
                }
                _ => {}
            }
        }
        let shown = 4;
        if detail.len() > shown {
            let more = detail.len() - shown;
            detail.truncate(shown);
            detail.push(tr!("... and {more} more."));
        }
        checks.check(
            tr_static!(
                "every command missing from the log is an error, and no stored command is one"
            ),
            detail.is_empty() && !returned.is_empty(),
            if returned.is_empty() {
                tr!(
                    "Your send_all returned no result at all: the operators cannot tell which\n\
                     commands to send again (chapter 3: what each setting loses)."
                )
            } else {
                detail.join("\n")
            },
        );

        // 4. Sent without waiting: the producer stamps each record with the
        // time it was handed it. One at a time, each waits a round trip.
        let stamps: Vec<i64> = log.iter().filter_map(|s| s.timestamp).collect();
        let span = match (stamps.iter().min(), stamps.iter().max()) {
            (Some(first), Some(last)) => Some(last - first),
            _ => None,
        };
        let rtt = RTT.as_millis() as i64;
        checks.check(
            tr_static!("the commands are all handed to the producer before any report is awaited"),
            span.is_some_and(|s| s < rtt),
            match span {
                None => tr!("No command reached the log."),
                Some(s) => tr!(
                    "The first and the last command stored were handed to the producer {s} ms\n\
                     apart, with brokers answering {rtt} ms late: your send_all waited for\n\
                     delivery reports between sends. Send every command first (send_result),\n\
                     then await the reports (chapter 3: what each setting waits for)."
                ),
            },
        );
        Ok(())
    })
}
