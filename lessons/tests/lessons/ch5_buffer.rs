//! Lesson 5: the topic buffers records for consumers that start later.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_course::ch5_buffer::{self, Record, FIRST_LOTS, PARTITIONS, PHOTOS};
use kafka_course::kit::{GroupProtocol, Stage};
use kafka_course::workshop::MachineCommand;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;

use crate::common::{
    assert_explains_group_without_partitions, assert_output, block_on, classic, snapshot_body,
    start, start_with, story,
};

/// Records of `records` in partition `p`, in their order.
fn in_partition(records: &[Record], p: i32) -> Vec<&Record> {
    records.iter().filter(|r| r.partition == p).collect()
}

#[test]
fn lesson_5() {
    block_on(async {
        let ctx = start(5);
        let report = ch5_buffer::run(&ctx).await.expect("lesson 5 runs");
        assert_output("ch5_buffer", &ctx);
        // The embedded cluster shows its size cap at work.
        assert!(
            report.retention.is_some(),
            "the embedded cluster shows the size cap"
        );
        claims(&ctx, &report);
    });
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: every delivery, every record each group read, the
/// controllers' committed offsets and the watermarks.
#[test]
fn lesson_5_timeline() {
    use kafka_course::kit::Event;
    block_on(async {
        let ctx = start(5);
        let report = ch5_buffer::run(&ctx).await.expect("lesson 5 runs");
        let events = crate::common::events(&ctx);
        let created: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::TopicCreated { topic, partitions } => {
                    assert!(!partitions.is_empty(), "{topic} has partitions");
                    Some(topic.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(created, [ch5_buffer::TOPIC, ch5_buffer::PHOTO_TOPIC]);
        // Every command delivered, in send order, where the report says.
        let delivered: Vec<(String, i32, i64)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Delivered {
                    topic,
                    key,
                    partition,
                    offset,
                    ..
                } if topic == ch5_buffer::TOPIC => {
                    Some((key.clone().unwrap_or_default(), *partition, *offset))
                }
                _ => None,
            })
            .collect();
        let sent: Vec<(String, i32, i64)> = report
            .sent
            .iter()
            .map(|r| (r.command.lot.clone(), r.partition, r.offset))
            .collect();
        assert_eq!(delivered, sent);
        // What each group read, in the order it read it.
        let read = |group: &str| -> Vec<(i32, i64)> {
            events
                .iter()
                .filter_map(|e| match e {
                    Event::Read {
                        group: Some(g),
                        partition,
                        offset,
                        ..
                    } if g == group => Some((*partition, *offset)),
                    _ => None,
                })
                .collect()
        };
        // Partition by partition, each in the order read (see `session`).
        let at = |records: &[Record]| -> Vec<(i32, i64)> {
            let mut at: Vec<(i32, i64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
            at.sort_by_key(|(p, _)| *p);
            at
        };
        let sessions = [at(&report.first_session), at(&report.second_session)].concat();
        assert_eq!(read(ch5_buffer::CONTROLLER_GROUP), sessions);
        assert_eq!(read(ch5_buffer::AUDIT_GROUP), at(&report.audit));
        let overflow = report.retention.as_ref().expect("embedded");
        let archived: Vec<i64> = read(ch5_buffer::ARCHIVE_GROUP)
            .into_iter()
            .map(|(_, o)| o)
            .collect();
        assert_eq!(archived, overflow.received);
        // The controllers' first commit is the committed offsets the report holds.
        let committed: Vec<(i32, i64)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Committed {
                    group,
                    partition,
                    offset,
                    ..
                } if group == ch5_buffer::CONTROLLER_GROUP => Some((*partition, *offset)),
                _ => None,
            })
            .take(PARTITIONS as usize)
            .collect();
        let reported: Vec<(i32, i64)> = report
            .committed_after
            .iter()
            .map(|(p, o)| (*p, o.expect("committed")))
            .collect();
        assert_eq!(committed, reported);
        // The first watermarks recorded are those the report holds.
        let marks: Vec<(i32, (i64, i64))> = events
            .iter()
            .filter_map(|e| match e {
                Event::Watermarks {
                    topic,
                    partition,
                    low,
                    high,
                } if topic == ch5_buffer::TOPIC => Some((*partition, (*low, *high))),
                _ => None,
            })
            .take(PARTITIONS as usize)
            .collect();
        let reported: Vec<(i32, (i64, i64))> = report
            .watermarks_before
            .iter()
            .map(|(p, m)| (*p, *m))
            .collect();
        assert_eq!(marks, reported);
    });
}

/// The same lesson with the classic group protocol: it tells the same story
/// as the book's snapshot (only the line naming the protocol differs), and
/// the chapter's claims hold.
#[test]
fn lesson_5_classic() {
    block_on(async {
        let ctx = start_with(5, classic());
        assert_eq!(ctx.groups().protocol, GroupProtocol::Classic);
        let report = ch5_buffer::run(&ctx).await.expect("lesson 5 runs");
        assert_eq!(
            story(&ctx.out().text()),
            story(&snapshot_body("ch5_buffer"))
        );
        claims(&ctx, &report);
    });
}

/// On a cluster whose groups never get partitions (here: KIP-848 forced on
/// an embedded cluster that does not offer it), the lesson stops within
/// seconds and says why, instead of timing out.
#[test]
fn lesson_5_explains_a_group_without_partitions() {
    assert_explains_group_without_partitions(5, "machine-controller");
}

/// What chapter 5 claims, checked on what happened on the cluster the
/// lesson ran on (any cluster: nothing here assumes the embedded one).
pub fn claims(ctx: &Stage, report: &ch5_buffer::Report) {
    // What the lesson printed agreed with what it observed.
    let text = ctx.out().text();
    assert!(!text.contains("unexpected"), "{text}");
    assert_eq!(report.retention.is_some(), ctx.is_embedded());

    // Nothing had been consumed before the consumer started: the group had
    // no committed offset, and the records were all written by then.
    assert_eq!(report.committed_before.len(), PARTITIONS as usize);
    assert!(
        report.committed_before.values().all(Option::is_none),
        "{:?}",
        report.committed_before
    );
    assert_eq!(report.sent_before_consumers, FIRST_LOTS.len() * 3);
    let (before, after) = report.sent.split_at(report.sent_before_consumers);
    let total_before: i64 = report
        .watermarks_before
        .values()
        .map(|(low, high)| high - low)
        .sum();
    assert_eq!(
        total_before,
        before.len() as i64,
        "every record was stored before any consumer ran"
    );

    // The late consumer received every record written before it started,
    // and in each partition in send order.
    assert_eq!(report.first_session.len(), before.len());
    for p in 0..PARTITIONS {
        assert_eq!(
            in_partition(&report.first_session, p),
            in_partition(before, p),
            "partition {p}"
        );
    }
    // It committed, per partition, the offset after the last one it read.
    for (p, (_, high)) in &report.watermarks_before {
        assert_eq!(
            report.committed_after[p],
            Some(*high),
            "committed offset of partition {p}"
        );
    }

    // Back after a pause, it received exactly what was written meanwhile.
    assert_eq!(report.second_session, after);

    // A second group, started last, got everything, in order per partition.
    assert_eq!(report.audit.len(), report.sent.len());
    for p in 0..PARTITIONS {
        assert_eq!(
            in_partition(&report.audit, p),
            in_partition(&report.sent, p),
            "partition {p}"
        );
    }
    // Reading deleted nothing.
    for (p, (low, _)) in &report.watermarks_before {
        assert_eq!(report.low_watermarks_after[p], *low, "partition {p}");
    }
    assert!(
        report.low_watermarks_after.values().all(|&low| low == 0),
        "{:?}",
        report.low_watermarks_after
    );

    // Independently of the lesson: the topic holds exactly what was sent.
    let mut stored = BTreeMap::new();
    for m in ctx.read_topic(&report.topic).unwrap() {
        let command: MachineCommand = serde_json::from_slice(m.payload().unwrap()).unwrap();
        stored.insert((m.partition(), m.offset()), command);
    }
    assert_eq!(stored.len(), report.sent.len());
    for r in &report.sent {
        assert_eq!(stored[&(r.partition, r.offset)], r.command);
    }

    // The size cap deleted the oldest photos before anyone read them, and
    // the late group started at the new low watermark.
    let Some(overflow) = report.retention.as_ref() else {
        return; // a real cluster: no size cap to show
    };
    assert_eq!(overflow.written, (0..PHOTOS as i64).collect::<Vec<_>>());
    assert_eq!(overflow.high, PHOTOS as i64);
    assert!(overflow.low > 0, "some photos were deleted");
    assert_eq!(
        overflow.received,
        (overflow.low..overflow.high).collect::<Vec<_>>()
    );
    let reader: BaseConsumer = ctx.client_config().create().unwrap();
    let (low, high) = reader
        .fetch_watermarks(&overflow.topic, 0, Duration::from_secs(5))
        .unwrap();
    assert_eq!((low, high), (overflow.low, overflow.high));
}
