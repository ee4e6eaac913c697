//! Exercise 3.2 (chapter 3): what the delivery report says.
//!
//! The workshop's controller sends each machine command to Kafka with
//! `send_command` below, and moves on to the next step of the lot only if
//! the command was stored. Its producer is already made (acks=all, so the
//! broker answers once every in-sync replica has the command), and the
//! controller only ever looks at what `send_command` returns.
//!
//! Write the body of `send_command`:
//!
//! 1. send the command to `topic` as JSON (`serde_json::to_string`), keyed
//!    by its lot, so that a lot's commands stay in one partition (chapter 2);
//! 2. wait for its delivery report: handing the record to the producer only
//!    puts it in a queue, the report comes once the broker has answered;
//! 3. return where the broker stored it, `Ok((partition, offset))`, or, if
//!    the broker refused it, the broker's error itself (the `KafkaError`
//!    of the report), never a made-up place.
//!
//! The checks send commands while the broker refuses some writes with
//! NOT_ENOUGH_REPLICAS (too few in-sync replicas for acks=all), then read
//! the log back and compare it with what your function returned.
//!
//! Then check your work: `just exercise 3.2` (or `cargo run --release --
//! exercise 3.2`). Stuck? `just hint 3.2`.

//@ solution-begin
use std::time::Duration;

//@ solution-end
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::workshop::MachineCommand;

/// Send `cmd` to `topic` and wait for its delivery report: where it was
/// stored (partition, offset), or why the broker refused it.
pub async fn send_command(
    producer: &FutureProducer,
    topic: &str,
    cmd: &MachineCommand,
) -> Result<(i32, i64), KafkaError> {
    //@ starter: // TODO: this only puts the command in the producer's queue and says
    //@ starter: // "stored" at once, without knowing where, or whether, it is stored.
    //@ starter: let payload = serde_json::to_string(cmd).expect("a command is always JSON");
    //@ starter: let record = FutureRecord::to(topic).key(&cmd.lot).payload(&payload);
    //@ starter: let _report = producer.send_result(record).map_err(|(error, _record)| error)?;
    //@ starter: Ok((-1, -1))
    //@ solution-begin
    // Kafka stores bytes: the consumers turn them back into a command.
    let payload = serde_json::to_string(cmd).expect("a command is always JSON");
    // The key chooses the partition: every command of a lot in one.
    let record = FutureRecord::to(topic).key(&cmd.lot).payload(&payload);
    // `send` waits up to 10 s for room in the producer's queue, then for
    // the delivery report: the broker's answer, after the producer's own
    // retries. A refusal comes back with the record: keep the error.
    let delivery = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _record)| error)?;
    // Only a report that says delivered knows the place.
    Ok((delivery.partition, delivery.offset))
    //@ solution-end
}
