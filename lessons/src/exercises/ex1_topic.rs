//! Checks of exercise 1: a topic for a group of four consumers.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::Checks;
use crate::kit::Stage;
use crate::{tr, tr_static};

/// The student's function: an `async fn`, boxed so that every version of it
/// (the student's, the solution's, the starter's) has this one type.
pub type Code = for<'c> fn(&'c Stage) -> LocalBoxFuture<'c, Result<String>>;

/// How many consumers share the topic.
const MEMBERS: usize = 4;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move {
        checks.step(tr!("calling your create_orders_topic"));
        let topic = code(ctx).await?;

        // What the cluster says about the topic.
        let probe: BaseConsumer = ctx.client_config().create()?;
        let metadata = probe.fetch_metadata(Some(&topic), Duration::from_secs(5))?;
        // Replica count of each partition.
        let replicas: Vec<usize> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions())
            .map(|p| p.replicas().len())
            .collect();
        if !checks.check(
            tr_static!("the topic exists"),
            !replicas.is_empty(),
            tr!("no topic {topic:?} on the cluster"),
        ) {
            return Ok(());
        }
        let min_replicas = replicas.iter().copied().min().unwrap_or(0);
        checks.check(
            tr_static!("every partition has a copy on each of the 3 brokers"),
            min_replicas == 3,
            tr!(
                "a partition has {min_replicas} replica(s). A partition with f + 1 replicas survives f broker\n\
                 failures; with 3 brokers, 3 replicas put a copy on each (chapter 1)."
            ),
        );

        // Behaviour: four members of one group; does each get a partition?
        let members: Vec<BaseConsumer> = (0..MEMBERS)
            .map(|_| ctx.consumer_config("controllers").create::<BaseConsumer>())
            .collect::<Result<_, _>>()?;
        for m in &members {
            m.subscribe(&[&topic])?;
        }
        // Poll until every partition is assigned and every member has one,
        // or the group has settled without it (bounded: never hang).
        let deadline = Instant::now() + Duration::from_secs(8);
        let mut counts = vec![0; MEMBERS];
        let mut settled_since = Instant::now();
        let mut nudged = Instant::now();
        while Instant::now() < deadline {
            for m in &members {
                let _ = m.poll(Duration::from_millis(20));
            }
            // A member learns of a new assignment from its next heartbeat,
            // which the embedded cluster asks for every 3 s. Subscribing again
            // makes librdkafka send one at once (see lesson 4).
            if nudged.elapsed() > Duration::from_millis(250) {
                for m in &members {
                    m.subscribe(&[&topic])?;
                }
                nudged = Instant::now();
            }
            let now: Vec<usize> = members
                .iter()
                .map(|m| m.assignment().map(|a| a.count()).unwrap_or(0))
                .collect();
            if now != counts {
                counts = now;
                settled_since = Instant::now();
            }
            let all_assigned = counts.iter().sum::<usize>() == replicas.len();
            if all_assigned
                && (counts.iter().all(|&c| c > 0)
                    || settled_since.elapsed() > Duration::from_millis(1500))
            {
                break;
            }
        }
        let idle = counts.iter().filter(|&&c| c == 0).count();
        checks.check(
            tr_static!("each of the 4 consumers of the group gets at least one partition"),
            idle == 0,
            tr!(
                "{idle} of the {MEMBERS} consumers got no partition (assignment: {counts:?}).\n\
                 Within a group each partition goes to exactly one member, so a topic with\n\
                 {} partition(s) keeps at most {} member(s) busy (chapter 1).",
                replicas.len(),
                replicas.len()
            ),
        );
        Ok(())
    })
}
