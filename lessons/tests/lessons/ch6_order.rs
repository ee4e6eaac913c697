//! Lesson 6: retries reorder a lot's commands without idempotence and keep
//! them in order with it; the controller survives a crash between the work
//! and the commit, and every command takes effect exactly once, in order.

use std::time::Duration;

use kafka_course::ch6_order::{self, Outcome, CRASH_AFTER_STEP, GROUP, LOT};
use kafka_course::kit::{GroupProtocol, Stage};
use kafka_course::workshop::MachineCommand;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::common::{
    assert_explains_group_without_partitions, assert_output, block_on, classic, snapshot_body,
    start, start_with, story,
};

/// One partition's records, read with the kit's reader (not the lesson's):
/// what is really stored.
fn stored(ctx: &Stage, topic: &str, partition: i32) -> Vec<MachineCommand> {
    let records = ctx.read_topic(topic).unwrap();
    let log: Vec<_> = records
        .iter()
        .filter(|m| m.partition() == partition)
        .collect();
    assert_eq!(log.first().map(|m| m.offset()), Some(0));
    log.iter()
        .map(|m| {
            assert_eq!(m.key(), Some(LOT.as_bytes()), "the key is the lot");
            serde_json::from_slice(m.payload().unwrap()).unwrap()
        })
        .collect()
}

#[test]
fn lesson_6() {
    block_on(async {
        let ctx = start(6);
        let report = ch6_order::run(&ctx).await.expect("lesson 6 runs");
        assert_output("ch6_order", &ctx);
        let sequence = MachineCommand::sequence(LOT);

        // One key, one partition, in the fault demo too.
        let plain = report
            .plain
            .as_ref()
            .expect("the embedded cluster runs the fault demo");
        one_partition(plain, &sequence);

        // Without idempotence, the retry reordered the log: all three are
        // there once, but not in order, and M1 is no longer first.
        let partition = plain.deliveries[0].1;
        let plain_log = stored(&ctx, &report.topic_plain, partition);
        assert_eq!(plain_log, plain.log, "the lesson shows what is stored");
        assert_eq!(plain_log.len(), sequence.len());
        for cmd in &sequence {
            assert_eq!(
                plain_log.iter().filter(|c| *c == cmd).count(),
                1,
                "{} once",
                cmd.label()
            );
        }
        assert_ne!(
            plain_log, sequence,
            "the non-idempotent log is out of order"
        );
        assert_ne!(plain_log[0], sequence[0], "M1 was overtaken");
        assert!(!ch6_order::is_in_order(&plain_log));

        claims(&ctx, &report);
    });
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: both runs' deliveries and logs, what the controller read
/// and committed, its crash and its restart.
#[test]
fn lesson_6_timeline() {
    use kafka_course::kit::Event;
    block_on(async {
        let ctx = start(6);
        let report = ch6_order::run(&ctx).await.expect("lesson 6 runs");
        let events = crate::common::events(&ctx);
        let created = crate::common::created_topics(&events);
        assert_eq!(
            created,
            [ch6_order::TOPIC_PLAIN, ch6_order::TOPIC_IDEMPOTENT]
        );
        // Each run's deliveries, in send order, and its log read back.
        let runs = [
            (
                ch6_order::TOPIC_PLAIN,
                report.plain.as_ref().expect("embedded"),
            ),
            (ch6_order::TOPIC_IDEMPOTENT, &report.idempotent),
        ];
        for (name, run) in runs {
            let delivered: Vec<(String, i32, i64)> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Delivered {
                        topic,
                        value,
                        partition,
                        offset,
                        ..
                    } if topic == name => {
                        Some((value.clone().unwrap_or_default(), *partition, *offset))
                    }
                    _ => None,
                })
                .collect();
            let reported: Vec<(String, i32, i64)> = run
                .deliveries
                .iter()
                .map(|(c, p, o)| (c.label(), *p, *o))
                .collect();
            assert_eq!(delivered, reported, "{name}");
            let read_back = events
                .iter()
                .filter(|e| matches!(e, Event::Read { group: None, topic, .. } if topic == name))
                .count();
            assert_eq!(read_back, run.log.len(), "{name}");
        }
        // The controller read what the report says it received, in order;
        // it committed after each command but the one it crashed on.
        let read: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    group: Some(g),
                    offset,
                    ..
                } if g == GROUP => Some(*offset),
                _ => None,
            })
            .collect();
        let received: Vec<i64> = report.received.iter().map(|r| r.offset).collect();
        assert_eq!(read, received);
        // And what the machines did with each: done, or skipped as a repeat.
        let processed: Vec<(i64, &str)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Processed {
                    offset, outcome, ..
                } => Some((*offset, outcome.as_str())),
                _ => None,
            })
            .collect();
        let outcomes: Vec<(i64, &str)> = report
            .received
            .iter()
            .map(|r| {
                let outcome = match r.outcome {
                    ch6_order::Outcome::Done => "done",
                    ch6_order::Outcome::AlreadyDone => "already_done",
                };
                (r.offset, outcome)
            })
            .collect();
        assert_eq!(processed, outcomes);
        // The refusals the lesson asked for: one in the first run, one and
        // the two behind it in the second.
        let refused: Vec<usize> = events
            .iter()
            .filter_map(|e| match e {
                Event::RequestsRefused { errors, .. } => Some(errors.len()),
                _ => None,
            })
            .collect();
        assert_eq!(refused, [1, 3]);
        let committed: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                Event::Committed { group, offset, .. } if group == GROUP => Some(*offset),
                _ => None,
            })
            .collect();
        let crash_offset = i64::from(CRASH_AFTER_STEP) - 1;
        let expected: Vec<i64> = received
            .iter()
            .enumerate()
            .filter(|(i, o)| !(*i == crash_offset as usize && **o == crash_offset))
            .map(|(_, o)| o + 1)
            .collect();
        assert_eq!(committed, expected);
        assert_eq!(committed[0], report.committed_after_crash);
        let lifecycle: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::MemberJoined { .. } => Some("joined"),
                Event::MemberCrashed { .. } => Some("crashed"),
                Event::MemberLeft { .. } => Some("left"),
                _ => None,
            })
            .collect();
        assert_eq!(lifecycle, ["joined", "crashed", "joined", "left"]);
    });
}

/// Every command of the lot went to the same partition, sent in order.
fn one_partition(run: &ch6_order::Run, sequence: &[MachineCommand]) {
    let partition = run.deliveries[0].1;
    assert!(
        run.deliveries.iter().all(|d| d.1 == partition),
        "{:?}",
        run.deliveries
    );
    let sent: Vec<&MachineCommand> = run.deliveries.iter().map(|d| &d.0).collect();
    assert_eq!(sent, sequence.iter().collect::<Vec<_>>(), "sent in order");
}

/// The same lesson with the classic group protocol: it tells the same story
/// as the book's snapshot (only the line naming the protocol differs), and
/// the chapter's claims hold.
#[test]
fn lesson_6_classic() {
    block_on(async {
        let ctx = start_with(6, classic());
        assert_eq!(ctx.groups().protocol, GroupProtocol::Classic);
        let report = ch6_order::run(&ctx).await.expect("lesson 6 runs");
        assert_eq!(story(&ctx.out().text()), story(&snapshot_body("ch6_order")));
        claims(&ctx, &report);
    });
}

/// On a cluster whose groups never get partitions (here: KIP-848 forced on
/// an embedded cluster that does not offer it), the lesson stops within
/// seconds and says why, instead of timing out.
#[test]
fn lesson_6_explains_a_group_without_partitions() {
    assert_explains_group_without_partitions(6, "machine-controller");
}

/// What chapter 6 claims, checked on what happened on the cluster the
/// lesson ran on (any cluster: the fault demo, which needs the embedded
/// one, is checked by `lesson_6`).
pub fn claims(ctx: &Stage, report: &ch6_order::Report) {
    // What the lesson printed agreed with what it observed.
    let text = ctx.out().text();
    assert!(!text.contains("unexpected"), "{text}");
    assert_eq!(report.plain.is_some(), ctx.is_embedded());
    let sequence = MachineCommand::sequence(LOT);

    // One key, one partition: every command of the lot went to the same one.
    one_partition(&report.idempotent, &sequence);

    // With idempotence, the same fault left the log in order, each once.
    let partition = report.idempotent.deliveries[0].1;
    let idempotent_log = stored(ctx, &report.topic_idempotent, partition);
    assert_eq!(idempotent_log, sequence, "the idempotent log is in order");
    assert_eq!(report.idempotent.log, sequence);
    let offsets: Vec<i64> = report.idempotent.deliveries.iter().map(|d| d.2).collect();
    assert_eq!(offsets, vec![0, 1, 2]);

    // The crash: session 1 did steps up to CRASH_AFTER_STEP and committed
    // all but the last; session 2 got that one again and skipped it.
    let crash_offset = i64::from(CRASH_AFTER_STEP) - 1;
    assert_eq!(
        report.committed_after_crash, crash_offset,
        "the crashed step was not committed"
    );
    let session1: Vec<(i64, Outcome)> = report
        .received
        .iter()
        .filter(|r| r.session == 1)
        .map(|r| (r.offset, r.outcome))
        .collect();
    let session2: Vec<(i64, Outcome)> = report
        .received
        .iter()
        .filter(|r| r.session == 2)
        .map(|r| (r.offset, r.outcome))
        .collect();
    assert_eq!(
        session1,
        (0..=crash_offset)
            .map(|o| (o, Outcome::Done))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        session2[0],
        (crash_offset, Outcome::AlreadyDone),
        "redelivered and skipped"
    );
    assert!(session2[1..].iter().all(|(_, o)| *o == Outcome::Done));
    assert_eq!(
        session2.last().unwrap().0,
        sequence.len() as i64 - 1,
        "session 2 reached the end"
    );

    // Every command executed exactly once in effect, in order.
    assert_eq!(report.effects, sequence);

    // And the group's committed offset, read independently, is past the end.
    let probe: BaseConsumer = ctx.consumer_config(GROUP).create().unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&report.topic_idempotent, partition);
    let committed = probe
        .committed_offsets(tpl, Duration::from_secs(5))
        .unwrap();
    let offset = committed
        .find_partition(&report.topic_idempotent, partition)
        .unwrap()
        .offset();
    assert_eq!(offset, Offset::Offset(sequence.len() as i64));
}
