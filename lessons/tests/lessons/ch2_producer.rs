//! Lesson 2: serialization, keys and partitioners.

use std::collections::{BTreeMap, HashMap};

use kafka_course::ch2_producer::{
    self, COMPARED_KEYS, LOTS, PARTITIONS, ROUTING_TOPIC, ROUTING_TOPIC_4, SPREAD_RECORDS,
    STICKY_RECORDS, TOPIC,
};
use kafka_course::kit::{Event, Stage};
use kafka_course::workshop::MachineCommand;
use rdkafka::Message;

use crate::common::{assert_output, block_on, start};

#[test]
fn lesson_2() {
    block_on(async {
        let ctx = start(2);
        let report = ch2_producer::run(&ctx).await.expect("lesson 2 runs");
        assert_output("ch2_producer", &ctx);
        claims(&ctx, &report);
    });
}

/// What chapter 2 claims, checked on whatever cluster the lesson ran on.
/// Partitioning happens in the producer, so none of it depends on the
/// cluster, except that a fresh topic's offsets start at 0.
pub fn claims(ctx: &Stage, report: &ch2_producer::Report) {
    // The JSON shown is the serde serialization of the event, and parses back to it.
    let event = MachineCommand::step("lot-A", 1);
    assert_eq!(
        String::from_utf8(report.example_json.clone()).unwrap(),
        r#"{"lot":"lot-A","step":1,"machine":"M1","operation":"mill"}"#
    );
    assert_eq!(
        serde_json::from_slice::<MachineCommand>(&report.example_json).unwrap(),
        event
    );

    // Every command of every lot was sent, and the same key always went to
    // the same partition, the one CRC32 (librdkafka's default) gives.
    assert_eq!(report.keyed.len(), LOTS.len() * 3);
    let mut partition_of: HashMap<&str, i32> = HashMap::new();
    for s in &report.keyed {
        let p = *partition_of
            .entry(s.command.lot.as_str())
            .or_insert(s.partition);
        assert_eq!(p, s.partition, "{} went to two partitions", s.command.lot);
        assert_eq!(
            s.partition,
            crc32_partition(s.command.lot.as_bytes(), PARTITIONS),
            "{}",
            s.command.lot
        );
    }

    // Offsets are consecutive from 0 in each partition, in send order.
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = report
            .keyed
            .iter()
            .filter(|s| s.partition == p)
            .map(|s| s.offset)
            .collect();
        assert_eq!(
            offsets,
            (0..offsets.len() as i64).collect::<Vec<_>>(),
            "offsets of partition {p}"
        );
    }

    // The lesson's read-back deserialized every record to the event sent there.
    assert_eq!(report.read_back.len(), report.keyed.len());
    for s in &report.keyed {
        assert_eq!(report.read_back[&(s.partition, s.offset)], s.command);
    }

    // Independently of the lesson: read the topic, check every record's
    // key, and that its JSON value round-trips to the event sent there.
    let mut stored = BTreeMap::new();
    for m in ctx.read_topic(&report.topic).unwrap() {
        let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
        let event: MachineCommand = serde_json::from_slice(m.payload().unwrap()).unwrap();
        assert_eq!(key, event.lot, "the key is the lot");
        stored.insert((m.partition(), m.offset()), event);
    }
    assert_eq!(stored.len(), report.keyed.len());
    for s in &report.keyed {
        assert_eq!(stored[&(s.partition, s.offset)], s.command);
    }

    // Keyless records: one partition with a long sticky window; more than
    // one without stickiness (3 of 3 with 60 records, all but certainly).
    assert_eq!(
        report.sticky_partitions.len(),
        1,
        "sticky run: {:?}",
        report.sticky_partitions
    );
    assert_eq!(report.spread.values().sum::<usize>(), SPREAD_RECORDS);
    assert!(
        report.spread.len() > 1,
        "keyless records spread: {:?}",
        report.spread
    );

    // The partitioners: consistent_random is CRC32 % n; murmur2_random is
    // exactly what the Java client computes; and each is stable per key.
    assert_eq!(report.routes.len(), COMPARED_KEYS.len());
    for r in &report.routes {
        let key = r.key.as_bytes();
        assert_eq!(
            r.consistent_random,
            crc32_partition(key, PARTITIONS),
            "{}",
            r.key
        );
        assert_eq!(
            r.consistent_random_4,
            crc32_partition(key, PARTITIONS + 1),
            "{}",
            r.key
        );
        assert_eq!(
            r.murmur2_random,
            java_partition(key, PARTITIONS),
            "{}",
            r.key
        );
        if let Some(&p) = partition_of.get(r.key.as_str()) {
            assert_eq!(
                r.consistent_random, p,
                "{} moved between two default producers",
                r.key
            );
        }
    }
    assert!(
        report
            .routes
            .iter()
            .any(|r| r.consistent_random != r.murmur2_random),
        "the lesson claims the partitioners disagree on some keys"
    );

    // What the output concludes is what happened.
    let text = ctx.out().text();
    assert!(
        text.contains(&format!(
            "All {} records read back deserialize to the events that were sent.",
            report.keyed.len()
        )),
        "{text}"
    );
    assert!(!text.contains("unexpected"), "{text}");
    assert!(!text.contains("NOT"), "{text}");

    timeline(ctx, report);
}

/// The timeline records what the lesson observed, the same facts its
/// report holds: each topic's partitions, every keyed delivery and every
/// record read back, in order.
fn timeline(ctx: &Stage, report: &ch2_producer::Report) {
    let events = crate::common::events(ctx);

    // The topics the lesson wrote to, with their partition counts.
    let created: Vec<(&str, usize)> = events
        .iter()
        .filter_map(|e| match e {
            Event::TopicCreated { topic, partitions } => Some((topic.as_str(), partitions.len())),
            _ => None,
        })
        .collect();
    let n = PARTITIONS as usize;
    assert_eq!(
        created,
        [
            (TOPIC, n),
            (ch2_producer::KEYLESS_TOPIC, n),
            (ROUTING_TOPIC, n),
            (ROUTING_TOPIC_4, n + 1)
        ]
    );

    // The keyless records, in send order: as many per partition as the
    // report counted, in each partition at consecutive offsets.
    let keyless: Vec<(Option<String>, i32, i64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Delivered {
                topic,
                producer,
                partition,
                offset,
                key: None,
                ..
            } if topic == ch2_producer::KEYLESS_TOPIC => {
                Some((producer.clone(), *partition, *offset))
            }
            _ => None,
        })
        .collect();
    assert_eq!(keyless.len(), STICKY_RECORDS + SPREAD_RECORDS);
    let mut spread = BTreeMap::new();
    for (_, partition, _) in &keyless[STICKY_RECORDS..] {
        *spread.entry(*partition).or_insert(0) += 1;
    }
    assert_eq!(spread, report.spread);
    let sticky: std::collections::BTreeSet<i32> =
        keyless[..STICKY_RECORDS].iter().map(|k| k.1).collect();
    assert_eq!(sticky, report.sticky_partitions);
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = keyless.iter().filter(|k| k.1 == p).map(|k| k.2).collect();
        assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
    }

    // Every keyed delivery, in order: the keyed commands, then the routing
    // table (per key: the default producer, the Java-like one, the default
    // one on 4 partitions).
    let delivered: Vec<(String, Option<String>, i32, i64)> = events
        .iter()
        .filter(|e| !matches!(e, Event::Delivered { key: None, .. }))
        .filter_map(|e| match e {
            Event::Delivered {
                topic,
                key,
                partition,
                offset,
                value,
                ..
            } => {
                if let (Some(key), Some(value)) = (key, value) {
                    let command: MachineCommand = serde_json::from_str(value).unwrap();
                    assert_eq!(&command.lot, key, "the key is the lot");
                }
                Some((topic.clone(), key.clone(), *partition, *offset))
            }
            _ => None,
        })
        .collect();
    let keyed: Vec<(String, Option<String>, i32, i64)> = report
        .keyed
        .iter()
        .map(|s| {
            (
                TOPIC.to_string(),
                Some(s.command.lot.clone()),
                s.partition,
                s.offset,
            )
        })
        .collect();
    assert_eq!(delivered[..keyed.len()], keyed[..]);
    let routed: Vec<(&str, &str, i32)> = delivered[keyed.len()..]
        .iter()
        .map(|(topic, key, partition, _)| (topic.as_str(), key.as_deref().unwrap(), *partition))
        .collect();
    let expected: Vec<(&str, &str, i32)> = report
        .routes
        .iter()
        .flat_map(|r| {
            [
                (ROUTING_TOPIC, r.key.as_str(), r.consistent_random),
                (ROUTING_TOPIC, r.key.as_str(), r.murmur2_random),
                (ROUTING_TOPIC_4, r.key.as_str(), r.consistent_random_4),
            ]
        })
        .collect();
    assert_eq!(routed, expected);

    // The records read back, by (partition, offset), with their keys.
    let read: Vec<(i32, i64, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Read {
                topic,
                partition,
                offset,
                key,
                ..
            } if topic == TOPIC => Some((*partition, *offset, key.clone())),
            _ => None,
        })
        .collect();
    let expected: Vec<(i32, i64, Option<String>)> = report
        .read_back
        .iter()
        .map(|((p, o), command)| (*p, *o, Some(command.lot.clone())))
        .collect();
    assert_eq!(read, expected);
}

/// The Java client's default partition for a keyed record:
/// `Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`.
fn java_partition(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions
}

/// Kafka's `org.apache.kafka.common.utils.Utils.murmur2`, transcribed from
/// Java (ints wrap; `>>>` is a logical shift).
fn murmur2(data: &[u8]) -> i32 {
    let length = data.len() as i32;
    let seed = 0x9747_b28c_u32 as i32;
    let m: i32 = 0x5bd1_e995;
    let r = 24;
    let mut h = seed ^ length;
    let length4 = data.len() / 4;
    for i in 0..length4 {
        let i4 = i * 4;
        let mut k = (data[i4] as i32)
            .wrapping_add((data[i4 + 1] as i32) << 8)
            .wrapping_add((data[i4 + 2] as i32) << 16)
            .wrapping_add((data[i4 + 3] as i32) << 24);
        k = k.wrapping_mul(m);
        k ^= ((k as u32) >> r) as i32;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    let tail = data.len() & !3;
    let rest = data.len() % 4;
    if rest == 3 {
        h ^= (data[tail + 2] as i32) << 16;
    }
    if rest >= 2 {
        h ^= (data[tail + 1] as i32) << 8;
    }
    if rest >= 1 {
        h ^= data[tail] as i32;
        h = h.wrapping_mul(m);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(m);
    h ^= ((h as u32) >> 15) as i32;
    h
}

/// librdkafka's `consistent_random` for a non-empty key: CRC-32 (IEEE) % n.
fn crc32_partition(key: &[u8], partitions: i32) -> i32 {
    (crc32(key) % partitions as u32) as i32
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn the_hash_functions_match_known_values() {
    // The standard CRC-32 check value.
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    // Java-compatible murmur2 values from librdkafka's own unit test (rdmurmur2.c).
    assert_eq!(murmur2(b"kafka") as u32, 0xd067_cf64);
    assert_eq!(murmur2(b"giberish123456789") as u32, 0x8f55_2b0c);
    assert_eq!(murmur2(b"1234") as u32, 0x9fc9_7b14);
    assert_eq!(murmur2(b"") as u32, 0x106e_08d9);
}
