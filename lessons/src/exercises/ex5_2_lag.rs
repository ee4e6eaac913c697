//! Checks of exercise 5.2: how far behind is a group?
//!
//! The checks write a known number of records to each of three partitions,
//! commit offsets for a group as a consumer of that group would (partition 0
//! read to the end, partition 1 half-way, partition 2 never), then ask the
//! student's `group_lag` with a probe that is not a member of the group.
//! Then they write more records to partition 0 and ask again: the lag is
//! a live measure, not a number remembered.

use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

const TOPIC: &str = "machine-commands";
const GROUP: &str = "night-report";
/// Records written to partitions 0, 1 and 2.
const WRITTEN: [i64; 3] = [4, 5, 3];
/// The group's committed offsets on partitions 0 and 1 (none on 2).
const COMMITTED: [i64; 2] = [4, 2];
/// Written to partition 0 after the first question.
const MORE: i64 = 3;
const WAIT: Duration = Duration::from_secs(5);

/// The student's function.
pub type Code = for<'a, 'b> fn(&'a BaseConsumer, &'b str, i32) -> Result<Vec<i64>>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

async fn check_with(group_lag: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic(TOPIC, WRITTEN.len() as i32, 3).await?;
    let producer: FutureProducer = ctx.client_config().set("linger.ms", "0").create()?;
    for (p, n) in WRITTEN.iter().enumerate() {
        write(&producer, &topic, p as i32, *n).await?;
    }
    commit(ctx, &topic).await?;

    let probe: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name(GROUP))
        .create()
        .context(tr!("creating the probe"))?;
    checks.step(tr!("calling your group_lag for the group's 3 partitions"));
    let lags = group_lag(&probe, &topic, WRITTEN.len() as i32);
    let lags = match lags {
        Ok(l) if l.len() == WRITTEN.len() => l,
        Ok(l) => {
            let detail = tr!(
                "group_lag returned {} numbers for 3 partitions: element p must be partition p's lag\n\
                 (chapter 5: a consumer that starts later).",
                l.len()
            );
            fail_all(checks, &detail);
            return Ok(());
        }
        Err(e) => {
            let detail = tr!("group_lag returned an error: {e:#}");
            fail_all(checks, &detail);
            return Ok(());
        }
    };
    let [c0, c1] = COMMITTED;
    checks.check(
        &name(0),
        lags[0] == 0,
        tr!(
            "Partition 0 holds {} records (high watermark {}) and the group committed {c0}: it has\n\
             read everything, so its lag is {} - {c0} = 0, but group_lag says {}. The lag is the high\n\
             watermark minus the committed offset, the NEXT record the group reads\n\
             (chapter 5: a consumer that starts later; chapter 4: lag).",
            WRITTEN[0],
            WRITTEN[0],
            WRITTEN[0],
            lags[0]
        ),
    );
    checks.check(
        &name(1),
        lags[1] == WRITTEN[1] - c1,
        tr!(
            "Partition 1 holds {} records (offsets 0 to {}) and the group committed {c1}: offsets {c1}\n\
             to {} are still to read, a lag of {}, but group_lag says {}. Ask the group's committed\n\
             offset (committed_offsets) and the partition's high watermark (fetch_watermarks)\n\
             (chapter 5: a consumer that starts later).",
            WRITTEN[1],
            WRITTEN[1] - 1,
            WRITTEN[1] - 1,
            WRITTEN[1] - c1,
            lags[1]
        ),
    );
    checks.check(
        &name(2),
        lags[2] == WRITTEN[2],
        tr!(
            "Partition 2 holds {} records and the group has never committed there, so it has them\n\
             all to read (from the low watermark, 0 here), but group_lag says {}. Where the group\n\
             has no committed offset, committed_offsets answers Offset::Invalid, not a number: count\n\
             from the low watermark, the oldest record retention has kept\n\
             (chapter 5: retention: durable, not endless).",
            WRITTEN[2],
            lags[2]
        ),
    );

    // More records for partition 0, nothing read: the lag must grow.
    write(&producer, &topic, 0, MORE).await?;
    checks.step(tr!(
        "{MORE} more records written to partition 0; calling your group_lag again"
    ));
    let again = group_lag(&probe, &topic, WRITTEN.len() as i32);
    let lag0 = again.as_ref().ok().and_then(|l| l.first().copied());
    checks.check(
        &tr!("after {MORE} more records are written to partition 0, its lag is {MORE}"),
        lag0 == Some(MORE),
        tr!(
            "{MORE} records were written to partition 0 after the group's last commit (at {c0}), so it\n\
             has {MORE} to read, but group_lag now says {}. Ask the cluster each time: the high\n\
             watermark moves with every record written (chapter 5: a consumer that starts later).",
            match &again {
                Ok(l) => l
                    .first()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| tr!("nothing")),
                Err(e) => tr!("an error: {e:#}"),
            }
        ),
    );
    Ok(())
}

/// The name of the check of partition `p`.
fn name(p: usize) -> String {
    match p {
        0 => tr_static!("partition 0, read to the end: lag 0").to_string(),
        1 => tr!(
            "partition 1, committed at {} of {} records: lag {}",
            COMMITTED[1],
            WRITTEN[1],
            WRITTEN[1] - COMMITTED[1]
        ),
        _ => tr!(
            "partition 2, never committed: lag {}, every record stored",
            WRITTEN[2]
        ),
    }
}

/// When group_lag gave nothing to compare: the three partitions' checks fail
/// with the same reason.
fn fail_all(checks: &Checks, detail: &str) {
    for p in 0..WRITTEN.len() {
        checks.check(&name(p), false, detail);
    }
}

/// Write `n` drill commands to partition `p` of `topic`.
async fn write(producer: &FutureProducer, topic: &str, p: i32, n: i64) -> Result<()> {
    for i in 0..n {
        let cmd = MachineCommand::step(&format!("lot-{p}{i}"), 2);
        let json = serde_json::to_vec(&cmd)?;
        producer
            .send(
                FutureRecord::to(topic)
                    .partition(p)
                    .key(&cmd.lot)
                    .payload(&json),
                WAIT,
            )
            .await
            .map_err(|(e, _)| e)
            .context(tr!("writing the drill commands"))?;
    }
    Ok(())
}

/// Commit the group's offsets as its consumer would after reading:
/// partitions 0 and 1 at [`COMMITTED`], nothing on partition 2. (A consumer
/// given its partitions by `assign`, outside any rebalance, may commit for
/// its group.)
async fn commit(ctx: &Stage, topic: &str) -> Result<()> {
    let consumer: BaseConsumer = ctx
        .consumer_config(GROUP)
        .set("enable.auto.commit", "false")
        .create()
        .context(tr!("creating a consumer"))?;
    let mut offsets = TopicPartitionList::new();
    for (p, c) in COMMITTED.iter().enumerate() {
        offsets.add_partition_offset(topic, p as i32, Offset::Offset(*c))?;
    }
    consumer.assign(&offsets)?;
    consumer
        .commit(&offsets, CommitMode::Sync)
        .context(tr!("committing the group's offsets"))?;
    Ok(())
}
