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

use crate::kit::{Ctx, Narrator};
use crate::{run_lesson, LESSONS};

/// Produce one record and consume it back, on a fresh embedded cluster.
pub async fn floor_round_trip() -> Result<()> {
    let ctx = Ctx::embedded(Narrator::quiet())?;
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
        .context("the floor's consumer received nothing in 10 s")?;
    first.context("stream ended")??;
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
        "floor (produce one, consume one in a group): {:.3} s",
        floor.as_secs_f64()
    );
    crate::outln!();
    crate::outln!("lesson  time (s)  x floor");
    let mut failed = 0;
    for lesson in LESSONS {
        let mut times = Vec::new();
        let mut error = None;
        for _ in 0..runs {
            let start = Instant::now();
            if let Err(e) = run_lesson(
                lesson.number,
                &crate::kit::Options::default(),
                Narrator::quiet(),
            )
            .await
            .map(drop)
            {
                error = Some(e);
                break;
            }
            times.push(start.elapsed());
        }
        match error {
            Some(e) => {
                failed += 1;
                crate::outln!("{:>6}  failed: {e:#}", lesson.number);
            }
            None => {
                let t = median(times);
                crate::outln!(
                    "{:>6}  {:>8.3}  {:>7.1}",
                    lesson.number,
                    t.as_secs_f64(),
                    t.as_secs_f64() / floor.as_secs_f64()
                );
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} lesson(s) failed");
    Ok(())
}
