//! Exercise 2.1 (chapter 2): every command of a lot in one partition, as JSON.
//!
//! The machine controllers read the topic `machine-commands` and must run the
//! steps of each lot in order: mill (M1), then drill (M2), then polish (M3).
//! They turn every record's value back into a `MachineCommand` with
//! `serde_json`. Write the function that makes the record of a command, its
//! key and its value, so that:
//!
//! 1. all the commands of a lot land in the same partition, and so are read
//!    in the order they were appended to it (the order they were sent, as
//!    long as the producer does not reorder them on retries: chapter 6);
//! 2. different lots can still land in different partitions (the workshop
//!    works on several lots at once);
//! 3. the value is the command, serialized as JSON.
//!
//! The checks send several lots' commands through a producer with your
//! function, to a topic with 3 partitions, and read them back.
//!
//! Edit the TODO lines below, then check your work: `just exercise 2.1`
//! (or `cargo run --release -- exercise 2.1`). Stuck? `just hint 2.1`.

use crate::workshop::MachineCommand;

/// The key and the value of the record that carries `command`.
/// A key of `None` makes a record without a key.
pub fn to_record(command: &MachineCommand) -> (Option<String>, Vec<u8>) {
    // TODO: which key sends all the commands of a lot to the same partition?
    let key = Some(command.machine.clone());
    // TODO: the controllers read the value with serde_json.
    let value = command.label().into_bytes();
    (key, value)
}
