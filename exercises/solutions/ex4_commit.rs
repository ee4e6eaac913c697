//! Exercise 4.1 (chapter 4): fix an off-by-one commit.
//!
//! The drill controller (machine M2) reads its commands from a topic, in a
//! consumer group. After it has executed a command, it commits, so that
//! after a crash and a restart it carries on where it was: no command left
//! out, and no hole drilled twice into the same part.
//!
//! It does not work. After every restart the controller executes a command
//! it had already done, and even when it has done everything, the group's
//! lag never comes down to 0. The bug is in `commit_processed` below: fix
//! the offset it commits.
//!
//! Edit the TODO line below, then check your work: `just exercise 4.1`
//! (or `cargo run --release -- exercise 4.1`). Stuck? `just hint 4.1`.

use anyhow::Result;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

/// Called once `processed` has been executed: tell the group that this
/// record is done, so that a restarted consumer of the group resumes at the
/// right place.
pub fn commit_processed(consumer: &BaseConsumer, processed: &BorrowedMessage<'_>) -> Result<()> {
    //@ starter: // TODO: which offset tells the group where to resume after a restart?
    //@ starter: let offset = processed.offset();
    //@ solution-begin
    // A committed offset is not "the last record done": it is the NEXT
    // record the group will read, the last one processed + 1. Committing
    // processed.offset() would make a restarted consumer read this record
    // again. (`consumer.commit_message(processed, CommitMode::Sync)` adds
    // the 1 itself.)
    let offset = processed.offset() + 1;
    //@ solution-end
    let mut offsets = TopicPartitionList::new();
    offsets.add_partition_offset(processed.topic(), processed.partition(), Offset::Offset(offset))?;
    // Sync: return once the group's coordinator has stored it.
    consumer.commit(&offsets, CommitMode::Sync)?;
    Ok(())
}
