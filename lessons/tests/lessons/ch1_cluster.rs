//! Lesson 1: a topic is several independent ordered logs; a key picks one.

use std::collections::{BTreeSet, HashMap};

use kafka_course::ch1_cluster::{self, PARTITIONS, RECORDS, REPLICATION_FACTOR};
use kafka_course::kit::Stage;
use rdkafka::Message;

use crate::common::{assert_output, block_on, start};

#[test]
fn lesson_1() {
    block_on(async {
        let ctx = start(1);
        let report = ch1_cluster::run(&ctx).await.expect("lesson 1 runs");
        assert_output("ch1_cluster", &ctx);
        claims(&ctx, &report);

        // The embedded cluster has 3 brokers; each partition has a replica on
        // every one of them, and the kit placed the leaders round-robin.
        assert_eq!(report.brokers, vec![1, 2, 3]);
        for p in &report.partitions {
            assert_eq!(p.replicas, vec![1, 2, 3], "partition {}", p.id);
            assert_eq!(p.leader, p.id % 3 + 1, "partition {}'s leader", p.id);
        }
    });
}

/// What chapter 1 claims, checked on whatever cluster the lesson ran on
/// (no assumption of 3 brokers, nor of the embedded cluster).
pub fn claims(ctx: &Stage, report: &ch1_cluster::Report) {
    let text = ctx.out().text();

    // The cluster and the topic are what the lesson asked for.
    assert!(!report.brokers.is_empty(), "the cluster has brokers");
    assert_eq!(report.partitions.len(), PARTITIONS as usize);
    for p in &report.partitions {
        assert_eq!(
            p.replicas.len(),
            REPLICATION_FACTOR as usize,
            "partition {}",
            p.id
        );
        assert!(
            p.replicas.contains(&p.leader),
            "the leader is one of the replicas"
        );
        assert!(p.isr.contains(&p.leader), "the leader is in sync");
        for r in &p.replicas {
            assert!(report.brokers.contains(r), "replica {r} is a broker");
        }
    }

    // What the output says of the cluster is what its metadata showed.
    let n = report.brokers.len();
    let brokers = if n == 1 { "broker" } else { "brokers" };
    assert!(
        text.contains(&format!("The cluster has {n} {brokers}: ")),
        "{text}"
    );
    let apart = report
        .partitions
        .iter()
        .all(|p| p.replicas.iter().collect::<BTreeSet<_>>().len() == p.replicas.len());
    assert_eq!(
        text.contains("replicas (copies of its log), one per broker."),
        apart && REPLICATION_FACTOR as usize == n,
        "\"one per broker\" only when each replica is on its own broker:\n{text}"
    );
    assert_eq!(
        text.contains("The others are followers"),
        apart,
        "followers are named only when there are other brokers to copy to:\n{text}"
    );
    // The embedded cluster keeps one log per partition: its followers copy nothing.
    assert_eq!(
        text.contains("followers that copy the leader"),
        apart && !ctx.is_embedded(),
        "\"copy the leader\" only on a cluster whose followers have logs:\n{text}"
    );
    let leaders: BTreeSet<i32> = report.partitions.iter().map(|p| p.leader).collect();
    assert_eq!(
        text.contains("The leaders are spread over the brokers: every broker"),
        n > 1 && report.brokers.iter().all(|b| leaders.contains(b)),
        "leaders are said to be spread only when every broker leads one:\n{text}"
    );

    // Every record was delivered, and the same key always went to the same partition.
    assert_eq!(report.deliveries.len(), RECORDS.len());
    let mut partition_of: HashMap<&str, i32> = HashMap::new();
    for d in &report.deliveries {
        let p = *partition_of.entry(d.key.as_str()).or_insert(d.partition);
        assert_eq!(p, d.partition, "key {} went to two partitions", d.key);
    }

    // Within a partition, offsets start at 0 and grow by one, in send order;
    // the high watermark is the next offset.
    for p in &report.partitions {
        let offsets: Vec<i64> = report
            .deliveries
            .iter()
            .filter(|d| d.partition == p.id)
            .map(|d| d.offset)
            .collect();
        let expected: Vec<i64> = (0..offsets.len() as i64).collect();
        assert_eq!(offsets, expected, "offsets of partition {}", p.id);
        assert_eq!(
            report.watermarks[&p.id],
            (0, offsets.len() as i64),
            "watermarks of partition {}",
            p.id
        );
    }
    assert!(text.contains("Offsets count from 0 in each partition separately"));
    assert!(
        text.contains("Every record of a lot is in one partition, in the\norder it was written.")
    );

    // Read the logs back independently of the lesson: each record sits at
    // the partition and offset its delivery report gave.
    let mut stored = HashMap::new();
    for m in ctx.read_topic(&report.topic).unwrap() {
        let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
        let value = String::from_utf8(m.payload().unwrap().to_vec()).unwrap();
        stored.insert((m.partition(), m.offset()), (key, value));
    }
    assert_eq!(stored.len(), RECORDS.len());
    for d in &report.deliveries {
        assert_eq!(
            stored[&(d.partition, d.offset)],
            (d.key.clone(), d.value.clone())
        );
    }
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: the topic's partitions, then every delivery, in order.
#[test]
fn lesson_1_timeline() {
    use kafka_course::kit::Event;
    block_on(async {
        let ctx = start(1);
        let report = ch1_cluster::run(&ctx).await.expect("lesson 1 runs");
        let events = crate::common::events(&ctx);
        let created = events.iter().find_map(|e| match e {
            Event::TopicCreated { topic, partitions } => Some((topic, partitions)),
            _ => None,
        });
        let (topic, partitions) = created.expect("a topic_created event");
        assert_eq!(topic, ch1_cluster::TOPIC);
        let leaders: Vec<(i32, i32)> = partitions.iter().map(|p| (p.partition, p.leader)).collect();
        let expected: Vec<(i32, i32)> =
            report.partitions.iter().map(|p| (p.id, p.leader)).collect();
        assert_eq!(leaders, expected);
        let delivered: Vec<(String, i32, i64)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Delivered {
                    key,
                    partition,
                    offset,
                    ..
                } => Some((key.clone().unwrap_or_default(), *partition, *offset)),
                _ => None,
            })
            .collect();
        let reported: Vec<(String, i32, i64)> = report
            .deliveries
            .iter()
            .map(|d| (d.key.clone(), d.partition, d.offset))
            .collect();
        assert_eq!(delivered, reported);
        // Every event's `line` points into the text, in order.
        let lines = ctx.out().text().lines().count();
        let entries = ctx.out().events();
        assert!(entries
            .windows(2)
            .all(|w| w[0].line <= w[1].line && w[0].seq + 1 == w[1].seq));
        assert!(entries.iter().all(|e| e.line < lines));
    });
}
