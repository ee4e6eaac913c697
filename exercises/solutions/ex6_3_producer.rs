//! Exercise 6.3 (chapter 6): a producer that keeps each lot in order under
//! retries.
//!
//! The workshop's producer sends thousands of commands a second, so it does
//! not wait for one answer before sending the next request: several
//! requests are in flight at once. Then one of them is refused with a
//! temporary error (NOT_ENOUGH_REPLICAS while a broker restarts, a leader
//! change) and retried, and the lot's commands can end up out of order in
//! their partition: M2 drill, M3 polish, then M1 mill. A key keeps a lot in
//! one partition; it does not keep its commands in order there.
//!
//! Write `ordered_producer_settings`, from scratch: the settings to add to
//! the producer's `config` (which holds `bootstrap.servers` only) so that,
//! when a request is refused and retried:
//!
//! 1. no command is lost and none is stored twice, and
//! 2. each lot's commands are stored in the order they were sent,
//!
//! while the producer still keeps several requests in flight.
//!
//! The checks create a producer from your settings on the embedded cluster,
//! make every broker answer 50 ms late (so that the requests are in flight
//! together), send one record per request (they set `linger.ms=0` and
//! `batch.num.messages=1` after your settings), refuse one Produce request
//! with NOT_ENOUGH_REPLICAS, and read the partition back. They do it twice:
//! M1's request refused, then M2's.
//!
//! Check your work: `just exercise 6.3` (or `cargo run --release --
//! exercise 6.3`). Stuck? `just hint 6.3`.

use rdkafka::config::ClientConfig;

/// Add to `config` the settings of a producer that keeps each partition in
/// the order records were sent, even when it retries a request.
pub fn ordered_producer_settings(config: &mut ClientConfig) {
    //@ starter: // TODO: which settings keep the order when a request is retried?
    //@ starter: let _ = config;
    //@ solution-begin
    // The idempotent producer: it gets a producer id and numbers its records
    // in each partition (0, 1, 2...). The broker appends a record only if
    // it carries the next number: a retried record is not stored twice, and
    // the requests behind a refused one are refused too (a gap), then
    // resent in order.
    config.set("enable.idempotence", "true");
    // What idempotence requires: every in-sync replica acknowledges (a
    // record a new leader lacks would break the numbering), and at most 5
    // requests in flight per connection (the broker remembers the last 5
    // batches of each producer). Retries stay on (librdkafka's default).
    config.set("acks", "all");
    config.set("max.in.flight.requests.per.connection", "5");
    //@ solution-end
}
