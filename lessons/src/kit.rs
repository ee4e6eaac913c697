//! The lesson kit: everything a lesson needs that is not the lesson itself.
//!
//! A lesson receives a [`Ctx`] and never cares which cluster it talks to:
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

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

/// How many brokers the embedded cluster has: as many as the real one in
/// `docker-compose.yml`, so replication factor 3 means the same thing on both.
pub const EMBEDDED_BROKERS: i32 = 3;

/// How long the kit waits for a real cluster to answer before giving up.
/// A lesson must never hang on an unreachable broker.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which cluster a lesson runs against.
pub enum Backend {
    /// librdkafka's mock cluster, alive as long as this value.
    Embedded(MockCluster<'static, DefaultProducerContext>),
    /// A real Kafka cluster reached at `Ctx::bootstrap()`.
    Real,
}

/// Everything a lesson needs: the cluster, client settings, names, narration.
pub struct Ctx {
    bootstrap: String,
    backend: Backend,
    /// Appended to topic and group names on a real cluster, so reruns start
    /// from empty topics and fresh groups. Empty on the embedded cluster,
    /// which is new at every run anyway.
    suffix: String,
    out: Narrator,
}

impl Ctx {
    /// Start an embedded 3-broker cluster for the lifetime of the `Ctx`.
    pub fn embedded(out: Narrator) -> Result<Ctx> {
        let mock =
            MockCluster::new(EMBEDDED_BROKERS).context("starting the embedded Kafka cluster")?;
        Ok(Ctx {
            bootstrap: mock.bootstrap_servers(),
            backend: Backend::Embedded(mock),
            suffix: String::new(),
            out,
        })
    }

    /// Connect to a real cluster, failing fast (within [`CONNECT_TIMEOUT`])
    /// with a message that names the address if nothing answers there.
    pub fn real(bootstrap: &str, out: Narrator) -> Result<Ctx> {
        let probe: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("socket.connection.setup.timeout.ms", "3000")
            .set("log_level", "0") // the error below says it better than librdkafka's retries
            .create()
            .with_context(|| format!("invalid bootstrap servers {bootstrap:?}"))?;
        if let Err(e) = probe.fetch_metadata(None, CONNECT_TIMEOUT) {
            bail!(
                "cannot reach a Kafka broker at {bootstrap} (from KAFKA_BOOTSTRAP_SERVERS or --brokers): {e}.\n\
                 Start the course's cluster with `just cluster-up` (docker compose, brokers on localhost:9092-9094),\n\
                 or unset KAFKA_BOOTSTRAP_SERVERS to run on the embedded cluster."
            );
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Ctx {
            bootstrap: bootstrap.to_string(),
            backend: Backend::Real,
            suffix: format!("-{secs}-{}", std::process::id()),
            out,
        })
    }

    /// The embedded cluster if `brokers` is `None`, else the real one.
    pub fn connect(brokers: Option<&str>, out: Narrator) -> Result<Ctx> {
        match brokers.map(str::trim).filter(|b| !b.is_empty()) {
            Some(b) => Ctx::real(b, out),
            None => Ctx::embedded(out),
        }
    }

    /// The `bootstrap.servers` value clients use.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The mock cluster, for lessons that inject faults or latency. `None` on
    /// a real cluster: such a lesson says so instead of pretending.
    pub fn mock(&self) -> Option<&MockCluster<'static, DefaultProducerContext>> {
        match &self.backend {
            Backend::Embedded(m) => Some(m),
            Backend::Real => None,
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.mock().is_some()
    }

    /// The actual name of a topic or group on this cluster. Lessons print
    /// the logical name and use this one in client calls.
    pub fn name(&self, logical: &str) -> String {
        format!("{logical}{}", self.suffix)
    }

    /// The narrator, to hand to tasks that print.
    pub fn out(&self) -> &Narrator {
        &self.out
    }

    /// Print one line of narration.
    pub fn say(&self, line: impl AsRef<str>) {
        self.out.line(line.as_ref());
    }

    /// Start a new part of the lesson, with a title.
    pub fn section(&self, title: &str) {
        self.out.line("");
        self.out.line(&format!("== {title} =="));
    }

    /// Settings every client of the course shares. Lessons add their own.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            // Fail a record after 10 s instead of librdkafka's default 5 min,
            // so a broker that disappears mid-lesson gives an error, not a hang.
            .set("message.timeout.ms", "10000")
            .set("socket.connection.setup.timeout.ms", "3000");
        c
    }

    /// Settings for a consumer in group `logical_group`.
    pub fn consumer_config(&self, logical_group: &str) -> ClientConfig {
        let mut c = self.client_config();
        c.set("group.id", self.name(logical_group))
            // The KIP-848 group protocol (GA since Kafka 4.0): the broker
            // computes the assignment, and a new member gets its partitions in
            // a fraction of a second instead of the classic protocol's ~3 s
            // initial rebalance delay.
            .set("group.protocol", "consumer");
        if self.is_embedded() {
            // A real broker answers a waiting fetch as soon as a record
            // arrives; the embedded cluster holds every empty fetch for the
            // full fetch.wait.max.ms (500 ms by default). A short wait keeps
            // lessons fast there; real clusters keep the default.
            c.set("fetch.wait.max.ms", "10");
        }
        c
    }

    /// Create `logical` with `partitions` partitions, each with
    /// `replication_factor` replicas, and return its actual name.
    ///
    /// The embedded cluster has no CreateTopics API, so the kit asks the mock
    /// directly; on a real cluster it is the admin API, as in production.
    pub async fn create_topic(
        &self,
        logical: &str,
        partitions: i32,
        replication_factor: i32,
    ) -> Result<String> {
        let name = self.name(logical);
        match &self.backend {
            Backend::Embedded(mock) => {
                mock_pause().await;
                mock.create_topic(&name, partitions, replication_factor)
                    .with_context(|| format!("creating topic {logical}"))?;
                // Kafka spreads partition leaders over the brokers; the mock
                // picks them at random. Spread them round-robin (partition 0
                // on broker 1, 1 on 2, ...) so every run prints the same.
                for p in 0..partitions {
                    let leader = p % EMBEDDED_BROKERS.min(replication_factor) + 1;
                    mock_pause().await;
                    mock.partition_leader(&name, p, Some(leader))?;
                }
            }
            Backend::Real => {
                let admin: AdminClient<DefaultClientContext> = self.client_config().create()?;
                let topic = NewTopic::new(
                    &name,
                    partitions,
                    TopicReplication::Fixed(replication_factor),
                );
                let opts = AdminOptions::new().operation_timeout(Some(CONNECT_TIMEOUT));
                for result in admin.create_topics([&topic], &opts).await? {
                    match result {
                        Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                        Err((t, e)) => bail!("creating topic {t}: {e}"),
                    }
                }
                self.wait_for_topic(&name, partitions).await?;
            }
        }
        Ok(name)
    }

    /// Every record stored in `topic` (all its partitions, from the low to
    /// the high watermark), read back from the brokers in (partition, offset)
    /// order. Lessons and tests use it to check what the log really holds,
    /// rather than what a producer was told.
    ///
    /// It assigns the partitions directly, outside any consumer group
    /// (librdkafka still wants a group.id, which is used for nothing here),
    /// and starts at the low watermark, not `Offset::Beginning`, which would
    /// cost an extra offset lookup. Bounded: an error after 10 s.
    pub fn read_topic(&self, topic: &str) -> Result<Vec<OwnedMessage>> {
        let reader: BaseConsumer = self
            .client_config()
            .set("group.id", self.name("kit-reader"))
            .set("enable.auto.commit", "false")
            .create()
            .context("creating a reader")?;
        let metadata = reader.fetch_metadata(Some(topic), CONNECT_TIMEOUT)?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions())
            .map(|p| p.id())
            .collect();
        anyhow::ensure!(!partitions.is_empty(), "topic {topic} has no partitions");
        let mut tpl = TopicPartitionList::new();
        let mut next = std::collections::BTreeMap::new();
        for p in partitions {
            let (low, high) = reader.fetch_watermarks(topic, p, CONNECT_TIMEOUT)?;
            if high > low {
                tpl.add_partition_offset(topic, p, Offset::Offset(low))?;
                next.insert(p, (low, high));
            }
        }
        let mut records = Vec::new();
        if next.is_empty() {
            return Ok(records);
        }
        reader.assign(&tpl)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while next.values().any(|(n, high)| n < high) {
            if std::time::Instant::now() > deadline {
                bail!("reading {topic} back: stopped at {next:?} (next offset, high watermark) after 10 s");
            }
            if let Some(m) = reader.poll(Duration::from_millis(100)) {
                let m = m.with_context(|| format!("reading {topic} back"))?;
                if let Some((n, _)) = next.get_mut(&m.partition()) {
                    *n = m.offset() + 1;
                }
                records.push(m.detach());
            }
        }
        records.sort_by_key(|m| (m.partition(), m.offset()));
        Ok(records)
    }

    /// A real cluster creates topics asynchronously: wait until every
    /// partition has a leader before producing to it.
    async fn wait_for_topic(&self, name: &str, partitions: i32) -> Result<()> {
        let probe: BaseConsumer = self.client_config().create()?;
        for _ in 0..50 {
            let md = probe.fetch_metadata(Some(name), CONNECT_TIMEOUT)?;
            let ready = md.topics().iter().any(|t| {
                t.error().is_none()
                    && t.partitions().len() == partitions as usize
                    && t.partitions().iter().all(|p| p.leader() >= 0)
            });
            if ready {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("topic {name} was created but its partitions have no leader after 5 s")
    }
}

/// Wait a moment before a control call to the embedded cluster.
///
/// The mock cluster's thread can miss the wake-up of a control request sent
/// right after the previous one was answered; the request then waits for the
/// thread's next 1-second tick. A few milliseconds between calls avoid it.
/// `Ctx::create_topic` pauses between its calls; a lesson that makes several
/// control calls in a row should too, and create its topics before its
/// clients exist.
pub async fn mock_pause() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// Collects what a lesson prints and, when running in a terminal, echoes it
/// as it goes (so a lesson that crashes still shows how far it got).
#[derive(Clone, Default)]
pub struct Narrator {
    text: Arc<Mutex<String>>,
    echo: bool,
}

impl Narrator {
    /// A narrator that only records (tests, benchmarks).
    pub fn quiet() -> Narrator {
        Narrator::default()
    }

    /// A narrator that also prints each line to standard output.
    pub fn echoing() -> Narrator {
        Narrator {
            echo: true,
            ..Narrator::default()
        }
    }

    pub fn line(&self, line: &str) {
        if self.echo {
            println!("{line}");
        }
        let mut text = self.text.lock().unwrap_or_else(|e| e.into_inner());
        text.push_str(line);
        text.push('\n');
    }

    /// Everything narrated so far.
    pub fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `say!(ctx, "format {}", args)`: one line of narration.
#[macro_export]
macro_rules! say {
    ($ctx:expr, $($arg:tt)*) => { $ctx.say(format!($($arg)*)) };
}
