//! Exercise 3.3 (chapter 3): send a whole lot, and say what was stored.
//!
//! At the start of a shift, the workshop's controller sends the commands of
//! every lot at once, then tells the operators which ones Kafka stored and
//! which ones it refused, so that they send the refused ones again. A
//! refused command reported as stored would never be performed: nobody
//! would send it again.
//!
//! Write `send_all`, from an empty body:
//!
//! 1. send every command of `commands` to `topic`, as JSON, keyed by its lot;
//! 2. do not wait for one command's delivery report before sending the
//!    next: a round trip to the broker per command would make a shift's
//!    start as slow as the network (chapter 3: what each setting waits
//!    for); hand them all to the producer first, then wait for the reports;
//! 3. return one result per command, in the order of `commands`:
//!    `Ok((partition, offset))` where the broker stored it, or the
//!    `KafkaError` of its delivery report if the broker refused it.
//!
//! The producer is made for you (acks=all, no retries: a refusal is final).
//! The checks run your function on a cluster that answers every request a
//! tenth of a second late and refuses some writes with NOT_ENOUGH_REPLICAS,
//! then read the log back and compare it with what you returned.
//! `FutureProducer::send_result` hands a record to the producer and gives
//! back the future of its delivery report, without waiting.
//!
//! Then check your work: `just exercise 3.3` (or `cargo run --release --
//! exercise 3.3`). Stuck? `just hint 3.3`.

use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::workshop::MachineCommand;

/// Send every command of `commands` to `topic` without waiting between
/// them, then return what each one's delivery report says, in order: where
/// it was stored (partition, offset), or why the broker refused it.
pub async fn send_all(
    producer: &FutureProducer,
    topic: &str,
    commands: &[MachineCommand],
) -> Vec<Result<(i32, i64), KafkaError>> {
    //@ starter: // TODO: send them all, then wait for each delivery report.
    //@ starter: let _ = (producer, topic, commands);
    //@ starter: Vec::new()
    //@ solution-begin
    // 1. Hand every command to the producer. `send_result` only enqueues
    //    it and returns the future of its delivery report: the producer
    //    sends in the background, several records per request, while we
    //    enqueue more. (It fails at once only when the queue is full.)
    let mut reports = Vec::new();
    for cmd in commands {
        let payload = serde_json::to_string(cmd).expect("a command is always JSON");
        let record = FutureRecord::to(topic).key(&cmd.lot).payload(&payload);
        reports.push(producer.send_result(record).map_err(|(error, _record)| error));
    }
    // 2. Then wait for the reports, in order: they are all on their way,
    //    so this takes about one round trip, not one per command.
    let mut results = Vec::new();
    for report in reports {
        results.push(match report {
            Err(error) => Err(error), // never enqueued
            // The outer error: the producer was dropped before it could
            // report (it never is here). Canceled says so.
            Ok(delivery) => match delivery.await {
                Ok(Ok(delivery)) => Ok((delivery.partition, delivery.offset)),
                Ok(Err((error, _record))) => Err(error),
                Err(_canceled) => Err(KafkaError::Canceled),
            },
        });
    }
    results
    //@ solution-end
}
