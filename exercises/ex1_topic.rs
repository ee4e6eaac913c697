//! Exercise 1.1 (chapter 1): a topic for a group of four consumers.
//!
//! The workshop runs four machine controllers. They form one consumer group
//! and share the work of the topic `orders`. Create that topic so that:
//!
//! 1. each of the four controllers gets a share of the work, and
//! 2. every partition has a copy on each of the cluster's 3 brokers, so
//!    that two brokers can fail without losing a record.
//!
//! Edit the TODO lines below, then check your work: `just exercise 1.1`
//! (or `cargo run --release -- exercise 1.1`). Stuck? `just hint 1.1`.

use anyhow::Result;

use crate::kit::Ctx;

/// Create the topic `orders` and return its name (what `create_topic` returns).
pub async fn create_orders_topic(ctx: &Ctx) -> Result<String> {
    // TODO: how many partitions does the topic need so that no controller sits idle?
    let partitions = 1;
    // TODO: how many replicas must each partition have to survive 2 broker failures?
    let replication_factor = 1;
    ctx.create_topic("orders", partitions, replication_factor).await
}
