//! A complete Kafka consumer: it reads the machine commands the producer
//! example writes, as a member of a consumer group, does each command's
//! work, and commits its offset after the work is done.
//!
//! Run it against the course's playground cluster:
//!
//! ```console
//! cargo run --release -- cluster        # in one terminal: prints the address
//! KAFKA_BOOTSTRAP_SERVERS=<that address> cargo run --example producer
//! KAFKA_BOOTSTRAP_SERVERS=<that address> cargo run --example consumer
//! KAFKA_BOOTSTRAP_SERVERS=<that address> cargo run --example consumer -- 3   # stop after 3 records
//! ```
//!
//! A real consumer runs forever. This one stops after a number of records
//! (100, or the number given as argument) or when nothing new has arrived
//! for 5 s, so that it ends on its own. Run it twice: the second run reads
//! only what was written since, because the group committed where it was.
//!
//! It uses only rdkafka, tokio, serde_json and anyhow: copy it into a
//! project of your own (with `serde` for the derive) and change it.

use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::Message;
use serde::{Deserialize, Serialize};

/// The topic the producer example writes to.
const TOPIC: &str = "playground";
/// The consumer group. Members of one group share the topic's partitions
/// (each partition is read by one member), and the group remembers, per
/// partition, the offset of the next record to read: its committed offset.
/// Another group reads the same records again, independently.
const GROUP: &str = "playground-workers";
/// How many records to read before stopping, unless an argument says.
const MAX_RECORDS: usize = 100;
/// Stop when nothing new has arrived for this long.
const IDLE: Duration = Duration::from_secs(5);

/// The record's value, as the producer wrote it (JSON).
#[derive(Debug, Serialize, Deserialize)]
struct MachineCommand {
    lot: String,
    step: u32,
    machine: String,
    operation: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let bootstrap = std::env::var("KAFKA_BOOTSTRAP_SERVERS").context(
        "KAFKA_BOOTSTRAP_SERVERS is not set: start a cluster with \
         `cargo run --release -- cluster` (course cluster) in another terminal, \
         and set KAFKA_BOOTSTRAP_SERVERS to the address it prints",
    )?;
    let max_records = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .with_context(|| format!("{n:?}: the argument is a number of records"))?,
        None => MAX_RECORDS,
    };

    let consumer: StreamConsumer = ClientConfig::new()
        // Chapter 1's settings (see the producer example), but for
        // `message.timeout.ms`, which is for producers only.
        .set("bootstrap.servers", &bootstrap)
        .set("socket.connection.setup.timeout.ms", "3000")
        .set("group.id", GROUP)
        // KIP-848's group protocol: the brokers assign the partitions, and
        // a new member gets its share in a fraction of a second. It needs
        // Kafka 4.0 or later (the playground and the course's Docker cluster
        // have it); on an older cluster, remove this line to use the
        // classic protocol.
        .set("group.protocol", "consumer")
        // Where a group starts in a partition for which it has committed
        // nothing yet: at the beginning. The default, `latest`, would skip
        // everything written before this consumer first joined.
        .set("auto.offset.reset", "earliest")
        // Commit ourselves, after the work (below), instead of every 5 s
        // in the background whatever the work became: a crash then means
        // records processed again, never records skipped (at-least-once).
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the consumer")?;

    // Join the group: the group's coordinator (a broker) gives this member
    // some partitions of the topic (all of them while it is alone).
    consumer.subscribe(&[TOPIC])?;

    let mut read = 0;
    while read < max_records {
        // `recv` waits for the next record of this member's partitions.
        // Records of one partition come in offset order; records of
        // different partitions interleave. `timeout` bounds the wait, so
        // that the program ends when the topic has nothing more for it.
        let message = match tokio::time::timeout(IDLE, consumer.recv()).await {
            Ok(received) => received.context("reading from Kafka")?,
            Err(_idle) => {
                println!("nothing new for {} s: stopping", IDLE.as_secs());
                break;
            }
        };
        read += 1;

        let payload = message.payload().unwrap_or_default();
        match serde_json::from_slice::<MachineCommand>(payload) {
            Ok(command) => {
                println!(
                    "read {} step {} (partition {}, offset {})",
                    command.lot,
                    command.step,
                    message.partition(),
                    message.offset()
                );
                // The work: here it is a line of output; in your program,
                // whatever a command means (a database write, a call...).
                println!(
                    "  {} does {} on {}",
                    command.machine, command.operation, command.lot
                );
            }
            // A record that is not a command (written by hand with kcat,
            // say) is reported and skipped. Stopping on it instead would
            // stop on it again at every restart: nothing would move past it.
            Err(e) => println!(
                "skipped partition {}, offset {}: not a machine command ({e}): {}",
                message.partition(),
                message.offset(),
                String::from_utf8_lossy(payload)
            ),
        }

        // Commit after the work: the group now records this partition's
        // next offset (this one + 1). If the program dies before this line,
        // the record is read again by whichever member gets the partition.
        // `Sync` waits for the broker's answer (the program does nothing
        // else meanwhile): simple and safe, one round trip per record; a
        // busy consumer commits asynchronously, or every N records.
        consumer
            .commit_message(&message, CommitMode::Sync)
            .context("committing")?;
    }
    println!("read {read} record(s)");
    // Dropping the consumer leaves the group: its partitions go to the
    // other members right away, instead of after a session timeout.
    Ok(())
}
