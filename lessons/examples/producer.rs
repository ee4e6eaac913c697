//! A complete Kafka producer: it writes a few machine commands, as JSON,
//! each with its production lot as key, and waits for each delivery report.
//!
//! Run it against the course's playground cluster:
//!
//! ```console
//! cargo run --release -- cluster        # in one terminal: prints the address
//! KAFKA_BOOTSTRAP_SERVERS=<that address> cargo run --example producer
//! ```
//!
//! or against any Kafka cluster whose address you give the same way. It uses
//! only rdkafka, tokio, serde_json and anyhow: copy it into a project of your
//! own (with `serde` for the derive) and change it.

use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};

/// The topic the commands go to. `course cluster` creates it, with 3
/// partitions. On another cluster, create it first: the course's Docker
/// cluster, like most production clusters, does not create topics when a
/// client first writes to them (`auto.create.topics.enable=false`), e.g.
/// `docker compose exec kafka-1 /opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka-1:19092 --create --topic playground --partitions 3`.
const TOPIC: &str = "playground";

/// A command for one machine tool to work on one lot: the course's example
/// record. Kafka stores bytes; serde_json turns this into JSON and back.
#[derive(Debug, Serialize, Deserialize)]
struct MachineCommand {
    /// The production lot, e.g. `lot-A`: the record's key.
    lot: String,
    /// 1, 2, 3: the position of this step in the lot's sequence.
    step: u32,
    /// The machine tool: `M1`, `M2` or `M3`.
    machine: String,
    /// What the machine does: `mill`, `drill`, `polish`.
    operation: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    // Where the cluster is: an environment variable, so that the same
    // program runs against the playground, the Docker cluster or yours.
    let bootstrap = std::env::var("KAFKA_BOOTSTRAP_SERVERS").context(
        "KAFKA_BOOTSTRAP_SERVERS is not set: start a cluster with \
         `cargo run --release -- cluster` (course cluster) in another terminal, \
         and set KAFKA_BOOTSTRAP_SERVERS to the address it prints",
    )?;

    // The settings of chapter 1's `client_config`, repeated here so that
    // this file stands alone.
    let producer: FutureProducer = ClientConfig::new()
        // One or more brokers to ask first; the client learns the others
        // from them, and talks to each partition's leader directly.
        .set("bootstrap.servers", &bootstrap)
        // Give up on a record after 10 s (retries included) instead of
        // librdkafka's 5 minutes: a cluster that is gone gives an error
        // quickly instead of a program that seems to hang.
        .set("message.timeout.ms", "10000")
        // Wait 3 s, not 30 s, for a broker to accept a connection.
        .set("socket.connection.setup.timeout.ms", "3000")
        // Everything else keeps librdkafka's defaults: among them acks=all
        // (a record counts as delivered once every in-sync replica has it,
        // chapter 3) and idempotence off.
        .create()
        .context("creating the producer")?;

    // Three lots, each with its three steps, in the order they must run.
    let steps = [("M1", "mill"), ("M2", "drill"), ("M3", "polish")];
    for lot in ["lot-A", "lot-B", "lot-C"] {
        for (step, (machine, operation)) in (1..).zip(steps) {
            let command = MachineCommand {
                lot: lot.to_string(),
                step,
                machine: machine.to_string(),
                operation: operation.to_string(),
            };
            let json = serde_json::to_string(&command)?;

            // The key decides the partition: the producer hashes it, so
            // every command of a lot goes to the same partition, where
            // Kafka keeps them in the order they were written (chapter 2).
            let record = FutureRecord::to(TOPIC).key(&command.lot).payload(&json);

            // `send` queues the record (waiting up to 5 s for room in the
            // producer's queue) and gives a future that completes with the
            // delivery report: the broker's answer, once it has stored the
            // record. Awaiting it before the next send is the simplest way
            // to know where each record went; a faster producer sends many
            // and awaits their reports together.
            let delivery = producer
                .send(record, Duration::from_secs(5))
                .await
                // On failure, rdkafka hands back the error and the record
                // (to retry it, say): keep the error.
                .map_err(|(error, _record)| error)
                .with_context(|| format!("sending {json} to {TOPIC}"))?;
            println!(
                "sent {} step {} ({machine} {operation}): partition {}, offset {}",
                command.lot, command.step, delivery.partition, delivery.offset
            );
        }
    }
    // Nothing is left in the producer's queue: every send was awaited. A
    // program that does not await its sends calls `producer.flush(...)`
    // before it ends, or loses what is still queued.
    Ok(())
}
