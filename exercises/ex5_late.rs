//! Exercise 5.1 (chapter 5): a late consumer reads what waited for it.
//!
//! The night shift's producer wrote the workshop's commands to
//! `machine-commands`, then closed. In the morning a new application starts:
//! a consumer in a group that has never run before, "late-readers". Give it
//! the settings it needs so that:
//!
//! 1. it receives every command that was written before it started, each
//!    partition in the order it was written;
//! 2. when it is stopped and started again, it resumes where it left off:
//!    it receives only what was written while it was away, not everything
//!    again.
//!
//! The checks make the consumer with the course's usual settings
//! (`ctx.consumer_config("late-readers")`, with `enable.auto.commit=false`:
//! they commit themselves, after each session), then call your function on
//! them.
//!
//! Edit the TODO lines below, then check your work: `just exercise 5.1`
//! (or `cargo run --release -- exercise 5.1`). Stuck? `just hint 5.1`.

use rdkafka::config::ClientConfig;

/// Add or change the settings of the late consumer.
pub fn late_consumer_settings(config: &mut ClientConfig) {
    // TODO: the group is new: it has no committed offset yet. Where does its
    // consumer start reading then, and where should it start?
    config.set("auto.offset.reset", "latest");
}
