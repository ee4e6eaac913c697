//! Checks of exercise 5: a late consumer reads what waited for it.
//!
//! The checks write the commands of four lots and close the producer; only
//! then does a consumer of a new group start, with the course's settings plus
//! the student's. It must receive all of them, each partition in order. The
//! checks commit what it read and stop it; a lot is written while it is away;
//! started again, the group must receive exactly that lot.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::Message;
use tokio::time::Instant;

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

const PARTITIONS: i32 = 3;
/// Written before the consumer exists (their keys spread over the 3 partitions).
const LOTS: [&str; 4] = ["lot-A", "lot-B", "lot-C", "lot-D"];
/// Written while the consumer is stopped.
const LATER_LOT: &str = "lot-E";
const GROUP: &str = "late-readers";
const TIMEOUT: Duration = Duration::from_secs(5);
/// Once the consumer has its partitions, how long it may stay without a new
/// record before the checks conclude that nothing more is coming. (It takes
/// milliseconds for records that are there; this bounds a failing run.)
const QUIET: Duration = Duration::from_millis(1500);
/// The longest a consumer session may last, whatever happens.
const SESSION_CAP: Duration = Duration::from_secs(6);

/// The student's function.
pub type Code = fn(&mut ClientConfig);

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

/// A record's place in its topic.
type Position = (i32, i64);

/// What one consumer session got.
struct Session {
    /// Positions received, in arrival order.
    received: Vec<Position>,
    /// The first error the consumer reported, if any.
    error: Option<String>,
    /// How committing after the session went (`None`: nothing to commit).
    commit: Option<Result<(), String>>,
}

async fn check_with(settings: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic("machine-commands", PARTITIONS, 3).await?;
    let commands: Vec<MachineCommand> = (1..=3)
        .flat_map(|step| LOTS.iter().map(move |lot| MachineCommand::step(lot, step)))
        .collect();
    let first = produce_and_close(ctx, &topic, &commands).await?;

    // The group's consumer, made as the checks make it, then by the student.
    let config = || {
        let mut config = ctx.consumer_config(GROUP);
        config.set("enable.auto.commit", "false");
        settings(&mut config);
        config
    };

    // 1. A consumer of a new group, after the producer is gone.
    checks.step(tr!(
        "a consumer of a new group, with your late_consumer_settings, reads the topic"
    ));
    let s1 = session(&config(), &topic, |got| got.len() >= first.len()).await?;
    let got: BTreeSet<Position> = s1.received.iter().copied().collect();
    let all = first.iter().all(|p| got.contains(p));
    checks.check(
        &tr!(
            "a new group started after the producer closed receives all {} records",
            first.len()
        ),
        all,
        tr!(
            "it received {} of the {} records written before it started{}.\n\
             A new group has no committed offset, so auto.offset.reset decides where its\n\
             consumer starts in each partition: \"earliest\" is the oldest record still stored,\n\
             \"latest\" is the end of the partition, i.e. only records written from now on.\n\
             The default is \"latest\" (chapter 5: a consumer that starts later).",
            got.intersection(&first.iter().copied().collect()).count(),
            first.len(),
            s1.error
                .as_ref()
                .map(|e| tr!(" (the consumer reported: {e})"))
                .unwrap_or_default()
        ),
    );
    if !s1.received.is_empty() {
        let out_of_order: Vec<i32> = (0..PARTITIONS)
            .filter(|p| {
                let written: Vec<&Position> = first.iter().filter(|q| q.0 == *p).collect();
                let read: Vec<&Position> = s1.received.iter().filter(|q| q.0 == *p).collect();
                !written.starts_with(&read) && !read.is_empty()
            })
            .collect();
        checks.check(
            tr_static!("it reads each partition in the order it was written"),
            out_of_order.is_empty(),
            tr!(
                "in partition(s) {out_of_order:?} the records did not arrive in the order of their offsets.\n\
                 A consumer reads each partition from its starting offset upwards (chapter 5)."
            ),
        );
    }
    if !all {
        return Ok(());
    }

    // 2. The group is stopped (the checks committed what it read), a lot is
    // written meanwhile, and the group starts again.
    let later = produce_and_close(ctx, &topic, &MachineCommand::sequence(LATER_LOT)).await?;
    let s2 = session(&config(), &topic, |got| {
        later.iter().all(|p| got.contains(p))
    })
    .await?;
    let again = s2.received.iter().filter(|p| got.contains(p)).count();
    let new = s2.received.iter().filter(|p| later.contains(p)).count();
    let commit = match &s1.commit {
        Some(Ok(())) => {
            tr!("The checks committed the first session's position before stopping it.")
        }
        Some(Err(e)) => tr!("Committing after the first session failed: {e}."),
        None => tr!("The first session had nothing to commit."),
    };
    checks.check(
        &tr!("started again, the group resumes where it left off: only the {} new records", later.len()),
        s2.received == later,
        tr!(
            "started again, it received {} records: {again} it had already read, and {new} of the {} written\n\
             while it was away{}. {commit}\n\
             Where the group has a committed offset, its consumer resumes there: auto.offset.reset\n\
             only applies where it has none. Re-reading means the group found no committed offset\n\
             (a group.id that changes? offsets not stored?) (chapter 5).",
            s2.received.len(),
            later.len(),
            s2.error.as_ref().map(|e| tr!(" (the consumer reported: {e})")).unwrap_or_default()
        ),
    );
    Ok(())
}

/// Write `commands` keyed by lot, then flush and drop the producer: when this
/// returns, no producer is left. Their positions, in send order.
async fn produce_and_close(
    ctx: &Stage,
    topic: &str,
    commands: &[MachineCommand],
) -> Result<Vec<Position>> {
    let producer: FutureProducer = ctx
        .client_config()
        .set("linger.ms", "0")
        .create()
        .context(tr!("creating the producer"))?;
    let mut written = Vec::new();
    for command in commands {
        let json = serde_json::to_vec(command)?;
        let record = FutureRecord::to(topic).key(&command.lot).payload(&json);
        let delivery = producer
            .send(record, TIMEOUT)
            .await
            .map_err(|(e, _)| e)
            .context(tr!("producing"))?;
        written.push((delivery.partition, delivery.offset));
    }
    producer.flush(TIMEOUT).context(tr!("flushing"))?;
    Ok(written)
}

/// One session of a consumer made from `config`: subscribe, receive until
/// `done` or until nothing has come for [`QUIET`] since it got its partitions
/// (never longer than [`SESSION_CAP`]), commit what it read, leave.
async fn session(
    config: &ClientConfig,
    topic: &str,
    done: impl Fn(&[Position]) -> bool,
) -> Result<Session> {
    let consumer: StreamConsumer = config
        .create()
        .context(tr!("creating the consumer with your settings"))?;
    consumer.subscribe(&[topic]).context(tr!("subscribing"))?;
    let cap = Instant::now() + SESSION_CAP;
    let mut quiet_since: Option<Instant> = None;
    let mut received = Vec::new();
    let mut error = None;
    while !done(&received) {
        let now = Instant::now();
        if now >= cap || quiet_since.is_some_and(|t| now.duration_since(t) >= QUIET) {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await {
            Ok(Ok(m)) => {
                received.push((m.partition(), m.offset()));
                quiet_since = Some(Instant::now());
            }
            Ok(Err(e)) => {
                error.get_or_insert_with(|| e.to_string());
            }
            Err(_) => {}
        }
        if quiet_since.is_none()
            && consumer
                .assignment()
                .map(|a| a.count() > 0)
                .unwrap_or(false)
        {
            quiet_since = Some(Instant::now());
        }
    }
    // Commit the position reached in every partition, as an application
    // does once it has processed what it read.
    let commit = (!received.is_empty()).then(|| {
        consumer
            .commit_consumer_state(CommitMode::Sync)
            .map_err(|e| e.to_string())
    });
    Ok(Session {
        received,
        error,
        commit,
    })
}

#[cfg(test)]
mod tests {
    //! The checks catch the plausible mistakes. (How long a failing run
    //! takes is measured by `course bench --exercises`, not asserted here;
    //! `SESSION_CAP` bounds it.)

    use super::*;

    /// The names of the checks `settings` fails.
    fn failed(settings: Code) -> Vec<String> {
        crate::exercises::failed_checks(checks, settings)
    }

    #[test]
    fn the_default_skips_what_waited() {
        fn default(_: &mut ClientConfig) {}
        assert_eq!(
            failed(default),
            ["a new group started after the producer closed receives all 12 records"]
        );
    }

    /// Reading from the beginning with a fresh group every time is not it.
    #[test]
    fn a_fresh_group_each_time_fails() {
        fn fresh_group(config: &mut ClientConfig) {
            static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            config
                .set("auto.offset.reset", "earliest")
                .set("group.id", format!("late-readers-{n}"));
        }
        fn no_offset_store(config: &mut ClientConfig) {
            config
                .set("auto.offset.reset", "earliest")
                .set("enable.auto.offset.store", "false");
        }
        let resume = "started again, the group resumes where it left off: only the 3 new records";
        assert_eq!(failed(fresh_group), [resume]);
        assert_eq!(failed(no_offset_store), [resume]);
    }
}
