//! Checks of exercise 5.3: a consumer that starts late reads everything that
//! waited.
//!
//! The checks write the commands of four lots to a topic of three
//! partitions and close the producer; only then do they call the student's
//! `read_what_waited`, in a group that has never run. They compare what it
//! returns with what each partition holds, read the group's committed
//! offsets with a client that is not a member, write one more lot, and call
//! it again: the second run must return exactly that lot.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

const TOPIC: &str = "machine-commands";
const PARTITIONS: i32 = 3;
const GROUP: &str = "morning-report";
/// Written during the "night", before the reader exists.
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// Written between the reader's two runs.
const LATER_LOT: &str = "lot-E";
const WAIT: Duration = Duration::from_secs(5);

/// What a partition holds or what the reader returned: partition → commands.
type ByPartition = BTreeMap<i32, Vec<MachineCommand>>;

/// The student's function.
pub type Code = for<'a, 'b> fn(&'a ClientConfig, &'b str) -> Result<ByPartition>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

async fn check_with(read_what_waited: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic(TOPIC, PARTITIONS, 3).await?;
    // Step 1, 2, 3 of each lot, interleaved as a busy workshop writes them.
    let night: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| LOTS.iter().map(move |lot| MachineCommand::step(lot, step)))
        .collect();
    let stored = produce_and_close(ctx, &topic, &night).await?;
    let config = || {
        let mut c = ctx.consumer_config(GROUP);
        c.set("enable.auto.commit", "false");
        c
    };

    // 1. The reader's first run, after the producer is gone.
    checks.step(tr!(
        "calling your read_what_waited in a new group, after the producer has closed"
    ));
    let first = read_what_waited(&config(), &topic);
    let got = match &first {
        Ok(got) => got.clone(),
        Err(e) => {
            let detail = tr!("read_what_waited returned an error: {e:#}");
            for name in names() {
                checks.check(&name, false, &detail);
            }
            return Ok(());
        }
    };
    let total = night.len();
    let returned: usize = got.values().map(Vec::len).sum();
    let missing: Vec<String> = night
        .iter()
        .filter(|c| !got.values().flatten().any(|g| g == *c))
        .map(MachineCommand::label)
        .collect();
    checks.check(
        &names()[0],
        missing.is_empty() && returned == total,
        tr!(
            "It returned {returned} commands; {total} were written before it started.{}\n\
             A new group has no committed offset, so auto.offset.reset decides where its consumer\n\
             starts: \"earliest\" is the oldest record still stored, the default \"latest\" the end\n\
             (only what is written from now on). And a reader that stops before every partition\n\
             has reported its end (enable.partition.eof) misses the rest\n\
             (chapter 5: a consumer that starts later).",
            if missing.is_empty() || missing.len() == total {
                String::new()
            } else {
                tr!("\nMissing: {}.", missing.join(", "))
            }
        ),
    );
    let wrong: Vec<String> = (0..PARTITIONS)
        .filter(|p| got.get(p).is_some_and(|g| !g.is_empty()) && got.get(p) != stored.get(p))
        .map(|p| {
            tr!(
                "partition {p} holds {}, it returned {}",
                labels(stored.get(&p)),
                labels(got.get(&p))
            )
        })
        .chain(
            got.keys()
                .filter(|p| !(0..PARTITIONS).contains(*p))
                .map(|p| tr!("there is no partition {p}")),
        )
        .collect();
    checks.check(
        &names()[1],
        wrong.is_empty() && !got.is_empty(),
        if got.is_empty() {
            tr!("It returned nothing, so no partition's order could be compared (chapter 5).")
        } else {
            tr!(
                "{}.\nEach partition's commands must come in the order of their offsets, under the\n\
                 partition that holds them (record.partition()): a consumer reads each partition\n\
                 from its starting offset upwards (chapter 5: a consumer that starts later).",
                wrong.join(";\n")
            )
        },
    );

    // 2. Where the group would resume: read independently.
    let committed = committed_offsets(ctx, &topic)?;
    let ends: BTreeMap<i32, i64> = (0..PARTITIONS)
        .map(|p| (p, stored.get(&p).map_or(0, |v| v.len() as i64)))
        .collect();
    let behind: Vec<String> = ends
        .iter()
        .filter(|(p, end)| committed.get(p).copied().flatten() != Some(**end))
        .map(|(p, end)| match committed.get(p).copied().flatten() {
            Some(c) => tr!("partition {p}: committed {c}, end {end}"),
            None => tr!("partition {p}: nothing committed, end {end}"),
        })
        .collect();
    checks.check(
        &names()[2],
        behind.is_empty(),
        tr!(
            "Once it returned, the group's committed offsets were:\n  {}.\n\
             Commit what was read before returning (consumer.commit_consumer_state(CommitMode::Sync)):\n\
             otherwise the group's next run starts again from the beginning\n\
             (chapter 5: a consumer that starts later; chapter 4: offsets and commits).",
            behind.join(";\n  ")
        ),
    );

    // 3. One more lot while the reader is away, then its second run.
    let later = produce_and_close(ctx, &topic, &MachineCommand::sequence(LATER_LOT)).await?;
    checks.step(tr!(
        "{LATER_LOT} written; calling your read_what_waited again in the same group"
    ));
    let second = read_what_waited(&config(), &topic);
    let name = &names()[3];
    match second {
        Ok(got2) => {
            let got2: ByPartition = got2.into_iter().filter(|(_, v)| !v.is_empty()).collect();
            let count: usize = got2.values().map(Vec::len).sum();
            checks.check(
                name,
                got2 == later,
                tr!(
                    "The second run returned {count} commands: {}.\n\
                     {} were written since the first: {}.\n\
                     Where the group has committed offsets, its consumer resumes there: a second run\n\
                     that reads everything again found no committed offset (chapter 5: a consumer that\n\
                     starts later).",
                    labels(Some(&got2.values().flatten().cloned().collect())),
                    MachineCommand::sequence(LATER_LOT).len(),
                    labels(later.values().next()),
                ),
            );
        }
        Err(e) => {
            checks.check(name, false, tr!("The second run returned an error: {e:#}"));
        }
    }
    Ok(())
}

/// The names of the four checks, in order.
fn names() -> Vec<String> {
    vec![
        tr!(
            "it returns all {} commands written before it started",
            LOTS.len() * 3
        ),
        tr_static!("each partition's commands, in the order of their offsets").to_string(),
        tr_static!("before returning, it commits the end of every partition").to_string(),
        tr!("started again, it returns only {LATER_LOT}'s 3 commands"),
    ]
}

/// "lot-A M1 mill, lot-C M1 mill" or "nothing".
fn labels(commands: Option<&Vec<MachineCommand>>) -> String {
    match commands {
        Some(c) if !c.is_empty() => c
            .iter()
            .map(MachineCommand::label)
            .collect::<Vec<_>>()
            .join(", "),
        _ => tr!("nothing"),
    }
}

/// Write `commands` keyed by lot, then flush and drop the producer. What
/// each partition received, in offset order.
async fn produce_and_close(
    ctx: &Stage,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<ByPartition> {
    let producer: FutureProducer = ctx
        .client_config()
        .set("linger.ms", "0")
        .create()
        .context(tr!("creating the producer"))?;
    let mut written: BTreeMap<i32, Vec<(i64, MachineCommand)>> = BTreeMap::new();
    for command in commands {
        let json = serde_json::to_vec(command)?;
        let record = FutureRecord::to(topic).key(&command.lot).payload(&json);
        let delivery = producer
            .send(record, WAIT)
            .await
            .map_err(|(e, _)| e)
            .context(tr!("producing"))?;
        written
            .entry(delivery.partition)
            .or_default()
            .push((delivery.offset, command.clone()));
    }
    producer.flush(WAIT).context(tr!("flushing"))?;
    Ok(written
        .into_iter()
        .map(|(p, mut v)| {
            v.sort_by_key(|(o, _)| *o);
            (p, v.into_iter().map(|(_, c)| c).collect())
        })
        .collect())
}

/// The group's committed offset on each partition (`None`: never
/// committed), asked by a client that names the group but is not a member.
fn committed_offsets(ctx: &Stage, topic: &str) -> Result<BTreeMap<i32, Option<i64>>> {
    let probe: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name(GROUP))
        .create()?;
    let mut wanted = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        wanted.add_partition(topic, p);
    }
    let committed = probe
        .committed_offsets(wanted, WAIT)
        .context(tr!("reading the committed offsets"))?;
    Ok((0..PARTITIONS)
        .map(|p| {
            let o = match committed.find_partition(topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => Some(o),
                _ => None,
            };
            (p, o)
        })
        .collect())
}
