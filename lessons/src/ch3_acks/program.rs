//! Chapter 3's program: producers that differ only by `acks`, how long each
//! one waits for its delivery report, records sent without waiting, what
//! each one loses when a broker refuses writes, and how far a partition's
//! log really goes.
//!
//! Plain rdkafka, as an application would write it: every function takes
//! rdkafka types and plain values, and returns what the cluster answered.
//! The two that slow a broker down or make it refuse writes take rdkafka's
//! `MockCluster`, the embedded cluster the course runs on: a real cluster
//! has no such controls. The lesson (`mod.rs` beside this file) calls these
//! functions in the order the chapter tells them and prints what they
//! return.

use std::time::{Duration, Instant};

use anyhow::Result;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};

// Chapter 1's settings, shared by every client: `bootstrap.servers` and
// two timeouts.
use crate::ch1_cluster::program::client_config;

// ANCHOR: producer
/// A producer whose delivery reports mean what `acks` says: "0", "1" or
/// "all".
pub fn producer(bootstrap: &str, acks: &str) -> Result<FutureProducer> {
    let producer = client_config(bootstrap)
        // "0", "1" or "all" (also spelled -1): librdkafka's default is "all".
        .set("acks", acks)
        // Send each record at once. By default librdkafka waits up to 5 ms
        // for more records to batch with it, which would blur the timings.
        .set("linger.ms", "0")
        .create()?;
    Ok(producer)
}
// ANCHOR_END: producer

// ANCHOR: rtt
/// Make every broker of a mock cluster answer each request `rtt` late, as
/// if it were `rtt` away on the network (`Duration::ZERO`: on time again).
pub fn delay_every_broker<C: ClientContext>(
    mock: &MockCluster<'_, C>,
    rtt: Duration,
) -> KafkaResult<()> {
    // -1: every broker of the cluster.
    mock.broker_round_trip_time(-1, rtt)
}
// ANCHOR_END: rtt

// ANCHOR: timed_send
/// Send one record, a value without a key, and wait for its delivery
/// report: the partition and offset it gives, or the error.
pub async fn send(producer: &FutureProducer, topic: &str, value: &str) -> KafkaResult<(i32, i64)> {
    // No key: each of these topics has a single partition anyway.
    let record = FutureRecord::<(), _>::to(topic).payload(value);
    // On failure, `send` gives the error back with the record: keep the error.
    let delivery = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _record)| error)?;
    Ok((delivery.partition, delivery.offset))
}

/// Send one record and time it, from the call to its delivery report.
pub async fn timed_send(
    producer: &FutureProducer,
    topic: &str,
    value: &str,
) -> (KafkaResult<(i32, i64)>, Duration) {
    let started = Instant::now();
    // The future resolves when the delivery report arrives: with acks=0 as
    // soon as the request is written to the socket, with acks=1 and
    // acks=all when the leader's answer comes back.
    let report = send(producer, topic, value).await;
    (report, started.elapsed())
}
// ANCHOR_END: timed_send

// ANCHOR: pipelined
/// Send `values` without waiting for one before the next: enqueue them all,
/// then await their delivery reports, (partition, offset) each.
pub async fn send_without_waiting(
    producer: &FutureProducer,
    topic: &str,
    values: &[String],
) -> Result<Vec<(i32, i64)>> {
    let mut pending = Vec::new();
    for value in values {
        // send_result() only enqueues the record and returns the future of
        // its delivery report: the producer sends while we enqueue more.
        let record = FutureRecord::<(), _>::to(topic).payload(value);
        pending.push(
            producer
                .send_result(record)
                .map_err(|(error, _record)| error)?,
        );
    }
    // They are all on their way: awaiting the reports one by one takes no
    // longer than waiting for the last of them.
    let mut reports = Vec::new();
    for delivery in pending {
        // The outer error: the producer was dropped before it could report.
        let delivery = delivery.await?.map_err(|(error, _record)| error)?;
        reports.push((delivery.partition, delivery.offset));
    }
    Ok(reports)
}
// ANCHOR_END: pipelined

// ANCHOR: inject
/// Make a mock cluster answer the next `count` Produce requests, whichever
/// broker gets them, with `error` instead of writing their records.
pub fn refuse_produce_requests<C: ClientContext>(
    mock: &MockCluster<'_, C>,
    error: RDKafkaRespErr,
    count: usize,
) {
    mock.request_errors(RDKafkaApiKey::Produce, &vec![error; count]);
}

/// Send `values` one at a time, awaiting each delivery report before the
/// next send, so that each record is its own Produce request. One report
/// per value, in order.
pub async fn send_one_at_a_time(
    producer: &FutureProducer,
    topic: &str,
    values: &[String],
) -> Vec<KafkaResult<(i32, i64)>> {
    let mut reports = Vec::new();
    for value in values {
        reports.push(send(producer, topic, value).await);
    }
    reports
}
// ANCHOR_END: inject

// ANCHOR: watermarks
/// The (low, high) watermarks of partition 0 of `topic`: where its log
/// starts, and the offset just past its last committed record, once the
/// broker has handled every record `producer` sent. `replicated`: whether
/// followers really copy the log, as on a real cluster (the mock cluster
/// keeps a single copy).
pub async fn log_range(
    producer: &FutureProducer,
    topic: &str,
    replicated: bool,
) -> Result<(i64, i64)> {
    // Ask the partition's leader for its watermarks through the producer's
    // own connection. A broker handles a connection's requests in order, so
    // every Produce request this producer wrote, even with acks=0 (whose
    // report comes as soon as the request is written to the socket), has
    // been handled before this question is answered.
    let watermarks = || {
        producer
            .client()
            .fetch_watermarks(topic, 0, Duration::from_secs(5))
    };
    let (low, mut high) = watermarks()?;
    if replicated {
        // The high watermark moves only once the followers have copied the
        // records: wait until it stops moving.
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (_, now) = watermarks()?;
            if now == high {
                break;
            }
            high = now;
        }
    }
    Ok((low, high))
}
// ANCHOR_END: watermarks

/// The records stored in partition 0 of each topic of `ranges` (topic,
/// low, high), from its low watermark up to its high one: (offset, value)
/// each, one list per topic. Stops after 10 s with what it has read.
pub fn read_logs(
    bootstrap: &str,
    group: &str,
    ranges: &[(&str, i64, i64)],
) -> Result<Vec<Vec<(i64, String)>>> {
    // Assign the partitions directly: no consumer group is involved
    // (librdkafka only wants a group.id, used for nothing here).
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for (topic, low, _) in ranges {
        assignment.add_partition_offset(topic, 0, Offset::Offset(*low))?;
    }
    consumer.assign(&assignment)?;
    let mut logs = vec![Vec::new(); ranges.len()];
    let mut next: Vec<i64> = ranges.iter().map(|(_, low, _)| *low).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while next.iter().zip(ranges).any(|(n, (_, _, high))| n < high) && Instant::now() < deadline {
        let Some(record) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let record = record?;
        if let Some(i) = ranges.iter().position(|(t, _, _)| *t == record.topic()) {
            let value = String::from_utf8_lossy(record.payload().unwrap_or_default());
            logs[i].push((record.offset(), value.into_owned()));
            next[i] = record.offset() + 1;
        }
    }
    Ok(logs)
}
