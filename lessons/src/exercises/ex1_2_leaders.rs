//! Checks of exercise 1.2: which broker leads which partitions.
//!
//! Two topics on the embedded 3-broker cluster: `orders` (the one asked
//! about), whose leaders the checks move so that no rule of thumb finds
//! them, and `invoices`, led by the one broker that leads none of `orders`'
//! partitions, so that an answer mixing topics shows it. The expected answer
//! is what the checks' own metadata request says, not what they asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use futures::future::LocalBoxFuture;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::Checks;
use crate::kit::{mock_pause, Stage};
use crate::{tr, tr_static};

/// The student's function.
pub type Code = fn(&BaseConsumer, &str) -> Result<BTreeMap<i32, Vec<i32>>>;

/// The leaders the checks give `orders`' six partitions: uneven, and not
/// the round-robin the topic starts with (broker 3 leads none).
const ORDERS_LEADERS: [i32; 6] = [2, 1, 1, 2, 1, 1];
/// `invoices`' three partitions, all led by broker 3.
const INVOICES_LEADER: i32 = 3;

/// The checks, run on `code`: the student's function, or the solution's, or
/// the starter's.
pub fn checks<'a>(
    code: Code,
    ctx: &'a Stage,
    checks: &'a Checks,
) -> LocalBoxFuture<'a, Result<()>> {
    Box::pin(async move { check_with(code, ctx, checks).await })
}

async fn check_with(leaders_by_broker: Code, ctx: &Stage, checks: &Checks) -> Result<()> {
    let orders = ctx.create_topic("orders", 6, 3).await?;
    let invoices = ctx.create_topic("invoices", 3, 3).await?;
    let mock = ctx
        .mock()
        .context(tr!("exercise 1.2 runs on the embedded cluster"))?;
    for (p, leader) in ORDERS_LEADERS.iter().enumerate() {
        mock_pause().await;
        mock.partition_leader(&orders, p as i32, Some(*leader))?;
    }
    for p in 0..3 {
        mock_pause().await;
        mock.partition_leader(&invoices, p, Some(INVOICES_LEADER))?;
    }

    let client: BaseConsumer = ctx.client_config().create()?;
    // What the cluster says: the answer to compare with.
    let expected = truth(&client, &orders)?;
    let brokers: BTreeSet<i32> = expected.keys().copied().collect();
    ensure!(
        expected.get(&INVOICES_LEADER).is_some_and(Vec::is_empty),
        "{}",
        tr!("the checks could not move the leaders of orders (metadata: {expected:?})")
    );

    checks.step(tr!("calling your leaders_by_broker for the topic orders"));
    let answer = leaders_by_broker(&client, &orders)?;
    let shown = show(&answer);

    // 1. Every broker, even one that leads nothing.
    let listed: BTreeSet<i32> = answer.keys().copied().collect();
    checks.check(
        tr_static!("every broker of the cluster is listed, even one that leads nothing"),
        listed == brokers,
        tr!(
            "your answer lists the brokers {listed:?}; the cluster's metadata names {brokers:?}.\n\
             Your answer: {shown}\n\
             The metadata response lists every broker of the cluster (`brokers()`), whether it\n\
             leads partitions or not: a broker that leads none is idle, which is worth seeing\n\
             (chapter 1: brokers and the cluster; replicas, leaders and followers)."
        ),
    );

    // 2. Each partition of orders under its leader, sorted. (The broker
    // that leads none is check 1's and check 3's.)
    let mut misplaced = Vec::new();
    for (broker, partitions) in expected.iter().filter(|(_, ps)| !ps.is_empty()) {
        let theirs = answer.get(broker).cloned().unwrap_or_default();
        if &theirs != partitions {
            misplaced.push(tr!(
                "  broker {broker}: the metadata says it leads {partitions:?}, your answer says {theirs:?}"
            ));
        }
    }
    checks.check(
        tr_static!("each partition of the topic is under the broker that leads it, sorted"),
        misplaced.is_empty(),
        tr!(
            "{}\n\
             The cluster chooses each partition's leader, and moves it when a broker fails: no\n\
             rule of thumb (such as partition p on broker p + 1) finds it. Read `leader()` of each\n\
             partition in the metadata response, and sort each broker's list\n\
             (chapter 1: replicas, leaders and followers).",
            misplaced.join("\n")
        ),
    );

    // 3. Each partition once, and nothing of another topic: invoices is led
    // by the broker that leads none of orders' partitions.
    let counted: usize = answer.values().map(Vec::len).sum();
    let total: usize = expected.values().map(Vec::len).sum();
    checks.check(
        tr_static!("only the partitions of the topic asked for are counted, each once"),
        counted == total,
        tr!(
            "your answer holds {counted} partition(s); the topic has {total}.\n\
             Your answer: {shown}\n\
             Count each partition of the topic once, under its leader. A metadata response may\n\
             describe several topics (every topic when asked for none: here another topic,\n\
             invoices, has 3 partitions, all led by broker {INVOICES_LEADER}): keep the partitions of the\n\
             topic whose `name()` is the one asked for (chapter 1: topics and partitions)."
        ),
    );
    Ok(())
}

/// For each broker, the partitions of `topic` it leads, as the metadata says.
fn truth(client: &BaseConsumer, topic: &str) -> Result<BTreeMap<i32, Vec<i32>>> {
    let metadata = client.fetch_metadata(Some(topic), Duration::from_secs(5))?;
    let mut leaders: BTreeMap<i32, Vec<i32>> = metadata
        .brokers()
        .iter()
        .map(|b| (b.id(), Vec::new()))
        .collect();
    for t in metadata.topics() {
        for p in t.partitions() {
            leaders.entry(p.leader()).or_default().push(p.id());
        }
    }
    for ps in leaders.values_mut() {
        ps.sort();
    }
    Ok(leaders)
}

/// An answer as `{1: [1, 2], 2: [0], 3: []}`.
fn show(answer: &BTreeMap<i32, Vec<i32>>) -> String {
    if answer.is_empty() {
        return tr!("(nothing)");
    }
    let parts: Vec<String> = answer
        .iter()
        .map(|(b, ps)| format!("{b}: {ps:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}
