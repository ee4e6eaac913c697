//! Checks of exercise 1.3: write keyed records, then count each
//! partition's records.
//!
//! The topic has 5 partitions and already holds 3 records, written by the
//! checks' own producer, so that counting only one's own records is seen.
//! Under librdkafka's default partitioner (CRC32 of the key), the keys below
//! leave one partition empty, so that leaving out an empty partition is
//! seen too; the checks compare with what the cluster says, whatever the
//! partitioner.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::Message;

use super::Checks;
use crate::kit::Stage;
use crate::{tr, tr_static};

/// The student's function: an `async fn`, boxed.
pub type Code = for<'c> fn(
    &'c str,
    &'c str,
    &'c [(String, String)],
) -> LocalBoxFuture<'c, Result<BTreeMap<i32, i64>>>;

const PARTITIONS: i32 = 5;
/// Written before the student's function runs, by another producer.
const EARLIER: [(&str, &str); 3] = [
    ("earlier-1", "stock check"),
    ("earlier-4", "stock check"),
    ("old-1", "audit"),
];
/// The keys of the student's records: three records each.
const KEYS: [&str; 3] = ["lot-A", "lot-D", "lot-E"];
const TIMEOUT: Duration = Duration::from_secs(5);

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

async fn check_with(write_and_count: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic("parts", PARTITIONS, 3).await?;
    write_earlier(ctx, &topic).await?;
    // Step by step: every key's first record, then every key's second...
    let records: Vec<(String, String)> = (1..=3)
        .flat_map(|step| {
            KEYS.iter()
                .map(move |key| (key.to_string(), format!("{key}-step-{step}")))
        })
        .collect();

    checks.step(tr!(
        "calling your write_and_count with {} records",
        records.len()
    ));
    let counts = write_and_count(ctx.bootstrap(), &topic, &records).await?;
    // What the partitions hold the moment it returned.
    let probe: FutureProducer = ctx.client_config().create()?;
    let mut at_return = BTreeMap::new();
    for p in 0..PARTITIONS {
        let (low, high) = probe.client().fetch_watermarks(&topic, p, TIMEOUT)?;
        at_return.insert(p, high - low);
    }
    let stored_at_return: i64 = at_return.values().sum();
    let expected_total = (EARLIER.len() + records.len()) as i64;

    checks.step(tr!("reading the topic back"));
    let stored = ctx.read_topic(&topic)?;

    // 1. Every record stored once, with its key, when the function returned.
    let mut wrong = Vec::new();
    for (key, value) in &records {
        let found: Vec<_> = stored
            .iter()
            .filter(|m| m.payload() == Some(value.as_bytes()))
            .collect();
        match found.as_slice() {
            [] => wrong.push(tr!("  {value:?}: not in the topic")),
            [one] if one.key() != Some(key.as_bytes()) => wrong.push(tr!(
                "  {value:?}: stored with the key {}, not {key:?}",
                one.key()
                    .map(|k| format!("{:?}", String::from_utf8_lossy(k)))
                    .unwrap_or_else(|| tr!("none"))
            )),
            [_] => {}
            many => wrong.push(tr!("  {value:?}: stored {} times", many.len())),
        }
    }
    let all_there = wrong.is_empty();
    checks.check(
        tr_static!("every record is stored once, with its key, before the function returns"),
        all_there && stored_at_return == expected_total,
        if all_there {
            tr!(
                "when your function returned, the topic held {stored_at_return} of its {expected_total} records.\n\
                 A record is stored when its delivery report says so: await each send (or every\n\
                 delivery report) before returning (chapter 1: the lesson's keyed records)."
            )
        } else {
            tr!(
                "{} of the {} records are not stored once with their key:\n{}\n\
                 A record is stored when its delivery report says so: await it. A producer dropped\n\
                 with records still queued loses them. The key is set on the record, and picks its\n\
                 partition (chapter 1: topics and partitions).",
                wrong.len(),
                records.len(),
                wrong.iter().take(4).cloned().collect::<Vec<_>>().join("\n")
            )
        },
    );

    // 2. Each key's records in one partition, in the order given.
    let mut split = Vec::new();
    for key in KEYS {
        let places: Vec<(i32, i64)> = records
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, value)| {
                stored
                    .iter()
                    .find(|m| m.payload() == Some(value.as_bytes()))
                    .map(|m| (m.partition(), m.offset()))
            })
            .collect();
        let one_partition = places.windows(2).all(|w| w[0].0 == w[1].0);
        let in_order = places.windows(2).all(|w| w[0].1 < w[1].1);
        if places.len() != 3 || !one_partition || !in_order {
            let shown: Vec<String> = places
                .iter()
                .map(|(p, o)| tr!("partition {p} offset {o}"))
                .collect();
            split.push(tr!(
                "  {key}'s records, in the order given: {}",
                if shown.is_empty() {
                    tr!("none stored")
                } else {
                    shown.join(", ")
                }
            ));
        }
    }
    checks.check(
        tr_static!("the records of each key are in one partition, in the order given"),
        split.is_empty(),
        tr!(
            "{}\n\
             The key picks the partition: records with the same key share one, and a partition\n\
             keeps the order they were appended in. Send them in order, each with its key\n\
             (chapter 1: topics and partitions).",
            split.join("\n")
        ),
    );

    // 3. The counts: every partition, as its watermarks say.
    let mut off = Vec::new();
    for (p, n) in &at_return {
        match counts.get(p) {
            Some(c) if c == n => {}
            Some(c) => off.push(tr!("  partition {p}: you say {c}, it stores {n}")),
            None => off.push(tr!(
                "  partition {p}: missing from your answer; it stores {n}"
            )),
        }
    }
    for p in counts.keys().filter(|p| !at_return.contains_key(p)) {
        off.push(tr!("  partition {p}: the topic has no such partition"));
    }
    checks.check(
        tr_static!("the counts are what each partition stores, every partition listed"),
        off.is_empty(),
        tr!(
            "{}\n\
             A partition stores every record written to it, by any producer: the records of\n\
             other programs count too. Its watermarks say how many: high minus low. And the\n\
             metadata lists all the topic's partitions, those with no record too\n\
             (chapter 1: topics and partitions; the lesson's watermarks).",
            off.join("\n")
        ),
    );
    Ok(())
}

/// The records other programs wrote before: a producer of the checks' own.
async fn write_earlier(ctx: &Stage, topic: &str) -> Result<()> {
    let producer: FutureProducer = ctx
        .client_config()
        .set("linger.ms", "0")
        .create()
        .context(tr!("creating the producer"))?;
    for (key, value) in EARLIER {
        producer
            .send(FutureRecord::to(topic).key(key).payload(value), TIMEOUT)
            .await
            .map_err(|(e, _)| e)
            .context(tr!("writing the topic's earlier records"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The checks must catch the plausible mistakes reliably, not by luck.

    use super::*;
    use crate::ch1_cluster::program::{producer, send};

    fn failed(write_and_count: Code) -> Vec<String> {
        crate::exercises::failed_checks(checks, write_and_count)
    }

    /// Counting one's own delivery reports misses the others' records and
    /// the empty partitions.
    async fn own_count(
        bootstrap: &str,
        topic: &str,
        records: &[(String, String)],
    ) -> Result<BTreeMap<i32, i64>> {
        let producer = producer(bootstrap)?;
        let mut counts = BTreeMap::new();
        for (key, value) in records {
            let (partition, _) = send(&producer, topic, key, value).await?;
            *counts.entry(partition).or_insert(0) += 1;
        }
        Ok(counts)
    }

    #[test]
    fn counting_ones_own_records_fails() {
        assert_eq!(
            failed(|b, t, r| Box::pin(own_count(b, t, r))),
            ["the counts are what each partition stores, every partition listed"]
        );
    }
}
