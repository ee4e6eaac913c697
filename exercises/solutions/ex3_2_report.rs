//! Exercise 3.2 (chapter 3): what to do with a delivery report.
//!
//! The workshop's controller sends each machine command with a producer
//! that never retries on its own (retries=0, acks=all), and decides itself
//! what to do with each delivery report. For that it calls `outcome` below,
//! which reads one report and says one of three things:
//!
//! - `Outcome::Stored { partition, offset }`: the broker stored the command
//!   there, on every in-sync replica (acks=all);
//! - `Outcome::SendAgain(error)`: the broker refused it for a reason that
//!   passes: too few in-sync replicas to accept an acks=all write
//!   (NOT_ENOUGH_REPLICAS, what `min.insync.replicas` makes a leader answer,
//!   also NOT_ENOUGH_REPLICAS_AFTER_APPEND), or a leader moving
//!   (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE). The controller sends
//!   it again a little later;
//! - `Outcome::GiveUp(error)`: any other refusal, such as a record too large
//!   for the broker (MESSAGE_TOO_LARGE): sending it again would be refused
//!   again, so the controller reports it to the operators instead.
//!
//! Write the body of `outcome`. The report is `Ok(delivery)` (with
//! `delivery.partition` and `delivery.offset`) or `Err((error, record))`;
//! `error.rdkafka_error_code()` gives the broker's code, an
//! `RDKafkaErrorCode` such as `RDKafkaErrorCode::NotEnoughReplicas`.
//!
//! The checks send commands while the broker refuses some of them, act on
//! what your function says, then read the log back.
//!
//! Then check your work: `just exercise 3.2` (or `cargo run --release --
//! exercise 3.2`). Stuck? `just hint 3.2`.

#[allow(unused_imports)]
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::future_producer::OwnedDeliveryResult;

pub use crate::exercises::ex3_2_report::Outcome;

/// What the controller must do with the delivery report of one command.
pub fn outcome(report: &OwnedDeliveryResult) -> Outcome {
    //@ starter: // TODO: stored where? or refused: for a reason that passes, or for good?
    //@ starter: let _ = report;
    //@ starter: Outcome::Stored { partition: -1, offset: -1 }
    //@ solution-begin
    match report {
        // Only a report that says delivered knows the place.
        Ok(delivery) => Outcome::Stored {
            partition: delivery.partition,
            offset: delivery.offset,
        },
        Err((error, _record)) => match error.rdkafka_error_code() {
            // The cluster is not ready for this write right now: the ISR is
            // below min.insync.replicas, or the partition's leader is moving.
            // The same record, sent later, is accepted.
            Some(
                RDKafkaErrorCode::NotEnoughReplicas
                | RDKafkaErrorCode::NotEnoughReplicasAfterAppend
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable,
            ) => Outcome::SendAgain(error.clone()),
            // Anything else is about the record itself (too large...):
            // sending it again changes nothing.
            _ => Outcome::GiveUp(error.clone()),
        },
    }
    //@ solution-end
}
