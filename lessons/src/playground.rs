//! `course cluster`: the embedded 3-broker cluster alone, for the reader's
//! own code, until Ctrl-C.
//!
//! The embedded cluster (librdkafka's mock cluster) listens on real TCP
//! ports of the loopback address, 127.0.0.1, and speaks the Kafka protocol:
//! any client on this machine can use it while this process lives (the
//! course's examples `lessons/examples/producer.rs` and `consumer.rs`, kcat,
//! a program of yours), and nothing else on the network can reach it.

use anyhow::{Context as _, Result};

use crate::kit::{Cluster, EMBEDDED_BROKERS};
use crate::{outln, tr};

/// The topic `course cluster` creates, which the examples use.
pub const PLAYGROUND_TOPIC: &str = "playground";
pub const PARTITIONS: i32 = 3;

/// Start the embedded cluster, create [`PLAYGROUND_TOPIC`], print how to reach it,
/// and hold it until Ctrl-C.
pub async fn run() -> Result<()> {
    // Listen for Ctrl-C from the start (a first poll installs the handler):
    // a Ctrl-C that came before the wait below would otherwise end the
    // process without a word, and leave no chance to say it stopped.
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let _ = futures::poll!(ctrl_c.as_mut());
    let cluster = Cluster::embedded()?;
    // The embedded cluster has no CreateTopics API: the kit asks the mock
    // directly. Topics a client writes to first are created on the fly
    // (with 4 partitions), but a consumer that subscribes to a topic that
    // does not exist yet gets an error: create the examples' topic now.
    cluster
        .create_topic(PLAYGROUND_TOPIC, PARTITIONS, EMBEDDED_BROKERS)
        .await?;
    let bootstrap = cluster.bootstrap();
    let topic = PLAYGROUND_TOPIC;
    outln!("The embedded Kafka cluster is up: {EMBEDDED_BROKERS} brokers, on this machine only (127.0.0.1).");
    outln!("Its address, for your clients' bootstrap.servers: {bootstrap}");
    outln!(
        "Topic {topic} is ready: {PARTITIONS} partitions, each on {EMBEDDED_BROKERS} brokers. A topic that does not exist\n\
         is created the first time a client writes to it, with 4 partitions."
    );
    outln!();
    outln!(
        "The course's example programs (lessons/examples/), from another terminal in this folder:"
    );
    outln!();
    outln!("  KAFKA_BOOTSTRAP_SERVERS={bootstrap} cargo run --example producer   # writes machine commands to {topic}");
    outln!("  KAFKA_BOOTSTRAP_SERVERS={bootstrap} cargo run --example consumer   # reads them in a group, commits after each");
    outln!();
    outln!("Look at it from another terminal with kcat (Debian/Ubuntu: apt install kcat):");
    outln!();
    outln!("  kcat -b {bootstrap} -L                  # brokers, topics, partitions, leaders");
    outln!(
        "  echo 'lot-Z:{{\"lot\":\"lot-Z\",\"step\":1,\"machine\":\"M1\",\"operation\":\"mill\"}}' | kcat -b {bootstrap} -P -t {topic} -K:   # write one record, key lot-Z"
    );
    outln!(
        "  kcat -b {bootstrap} -C -t {topic} -e -f '%p %o %k %s\\n'   # read {topic}: partition offset key value"
    );
    outln!();
    outln!("Your own programs reach it at the same address. Ctrl-C stops it, and everything written to it is gone.");
    ctrl_c.await.context(tr!("waiting for Ctrl-C"))?;
    drop(cluster);
    outln!("Stopped: the cluster is gone.");
    Ok(())
}
