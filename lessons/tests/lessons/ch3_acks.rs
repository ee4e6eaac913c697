//! Lesson 3: acks=0 waits for nothing and loses the refused records without
//! knowing it; acks=1 and acks=all wait for the leader and lose nothing.

use std::collections::HashMap;
use std::time::Duration;

use kafka_course::ch3_acks::{self, Acks, FAULTS, RECORDS};
use kafka_course::kit::{Event, Stage};
use rdkafka::Message;

use crate::common::{assert_output, block_on, start};

/// What librdkafka puts in a delivery report when it does not know the
/// offset (RD_KAFKA_OFFSET_INVALID): the Java client says -1 instead.
const UNKNOWN_OFFSET: i64 = -1001;

#[test]
fn lesson_3() {
    block_on(async {
        let ctx = start(3);
        let report = ch3_acks::run(&ctx).await.expect("lesson 3 runs");
        assert_output("ch3_acks", &ctx);
        claims(&ctx, &report);

        // Latency: acks=0 did not wait for the broker's answer, acks=1 did.
        let latency: HashMap<Acks, Duration> = report.latencies.iter().copied().collect();
        let rtt = report
            .rtt
            .expect("the embedded cluster injects a round-trip time");
        assert!(
            latency[&Acks::Zero] < latency[&Acks::One],
            "acks=0 is faster than acks=1: {latency:?}"
        );
        assert!(
            latency[&Acks::Zero] < rtt / 2,
            "acks=0 waits for no round trip: {latency:?}"
        );
        assert!(
            latency[&Acks::One] >= rtt,
            "acks=1 waits for the broker's answer: {latency:?}"
        );
        assert!(
            latency[&Acks::All] >= rtt,
            "acks=all waits for the broker's answer: {latency:?}"
        );
        // Ten records sent without awaiting each one are not ten round trips.
        assert!(
            report.pipelined < rtt * 3,
            "pipelined sends took {:?}",
            report.pipelined
        );

        // The embedded cluster refused the first FAULTS requests of each run;
        // acks=0 lost exactly those records.
        assert_eq!(report.faults, FAULTS);
        let sent: Vec<String> = (0..RECORDS).map(|i| format!("m{i}")).collect();
        let zero = report.runs.iter().find(|r| r.acks == Acks::Zero).unwrap();
        assert_eq!(
            zero.log,
            sent[FAULTS..].to_vec(),
            "acks=0 lost exactly the refused records"
        );
        assert_eq!(zero.lost(), sent[..FAULTS].to_vec());
        // Its topics report 3 replicas on 3 brokers, all in sync.
        for p in &report.placements {
            assert_eq!(p.brokers().len(), 3, "{p:?}");
            assert_eq!(p.followers_in_sync().len(), 2, "{p:?}");
        }
    });
}

/// What chapter 3 claims, checked on whatever cluster the lesson ran on
/// (no assumption of 3 brokers, nor of the embedded cluster's faults: on a
/// real cluster `report.faults` is 0 and nothing should be lost).
pub fn claims(ctx: &Stage, report: &ch3_acks::Report) {
    let text = ctx.out().text();
    let latency: HashMap<Acks, Duration> = report.latencies.iter().copied().collect();
    assert_eq!(latency.len(), 3, "one timing per setting");

    // On a real cluster, a difference is printed only when it is clearly
    // more than noise, and "about the same" otherwise.
    if report.rtt.is_none() {
        let (w0, w1, wall) = (
            latency[&Acks::Zero],
            latency[&Acks::One],
            latency[&Acks::All],
        );
        if text.contains("acks=0 did not wait for the broker") {
            assert!(ch3_acks::clearly_longer(w1, w0), "{latency:?}\n{text}");
        }
        if text.contains("acks=0 and acks=1 took about the same time") {
            assert!(!ch3_acks::clearly_longer(w1, w0), "{latency:?}\n{text}");
        }
        if text.contains("acks=all waited longer than acks=1") {
            assert!(ch3_acks::clearly_longer(wall, w1), "{latency:?}\n{text}");
        }
        if text.contains("acks=1 and acks=all took about the same time") {
            assert!(!ch3_acks::clearly_longer(wall, w1), "{latency:?}\n{text}");
            assert!(!ch3_acks::clearly_longer(w1, wall), "{latency:?}\n{text}");
        }
    }
    // Followers are waited for only where the ISR has some.
    let followers = report.placements[0].followers_in_sync();
    if text.contains("acks=all waited longer than acks=1: its leader answered") {
        assert!(!followers.is_empty(), "{:?}", report.placements[0]);
    }
    let apart = report
        .placements
        .iter()
        .all(|p| p.brokers().len() == p.replicas.len());
    assert_eq!(
        text.contains("acks-all: one partition, three\nreplicas)"),
        apart,
        "\"three replicas\" only when they are on three brokers:\n{text}"
    );

    let sent: Vec<String> = (0..RECORDS).map(|i| format!("m{i}")).collect();
    let by_acks: HashMap<Acks, &ch3_acks::Run> = report.runs.iter().map(|r| (r.acks, r)).collect();
    assert_eq!(by_acks.len(), 3);

    // Read each topic back independently of the lesson, with a reader of
    // our own: the log is the truth, not the delivery reports.
    let topics: Vec<&str> = report.runs.iter().map(|r| r.topic.as_str()).collect();
    let logs = read_all(ctx, &topics);
    for run in &report.runs {
        assert_eq!(run.sent, sent);
        assert_eq!(
            logs[&run.topic], run.log,
            "{:?}: the lesson's read-back",
            run.acks
        );
    }

    // acks=0: every record reported delivered, at an unknown offset, and
    // exactly the records of the refused requests are missing from the log.
    let zero = by_acks[&Acks::Zero];
    assert_eq!(
        zero.reported_ok(),
        RECORDS,
        "acks=0 reports every record delivered"
    );
    assert!(
        zero.offsets().iter().all(|o| *o == UNKNOWN_OFFSET),
        "acks=0 offsets: {:?}",
        zero.offsets()
    );
    assert_eq!(zero.log, sent[report.faults..].to_vec());
    assert_eq!(zero.lost(), sent[..report.faults].to_vec());

    // acks=1 and acks=all: the refusals were retried; everything is in
    // the log, in order, once, at the offset its report gave.
    for acks in [Acks::One, Acks::All] {
        let run = by_acks[&acks];
        assert_eq!(run.log, sent, "{acks:?} lost nothing");
        let offsets: Vec<i64> = (0..RECORDS as i64).collect();
        assert_eq!(run.offsets(), offsets, "{acks:?} offsets");
        assert!(run.lost().is_empty());
    }

    timeline(ctx, report);
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: the topics' partitions, then per setting every delivery
/// report of the fault part, the log's watermarks, and the records read.
fn timeline(ctx: &Stage, report: &ch3_acks::Report) {
    let events = crate::common::events(ctx);

    // The topics' partitions, as the placements saw them.
    let created: Vec<(String, i32, Vec<i32>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::TopicCreated { topic, partitions } => {
                let p = &partitions[0];
                Some((topic.clone(), p.leader, p.replicas.clone()))
            }
            _ => None,
        })
        .collect();
    let mut topics = vec![ch3_acks::LATENCY_TOPIC.to_string()];
    topics.extend(report.runs.iter().map(|r| r.acks.topic()));
    let expected: Vec<(String, i32, Vec<i32>)> = topics
        .into_iter()
        .zip(&report.placements)
        .map(|(topic, p)| (topic, p.leader, p.replicas.clone()))
        .collect();
    assert_eq!(created, expected);

    for run in &report.runs {
        let topic = run.acks.topic();
        // Each report: delivered at its offset, or refused with its error.
        let reports: Vec<Result<i64, String>> = events
            .iter()
            .filter_map(|e| match e {
                Event::Delivered {
                    topic: t,
                    offset,
                    value,
                    producer,
                    ..
                } if *t == topic => {
                    assert_eq!(producer.as_deref(), Some(run.acks.label().as_str()));
                    assert!(value.is_some());
                    Some(Ok(*offset))
                }
                Event::WriteRefused {
                    topic: t, reason, ..
                } if *t == topic => Some(Err(reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(reports, run.reports, "{topic}");
        let delivered_values: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Delivered {
                    topic: t, value, ..
                } if *t == topic => value.clone(),
                _ => None,
            })
            .collect();
        let reported: Vec<String> = run
            .sent
            .iter()
            .zip(&run.reports)
            .filter(|(_, r)| r.is_ok())
            .map(|(v, _)| v.clone())
            .collect();
        assert_eq!(delivered_values, reported, "{topic}");

        // The log: its watermarks span exactly the records read back.
        let watermarks: Vec<(i64, i64)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Watermarks {
                    topic: t,
                    low,
                    high,
                    ..
                } if *t == topic => Some((*low, *high)),
                _ => None,
            })
            .collect();
        let read: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    topic: t, offset, ..
                } if *t == topic => Some(*offset),
                _ => None,
            })
            .collect();
        assert_eq!(read.len(), run.log.len(), "{topic}");
        let [(low, high)] = watermarks[..] else {
            panic!("{topic}: one watermarks event, not {watermarks:?}");
        };
        assert_eq!(read, (low..high).collect::<Vec<_>>(), "{topic}");
        // And what each record read back holds: the log, in order.
        let values: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    topic: t, value, ..
                } if *t == topic => value.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(values, run.log, "{topic}");
    }

    // The timing part: every record each producer sent, with its report;
    // on the embedded cluster, the high watermark after each producer's
    // sends counts them all (a real cluster's moves when followers have
    // copied the records; Tansu's counts differently).
    let embedded = ctx.is_embedded();
    let mut sent = 0;
    let mut per_producer = HashMap::new();
    for e in &events {
        match e {
            Event::Delivered {
                topic,
                offset,
                producer,
                ..
            } if topic == ch3_acks::LATENCY_TOPIC => {
                sent += 1;
                let producer = producer.clone().expect("a producer");
                if producer == "acks=0" {
                    assert_eq!(*offset, -1001, "acks=0 never learns the offset");
                } else if embedded {
                    assert_eq!(*offset, sent - 1, "{producer}: in send order");
                }
                *per_producer.entry(producer).or_insert(0) += 1;
            }
            Event::Watermarks { topic, high, .. }
                if embedded && topic == ch3_acks::LATENCY_TOPIC =>
            {
                assert_eq!(*high, sent, "every record sent is in the log");
            }
            _ => {}
        }
    }
    let samples = 1 + ch3_acks::SAMPLES;
    assert_eq!(per_producer["acks=0"], samples);
    assert_eq!(per_producer["acks=1"], samples);
    assert_eq!(per_producer["acks=all"], samples + ch3_acks::RECORDS);

    // The refusals the lesson asked of the embedded cluster, one per run.
    let refusals = events
        .iter()
        .filter(|e| matches!(e, Event::RequestsRefused { errors, .. } if errors.len() == ch3_acks::FAULTS))
        .count();
    let expected = if report.faults > 0 {
        report.runs.len()
    } else {
        0
    };
    assert_eq!(refusals, expected);
}

/// Every value in partition 0 of each of `topics`, read with the kit's
/// reader (not the lesson's).
fn read_all(ctx: &Stage, topics: &[&str]) -> HashMap<String, Vec<String>> {
    topics
        .iter()
        .map(|topic| {
            let records = ctx.read_topic(topic).unwrap();
            let values = records
                .iter()
                .filter(|m| m.partition() == 0)
                .map(|m| String::from_utf8(m.payload().unwrap().to_vec()).unwrap())
                .collect();
            (topic.to_string(), values)
        })
        .collect()
}
