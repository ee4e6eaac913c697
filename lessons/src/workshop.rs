//! The course's running example: a workshop where every production lot goes
//! through three machine tools in a strict order, M1 (mill), then M2 (drill),
//! then M3 (polish).
//!
//! These are the events the lessons write to Kafka, as typed Rust values
//! ([`MachineCommand`]). Kafka itself only stores bytes: serde turns them
//! into JSON and back.

// The event itself is defined in chapter 2's program, where the book
// shows it; the helpers below build the lessons' commands.
pub use crate::ch2_producer::program::MachineCommand;

/// The three steps of every lot, in order: (machine, operation).
pub const STEPS: [(&str, &str); 3] = [("M1", "mill"), ("M2", "drill"), ("M3", "polish")];

impl MachineCommand {
    /// Step `step` (1, 2 or 3) of `lot`.
    pub fn step(lot: &str, step: u32) -> MachineCommand {
        let (machine, operation) = STEPS[(step - 1) as usize];
        MachineCommand {
            lot: lot.to_string(),
            step,
            machine: machine.to_string(),
            operation: operation.to_string(),
        }
    }

    /// The three commands of `lot`, in the order they must run.
    pub fn sequence(lot: &str) -> Vec<MachineCommand> {
        (1..=STEPS.len() as u32)
            .map(|s| MachineCommand::step(lot, s))
            .collect()
    }

    /// A short label for narration, e.g. `lot-A M2 drill`.
    pub fn label(&self) -> String {
        format!("{} {} {}", self.lot, self.machine, self.operation)
    }
}
