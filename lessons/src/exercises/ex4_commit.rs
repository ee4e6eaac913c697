//! Checks of exercise 4: fix an off-by-one commit.
//!
//! On a fresh embedded cluster: six drill commands are written to a topic
//! with one partition. A consumer of the group processes the first four,
//! calling the student's `commit_processed` after each, then "crashes"
//! (closes without committing anything more). The checks look at what the
//! group committed, at the lag, at where a restarted consumer resumes, and,
//! once everything is processed, at whether a second restart reads anything
//! again. They read the committed offsets and watermarks independently, with
//! a client that is not a member of the group.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// The topic the drill controller reads, and its group (logical names).
const TOPIC: &str = "drill-commands";
const GROUP: &str = "drill";
/// The lots whose drill step is written: one record each, offsets 0 to 5.
const LOTS: [&str; 6] = ["lot-A", "lot-B", "lot-C", "lot-D", "lot-E", "lot-F"];
/// How many records the first consumer processes before it crashes.
const BEFORE_CRASH: i64 = 4;
/// Every wait is bounded by this (a run that works takes about a second).
const WAIT: Duration = Duration::from_secs(5);

/// The student's function.
pub type Code = for<'a, 'b, 'c> fn(&'a BaseConsumer, &'b BorrowedMessage<'c>) -> Result<()>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        let commit = code;
        let topic = ctx.create_topic(TOPIC, 1, 3).await?;
        let records = LOTS.len() as i64;

        // The drill step of each lot, offsets 0 to 5, in one partition.
        let producer: FutureProducer = ctx.client_config().set("linger.ms", "0").create()?;
        let mut labels = BTreeMap::new();
        for lot in LOTS {
            let cmd = MachineCommand::step(lot, 2);
            let payload = serde_json::to_string(&cmd)?;
            let delivered = producer
                .send(FutureRecord::to(&topic).key(lot).payload(&payload), WAIT)
                .await
                .map_err(|(e, _)| e)
                .context(tr!("writing the drill commands"))?;
            labels.insert(delivered.offset, cmd.label());
        }
        let label = |o: i64| labels.get(&o).cloned().unwrap_or_else(|| "?".into());
        // How many times each offset was processed, over every run.
        let mut done: BTreeMap<i64, usize> = (0..records).map(|o| (o, 0)).collect();
        let observer = Observer::new(ctx, &topic)?;

        // Run 1: process the first four records, commit after each, crash.
        checks.step(tr!(
            "a consumer processes offsets 0 to {}, calling your commit_processed after each",
            BEFORE_CRASH - 1
        ));
        {
            let consumer = member(ctx, &topic)?;
            let deadline = Instant::now() + WAIT;
            for _ in 0..BEFORE_CRASH {
                let Some(m) = next(&consumer, deadline)? else {
                    bail!(
                        "{}",
                        tr!("the first consumer reached the end of the partition before offset {BEFORE_CRASH}")
                    );
                };
                *done.entry(m.offset()).or_default() += 1;
                commit(&consumer, &m)?;
            }
            // The crash: nothing more is committed (enable.auto.commit=false),
            // and closing the consumer hands the partition back to the group.
        }
        let last = BEFORE_CRASH - 1;
        let (committed, high) = observer.position()?;
        checks.check(
            &tr!("after offsets 0 to {last} are processed, the committed offset is {BEFORE_CRASH}, the next to read"),
            committed == Some(BEFORE_CRASH),
            match committed {
                None => tr!(
                    "After offsets 0 to {last} were processed, the group has no committed offset at all:\n\
                     `commit_processed` did not commit to the group, or not before it returned\n\
                     (chapter 4: offsets and commits)."
                ),
                Some(c) => tr!(
                    "After offsets 0 to {last} were processed, the group's committed offset is {c}.\n\
                     A committed offset is not the last record done: it is the NEXT record the group\n\
                     reads, so {c} means \"resume at offset {c}\":\n\
                     {}\n\
                     (chapter 4: offsets and commits).",
                    resume_means(c, BEFORE_CRASH, &label)
                ),
            },
        );
        let lag = high - committed.unwrap_or(0);
        let waiting = records - BEFORE_CRASH;
        checks.check(
            &tr!("after the crash, the lag counts the {waiting} records not processed yet"),
            lag == waiting,
            tr!(
                "After the crash, offsets {} were still to do ({waiting} records), but the lag\n\
                 is {lag}: high watermark {high} - committed offset {}. Lag counts the records\n\
                 from the committed offset on, so it is only right if the committed offset is the\n\
                 next record to read (chapter 4: lag).",
                list(&(BEFORE_CRASH..records).collect::<Vec<_>>()),
                committed
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| tr!("none (counted from 0)")),
            ),
        );

        // Run 2: the controller restarts in the same group and does the rest.
        checks.step(tr!(
            "the restarted consumer processes the rest, calling your commit_processed after each"
        ));
        let mut after_restart = Vec::new();
        {
            let consumer = member(ctx, &topic)?;
            let deadline = Instant::now() + WAIT;
            while let Some(m) = next(&consumer, deadline)? {
                after_restart.push(m.offset());
                *done.entry(m.offset()).or_default() += 1;
                commit(&consumer, &m)?;
            }
        }
        let twice: Vec<i64> = done
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(&o, _)| o)
            .collect();
        let skipped: Vec<i64> = done
            .iter()
            .filter(|(_, &n)| n == 0)
            .map(|(&o, _)| o)
            .collect();
        let first = after_restart.first().copied();
        let mut detail = match first {
            Some(f) => tr!("The restarted consumer began at offset {f} ({}).", label(f)),
            None => tr!("The restarted consumer read nothing at all."),
        };
        if !twice.is_empty() {
            detail.push('\n');
            detail.push_str(&records_were(&twice, &label, Fate::Twice));
            match committed {
                Some(c) => detail.push_str(&tr!(
                    ": the group had committed {c}, which\nmeans \"the next record to read is {c}\", not \"{c} is done\"."
                )),
                None => detail.push_str(tr_static!(
                    ": the group had no committed offset, so the\nrestart began where auto.offset.reset says (earliest here: offset 0)."
                )),
            }
        }
        if !skipped.is_empty() {
            detail.push('\n');
            detail.push_str(&records_were(&skipped, &label, Fate::Never));
            match committed {
                Some(c) => detail.push_str(&tr!(
                    ": the group had committed {c}, which\nmeans \"the next record to read is {c}\": every record before {c} counts as done."
                )),
                None => detail.push('.'),
            }
        }
        detail.push_str(tr_static!(
            "\n(Chapter 4: offsets and commits; commit, crash, restart.)"
        ));
        checks.check(
            &tr!("the restarted consumer resumes at offset {BEFORE_CRASH}: nothing processed twice, nothing skipped"),
            first == Some(BEFORE_CRASH) && twice.is_empty() && skipped.is_empty(),
            detail,
        );

        // Everything is processed now. The lag should be 0, and a consumer
        // restarted with nothing new should find nothing to do.
        let (committed_end, high_end) = observer.position()?;
        let lag_end = high_end - committed_end.unwrap_or(0);
        checks.step(tr!(
            "a consumer restarted with nothing new reads what is left"
        ));
        let mut again = Vec::new();
        {
            let consumer = member(ctx, &topic)?;
            let deadline = Instant::now() + WAIT;
            while let Some(m) = next(&consumer, deadline)? {
                again.push(m.offset());
            }
        }
        checks.check(
            &tr!("once all {records} records are processed, the lag is 0 and a restart reads nothing again"),
            lag_end == 0 && again.is_empty(),
            tr!(
                "With all {records} records (offsets 0 to {}) processed, the group's committed offset is {}\n\
                 and the lag {lag_end} (high watermark {high_end} - committed offset). A consumer restarted\n\
                 with nothing new to do read {}.\n\
                 A group done with everything has committed the high watermark, the offset the next\n\
                 record written will get: lag 0, nothing to read again (chapter 4: lag).",
                records - 1,
                committed_end.map(|c| c.to_string()).unwrap_or_else(|| tr!("none")),
                if again.is_empty() { tr!("nothing") } else { tr!("{} again", offsets_text(&again, &label)) },
            ),
        );
        Ok(())
    })
}

/// What happened to records, for [`records_were`].
#[derive(Clone, Copy)]
enum Fate {
    Twice,
    Never,
}

/// "Record 3 (lot-D M2 drill) was processed twice" or "Records 0, 1, 2
/// and 3 were never processed" (whole sentences: French agrees the verb).
fn records_were(offsets: &[i64], label: &dyn Fn(i64) -> String, fate: Fate) -> String {
    match (offsets, fate) {
        ([o], Fate::Twice) => tr!("Record {o} ({}) was processed twice", label(*o)),
        ([o], Fate::Never) => tr!("Record {o} ({}) was never processed", label(*o)),
        (_, Fate::Twice) => tr!("Records {} were processed twice", list(offsets)),
        (_, Fate::Never) => tr!("Records {} were never processed", list(offsets)),
    }
}

/// "offset 5 (lot-F M2 drill)" or "offsets 0, 1 and 2".
fn offsets_text(offsets: &[i64], label: &dyn Fn(i64) -> String) -> String {
    match offsets {
        [o] => tr!("offset {o} ({})", label(*o)),
        _ => tr!("offsets {}", list(offsets)),
    }
}

/// "0, 1 and 2".
fn list(offsets: &[i64]) -> String {
    let text: Vec<String> = offsets.iter().map(|o| o.to_string()).collect();
    match text.split_last() {
        Some((last, rest)) if !rest.is_empty() => tr!("{} and {last}", rest.join(", ")),
        _ => text.join(""),
    }
}

/// What a committed offset `c` makes a restarted consumer do, when the
/// right one was `next`.
fn resume_means(c: i64, next: i64, label: &dyn Fn(i64) -> String) -> String {
    if c < next {
        tr!(
            "a restart would process offset {c} ({}) a second time",
            label(c)
        )
    } else if c > next {
        tr!(
            "a restart would never process offset {next} ({})",
            label(next)
        )
    } else {
        tr!("which is right")
    }
}

/// A new consumer of the drill controller's group, subscribed to `topic`.
fn member(ctx: &Stage, topic: &str) -> Result<BaseConsumer> {
    let consumer: BaseConsumer = ctx
        .consumer_config(GROUP)
        // Commit only through `commit_processed`, never behind its back.
        .set("enable.auto.commit", "false")
        // With no committed offset, start at the oldest record.
        .set("auto.offset.reset", "earliest")
        // Say when the end of the partition is reached: the checks then know
        // that a consumer has read everything it will read, without waiting.
        .set("enable.partition.eof", "true")
        .create()
        .context(tr!("creating a consumer"))?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}

/// The next record, or `None` at the end of the partition.
fn next<'c>(consumer: &'c BaseConsumer, deadline: Instant) -> Result<Option<BorrowedMessage<'c>>> {
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(20)) {
            None => continue,
            Some(Ok(m)) => return Ok(Some(m)),
            Some(Err(KafkaError::PartitionEOF(_))) => return Ok(None),
            Some(Err(e)) => return Err(e).context(tr!("reading the drill commands")),
        }
    }
    bail!(
        "{}",
        tr!("the consumer got neither a record nor the end of the partition within {WAIT:?}")
    )
}

/// Reads the group's committed offset and the partition's high watermark.
/// It carries the group's id but never subscribes: it is not a member.
struct Observer {
    consumer: BaseConsumer,
    topic: String,
}

impl Observer {
    fn new(ctx: &Stage, topic: &str) -> Result<Observer> {
        let consumer = ctx
            .client_config()
            .set("group.id", ctx.name(GROUP))
            .create()?;
        Ok(Observer {
            consumer,
            topic: topic.to_string(),
        })
    }

    /// (the group's committed offset, if any; the high watermark) of partition 0.
    fn position(&self) -> Result<(Option<i64>, i64)> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.topic, 0);
        let committed = self
            .consumer
            .committed_offsets(tpl, WAIT)
            .context(tr!("reading the committed offset"))?;
        let committed = match committed.find_partition(&self.topic, 0).map(|e| e.offset()) {
            Some(Offset::Offset(n)) => Some(n),
            _ => None,
        };
        let (_, high) = self
            .consumer
            .fetch_watermarks(&self.topic, 0, WAIT)
            .context(tr!("reading the watermarks"))?;
        Ok((committed, high))
    }
}
