//! A lesson's timeline: what it observed on the cluster, in order, as data.
//!
//! The stage of each chapter records an [`Event`] for everything the lesson
//! saw happen: a topic created (with its leaders, replicas and in-sync
//! replicas), a record delivered (its partition and offset), a member of a
//! group given partitions or losing them, a record read, what the
//! application did with it, an offset committed, a record dead-lettered, a
//! member crashing, lag measured, a write refused, the refusals the lesson
//! asked of the embedded cluster. Enough to draw everything the lesson did
//! (the book's picture replays it). Every field comes from what a client
//! was told by the cluster, never from what the lesson expected.
//!
//! `course lesson N --events FILE` writes it as JSON Lines, one [`Entry`]
//! per line; the tests compare it, as they compare the text, with a
//! reviewed snapshot (`lessons/tests/snapshots/chN_*.events.snap`). The
//! schema is documented in MAINTAINING.md ("The timeline").
//!
//! Names are logical (`machine-commands`, not the run's actual
//! `machine-commands-<time>-<pid>` on a real cluster), and nothing in an
//! event is a time or a random id: a run on the embedded cluster gives the
//! same timeline every time, but for what the cluster draws at random
//! (lesson 2's keyless partitions; how lesson 7's machines and workflow
//! interleave), which the tests compare as such. New kinds go at the end
//! of [`Event`], and in MAINTAINING.md's table.

use serde::Serialize;

/// One line of the timeline: the event, its place in the run (`seq`, from
/// 0), and how many lines of text the lesson had printed when it was
/// recorded (`line`): the 0-based index of the first line of text that
/// tells of it (for a section, the blank line before its title), so that
/// a reader of both can tell which text goes with which event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub seq: usize,
    pub line: usize,
    #[serde(flatten)]
    pub event: Event,
}

/// A partition as the cluster's metadata described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionState {
    pub partition: i32,
    /// The broker that leads it: -1 if it has none.
    pub leader: i32,
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
}

impl From<&crate::ch1_cluster::program::PartitionInfo> for PartitionState {
    fn from(p: &crate::ch1_cluster::program::PartitionInfo) -> PartitionState {
        PartitionState {
            partition: p.id,
            leader: p.leader,
            replicas: p.replicas.clone(),
            isr: p.isr.clone(),
        }
    }
}

/// One partition of one topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

/// Something a lesson observed. `kind` in the JSON is the variant's name in
/// snake_case (`topic_created`, `delivered`...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The lesson began a section (its title, in the reader's language).
    Section { title: String },
    /// The cluster's brokers, as its metadata listed them.
    Cluster { brokers: Vec<i32> },
    /// A topic was created; its partitions as the metadata then showed them.
    TopicCreated {
        topic: String,
        partitions: Vec<PartitionState>,
    },
    /// A topic's partitions as the metadata showed them later (after a
    /// broker went down or came back, say).
    Partitions {
        topic: String,
        partitions: Vec<PartitionState>,
    },
    /// A producer's record was acknowledged: where the broker stored it.
    /// `producer` names the producer when a lesson has several.
    Delivered {
        topic: String,
        partition: i32,
        offset: i64,
        key: Option<String>,
        value: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        producer: Option<String>,
    },
    /// A write the cluster refused or that failed, and why (the error as
    /// the client reported it).
    WriteRefused {
        topic: String,
        key: Option<String>,
        reason: String,
    },
    /// A partition's watermarks: the first offset still stored, and one
    /// past the last record consumers may read.
    Watermarks {
        topic: String,
        partition: i32,
        low: i64,
        high: i64,
    },
    /// A member of a group joined (started polling).
    MemberJoined { group: String, member: String },
    /// The group gave a member partitions.
    Assigned {
        group: String,
        member: String,
        partitions: Vec<TopicPartition>,
    },
    /// The group took partitions back from a member (a rebalance).
    Revoked {
        group: String,
        member: String,
        partitions: Vec<TopicPartition>,
    },
    /// A consumer read a record. `group` and `member` are absent for a
    /// reader outside any group; `value` is there where the lesson shows
    /// the values it read (lesson 3: which records reached the log).
    Read {
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        member: Option<String>,
        topic: String,
        partition: i32,
        offset: i64,
        key: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A group's committed offset for a partition: the next record the
    /// group will read there after a restart.
    Committed {
        group: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        member: Option<String>,
        topic: String,
        partition: i32,
        offset: i64,
    },
    /// A record that could not be processed was written to a dead-letter
    /// topic, where it landed, and why.
    DeadLettered {
        topic: String,
        partition: i32,
        offset: i64,
        dead_letter_topic: String,
        dead_letter_partition: i32,
        dead_letter_offset: i64,
        reason: String,
    },
    /// A member stopped without leaving its group cleanly (the lesson's
    /// simulated crash): what it had read but not committed is read again.
    MemberCrashed { group: String, member: String },
    /// A member left its group cleanly.
    MemberLeft { group: String, member: String },
    /// A group's lag on a partition: the high watermark less the committed
    /// offset (`committed` absent: nothing committed yet).
    Lag {
        group: String,
        topic: String,
        partition: i32,
        committed: Option<i64>,
        high: i64,
        lag: i64,
    },
    /// A broker was stopped (embedded cluster: the lesson took it down).
    BrokerDown { broker: i32 },
    /// A broker was started again.
    BrokerUp { broker: i32 },
    /// The lesson told the embedded cluster to answer the next requests of
    /// kind `request` (`Produce`...) with `errors`, one per request, in
    /// order, instead of handling them (what the clients saw of it is in
    /// their own events: deliveries after retries, writes refused, records
    /// lost).
    RequestsRefused {
        request: String,
        errors: Vec<String>,
    },
    /// The application acted on a record it had read: `outcome` says how,
    /// as the lesson observed it (`done`: a machine did the work;
    /// `already_done`: it remembered doing it and skipped it; `sent_next`:
    /// the workflow sent the next step's command; `ignored_repeat`: it had
    /// acted on this status already; `finished`: the lot's last step).
    Processed {
        group: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        member: Option<String>,
        topic: String,
        partition: i32,
        offset: i64,
        key: Option<String>,
        outcome: String,
    },
}

/// The timeline as JSON Lines: one entry per line.
pub fn to_json_lines(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        // An `Event` is plain strings and numbers: serializing cannot fail.
        out.push_str(&serde_json::to_string(e).expect("an event serializes"));
        out.push('\n');
    }
    out
}
