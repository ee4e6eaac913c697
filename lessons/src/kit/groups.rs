//! Consumer groups, made deterministic for the lessons.
//!
//! A lesson's text and timeline must be the same at every run, and a
//! lesson must never hang: it waits for a group to settle on the
//! assignment it needs, for a member to be in place at the end of its
//! partitions, or for the next record, always within [`GROUP_WAIT`], and
//! when a group got no partitions in that time it says why
//! ([`Cluster::no_partitions`]) instead of timing out. Reading a group's
//! committed offsets, from outside the group, is here too.
//!
//! None of this is what an application needs: a chapter's program
//! (`chN_*/program.rs`) waits with a plain `recv().await`. The stage wraps
//! the program's calls in these waits.
//!
//! How a stage uses it: wrap each consumer in a [`Member`] (its name, its
//! group's logical name, the consumer, with any context); [`settle`] the
//! group before writing; take records with [`next_record`] (several
//! members, one deadline), or run a program's loop under [`within`]; read
//! what a group committed with [`committed_offsets`]. Chapter 4 does all
//! of it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use futures::future::select_all;
use rdkafka::consumer::{
    BaseConsumer, Consumer, ConsumerContext, DefaultConsumerContext, StreamConsumer,
};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

use super::{Cluster, GroupProtocol, Held, CONNECT_TIMEOUT, GROUP_WAIT};
use crate::tr;

/// While a group rebalances, the kit looks at the assignments this often.
const LOOK_EVERY: Duration = Duration::from_millis(20);

/// A consumer of one of a lesson's groups, as the kit waits on it: its
/// name (for the narration and the errors), its group's logical name, its
/// consumer, held for the stage ([`Cluster::hold`]: once the lesson gives
/// up on a group, dropping a member no longer makes it wait), and the
/// partitions whose end it has reached (an end-of-partition event, with
/// `enable.partition.eof=true`).
pub struct Member<C: ConsumerContext + 'static = DefaultConsumerContext> {
    pub name: String,
    pub group: String,
    pub consumer: Held<StreamConsumer<C>>,
    at_end: RefCell<BTreeSet<i32>>,
}

impl<C: ConsumerContext + 'static> Member<C> {
    pub fn new(name: &str, logical_group: &str, consumer: Held<StreamConsumer<C>>) -> Member<C> {
        Member {
            name: name.to_string(),
            group: logical_group.to_string(),
            consumer,
            at_end: RefCell::new(BTreeSet::new()),
        }
    }

    /// The partitions currently assigned to the member, sorted.
    pub fn assigned(&self) -> Result<Vec<i32>> {
        Ok(partitions(&self.consumer.assignment()?))
    }
}

/// Keep the members polling (a consumer takes part in rebalances while it
/// polls) until their assignments satisfy `done`, at most [`GROUP_WAIT`];
/// then a group without partitions is explained. No record may arrive
/// meanwhile: the lesson writes its records once its groups have settled.
pub async fn settle<C: ConsumerContext + 'static>(
    cluster: &Cluster,
    members: &[&Member<C>],
    done: impl Fn(&[Vec<i32>]) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + GROUP_WAIT;
    loop {
        let sets = assignments(members)?;
        if done(&sets) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            if sets.iter().all(|s| s.is_empty()) {
                return Err(cluster.no_partitions(&members[0].group, GROUP_WAIT));
            }
            return Err(cluster.give_up(anyhow!(tr!(
                "group \"{}\" did not reach the expected assignment within {GROUP_WAIT:?}: {}",
                members[0].group,
                holding(members, &sets)
            ))));
        }
        if cluster.groups().protocol == GroupProtocol::Consumer {
            // A KIP-848 member learns about a rebalance from the answer to
            // its next heartbeat, and the embedded cluster asks for one every
            // 3 s (a real broker: group.consumer.heartbeat.interval.ms, 5 s).
            // Subscribing again to the same topic makes librdkafka send one
            // right away: a shortcut that keeps the lesson fast, which
            // applications do not need. (Classic members heartbeat every
            // 100 ms in the course: see `Cluster::consumer_config`.)
            for m in members {
                let subscription = m.consumer.subscription()?;
                let topics = subscription.elements();
                let names: Vec<&str> = topics.iter().map(|e| e.topic()).collect();
                m.consumer.subscribe(&names)?;
            }
        }
        let receives = members.iter().map(|m| Box::pin(m.consumer.recv()));
        match timeout(LOOK_EVERY, select_all(receives)).await {
            Ok((Ok(m), i, _)) => bail!(
                "{}",
                tr!(
                    "{} received a record while the group was forming: partition {} offset {}",
                    members[i].name,
                    m.partition(),
                    m.offset()
                )
            ),
            Ok((Err(KafkaError::PartitionEOF(p)), i, _)) => {
                members[i].at_end.borrow_mut().insert(p);
            }
            Err(_) => {}
            Ok((Err(e), i, _)) => {
                return Err(e).with_context(|| tr!("{} receiving", members[i].name))
            }
        }
    }
}

/// Wait until `member` has reached the end of every partition it has (as
/// an end-of-partition event said, here or while it was polled before),
/// reading no record on the way: nothing was written yet, or it starts at
/// the end. Bounded by [`GROUP_WAIT`]; a member that got no partitions by
/// then is explained. Returns how many partitions it has.
///
/// A member created with `enable.partition.eof=true` is then really
/// reading. (On the embedded cluster, librdkafka 2.12 with the classic
/// protocol was seen to revoke a partition whose fetcher was still
/// starting, and go on fetching it unseen: when the partition came back to
/// that member, it handed out those old records.)
pub async fn at_end<C: ConsumerContext + 'static>(
    cluster: &Cluster,
    member: &Member<C>,
) -> Result<usize> {
    let deadline = Instant::now() + GROUP_WAIT;
    loop {
        let partitions = member.assigned()?;
        let reached = partitions
            .iter()
            .all(|p| member.at_end.borrow().contains(p));
        if !partitions.is_empty() && reached {
            return Ok(partitions.len());
        }
        match timeout_at(deadline, member.consumer.recv()).await {
            Ok(Err(KafkaError::PartitionEOF(p))) => {
                member.at_end.borrow_mut().insert(p);
            }
            Ok(Ok(m)) => bail!(
                "{}",
                tr!(
                    "{} read partition {} offset {} on its way to the end",
                    member.name,
                    m.partition(),
                    m.offset()
                )
            ),
            Ok(Err(e)) => return Err(e).context(tr!("waiting for the end of the partitions")),
            Err(_) if member.assigned()?.is_empty() => {
                return Err(cluster.no_partitions(&member.group, GROUP_WAIT))
            }
            Err(_) => {
                return Err(cluster.give_up(anyhow!(tr!(
                    "{} did not reach the end of its partitions within {GROUP_WAIT:?}",
                    member.name
                ))))
            }
        }
    }
}

/// The next record any of `members` receives, and which member got it;
/// end-of-partition events are skipped. At `deadline` (at most
/// [`GROUP_WAIT`] away), members without partitions are explained.
pub async fn next_record<'m, C: ConsumerContext + 'static>(
    cluster: &Cluster,
    members: &[&'m Member<C>],
    deadline: Instant,
) -> Result<(&'m Member<C>, BorrowedMessage<'m>)> {
    loop {
        let receives = members.iter().map(|m| Box::pin(m.consumer.recv()));
        match timeout_at(deadline, select_all(receives)).await {
            Ok((Ok(message), i, _)) => return Ok((members[i], message)),
            Ok((Err(KafkaError::PartitionEOF(p)), i, _)) => {
                members[i].at_end.borrow_mut().insert(p);
            }
            Ok((Err(e), i, _)) => {
                return Err(e).with_context(|| tr!("{} receiving", members[i].name))
            }
            Err(_) => return Err(nothing_arrived(cluster, members)?),
        }
    }
}

/// Run `reading` (say, a program's consumer loop over `members`) until it
/// ends, or until `deadline` (at most [`GROUP_WAIT`] away): then it is
/// dropped, and why nothing more arrived is explained.
pub async fn within<T, C: ConsumerContext + 'static>(
    cluster: &Cluster,
    members: &[&Member<C>],
    deadline: Instant,
    reading: impl Future<Output = Result<T>>,
) -> Result<T> {
    match timeout_at(deadline, reading).await {
        Ok(result) => result,
        Err(_) => Err(nothing_arrived(cluster, members)?),
    }
}

/// Why no record came in time: members without partitions are explained
/// ([`Cluster::no_partitions`]); members with partitions are named with them.
pub fn nothing_arrived<C: ConsumerContext + 'static>(
    cluster: &Cluster,
    members: &[&Member<C>],
) -> Result<anyhow::Error> {
    let sets = assignments(members)?;
    if sets.iter().all(|s| s.is_empty()) {
        return Ok(cluster.no_partitions(&members[0].group, GROUP_WAIT));
    }
    Ok(cluster.give_up(anyhow!(tr!(
        "no record arrived within {GROUP_WAIT:?}, though {}",
        holding(members, &sets)
    ))))
}

/// Group `logical_group`'s committed offset on each of the `partitions`
/// partitions of `topic` (`None`: nothing committed there), asked of the
/// group's coordinator by a client that does not join the group.
pub fn committed_offsets(
    cluster: &Cluster,
    logical_group: &str,
    topic: &str,
    partitions: i32,
) -> Result<BTreeMap<i32, Option<i64>>> {
    let probe: BaseConsumer = cluster
        .client_config()
        .set("group.id", cluster.name(logical_group))
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = probe
        .committed_offsets(tpl, CONNECT_TIMEOUT)
        .context(tr!("fetching committed offsets"))?;
    Ok(committed
        .elements_for_topic(topic)
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => (e.partition(), Some(o)),
            _ => (e.partition(), None),
        })
        .collect())
}

/// A member leaves its group: closing the consumer sends the broker a
/// "leaving" heartbeat and waits for the answer. librdkafka checks for the
/// answer every 100 ms; do it on a separate thread, so the lesson goes on.
/// (Any client can be closed this way.)
pub fn leave<T: Send + 'static>(client: T) -> JoinHandle<()> {
    tokio::task::spawn_blocking(move || drop(client))
}

/// The partition numbers of a list, sorted.
pub fn partitions(tpl: &TopicPartitionList) -> Vec<i32> {
    let mut ids: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    ids.sort();
    ids
}

/// `partitions [0, 1]`. The English always says "partitions"; the three
/// messages (none, one, several) let French say `la partition [2]` and
/// `les partitions [0, 1]`.
pub fn show_set(ids: &[i32]) -> String {
    let parts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    match parts.as_slice() {
        [] => tr!("partitions []"),
        [one] => tr!("partitions [{one}]"),
        _ => tr!("partitions [{}]", parts.join(", ")),
    }
}

fn assignments<C: ConsumerContext + 'static>(members: &[&Member<C>]) -> Result<Vec<Vec<i32>>> {
    members.iter().map(|m| m.assigned()).collect()
}

/// "member-a has partitions [0, 1], member-b has partitions [2]".
fn holding<C: ConsumerContext + 'static>(members: &[&Member<C>], sets: &[Vec<i32>]) -> String {
    let held: Vec<String> = members
        .iter()
        .zip(sets)
        .map(|(m, s)| tr!("{} has {}", m.name, show_set(s)))
        .collect();
    held.join(", ")
}
