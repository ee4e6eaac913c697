//! `just bench`: how long each lesson takes on the embedded cluster, next to
//! a floor measured in the same run, so the figures mean something on any
//! machine.
//!
//! The floor is the least any Kafka program can do: start the embedded
//! cluster, create a topic, produce one record, and have a consumer in a
//! group (KIP-848 protocol, as the lessons use) receive it.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures::StreamExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::kit::{Narrator, Stage};
use crate::kit::{Options, ProtocolChoice};
use crate::{run_lesson, tr, LESSONS};

/// Produce one record and consume it back, on a fresh embedded cluster.
pub async fn floor_round_trip() -> Result<()> {
    let ctx = Stage::embedded(Narrator::quiet())?;
    let topic = ctx.create_topic("floor", 1, 3).await?;
    let producer: FutureProducer = ctx.client_config().create()?;
    producer
        .send(
            FutureRecord::to(&topic).key("k").payload("v"),
            Duration::from_secs(5),
        )
        .await
        .map_err(|(e, _)| e)?;
    let consumer: StreamConsumer = ctx
        .consumer_config("floor")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[&topic])?;
    let first = tokio::time::timeout(Duration::from_secs(10), consumer.stream().next())
        .await
        .context(tr!("the floor's consumer received nothing in 10 s"))?;
    first.context(tr!("stream ended"))??;
    Ok(())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub async fn run(runs: usize) -> Result<()> {
    let runs = runs.max(1);
    let mut floor = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        floor_round_trip().await?;
        floor.push(start.elapsed());
    }
    let floor = median(floor);
    crate::outln!("Median of {runs} run(s) per lesson, embedded cluster, this build.");
    crate::outln!(
        "floor (produce one, consume one in a group): {}",
        crate::i18n::seconds(floor.as_secs_f64(), 3)
    );
    crate::outln!();
    crate::outln!("lesson  time (s)  x floor");
    let mut failed = 0;
    let mut kip848 = Vec::new();
    for lesson in LESSONS {
        match time_lesson(lesson.number, &Options::default(), runs).await {
            Err(e) => {
                failed += 1;
                crate::outln!("{:>6}  failed: {e:#}", lesson.number);
            }
            Ok(t) => {
                kip848.push((lesson.number, t));
                crate::outln!(
                    "{:>6}  {:>8}  {:>7}",
                    lesson.number,
                    crate::i18n::fixed(t.as_secs_f64(), 3),
                    crate::i18n::fixed(t.as_secs_f64() / floor.as_secs_f64(), 1)
                );
            }
        }
    }
    // The same lessons with the classic group protocol, as on a cluster
    // without KIP-848 (Kafka 3.x...): beside their KIP-848 time.
    crate::outln!();
    crate::outln!("lesson  classic protocol (s)  x its KIP-848 time");
    let classic = Options {
        group_protocol: ProtocolChoice::Classic,
        ..Options::default()
    };
    for (number, base) in kip848 {
        if !LESSONS.iter().any(|l| l.number == number && l.groups) {
            continue;
        }
        match time_lesson(number, &classic, runs).await {
            // Shown, not counted: this table is for timing. Whether the
            // lessons hold under the classic protocol is for their tests
            // (lesson_N_classic), which assert the chapters' claims.
            Err(e) => crate::outln!("{number:>6}  failed: {e:#}"),
            Ok(t) => crate::outln!(
                "{number:>6}  {:>20}  {:>18}",
                crate::i18n::fixed(t.as_secs_f64(), 3),
                crate::i18n::fixed(t.as_secs_f64() / base.as_secs_f64(), 1)
            ),
        }
    }
    // A lesson run from its page (`course serve`): its first line's delay.
    crate::outln!();
    crate::serve::bench(runs)?;
    // The picture of a run on the chapter pages: live, and replayed.
    if let Err(e) = crate::serve::picture_bench(runs) {
        crate::outln!("The picture: not measured: {e:#}");
    }
    anyhow::ensure!(failed == 0, "{}", tr!("{failed} lesson(s) failed"));
    Ok(())
}

/// The median time of `runs` runs of lesson `number`, or its first error.
async fn time_lesson(number: u32, options: &Options, runs: usize) -> Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        run_lesson(number, options, Narrator::quiet()).await?;
        times.push(start.elapsed());
    }
    Ok(median(times))
}
