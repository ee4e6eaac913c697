//! Lesson 3: acks, what "delivered" means.
//!
//! A producer's `acks` setting decides when the partition leader may tell
//! the producer "written". This lesson runs three producers side by side,
//! with `acks=0`, `acks=1` and `acks=all`, and checks two things against
//! what actually happened:
//!
//! 1. **What each one waits for.** Every broker of the embedded cluster is
//!    made to answer one round-trip time late; the lesson times each send and
//!    prints the wait in round trips. `acks=0` does not wait for the broker at
//!    all; `acks=1` and `acks=all` wait for its answer.
//! 2. **What each one loses.** The embedded cluster refuses the next two
//!    Produce requests; each producer then sends m0..m9 one at a time. The
//!    lesson reads each log back rather than trusting the delivery reports:
//!    `acks=0` reported every record delivered, and lost the refused ones.
//!
//! Injecting latency and faults is only possible on the embedded cluster. On
//! a real cluster the lesson prints raw timings, sends without a fault, and
//! says so. Losing `acks=1` records when a leader dies needs real replicas:
//! the book's chapter 3 gives the steps on the docker-compose cluster.
//!
//! Run it: `just lesson-3` or `cargo run --release -- lesson 3`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::kit::Ctx;
use crate::say;

/// The round-trip time every embedded broker is given in the latency part.
pub const RTT: Duration = Duration::from_millis(50);
/// Records timed per setting, one at a time; the median is reported.
pub const SAMPLES: usize = 3;
/// Records sent per setting in the fault part: m0..m9.
pub const RECORDS: usize = 10;
/// How many Produce requests the embedded cluster refuses, per setting.
pub const FAULTS: usize = 2;
/// The refusal: what a broker answers when it does not lead the partition
/// (for instance while leadership moves to another broker).
pub const FAULT: RDKafkaRespErr = RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
/// Every topic of this lesson has one partition and three replicas.
pub const REPLICATION_FACTOR: i32 = 3;

/// One `acks` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acks {
    Zero,
    One,
    All,
}

impl Acks {
    /// The three settings, in the order the lesson runs them.
    pub const SETTINGS: [Acks; 3] = [Acks::Zero, Acks::One, Acks::All];

    /// The value of the producer's `acks` setting.
    pub fn value(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }

    pub fn label(self) -> String {
        format!("acks={}", self.value())
    }

    /// The logical name of this setting's topic in the fault part.
    pub fn topic(self) -> String {
        format!("acks-{}", self.value())
    }
}

/// What the lesson observed, for tests to check beyond the printed text.
#[derive(Debug)]
pub struct Report {
    /// The round-trip time injected on every broker; `None` on a real cluster.
    pub rtt: Option<Duration>,
    /// Median wait per record, one per setting, in [`Acks::SETTINGS`] order.
    pub latencies: Vec<(Acks, Duration)>,
    /// How long [`RECORDS`] records took with acks=all, sent without waiting
    /// for each one before the next.
    pub pipelined: Duration,
    /// Produce requests refused before each setting's run (0 on a real cluster).
    pub faults: usize,
    /// The fault part, one per setting, in [`Acks::SETTINGS`] order.
    pub runs: Vec<Run>,
}

/// One producer's run in the fault part.
#[derive(Debug, Clone)]
pub struct Run {
    pub acks: Acks,
    /// The topic's actual name on this cluster.
    pub topic: String,
    /// The values sent, in order: m0..m9.
    pub sent: Vec<String>,
    /// One per record sent: the offset its delivery report gave, or the error.
    pub reports: Vec<Result<i64, String>>,
    /// The values actually in the partition's log, read back, in log order.
    pub log: Vec<String>,
}

impl Run {
    /// How many records the producer was told were delivered.
    pub fn reported_ok(&self) -> usize {
        self.reports.iter().filter(|r| r.is_ok()).count()
    }

    /// The records sent that are not in the log.
    pub fn lost(&self) -> Vec<String> {
        self.sent
            .iter()
            .filter(|v| !self.log.contains(v))
            .cloned()
            .collect()
    }

    /// The offsets the successful delivery reports gave.
    pub fn offsets(&self) -> Vec<i64> {
        self.reports
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect()
    }

    /// Whether the log is exactly what was sent, and every record sits at
    /// the offset its delivery report gave.
    pub fn all_in_place(&self) -> bool {
        self.log == self.sent
            && self
                .reports
                .iter()
                .zip(&self.sent)
                .all(|(report, value)| match report {
                    Ok(offset) => *offset >= 0 && self.log.get(*offset as usize) == Some(value),
                    Err(_) => false,
                })
    }
}

pub async fn run(ctx: &Ctx) -> Result<Report> {
    ctx.section("Three settings, three promises");
    say!(
        ctx,
        "A producer's acks setting says when the partition leader may answer \"written\":"
    );
    say!(
        ctx,
        "  acks=0    never: the producer does not wait for any answer from the broker"
    );
    say!(
        ctx,
        "  acks=1    once the leader has appended the record to its own log"
    );
    say!(
        ctx,
        "  acks=all  once every replica in the in-sync set (ISR) has the record"
    );
    say!(
        ctx,
        "The lesson runs one producer per setting and measures what each one waits"
    );
    say!(ctx, "for, then what each one loses.");

    // The topics: one for timing, then one per setting for the fault part.
    let timing = ctx
        .create_topic("acks-latency", 1, REPLICATION_FACTOR)
        .await?;
    let mut settings = Vec::new();
    for acks in Acks::SETTINGS {
        let topic = ctx
            .create_topic(&acks.topic(), 1, REPLICATION_FACTOR)
            .await?;
        settings.push(Setting {
            acks,
            producer: producer(ctx, acks)?,
            topic,
        });
    }
    let (latencies, pipelined) = latency(ctx, &settings, &timing).await?;
    let (faults, runs) = faults(ctx, &settings).await?;

    ctx.section("What \"delivered\" means");
    say!(
        ctx,
        "acks=0    the record left this process. Nothing says it was stored."
    );
    say!(
        ctx,
        "acks=1    the leader stored it. If the leader dies before a follower copies it,"
    );
    say!(
        ctx,
        "          a follower still in the ISR, but without the record, can become leader:"
    );
    say!(
        ctx,
        "          the record is gone, though it was acknowledged."
    );
    if ctx.is_embedded() {
        say!(
            ctx,
            "          The embedded cluster keeps one copy per partition, so it cannot show"
        );
        say!(
            ctx,
            "          this: chapter 3 of the book gives the steps on a real cluster."
        );
    } else {
        say!(
            ctx,
            "          Chapter 3 of the book gives the steps to see it on this cluster."
        );
    }
    say!(
        ctx,
        "acks=all  every replica in the ISR stored it. The ISR can shrink to the leader"
    );
    say!(
        ctx,
        "          alone: with min.insync.replicas=2 the leader then refuses acks=all"
    );
    say!(
        ctx,
        "          writes (NOT_ENOUGH_REPLICAS), while it still accepts acks=1 writes."
    );

    Ok(Report {
        rtt: ctx.mock().map(|_| RTT),
        latencies,
        pipelined,
        faults,
        runs,
    })
}

/// One setting's producer, and the topic it writes to in the fault part.
struct Setting {
    acks: Acks,
    producer: FutureProducer,
    topic: String,
}

/// A producer with the given `acks`.
fn producer(ctx: &Ctx, acks: Acks) -> Result<FutureProducer> {
    // ANCHOR: producer
    let producer: FutureProducer = ctx
        .client_config()
        // "0", "1" or "all" (also spelled -1): librdkafka's default is "all".
        .set("acks", acks.value())
        // Send each record at once. By default librdkafka waits up to 5 ms
        // for more records to batch with it, which would blur the timings.
        .set("linger.ms", "0")
        .create()
        .with_context(|| format!("creating the {} producer", acks.label()))?;
    // ANCHOR_END: producer
    Ok(producer)
}

/// Send one record and wait for its delivery report: the offset the report
/// gives, or the error.
async fn send(producer: &FutureProducer, topic: &str, value: &str) -> Result<i64, String> {
    producer
        .send(
            FutureRecord::<(), _>::to(topic).payload(value),
            Duration::from_secs(10),
        )
        .await
        .map(|delivery| delivery.offset)
        .map_err(|(e, _)| e.to_string())
}

/// Part 1: what each setting waits for.
async fn latency(
    ctx: &Ctx,
    settings: &[Setting],
    topic: &str,
) -> Result<(Vec<(Acks, Duration)>, Duration)> {
    ctx.section("What each setting waits for");
    for Setting {
        acks, producer: p, ..
    } in settings
    {
        // A first record connects the producer and fetches the topic's
        // metadata, so that what is timed below is the send alone.
        send(p, topic, "warm-up")
            .await
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("warm-up record with {}", acks.label()))?;
    }

    // ANCHOR: rtt
    // Every broker (-1: all of them) now answers each request RTT late, as
    // if it were RTT away on the network.
    if let Some(mock) = ctx.mock() {
        mock.broker_round_trip_time(-1, RTT)?;
    }
    // ANCHOR_END: rtt
    match ctx.mock() {
        Some(_) => {
            say!(
                ctx,
                "Every broker of the embedded cluster now answers {} ms late, as if it were",
                RTT.as_millis()
            );
            say!(
                ctx,
                "across a network: a round trip to a broker costs {} ms.",
                RTT.as_millis()
            );
        }
        None => {
            say!(
                ctx,
                "(On a real cluster no delay is injected: the timings below are raw, in"
            );
            say!(ctx, "milliseconds, and change from run to run.)");
        }
    }
    say!(
        ctx,
        "Each producer sends {SAMPLES} records to topic \"acks-latency\", one at a time,"
    );
    say!(
        ctx,
        "awaiting each delivery report before sending the next."
    );
    say!(ctx, "");
    say!(ctx, "setting   median wait per record");

    let mut latencies = Vec::new();
    for Setting {
        acks, producer: p, ..
    } in settings
    {
        let mut samples = Vec::new();
        for i in 0..SAMPLES {
            // ANCHOR: timed_send
            let started = Instant::now();
            // The future resolves when the delivery report arrives: with
            // acks=0 as soon as the request is written to the socket, with
            // acks=1 and acks=all when the leader's answer comes back.
            let report = send(p, topic, &format!("t{i}")).await;
            let waited = started.elapsed();
            // ANCHOR_END: timed_send
            report
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("timed send with {}", acks.label()))?;
            samples.push(waited);
        }
        samples.sort();
        let median = samples[samples.len() / 2];
        say!(ctx, "{:<9} {}", acks.label(), shown(ctx, median));
        latencies.push((*acks, median));
    }

    // Nothing forces a producer to wait for one record before sending the
    // next: enqueue them all, then await all their delivery reports.
    let all = &settings
        .iter()
        .find(|s| s.acks == Acks::All)
        .context("no acks=all producer")?
        .producer;
    let started = Instant::now();
    // ANCHOR: pipelined
    let mut pending = Vec::new();
    for i in 0..RECORDS {
        let value = format!("p{i}");
        // send_result() only enqueues the record and returns the future of
        // its delivery report: the producer sends while we enqueue more.
        let record = FutureRecord::<(), _>::to(topic).payload(&value);
        pending.push(all.send_result(record).map_err(|(e, _)| e)?);
    }
    for delivery in futures::future::join_all(pending).await {
        delivery?.map_err(|(e, _)| e)?;
    }
    // ANCHOR_END: pipelined
    let pipelined = started.elapsed();
    if let Some(mock) = ctx.mock() {
        mock.broker_round_trip_time(-1, Duration::ZERO)?;
    }

    let wait = |acks: Acks| {
        latencies
            .iter()
            .find(|(a, _)| *a == acks)
            .map(|(_, d)| *d)
            .unwrap_or_default()
    };
    let (w0, w1, wall) = (wait(Acks::Zero), wait(Acks::One), wait(Acks::All));
    say!(ctx, "");
    if faster(ctx, w0, w1) {
        say!(
            ctx,
            "acks=0 did not wait for the broker: its report came as soon as the record was"
        );
        say!(
            ctx,
            "sent. acks=1 and acks=all waited for the leader's answer."
        );
    } else {
        say!(
            ctx,
            "acks=0 was not measurably faster than acks=1 in this run."
        );
    }
    match ctx.mock() {
        Some(_) if rounded(ctx, w1) == rounded(ctx, wall) => {
            say!(
                ctx,
                "acks=1 and acks=all cost the same here, and that is the embedded cluster's"
            );
            say!(
                ctx,
                "doing: it keeps one copy of each partition (its followers are names in the"
            );
            say!(
                ctx,
                "metadata, without logs), so the leader has no follower to wait for. On a real"
            );
            say!(
                ctx,
                "cluster acks=all also waits until the followers in the ISR have copied the"
            );
            say!(
                ctx,
                "record: about one more round trip, between the leader and its followers."
            );
        }
        Some(_) => {
            say!(
                ctx,
                "acks=1 and acks=all differ in this run although the embedded cluster keeps"
            );
            say!(
                ctx,
                "a single copy of each partition: something else slowed one of them down."
            );
        }
        None if wall > w1 => {
            say!(
                ctx,
                "acks=all waited longer than acks=1: its leader answered only once the"
            );
            say!(ctx, "followers in the ISR had copied the record.");
        }
        None => {
            say!(
                ctx,
                "acks=all was not slower than acks=1 in this run, though on a real cluster it"
            );
            say!(
                ctx,
                "also waits for the followers in the ISR. Run it again to compare."
            );
        }
    }
    say!(ctx, "");
    say!(
        ctx,
        "Waiting for each record before sending the next is the slowest way to produce:"
    );
    say!(
        ctx,
        "with acks=all, {RECORDS} records enqueued without waiting took {} in all. The",
        shown(ctx, pipelined)
    );
    say!(
        ctx,
        "producer keeps sending while earlier records wait for their answer. acks says"
    );
    say!(
        ctx,
        "when a record counts as written; it does not make records go one at a time."
    );
    Ok((latencies, pipelined))
}

/// A measured duration in whole round trips on the embedded cluster (where
/// one round trip is [`RTT`]); `None` on a real cluster.
fn rounded(ctx: &Ctx, d: Duration) -> Option<u64> {
    ctx.mock()
        .map(|_| (d.as_secs_f64() / RTT.as_secs_f64()).round() as u64)
}

/// Whether `a` is shorter than `b`: by whole round trips on the embedded
/// cluster (what it prints), by the raw timings on a real one.
fn faster(ctx: &Ctx, a: Duration, b: Duration) -> bool {
    match (rounded(ctx, a), rounded(ctx, b)) {
        (Some(a), Some(b)) => a < b,
        _ => a < b,
    }
}

/// How a measured duration is printed: in round trips on the embedded
/// cluster, so that every run prints the same; in milliseconds on a real one.
fn shown(ctx: &Ctx, d: Duration) -> String {
    match rounded(ctx, d) {
        Some(1) => "1 round trip".to_string(),
        Some(n) => format!("{n} round trips"),
        None => format!("{:.1} ms", d.as_secs_f64() * 1000.0),
    }
}

/// Part 2: what each setting loses when the broker refuses writes.
async fn faults(ctx: &Ctx, settings: &[Setting]) -> Result<(usize, Vec<Run>)> {
    ctx.section("A broker that refuses twice");
    let faults = if ctx.is_embedded() { FAULTS } else { 0 };
    say!(
        ctx,
        "Each setting gets its own topic (acks-0, acks-1, acks-all: one partition, three"
    );
    say!(
        ctx,
        "replicas) and sends m0..m{}, one record at a time.",
        RECORDS - 1
    );
    if faults > 0 {
        say!(
            ctx,
            "Before each producer starts, the embedded cluster is told to refuse the next"
        );
        say!(
            ctx,
            "{faults} Produce requests with NOT_LEADER_FOR_PARTITION, the error a broker gives"
        );
        say!(
            ctx,
            "when it does not lead the partition, as happens while leadership moves."
        );
    } else {
        say!(
            ctx,
            "A real cluster cannot be told to refuse requests, so here this part runs"
        );
        say!(
            ctx,
            "without a fault. To see acks=0 lose records, run the lesson on the embedded"
        );
        say!(
            ctx,
            "cluster (unset KAFKA_BOOTSTRAP_SERVERS); to see acks=1 lose acknowledged"
        );
        say!(
            ctx,
            "records when a leader dies, follow the steps in the book's chapter 3."
        );
    }
    say!(
        ctx,
        "Then the lesson reads each log back: the delivery reports are what each"
    );
    say!(ctx, "producer was told, the log is what the broker kept.");

    let sent: Vec<String> = (0..RECORDS).map(|i| format!("m{i}")).collect();
    let mut runs = Vec::new();
    let mut ranges = Vec::new();
    for Setting {
        acks,
        producer,
        topic,
    } in settings
    {
        // ANCHOR: inject
        if let Some(mock) = ctx.mock() {
            // The next FAULTS Produce requests, whichever broker gets them,
            // are answered with the error instead of being written.
            mock.request_errors(RDKafkaApiKey::Produce, &[FAULT; FAULTS]);
        }
        let mut reports = Vec::new();
        for value in &sent {
            // One at a time: each record is its own Produce request.
            reports.push(send(producer, topic, value).await);
        }
        // ANCHOR_END: inject
        // How far the log goes, asked now: the answer also tells that the
        // broker has handled every record sent, before the next fault is set.
        ranges.push(log_range(ctx, producer, topic).await?);
        if let Some(mock) = ctx.mock() {
            mock.clear_request_errors(RDKafkaApiKey::Produce);
        }
        runs.push(Run {
            acks: *acks,
            topic: topic.clone(),
            sent: sent.clone(),
            reports,
            log: Vec::new(),
        });
    }
    let logs = read_logs(ctx, &runs, &ranges).await?;
    for (run, log) in runs.iter_mut().zip(logs) {
        run.log = log;
    }

    say!(ctx, "");
    say!(
        ctx,
        "setting   reported delivered  offsets reported  records in the log  lost"
    );
    for r in &runs {
        let lost = r.lost();
        say!(
            ctx,
            "{:<9} {:<19} {:<17} {:<19} {}",
            r.acks.label(),
            format!("{} of {}", r.reported_ok(), r.sent.len()),
            offsets(&r.offsets()),
            r.log.len(),
            if lost.is_empty() {
                "none".to_string()
            } else {
                lost.join(" ")
            }
        );
    }
    say!(ctx, "");
    for r in &runs {
        let lost = r.lost();
        let offsets = r.offsets();
        let all_reported = r.reported_ok() == r.sent.len();
        if all_reported && r.all_in_place() {
            say!(
                ctx,
                "{}: nothing lost. Every record is in the log, in order, at the offset its",
                r.acks.label()
            );
            if faults > 0 {
                say!(
                    ctx,
                    "report gave: the producer read the broker's refusals and sent again."
                );
            } else {
                say!(ctx, "report gave.");
            }
        } else if all_reported && offsets.iter().all(|o| *o < 0) {
            let first = offsets.first().copied().unwrap_or_default();
            if lost.is_empty() {
                say!(
                    ctx,
                    "{}: nothing lost this time, but only reading the log back tells:",
                    r.acks.label()
                );
                say!(
                    ctx,
                    "its reports give offset {first}, librdkafka's \"invalid offset\": unknown."
                );
            } else {
                say!(
                    ctx,
                    "{} reported all {} records delivered, yet {} never reached the log,",
                    r.acks.label(),
                    r.sent.len(),
                    lost.join(" and ")
                );
                say!(
                    ctx,
                    "which holds {}. With acks=0 the producer reads no answer,",
                    r.log.join(" ")
                );
                say!(
                    ctx,
                    "so the refusals went unseen and nothing was retried. Its reports give"
                );
                say!(
                    ctx,
                    "offset {first}, librdkafka's \"invalid offset\": the producer never learns"
                );
                say!(ctx, "where, or whether, a record was stored.");
            }
        } else {
            say!(
                ctx,
                "{}: {} of {} reported delivered; lost: {}.",
                r.acks.label(),
                r.reported_ok(),
                r.sent.len(),
                if lost.is_empty() {
                    "none".to_string()
                } else {
                    lost.join(" ")
                }
            );
        }
    }
    Ok((faults, runs))
}

/// "0..9" for consecutive offsets, "-1001 (unknown)" when all are the same
/// negative value, the list otherwise.
fn offsets(list: &[i64]) -> String {
    match (list.first(), list.last()) {
        (Some(first), Some(_)) if *first < 0 && list.iter().all(|o| o == first) => {
            format!("{first} (unknown)")
        }
        (Some(first), Some(last)) if list.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}..{last}")
        }
        (None, _) | (_, None) => "none".to_string(),
        _ => list
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The (low, high) watermarks of partition 0 of `topic`: where its log
/// starts, and the offset just past its last committed record.
async fn log_range(ctx: &Ctx, producer: &FutureProducer, topic: &str) -> Result<(i64, i64)> {
    // ANCHOR: watermarks
    // Ask the partition's leader for its watermarks through the producer's
    // own connection. A broker handles a connection's requests in order, so
    // every Produce request this producer wrote, even with acks=0 (whose
    // report comes as soon as the request is written to the socket), has
    // been handled before this question is answered.
    let watermarks = || {
        producer
            .client()
            .fetch_watermarks(topic, 0, Duration::from_secs(5))
    };
    let (low, mut high) = watermarks()?;
    if !ctx.is_embedded() {
        // On a real cluster the high watermark moves only once the
        // followers have copied the records: wait until it stops moving.
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (_, now) = watermarks()?;
            if now == high {
                break;
            }
            high = now;
        }
    }
    // ANCHOR_END: watermarks
    Ok((low, high))
}

/// The values stored in partition 0 of each run's topic between the given
/// watermarks, read back from the brokers, one list per run.
async fn read_logs(ctx: &Ctx, runs: &[Run], ranges: &[(i64, i64)]) -> Result<Vec<Vec<String>>> {
    // Then read every record from the low watermark (the first offset still
    // stored) up to the high one, assigning the partitions directly: no
    // consumer group is involved (librdkafka only wants a group.id).
    let consumer: BaseConsumer = ctx
        .client_config()
        .set("group.id", ctx.name("ch3-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the reader")?;
    let mut tpl = TopicPartitionList::new();
    for (run, (low, _)) in runs.iter().zip(ranges) {
        tpl.add_partition_offset(&run.topic, 0, Offset::Offset(*low))?;
    }
    consumer.assign(&tpl)?;
    let mut logs = vec![Vec::new(); runs.len()];
    let mut next: Vec<i64> = ranges.iter().map(|(low, _)| *low).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while next.iter().zip(ranges).any(|(n, (_, high))| n < high) {
        if Instant::now() > deadline {
            bail!("could not read the logs back within 10 s");
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let i = runs
                    .iter()
                    .position(|r| r.topic == m.topic())
                    .context("a record from another topic")?;
                logs[i].push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
                next[i] = m.offset() + 1;
            }
            Some(Err(e)) => return Err(e).context("reading the logs back"),
            None => {}
        }
    }
    Ok(logs)
}
