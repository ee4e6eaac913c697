//! Checks of exercise 6.2: spot a duplicate or out-of-order command in a
//! partition.
//!
//! The checks write to one partition the log that a producer without
//! idempotence can leave after retries (a command stored twice, a step
//! stored before the one it follows), two lots interleaved. Then a
//! controller reads the partition from the beginning and calls the
//! student's `verdict` on each record, in order, with one `last_run` map.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::Checks;
use crate::kit::Stage;
use crate::workshop::MachineCommand;
use crate::{tr, tr_static};

/// What the controller does with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The lot's next step: run it.
    Run,
    /// A step of the lot that has already run: skip it.
    Duplicate,
    /// A step whose previous step has not run yet: do not run it now.
    OutOfOrder,
}

/// The log of the partition, offset by offset: (lot, step), and the right
/// verdict.
const LOG: [(&str, u32, Verdict); 8] = [
    ("lot-A", 1, Verdict::Run),
    ("lot-B", 1, Verdict::Run),
    ("lot-A", 2, Verdict::Run),
    ("lot-A", 2, Verdict::Duplicate),
    ("lot-B", 3, Verdict::OutOfOrder),
    ("lot-B", 2, Verdict::Run),
    ("lot-A", 3, Verdict::Run),
    ("lot-A", 1, Verdict::Duplicate),
];
const WAIT: Duration = Duration::from_secs(5);

/// The student's function.
pub type Code =
    for<'a, 'b, 'c> fn(&'a mut HashMap<String, u32>, &'b BorrowedMessage<'c>) -> Result<Verdict>;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

async fn check_with(verdict: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let topic = ctx.create_topic("lot-commands", 1, 3).await?;
    let producer: FutureProducer = ctx.client_config().set("linger.ms", "0").create()?;
    for (lot, step, _) in LOG {
        let cmd = MachineCommand::step(lot, step);
        let json = serde_json::to_vec(&cmd)?;
        producer
            .send(FutureRecord::to(&topic).key(lot).payload(&json), WAIT)
            .await
            .map_err(|(e, _)| e)
            .context(tr!("writing the partition's log"))?;
    }

    checks.step(tr!(
        "a controller reads the partition and calls your verdict on each record"
    ));
    let consumer: BaseConsumer = ctx
        .consumer_config("controller")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .create()
        .context(tr!("creating the controller's consumer"))?;
    consumer.subscribe(&[topic.as_str()])?;
    let mut last_run = HashMap::new();
    // (offset, label, the verdict given or the error returned)
    let mut given: Vec<(i64, String, Result<Verdict, String>)> = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        if Instant::now() > deadline {
            bail!(
                "{}",
                tr!("the controller did not reach the end of the partition within {WAIT:?}")
            );
        }
        match consumer.poll(Duration::from_millis(50)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(Err(e)) => return Err(e).context(tr!("reading the partition")),
            Some(Ok(record)) => {
                let (lot, step, _) = LOG[record.offset() as usize];
                let label = MachineCommand::step(lot, step).label();
                let v = verdict(&mut last_run, &record).map_err(|e| format!("{e:#}"));
                given.push((record.offset(), label, v));
            }
        }
    }

    // Each check: the offsets whose right verdict is `want`.
    let report = |want: Verdict, name: &str, why: String| {
        let wrong: Vec<String> = given
            .iter()
            .filter(|(o, _, _)| LOG[*o as usize].2 == want)
            .filter(|(_, _, v)| v.as_ref().ok() != Some(&want))
            .map(|(o, label, v)| match v {
                Ok(v) => tr!("offset {o} ({label}): {v:?}, not {want:?}"),
                Err(e) => tr!("offset {o} ({label}): error {e}"),
            })
            .collect();
        checks.check(
            name,
            wrong.is_empty() && given.len() == LOG.len(),
            tr!("{}\n{why}", wrong.join("\n")),
        );
    };
    report(
        Verdict::Run,
        tr_static!("each lot's next step runs: offsets 0, 1, 2, 5 and 6 are Run"),
        tr!(
            "A command whose step follows the last step run of its lot (1 for a lot that has run\n\
             nothing) is Run, and last_run must then remember it: the lots are independent, each\n\
             has its own last step (chapter 6: the key picks one partition)."
        ),
    );
    report(
        Verdict::Duplicate,
        tr_static!("a step that has already run is a Duplicate: offsets 3 and 7"),
        tr!(
            "A producer without idempotence that retries a request whose answer was lost stores\n\
             the command twice; running it again would drill twice. A step at or below the last\n\
             step run of its lot is a Duplicate (chapter 6: the producer can reorder a partition\n\
             by itself)."
        ),
    );
    report(
        Verdict::OutOfOrder,
        tr_static!("a step whose previous step has not run is OutOfOrder: offset 4"),
        tr!(
            "lot-B M3 polish comes before lot-B M2 drill in the partition: the request of M2 was\n\
             retried, and M3's overtook it. A step more than one above the last step run of its lot\n\
             is OutOfOrder, and it must not change last_run (chapter 6: the producer can reorder a\n\
             partition by itself)."
        ),
    );
    Ok(())
}
