//! Exercise 3.1 (chapter 3): producer settings that lose nothing.
//!
//! The workshop's controller sends machine commands to Kafka. Someone tuned
//! its producer to be "fast", and commands went missing the day a broker
//! refused writes while leadership moved. Choose the producer's settings so
//! that:
//!
//! 1. a broker refusing a write (NOT_LEADER_FOR_PARTITION, NOT_ENOUGH_REPLICAS)
//!    loses no command: every one of them ends up in the log;
//! 2. a delivery report that says "delivered" gives the offset where the
//!    command is stored;
//! 3. a command reported delivered would survive the death of its partition's
//!    leader: it is on every in-sync replica, not on the leader alone.
//!
//! Your settings are applied on top of the course's client settings
//! (`bootstrap.servers`, `message.timeout.ms`...). Edit the TODO lines below,
//! then check your work: `just exercise 3.1` (or `cargo run --release --
//! exercise 3.1`). Stuck? `just hint 3.1`.

use rdkafka::config::ClientConfig;

/// Set the controller's producer settings on `config`.
pub fn producer_settings(config: &mut ClientConfig) {
    //@ starter: // TODO: fast, but what does each of these cost when a broker refuses a write?
    //@ starter: config.set("acks", "0");
    //@ starter: config.set("retries", "0");
    //@ solution-begin
    // Answer "written" only once every in-sync replica has the command: the
    // producer then reads the broker's answer, refusals included, and the
    // command survives the loss of the leader.
    config.set("acks", "all");
    // Send a refused command again, for as long as message.timeout.ms allows
    // (librdkafka's default, written out: "retries" stopped at 0 gives up at
    // the first refusal).
    config.set("retries", "2147483647");
    //@ solution-end
}
