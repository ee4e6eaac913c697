//! Lesson 4: a group splits the partitions, another group reads everything,
//! commits resume after a crash, malformed records land on the dead-letter
//! topic, and lag is the high watermark minus the committed offset.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_course::ch4_consumer::{
    self, deserialize, Change, AUDIT_GROUP, GROUP, LATE_GROUP, MALFORMED, PARTITIONS,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};

use kafka_course::kit::{Event, GroupProtocol, Stage};

use crate::common::{assert_output, block_on, classic, start, start_with};

#[test]
fn lesson_4() {
    block_on(async {
        let ctx = start(4);
        let report = ch4_consumer::run(&ctx).await.expect("lesson 4 runs");
        assert_output("ch4_consumer", &ctx);
        claims(&ctx, &report);
        timeline(&ctx, &report);
    });
}

/// The same lesson with the classic group protocol: the chapter's claims hold.
#[test]
fn lesson_4_classic() {
    block_on(async {
        let ctx = start_with(4, classic());
        let report = ch4_consumer::run(&ctx).await.expect("lesson 4 runs");
        claims(&ctx, &report);
        timeline(&ctx, &report);
    });
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: what each group read, what it committed, what went to the
/// dead-letter topic, the lag tables, and the members' rebalances.
pub fn timeline(ctx: &Stage, report: &ch4_consumer::Report) {
    let events = crate::common::events(ctx);
    let reads = |group: &str| -> Vec<(String, i32, i64)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Read {
                    group: Some(g),
                    member: Some(m),
                    partition,
                    offset,
                    ..
                } if g == group => Some((m.clone(), *partition, *offset)),
                _ => None,
            })
            .collect()
    };
    let sorted = |mut v: Vec<(String, i32, i64)>| {
        v.sort();
        v
    };
    let reported = |reads: &[ch4_consumer::Read]| -> Vec<(String, i32, i64)> {
        reads
            .iter()
            .map(|r| (r.member.clone(), r.partition, r.offset))
            .collect()
    };
    // Group "machines": the first batch, then member-a's two records before
    // the crash, then the restarted member-a's.
    let machines = reads(GROUP);
    let n = report.group_reads.len();
    assert_eq!(machines.len(), n + 2 + report.crash.reread.len());
    assert_eq!(
        sorted(machines[..n].to_vec()),
        sorted(reported(&report.group_reads))
    );
    let offsets =
        |reads: &[(String, i32, i64)]| -> Vec<i64> { reads.iter().map(|r| r.2).collect() };
    assert_eq!(offsets(&machines[n..n + 2]), report.crash.processed);
    assert_eq!(offsets(&machines[n + 2..]), report.crash.reread);
    assert!(machines[n..]
        .iter()
        .all(|r| r.0 == "member-a" && r.1 == report.crash.partition));
    assert_eq!(
        sorted(reads(AUDIT_GROUP)),
        sorted(reported(&report.audit_reads))
    );
    assert_eq!(
        reads(LATE_GROUP),
        vec![(
            "dashboard".to_string(),
            report.late.first_read.0,
            report.late.first_read.1
        )]
    );

    // Every record read was committed (offset + 1), except the one member-a
    // crashed on and the dashboard's; nothing else was committed.
    let committed: BTreeSet<(String, i32, i64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Committed {
                group,
                partition,
                offset,
                ..
            } => Some((group.clone(), *partition, *offset)),
            _ => None,
        })
        .collect();
    let mut expected: BTreeSet<(String, i32, i64)> = BTreeSet::new();
    for (group, reads) in [
        (GROUP, &report.group_reads),
        (AUDIT_GROUP, &report.audit_reads),
    ] {
        for r in reads {
            expected.insert((group.to_string(), r.partition, r.offset + 1));
        }
    }
    let crashed_on = report.crash.processed[1];
    expected.insert((
        GROUP.to_string(),
        report.crash.partition,
        report.crash.processed[0] + 1,
    ));
    for o in &report.crash.reread {
        expected.insert((GROUP.to_string(), report.crash.partition, o + 1));
    }
    assert_eq!(committed, expected);
    assert!(!report.crash.reread.is_empty() && report.crash.reread[0] == crashed_on);

    // The dead letters: exactly the records the dead-letter topic holds,
    // each from its source position, at its own place in that topic.
    let dead_lettered: BTreeMap<(i32, i64), i64> = events
        .iter()
        .filter_map(|e| match e {
            Event::DeadLettered {
                partition,
                offset,
                dead_letter_topic,
                dead_letter_partition,
                dead_letter_offset,
                ..
            } => {
                assert_eq!(dead_letter_topic, ch4_consumer::DLT);
                assert_eq!(*dead_letter_partition, 0);
                Some(((*partition, *offset), *dead_letter_offset))
            }
            _ => None,
        })
        .collect();
    let on_dlt: BTreeSet<(i32, i64)> = report
        .dead_letters
        .iter()
        .map(|d| (d.source_partition, d.source_offset))
        .collect();
    assert_eq!(
        dead_lettered.keys().copied().collect::<BTreeSet<_>>(),
        on_dlt
    );
    let places: BTreeSet<i64> = dead_lettered.values().copied().collect();
    assert_eq!(places, (0..MALFORMED.len() as i64).collect());

    // The lag tables, in order.
    let lags: Vec<(i32, Option<i64>, i64, i64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Lag {
                partition,
                committed,
                high,
                lag,
                ..
            } => Some((*partition, *committed, *high, *lag)),
            _ => None,
        })
        .collect();
    let tables: Vec<(i32, Option<i64>, i64, i64)> = report
        .lag_tables
        .iter()
        .flatten()
        .map(|l| (l.partition, l.committed, l.high_watermark, l.lag))
        .collect();
    assert_eq!(lags, tables);

    // The members' rebalances: what member-b's joining and leaving did.
    let changes = |kind: bool| -> Vec<(String, Vec<i32>)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Assigned {
                    group,
                    member,
                    partitions,
                } if !kind && group == GROUP => Some((member.clone(), partitions.clone())),
                Event::Revoked {
                    group,
                    member,
                    partitions,
                } if kind && group == GROUP => Some((member.clone(), partitions.clone())),
                _ => None,
            })
            .map(|(m, ps)| (m, ps.iter().map(|p| p.partition).collect()))
            .collect()
    };
    for c in report.b_joins.iter().chain(&report.b_leaves) {
        assert!(
            changes(c.revoked).contains(&(c.member.clone(), c.partitions.clone())),
            "{c:?} is not in the timeline"
        );
    }
    let crashed = events
        .iter()
        .filter(|e| matches!(e, Event::MemberCrashed { group, member } if group == GROUP && member == "member-a"))
        .count();
    assert_eq!(crashed, 1);

    // The dead-letter topic, read back: each record where the reader found
    // it, and its watermarks; the dashboard's watermarks when it joined.
    let mut dlt_read: Vec<(i64, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Read {
                topic,
                offset,
                key,
                group: None,
                ..
            } if topic == ch4_consumer::DLT => Some((*offset, key.clone())),
            _ => None,
        })
        .collect();
    dlt_read.sort();
    let mut dead_letters: Vec<(i64, Option<String>)> = report
        .dead_letters
        .iter()
        .map(|d| (d.offset, Some(d.key.clone())))
        .collect();
    dead_letters.sort();
    assert_eq!(dlt_read, dead_letters);
    let highs: Vec<(i32, i64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Watermarks {
                topic,
                partition,
                high,
                ..
            } if topic == ch4_consumer::TOPIC => Some((*partition, *high)),
            _ => None,
        })
        .collect();
    let expected: Vec<(i32, i64)> = report
        .late
        .high_watermarks
        .iter()
        .map(|(p, h)| (*p, *h))
        .collect();
    assert_eq!(highs, expected);
}

/// What chapter 4 claims, checked on what happened, on any cluster.
pub fn claims(ctx: &Stage, report: &ch4_consumer::Report) {
    let all: BTreeSet<(i32, i64)> = report
        .produced
        .iter()
        .map(|p| (p.partition, p.offset))
        .collect();
    let good: BTreeSet<(i32, i64)> = report
        .produced
        .iter()
        .filter(|p| p.good)
        .map(|p| (p.partition, p.offset))
        .collect();
    let bad: BTreeMap<(i32, i64), &str> = report
        .produced
        .iter()
        .filter(|p| !p.good)
        .map(|p| ((p.partition, p.offset), p.payload.as_str()))
        .collect();
    assert_eq!(
        all.len(),
        report.produced.len(),
        "every record has its own position"
    );
    assert_eq!(bad.len(), MALFORMED.len());
    // The lesson's idea of "good" is what deserializes.
    for p in &report.produced {
        assert_eq!(
            deserialize(Some(p.payload.as_bytes())).is_ok(),
            p.good,
            "{}",
            p.payload
        );
    }

    // Each partition was assigned to exactly one member, and both got some.
    assert_eq!(report.assignment.len(), 2);
    let mut owner = BTreeMap::new();
    for (member, partitions) in &report.assignment {
        assert!(!partitions.is_empty(), "{member} got no partition");
        for p in partitions {
            assert!(
                owner.insert(*p, member.clone()).is_none(),
                "partition {p} has two owners"
            );
        }
    }
    assert_eq!(
        owner.keys().copied().collect::<Vec<_>>(),
        (0..PARTITIONS).collect::<Vec<_>>()
    );
    assert_eq!(
        report.overlaps, 0,
        "a partition had two owners during the rebalance"
    );

    // The members' rebalance callbacks agree with their assignments, and
    // show the protocol's way: KIP-848 took from member-a only what moved to
    // member-b; the classic protocol took everything first (eager).
    let last = |changes: &[Change], member: &str| {
        changes
            .iter()
            .rev()
            .find(|c| c.member == member)
            .map(|c| c.holds.clone())
    };
    for (member, partitions) in &report.assignment {
        assert_eq!(last(&report.b_joins, member).as_ref(), Some(partitions));
    }
    let gave_up: BTreeSet<i32> = report
        .b_joins
        .iter()
        .filter(|c| c.member == "member-a" && c.revoked)
        .flat_map(|c| c.partitions.clone())
        .collect();
    let everything: BTreeSet<i32> = (0..PARTITIONS).collect();
    match ctx.groups().protocol {
        GroupProtocol::Consumer => assert_eq!(
            gave_up,
            report.assignment["member-b"].iter().copied().collect(),
            "KIP-848: member-a gives up only what member-b gets"
        ),
        GroupProtocol::Classic => assert_eq!(gave_up, everything, "classic: eager"),
    }
    // When member-b left, member-a was given every partition.
    assert_eq!(
        last(&report.b_leaves, "member-a"),
        Some(everything.iter().copied().collect())
    );

    // Together the two members read every record exactly once, each from
    // its own partitions, and every good record deserialized.
    let mut read = BTreeSet::new();
    for r in &report.group_reads {
        assert!(
            read.insert((r.partition, r.offset)),
            "partition {} offset {} read twice",
            r.partition,
            r.offset
        );
        assert_eq!(
            owner[&r.partition], r.member,
            "partition {} read by a non-owner",
            r.partition
        );
        assert_eq!(r.outcome.is_ok(), good.contains(&(r.partition, r.offset)));
    }
    assert_eq!(read, all, "the group read every record exactly once");

    // The second group read everything too, independently.
    let audit: BTreeSet<(i32, i64)> = report
        .audit_reads
        .iter()
        .map(|r| (r.partition, r.offset))
        .collect();
    assert_eq!(report.audit_reads.len(), all.len());
    assert_eq!(audit, all);

    // Every lag figure is the high watermark minus the committed offset.
    assert_eq!(report.lag_tables.len(), 4);
    for table in &report.lag_tables {
        for row in table {
            let committed = row.committed.expect("the group committed every partition");
            assert_eq!(row.lag, row.high_watermark - committed, "{row:?}");
        }
    }

    // Crash and restart: the committed offset at the crash is one past the
    // last committed record; reading resumed exactly there: nothing before
    // it was read again, and nothing after it was skipped.
    let crash = &report.crash;
    assert_eq!(crash.written.len(), 3);
    assert_eq!(crash.processed, crash.written[..2].to_vec());
    assert_eq!(crash.committed_at_crash, crash.processed[0] + 1);
    assert_eq!(crash.reread.first(), Some(&crash.committed_at_crash));
    assert_eq!(crash.reread, crash.written[1..].to_vec());
    // Lag of the crashed partition: all 3 new records, then 2 after the
    // crash (one committed), then none; the other partitions stay at 0.
    let lag_of = |table: usize, p: i32| {
        report.lag_tables[table]
            .iter()
            .find(|l| l.partition == p)
            .unwrap()
            .lag
    };
    let lags: Vec<i64> = (0..4).map(|t| lag_of(t, crash.partition)).collect();
    assert_eq!(lags, vec![0, 3, 2, 0]);
    for p in (0..PARTITIONS).filter(|p| *p != crash.partition) {
        assert!((0..4).all(|t| lag_of(t, p) == 0), "partition {p} lagged");
    }

    // auto.offset.reset=latest: the late group's first record is the one
    // written after it joined, at the old high watermark.
    let late = &report.late;
    assert_eq!(late.first_read, late.written);
    assert_eq!(late.first_read.1, late.high_watermarks[&late.first_read.0]);

    // Independently of the lesson: the group's committed offsets are the
    // high watermarks the lesson last showed (it processed everything).
    let checker: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name(GROUP))
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition(&report.topic, p);
    }
    let committed = checker
        .committed_offsets(tpl, Duration::from_secs(5))
        .unwrap();
    for row in report.lag_tables.last().unwrap() {
        let c = committed
            .find_partition(&report.topic, row.partition)
            .unwrap()
            .offset();
        assert_eq!(
            c,
            Offset::Offset(row.high_watermark),
            "committed offset of partition {}",
            row.partition
        );
    }

    // Read the dead-letter topic back: exactly the malformed records, with
    // their original bytes, source position and a reason; no good record.
    let (low, high) = checker
        .fetch_watermarks(&report.dlt, 0, Duration::from_secs(5))
        .unwrap();
    assert_eq!(
        (low, high),
        (0, MALFORMED.len() as i64),
        "the dead-letter topic holds only the malformed records"
    );
    let mut on_dlt = BTreeMap::new();
    for m in ctx.read_topic(&report.dlt).unwrap() {
        let payload = String::from_utf8(m.payload().unwrap().to_vec()).unwrap();
        assert!(
            deserialize(Some(payload.as_bytes())).is_err(),
            "a good command on the DLT: {payload}"
        );
        let headers = m.headers().expect("dead letters carry headers");
        let header = |name: &str| {
            let h = headers
                .iter()
                .find(|h| h.key == name)
                .unwrap_or_else(|| panic!("no {name} header"));
            String::from_utf8(h.value.unwrap().to_vec()).unwrap()
        };
        assert_eq!(header("dlt.topic"), report.topic);
        assert!(!header("dlt.error").is_empty());
        let source = (
            header("dlt.partition").parse::<i32>().unwrap(),
            header("dlt.offset").parse::<i64>().unwrap(),
        );
        assert!(
            on_dlt.insert(source, payload).is_none(),
            "{source:?} dead-lettered twice"
        );
    }
    let expected: BTreeMap<(i32, i64), String> =
        bad.iter().map(|(k, v)| (*k, v.to_string())).collect();
    assert_eq!(on_dlt, expected);
    // The lesson's own read-back agrees.
    assert_eq!(report.dead_letters.len(), MALFORMED.len());
}
