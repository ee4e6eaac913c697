//! The lesson kit: everything a lesson needs that is not the lesson itself.
//!
//! A lesson receives a [`Stage`] and never cares which cluster it talks to:
//!
//! * **Embedded** (the default): a 3-broker Kafka cluster started inside this
//!   process by librdkafka's mock cluster (`rdkafka::mocking`). It listens on
//!   real loopback TCP ports, so clients talk the real Kafka protocol to it,
//!   but it needs no Docker, no Java and no network.
//! * **Real**: when `KAFKA_BOOTSTRAP_SERVERS` (or `--brokers`) is set, the
//!   lesson talks to that cluster instead, e.g. the 3-broker cluster of the
//!   course's `docker-compose.yml` (`just cluster-up`).
//!
//! The kit also owns the narration: what a lesson prints is collected here,
//! so a test can compare it with the snapshot the book shows.

use std::time::Duration;

use anyhow::{Context as _, Result};
use rdkafka::client::{Client, ClientContext};

use crate::apis::Offered;
use crate::ch1_cluster::program::{describe, PartitionInfo};
use crate::tr;

pub mod closing;
mod cluster;
mod explain;
pub mod groups;
mod narrator;
pub mod timeline;

pub use closing::{still_closing, wait_closed, Held};
pub use cluster::{mock_pause, Backend, Cluster, Embedded};
pub use explain::{brokers_named, in_words};
pub use narrator::{write_out, Narrator};
pub use timeline::{Event, PartitionState};

/// How many brokers the embedded cluster has: as many as the real one in
/// `docker-compose.yml`, so replication factor 3 means the same thing on both.
pub const EMBEDDED_BROKERS: i32 = 3;

/// How long the kit waits for a real cluster to answer before giving up.
/// A lesson must never hang on an unreachable broker.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a lesson waits for a consumer group to get its partitions
/// before it stops and explains why ([`Cluster::no_partitions`]). A group
/// forms in well under a second on the embedded cluster, and within a few
/// seconds on a real one (3 s of `group.initial.rebalance.delay.ms` for a
/// classic group on a default Kafka broker).
///
/// Every lesson stops within 10 s of starting to wait: this wait, then the
/// explanation, at once. Its members do not make it wait while they leave
/// a group that never formed: they close apart ([`closing`]). The test
/// `tests/lessons/stop.rs` holds every lesson with groups to it.
pub const GROUP_WAIT: Duration = Duration::from_secs(8);

/// The consumer-group protocol a lesson's groups use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupProtocol {
    /// KIP-848 (`group.protocol=consumer`, Kafka 4.0+): the group
    /// coordinator, a broker, computes the assignment and members learn of
    /// it from their heartbeats; no stop-the-world rebalance.
    Consumer,
    /// The classic protocol (`group.protocol=classic`, every Kafka version):
    /// members join, one of them (the group leader) computes the assignment,
    /// and the coordinator hands it out.
    Classic,
}

impl GroupProtocol {
    /// The value of librdkafka's `group.protocol` setting.
    pub fn setting(self) -> &'static str {
        match self {
            GroupProtocol::Consumer => "consumer",
            GroupProtocol::Classic => "classic",
        }
    }
}

/// What the user asked for with `KAFKA_GROUP_PROTOCOL` or `--group-protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolChoice {
    // Its help as `course --help` shows it, in the reader's language (made
    // when the help is, after the language is chosen).
    #[default]
    #[value(help = crate::tr_static!("`consumer` where every broker offers it, else `classic`"))]
    Auto,
    Consumer,
    Classic,
}

/// How to reach the cluster a lesson runs on.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A real cluster's bootstrap servers; `None` for the embedded cluster.
    pub brokers: Option<String>,
    pub group_protocol: ProtocolChoice,
    /// Embedded cluster only: pose as a cluster without the KIP-848 group
    /// protocol (a Kafka 3.x cluster, say), to see what the course does there.
    pub embedded_without_kip848: bool,
    /// Embedded cluster only: pose as a broker whose consumer groups never
    /// complete, as one build of Tansu 0.6.0 does: no KIP-848, a classic
    /// JoinGroup that never gets its answer, and a LeaveGroup answered too
    /// late. To check that a lesson stops in time there, explanation
    /// included (see [`Embedded`]).
    pub embedded_stuck_groups: bool,
}

/// One broker, as the cluster's metadata describes it, and what it offers.
#[derive(Clone, Debug)]
pub struct BrokerInfo {
    pub id: i32,
    pub address: String,
    /// Its ApiVersions answer, or why there is none.
    pub offered: std::result::Result<Offered, String>,
}

/// The group protocol chosen for this run, and why, in words for the reader.
#[derive(Clone, Debug)]
pub struct Groups {
    pub protocol: GroupProtocol,
    pub why: String,
}

/// What a lesson's stage holds: the cluster it runs on, and the narrator
/// that records what it says and what it saw (its timeline). The stage
/// (each chapter's `mod.rs`) narrates; the chapter's program never sees
/// any of this.
pub struct Stage {
    pub cluster: Cluster,
    out: Narrator,
}

/// The stage, by its older name: the students' exercise files use it.
pub type Ctx = Stage;

impl std::ops::Deref for Stage {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

impl Stage {
    /// Start an embedded 3-broker cluster for the lifetime of the stage.
    pub fn embedded(out: Narrator) -> Result<Stage> {
        Stage::connect_with(&Options::default(), out)
    }

    /// The embedded cluster if `brokers` is `None`, else the real one.
    pub fn connect(brokers: Option<&str>, out: Narrator) -> Result<Stage> {
        let options = Options {
            brokers: brokers.map(str::to_string),
            ..Options::default()
        };
        Stage::connect_with(&options, out)
    }

    /// Reach the cluster `options` describe (see [`Cluster::connect_with`]).
    pub fn connect_with(options: &Options, out: Narrator) -> Result<Stage> {
        Ok(Stage {
            cluster: Cluster::connect_with(options)?,
            out,
        })
    }

    /// The narrator, to hand to tasks that print.
    pub fn out(&self) -> &Narrator {
        &self.out
    }

    /// Print one line of narration (or several, separated by `\n`).
    pub fn say(&self, line: impl AsRef<str>) {
        self.out.line(line.as_ref());
    }

    /// Start a new part of the lesson, with a title (also a timeline event).
    pub fn section(&self, title: &str) {
        self.out.record(Event::Section {
            title: title.to_string(),
        });
        self.out.line("");
        self.out.line(&format!("== {title} =="));
    }

    /// Add what the lesson observed to its timeline.
    pub fn record(&self, event: Event) {
        self.out.record(event);
    }

    /// Ask the cluster, through `client`, for the partitions of `topic` (its
    /// actual name), just created, with chapter 1's `describe`; record them
    /// in the timeline under the topic's logical name, and return them.
    ///
    /// Stages call it once every topic of theirs exists: on the embedded
    /// cluster, clients come after the control calls that create topics
    /// (see [`mock_pause`]).
    pub fn topic_created<C: ClientContext>(
        &self,
        client: &Client<C>,
        topic: &str,
    ) -> Result<Vec<PartitionInfo>> {
        let logical = self.logical(topic);
        let (_brokers, partitions) = describe(client, topic)
            .with_context(|| tr!("asking the cluster for {logical}'s metadata"))?;
        self.record_topic(topic, &partitions);
        Ok(partitions)
    }

    /// Record `topic` (its actual name) in the timeline, created with
    /// `partitions` as the cluster's metadata described them.
    pub fn record_topic(&self, topic: &str, partitions: &[PartitionInfo]) {
        self.record(Event::TopicCreated {
            topic: self.logical(topic).to_string(),
            partitions: partitions.iter().map(PartitionState::from).collect(),
        });
    }
}
