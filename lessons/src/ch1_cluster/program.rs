//! Chapter 1's program: a client's configuration, a topic with partitions
//! and replicas, what the cluster's metadata says of it, keyed records, and
//! each partition's watermarks.
//!
//! Plain rdkafka, as an application would write it: every function takes
//! rdkafka types and plain values, and returns what the cluster answered.
//! The lesson (`mod.rs` beside this file) calls these functions in the
//! order the chapter tells them and prints what they return.

use std::time::Duration;

use anyhow::Result;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{Client, ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;

// ANCHOR: client_config
/// The settings every client of the course starts from: producers,
/// consumers and admin clients alike. Each lesson adds its own.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        // One or more brokers to ask first ("host:port,host:port"). A client
        // needs only one that answers: its metadata names every broker of
        // the cluster, and the client then talks to each partition's leader
        // directly.
        .set("bootstrap.servers", bootstrap)
        // How long a record may wait to be acknowledged, retries included,
        // before the producer gives up on it: 10 s instead of librdkafka's
        // default of 5 minutes, so that a broker that disappears gives an
        // error quickly instead of a program that seems to hang.
        .set("message.timeout.ms", "10000")
        // How long to wait for a broker to accept a connection: 3 s instead
        // of 30 s, for the same reason.
        .set("socket.connection.setup.timeout.ms", "3000");
    config
}
// ANCHOR_END: client_config

// ANCHOR: create_topic
/// Create `topic` with `partitions` partitions, each kept on
/// `replication_factor` brokers, with Kafka's admin API (CreateTopics).
/// The error is the broker's answer, such as `TopicAlreadyExists`, or
/// `InvalidReplicationFactor` when the cluster has fewer brokers than the
/// copies asked for.
pub async fn create_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<(), RDKafkaErrorCode> {
    let new_topic = NewTopic::new(
        topic,
        partitions,
        TopicReplication::Fixed(replication_factor),
    );
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
    let results = admin
        .create_topics([&new_topic], &options)
        .await
        .map_err(|e| e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail))?;
    // One result per topic asked for.
    for result in results {
        result.map_err(|(_topic, code)| code)?;
    }
    Ok(())
}
// ANCHOR_END: create_topic

// ANCHOR: producer
/// A producer, from the shared settings.
pub fn producer(bootstrap: &str) -> Result<FutureProducer> {
    let producer = client_config(bootstrap)
        // Send each record as soon as it is produced, without waiting to
        // batch it with others: this program awaits every record before
        // sending the next anyway.
        .set("linger.ms", "0")
        .create()?;
    Ok(producer)
}
// ANCHOR_END: producer

/// A partition as the cluster's metadata describes it.
#[derive(Debug, Clone)]
pub struct PartitionInfo {
    pub id: i32,
    /// The broker that leads it: producers write there, consumers read there.
    pub leader: i32,
    /// The brokers that keep a copy (a replica) of its log.
    pub replicas: Vec<i32>,
    /// The replicas that are up to date with the leader (in-sync replicas).
    pub isr: Vec<i32>,
}

// ANCHOR: metadata
/// The cluster's brokers, and `topic`'s partitions, as any broker describes
/// them in a metadata response: the request every client makes to learn
/// which broker leads each partition.
pub fn describe<C: ClientContext>(
    client: &Client<C>,
    topic: &str,
) -> Result<(Vec<i32>, Vec<PartitionInfo>)> {
    let timeout = Timeout::After(Duration::from_secs(5));
    let metadata = client.fetch_metadata(Some(topic), timeout)?;
    let mut brokers: Vec<i32> = metadata.brokers().iter().map(|b| b.id()).collect();
    brokers.sort();
    let mut partitions: Vec<PartitionInfo> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions())
        .map(|p| PartitionInfo {
            id: p.id(),
            leader: p.leader(),
            replicas: sorted(p.replicas()),
            isr: sorted(p.isr()),
        })
        .collect();
    partitions.sort_by_key(|p| p.id);
    Ok((brokers, partitions))
}
// ANCHOR_END: metadata

fn sorted(ids: &[i32]) -> Vec<i32> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

// ANCHOR: produce
/// Send one record and wait for its delivery report: the partition and
/// offset where the broker stored it.
pub async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    value: &str,
) -> Result<(i32, i64)> {
    // No partition is given: the producer hashes the key to choose one,
    // so every record with the same key goes to the same partition.
    let record = FutureRecord::to(topic).key(key).payload(value);
    // `send` gives back the record with the error if it fails: keep the error.
    let delivered = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _record)| error)?;
    Ok((delivered.partition, delivered.offset))
}
// ANCHOR_END: produce

// ANCHOR: watermarks
/// A partition's watermarks. The low watermark is the first offset still
/// stored. The high watermark is one past the last record copied to every
/// in-sync replica: consumers read up to there. When nothing is left to
/// copy, it is also the offset the next record will get. (librdkafka asks
/// with the client's `isolation.level`, `read_committed` by default, so the
/// "high" number is the last stable offset: the same as the high watermark
/// while no transaction is open, as in every lesson.)
pub fn watermarks<C: ClientContext>(
    client: &Client<C>,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64)> {
    let (low, high) = client.fetch_watermarks(topic, partition, Duration::from_secs(5))?;
    Ok((low, high))
}
// ANCHOR_END: watermarks
