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
//!
//! This file is the lesson's stage: it runs the scenario section by
//! section, narrates in the reader's language and records the timeline.
//! The Kafka code the chapter shows is in [`program`].

pub mod program;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use rdkafka::error::KafkaResult;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use crate::ch1_cluster::program::describe;
use crate::i18n::{decimal, plural};
use crate::kit::{brokers_named, in_words, Event, PartitionState, Stage};

use crate::{say, tr, tr_static};

/// The topic of the timing part (logical name); the fault part has one
/// topic per setting ([`Acks::topic`]).
pub const LATENCY_TOPIC: &str = "acks-latency";

/// The round-trip time every embedded broker is given in the latency part.
pub const RTT: Duration = Duration::from_millis(50);
/// Records timed per setting, one at a time; the median is reported.
pub const SAMPLES: usize = 3;
/// On a real cluster, the least difference between two median waits that the
/// lesson calls a difference (see [`clearly_longer`]).
pub const NOISE: Duration = Duration::from_micros(500);
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
    /// Partition 0 of each topic, as the cluster's metadata describes it:
    /// the timing topic first, then one per setting.
    pub placements: Vec<Placement>,
}

/// Where the cluster keeps the replicas of partition 0 of a topic.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The topic's actual name on this cluster.
    pub topic: String,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

impl Placement {
    /// The distinct brokers that hold a replica.
    pub fn brokers(&self) -> BTreeSet<i32> {
        self.replicas.iter().copied().collect()
    }

    /// The brokers, other than the leader's, with a replica in the ISR:
    /// those an acks=all write waits for.
    pub fn followers_in_sync(&self) -> BTreeSet<i32> {
        self.isr
            .iter()
            .copied()
            .filter(|b| *b != self.leader)
            .collect()
    }
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

pub async fn run(ctx: &Stage) -> Result<Report> {
    three_promises(ctx);
    let lesson = set_up(ctx).await?;
    let (latencies, pipelined) = what_each_setting_waits_for(ctx, &lesson).await?;
    let (faults, runs) = a_broker_that_refuses(ctx, &lesson).await?;
    what_delivered_means(ctx, &lesson);
    Ok(Report {
        rtt: ctx.mock().map(|_| RTT),
        latencies,
        pipelined,
        faults,
        runs,
        placements: lesson.placements,
    })
}

/// Section "Three settings, three promises": what each setting promises.
fn three_promises(ctx: &Stage) {
    ctx.section(&tr!("Three settings, three promises"));
    say!(
        ctx,
        "\
A producer's acks setting says when the partition leader may answer \"written\":
  acks=0    never: the producer does not wait for any answer from the broker
  acks=1    once the leader has appended the record to its own log
  acks=all  once every replica in the in-sync set (ISR) has the record
The lesson runs one producer per setting and measures what each one waits
for, then what each one loses."
    );
}

/// What the lesson sets up before it measures anything.
struct Lesson {
    /// The topic of the timing part.
    timing: String,
    /// One per setting, in [`Acks::SETTINGS`] order.
    settings: Vec<Setting>,
    /// Where the replicas of each topic are: the timing topic first, then
    /// one per setting.
    placements: Vec<Placement>,
}

/// One setting's producer, and the topic it writes to in the fault part.
struct Setting {
    acks: Acks,
    producer: FutureProducer,
    topic: String,
}

/// The topics (one for timing, then one per setting for the fault part),
/// created before any client connects, then the producers, and where the
/// cluster placed each topic's replicas.
async fn set_up(ctx: &Stage) -> Result<Lesson> {
    let timing = ctx
        .create_topic(LATENCY_TOPIC, 1, REPLICATION_FACTOR)
        .await?;
    let mut topics = Vec::new();
    for acks in Acks::SETTINGS {
        topics.push(
            ctx.create_topic(&acks.topic(), 1, REPLICATION_FACTOR)
                .await?,
        );
    }
    let mut settings = Vec::new();
    for (acks, topic) in Acks::SETTINGS.into_iter().zip(topics) {
        let producer = program::producer(ctx.bootstrap(), acks.value())
            .with_context(|| tr!("creating the {} producer", acks.label()))?;
        settings.push(Setting {
            acks,
            producer,
            topic,
        });
    }
    let mut placements = vec![placement(
        ctx,
        &settings[0].producer,
        &timing,
        LATENCY_TOPIC,
    )?];
    for s in &settings {
        placements.push(placement(ctx, &s.producer, &s.topic, &s.acks.topic())?);
    }
    Ok(Lesson {
        timing,
        settings,
        placements,
    })
}

/// Partition 0 of `topic` as the cluster's metadata describes it; the
/// topic's partitions go to the timeline under the name `logical`.
fn placement(
    ctx: &Stage,
    producer: &FutureProducer,
    topic: &str,
    _logical: &str,
) -> Result<Placement> {
    let partitions = ctx.topic_created(producer.client(), topic)?;
    let p = partitions
        .iter()
        .find(|p| p.id == 0)
        .with_context(|| tr!("topic {topic} has no partition 0"))?;
    Ok(Placement {
        topic: topic.to_string(),
        leader: p.leader,
        replicas: p.replicas.clone(),
        isr: p.isr.clone(),
    })
}

/// Section "What each setting waits for": time each setting's sends, then
/// records sent without waiting, and say what the timings show.
async fn what_each_setting_waits_for(
    ctx: &Stage,
    lesson: &Lesson,
) -> Result<(Vec<(Acks, Duration)>, Duration)> {
    ctx.section(&tr!("What each setting waits for"));
    let topic = &lesson.timing;
    // The three producers write to one topic over three connections: an
    // acks=0 record still on its way could land after the next producer's.
    // So after each producer's sends, the lesson asks the partition's
    // watermarks through that producer's own connection (see
    // `program::log_range`): its records are then in the log, and the
    // offsets in the timeline are the same at every run.
    for Setting { acks, producer, .. } in &lesson.settings {
        // A first record connects the producer and fetches the topic's
        // metadata, so that what is timed below is the send alone.
        let at = program::send(producer, topic, "warm-up")
            .await
            .with_context(|| tr!("warm-up record with {}", acks.label()))?;
        timing_delivered(ctx, *acks, "warm-up", at);
        timing_watermarks(ctx, producer, topic).await?;
    }
    // Every broker now answers each request RTT late, as if it were RTT
    // away on the network.
    if let Some(mock) = ctx.mock() {
        program::delay_every_broker(mock, RTT)?;
    }
    describe_timing(ctx);
    let mut latencies = Vec::new();
    for Setting { acks, producer, .. } in &lesson.settings {
        let median = median_wait(ctx, *acks, producer, topic)
            .await
            .with_context(|| tr!("timed send with {}", acks.label()))?;
        timing_watermarks(ctx, producer, topic).await?;
        say!(ctx, "{:<9} {}", acks.label(), shown(ctx, median));
        latencies.push((*acks, median));
    }
    let all = lesson
        .settings
        .iter()
        .find(|s| s.acks == Acks::All)
        .context(tr!("no acks=all producer"))?;
    // Nothing forces a producer to wait for one record before sending the
    // next: enqueue them all, then await all their delivery reports.
    let values: Vec<String> = (0..RECORDS).map(|i| format!("p{i}")).collect();
    let started = Instant::now();
    let reports = program::send_without_waiting(&all.producer, topic, &values).await?;
    let pipelined = started.elapsed();
    for (value, at) in values.iter().zip(reports) {
        timing_delivered(ctx, Acks::All, value, at);
    }
    timing_watermarks(ctx, &all.producer, topic).await?;
    if let Some(mock) = ctx.mock() {
        program::delay_every_broker(mock, Duration::ZERO)?;
    }
    let wait = |acks: Acks| {
        latencies
            .iter()
            .find(|(a, _)| *a == acks)
            .map_or(Duration::ZERO, |l| l.1)
    };
    let (w0, w1, wall) = (wait(Acks::Zero), wait(Acks::One), wait(Acks::All));
    say!(ctx, "");
    compare_zero_and_one(ctx, w0, w1, wall);
    compare_one_and_all(ctx, w1, wall, &lesson.placements[0]);
    say!(ctx, "");
    describe_pipelined(ctx, pipelined, wall);
    Ok((latencies, pipelined))
}

/// What the timings below are, and how they are printed.
fn describe_timing(ctx: &Stage) {
    if ctx.is_embedded() {
        let ms = RTT.as_millis();
        say!(
            ctx,
            "Every broker of the embedded cluster now answers {ms} ms late, as if it were"
        );
        say!(
            ctx,
            "across a network: a round trip to a broker costs {ms} ms."
        );
    } else {
        say!(
            ctx,
            "(On a real cluster no delay is injected: the timings below are raw, in\n\
             milliseconds, and change from run to run.)"
        );
    }
    say!(
        ctx,
        "Each producer sends {SAMPLES} records to topic \"acks-latency\", one at a time,\n\
         awaiting each delivery report before sending the next.\n\
         \n\
         setting   median wait per record"
    );
}

/// The median of [`SAMPLES`] sends, each awaited before the next (each
/// delivery goes to the timeline).
async fn median_wait(
    ctx: &Stage,
    acks: Acks,
    producer: &FutureProducer,
    topic: &str,
) -> Result<Duration> {
    let mut samples = Vec::new();
    for i in 0..SAMPLES {
        let value = format!("t{i}");
        let (report, waited) = program::timed_send(producer, topic, &value).await;
        timing_delivered(ctx, acks, &value, report?);
        samples.push(waited);
    }
    samples.sort();
    Ok(samples[samples.len() / 2])
}

/// Record a delivery report of the timing part: `acks=0` reports offset
/// -1001 (unknown), the others where the leader stored the record.
fn timing_delivered(ctx: &Stage, acks: Acks, value: &str, (partition, offset): (i32, i64)) {
    ctx.record(Event::Delivered {
        topic: LATENCY_TOPIC.to_string(),
        partition,
        offset,
        key: None,
        value: Some(value.to_string()),
        producer: Some(acks.label()),
    });
}

/// Ask the timing topic's watermarks through `producer`'s connection, once
/// the broker has handled everything it sent, and record them. (Without
/// waiting for followers to catch up on a real cluster: this is for the
/// timeline, and the timings must not wait for it.)
async fn timing_watermarks(ctx: &Stage, producer: &FutureProducer, topic: &str) -> Result<()> {
    let logical = LATENCY_TOPIC;
    let (low, high) = program::log_range(producer, topic, false)
        .await
        .with_context(|| tr!("asking {logical} for its watermarks"))?;
    ctx.record(Event::Watermarks {
        topic: LATENCY_TOPIC.to_string(),
        partition: 0,
        low,
        high,
    });
    Ok(())
}

/// acks=0 against acks=1 and acks=all: did not waiting for the broker save
/// anything measurable?
fn compare_zero_and_one(ctx: &Stage, w0: Duration, w1: Duration, wall: Duration) {
    if longer(ctx, w1, w0) {
        say!(
            ctx,
            "acks=0 did not wait for the broker: its report came as soon as the record was"
        );
        if longer(ctx, wall, w0) {
            say!(
                ctx,
                "sent. acks=1 and acks=all waited for the leader's answer."
            );
        } else {
            say!(ctx, "sent. acks=1 waited for the leader's answer.");
        }
    } else if ctx.is_embedded() {
        say!(
            ctx,
            "acks=0 was not measurably faster than acks=1 in this run."
        );
    } else {
        let rtt = RTT.as_millis();
        say!(
            ctx,
            "acks=0 and acks=1 took about the same time here: a round trip to this cluster\n\
             costs so little ({}) that not waiting for it saves nothing measurable.\n\
             On the embedded cluster, whose brokers answer {rtt} ms late, acks=0 waits\n\
             0 round trips and acks=1 one: acks=0 does not wait for the broker's answer.",
            shown(ctx, w1)
        );
    }
}

/// acks=1 against acks=all: did waiting for the followers in the ISR cost
/// anything measurable, and could it have?
fn compare_one_and_all(ctx: &Stage, w1: Duration, wall: Duration, placement: &Placement) {
    let followers = placement.followers_in_sync();
    if ctx.is_embedded() {
        if rounded(ctx, w1) == rounded(ctx, wall) {
            say!(
                ctx,
                "acks=1 and acks=all cost the same here, and that is the embedded cluster's\n\
                 doing: it keeps one copy of each partition (its followers are names in the\n\
                 metadata, without logs), so the leader has no follower to wait for. On a real\n\
                 cluster acks=all also waits until the followers in the ISR have copied the\n\
                 record: about one more round trip, between the leader and its followers."
            );
        } else {
            say!(
                ctx,
                "acks=1 and acks=all differ in this run although the embedded cluster keeps\n\
                 a single copy of each partition: something else slowed one of them down."
            );
        }
    } else if longer(ctx, wall, w1) && !followers.is_empty() {
        say!(
            ctx,
            "acks=all waited longer than acks=1: its leader answered only once the"
        );
        say!(
            ctx,
            "followers in the ISR ({}) had copied the record.",
            brokers_named(&followers)
        );
    } else if longer(ctx, wall, w1) || longer(ctx, w1, wall) {
        let (slow, fast) = if wall > w1 {
            ("acks=all", "acks=1")
        } else {
            ("acks=1", "acks=all")
        };
        let why = if followers.is_empty() {
            tr_static!("for what acks=1 waits for, and this partition has no follower in its ISR.")
        } else {
            tr_static!("for everything acks=1 waits for, and more. Run it again to compare.")
        };
        say_wrapped(
            ctx,
            &tr!("{slow} waited longer than {fast} in this run, and that is noise: acks=all waits {why}"),
        );
    } else if followers.is_empty() {
        say!(
            ctx,
            "acks=1 and acks=all took about the same time here. That is this cluster's\n\
             doing: the partition's replicas are all on {}, so the leader has no\n\
             follower to wait for. On the course's 3-broker cluster acks=all also waits\n\
             until the followers in the ISR have copied the record: about one more round\n\
             trip, between the leader and its followers.",
            brokers_named(&placement.brokers())
        );
    } else {
        say!(
            ctx,
            "acks=1 and acks=all took about the same time here: the followers in the ISR\n\
             ({}) copied the record faster than this measurement tells apart\n\
             (it counts less than {} ms as noise). Between brokers across a network,\n\
             acks=all waits about one more round trip, between the leader and its followers.",
            brokers_named(&followers),
            decimal(NOISE.as_secs_f64() * 1000.0)
        );
    }
}

/// Records enqueued without waiting against records sent one at a time.
fn describe_pipelined(ctx: &Stage, pipelined: Duration, wall: Duration) {
    let one_at_a_time = wall * RECORDS as u32;
    if longer(ctx, one_at_a_time, pipelined) {
        say!(
            ctx,
            "Waiting for each record before sending the next is the slowest way to produce:\n\
             with acks=all, {RECORDS} records enqueued without waiting took {} in all. The\n\
             producer packs queued records into shared requests (batching) and sends a\n\
             request without waiting for earlier answers (pipelining). acks says when a\n\
             record counts as written; it does not make records go one at a time.",
            shown(ctx, pipelined)
        );
    } else {
        say!(
            ctx,
            "With acks=all, {RECORDS} records enqueued without waiting took {} in all, about\n\
             as long as {RECORDS} records one at a time ({} each): here a round trip costs\n\
             too little for the difference to show. On the embedded cluster, with its\n\
             {} ms round trips, they take 1 round trip instead of {RECORDS}: the producer keeps\n\
             sending while earlier records wait for their answer. acks says when a record\n\
             counts as written; it does not make records go one at a time.",
            shown(ctx, pipelined),
            shown(ctx, wall),
            RTT.as_millis()
        );
    }
}

/// Whether `a` is clearly longer than `b`: by whole round trips on the
/// embedded cluster (what it prints), by more than noise on a real one.
fn longer(ctx: &Stage, a: Duration, b: Duration) -> bool {
    match (rounded(ctx, a), rounded(ctx, b)) {
        (Some(a), Some(b)) => a > b,
        _ => clearly_longer(a, b),
    }
}

/// Whether the median wait `a` is clearly longer than `b` on a real cluster:
/// longer by more than [`NOISE`], and by half of `b` at least. Anything
/// closer is "about the same": one run's timings on one machine vary that much.
pub fn clearly_longer(a: Duration, b: Duration) -> bool {
    a > b + NOISE && a.as_secs_f64() > 1.5 * b.as_secs_f64()
}

/// A measured duration in whole round trips on the embedded cluster (where
/// one round trip is [`RTT`]); `None` on a real cluster.
fn rounded(ctx: &Stage, d: Duration) -> Option<u64> {
    ctx.mock()
        .map(|_| (d.as_secs_f64() / RTT.as_secs_f64()).round() as u64)
}

/// How a measured duration is printed: in round trips on the embedded
/// cluster, so that every run prints the same; in milliseconds on a real one.
fn shown(ctx: &Stage, d: Duration) -> String {
    match rounded(ctx, d) {
        Some(n) => format!(
            "{n} {}",
            plural(
                n as usize,
                tr_static!("round trip"),
                tr_static!("round trips")
            )
        ),
        None => format!("{} ms", decimal(round_to_tenth(d.as_secs_f64() * 1000.0))),
    }
}

/// `x` to one decimal, as `{:.1}` prints it.
fn round_to_tenth(x: f64) -> String {
    format!("{x:.1}")
}

/// Section "A broker that refuses twice": each setting sends m0..m9 while
/// the embedded cluster refuses its first requests; then the logs are read
/// back and compared with the delivery reports.
async fn a_broker_that_refuses(ctx: &Stage, lesson: &Lesson) -> Result<(usize, Vec<Run>)> {
    ctx.section(&tr!("A broker that refuses twice"));
    let faults = if ctx.is_embedded() { FAULTS } else { 0 };
    describe_fault_part(ctx, faults, &lesson.placements[1..]);
    let sent: Vec<String> = (0..RECORDS).map(|i| format!("m{i}")).collect();
    let mut runs = Vec::new();
    let mut ranges = Vec::new();
    for Setting {
        acks,
        producer,
        topic,
    } in &lesson.settings
    {
        let logical = acks.topic();
        if let Some(mock) = ctx.mock() {
            // The next FAULTS Produce requests are refused.
            program::refuse_produce_requests(mock, FAULT, FAULTS);
            ctx.record(Event::RequestsRefused {
                request: "Produce".to_string(),
                errors: vec!["NOT_LEADER_FOR_PARTITION".to_string(); FAULTS],
            });
        }
        let reports = program::send_one_at_a_time(producer, topic, &sent).await;
        record_reports(ctx, &logical, *acks, &sent, &reports);
        // How far the log goes, asked now: the answer also tells that the
        // broker has handled every record sent, before the next fault is set.
        let (low, high) = program::log_range(producer, topic, !ctx.is_embedded())
            .await
            .with_context(|| tr!("asking {logical} for its watermarks"))?;
        ctx.record(Event::Watermarks {
            topic: logical.clone(),
            partition: 0,
            low,
            high,
        });
        ranges.push((low, high));
        if let Some(mock) = ctx.mock() {
            mock.clear_request_errors(RDKafkaApiKey::Produce);
        }
        // The partition's metadata after the refusals: NOT_LEADER_FOR_PARTITION
        // sent the producer to ask where the leader is; this is the answer.
        let (_, partitions) = describe(producer.client(), topic)
            .with_context(|| tr!("fetching the metadata of {topic}"))?;
        ctx.record(Event::Partitions {
            topic: logical,
            partitions: partitions.iter().map(PartitionState::from).collect(),
        });
        runs.push(Run {
            acks: *acks,
            topic: topic.clone(),
            sent: sent.clone(),
            reports: reports
                .into_iter()
                .map(|r| r.map(|(_, offset)| offset).map_err(|e| e.to_string()))
                .collect(),
            log: Vec::new(),
        });
    }
    let logs = read_logs(ctx, &runs, &ranges)?;
    for (run, log) in runs.iter_mut().zip(logs) {
        run.log = log;
    }
    print_runs(ctx, &runs);
    for run in &runs {
        describe_run(ctx, run, faults);
    }
    Ok((faults, runs))
}

/// What the fault part does, on this cluster.
fn describe_fault_part(ctx: &Stage, faults: usize, placements: &[Placement]) {
    let apart = placements
        .iter()
        .all(|p| p.brokers().len() == p.replicas.len());
    let replicas = match placements.first() {
        Some(p) if apart => tr!("{} replicas", in_words(p.replicas.len())),
        Some(p) => tr!(
            "replication factor {}, all on {}",
            p.replicas.len(),
            brokers_named(&placements.iter().flat_map(|p| p.brokers()).collect())
        ),
        None => tr!("no replica"),
    };
    say_wrapped(
        ctx,
        &tr!(
            "Each setting gets its own topic (acks-0, acks-1, acks-all: one partition, \
             {replicas}) and sends m0..m{}, one record at a time.",
            RECORDS - 1
        ),
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
            "A real cluster cannot be told to refuse requests, so here this part runs\n\
             without a fault. To see acks=0 lose records, run the lesson on the embedded\n\
             cluster (unset KAFKA_BOOTSTRAP_SERVERS); to see acks=1 lose acknowledged\n\
             records when a leader dies, follow the steps in the book's chapter 3."
        );
    }
    say!(
        ctx,
        "Then the lesson reads each log back: the delivery reports are what each\n\
         producer was told, the log is what the broker kept."
    );
}

/// Record one setting's delivery reports in the timeline: where each
/// record was stored, as its report says, or why it was refused.
fn record_reports(
    ctx: &Stage,
    logical: &str,
    acks: Acks,
    values: &[String],
    reports: &[KafkaResult<(i32, i64)>],
) {
    for (value, report) in values.iter().zip(reports) {
        ctx.record(match report {
            Ok((partition, offset)) => Event::Delivered {
                topic: logical.to_string(),
                partition: *partition,
                offset: *offset,
                key: None,
                value: Some(value.clone()),
                producer: Some(acks.label()),
            },
            Err(e) => Event::WriteRefused {
                topic: logical.to_string(),
                key: None,
                reason: e.to_string(),
            },
        });
    }
}

/// The table: per setting, what was reported against what is in the log.
fn print_runs(ctx: &Stage, runs: &[Run]) {
    say!(ctx, "");
    say!(
        ctx,
        "setting   reported delivered  offsets reported  records in the log  lost"
    );
    for r in runs {
        let reported = tr!("{} of {}", r.reported_ok(), r.sent.len());
        let lost = r.lost();
        let lost = if lost.is_empty() {
            tr!("none")
        } else {
            lost.join(" ")
        };
        let (label, offsets, in_log) = (r.acks.label(), offsets(&r.offsets()), r.log.len());
        say!(
            ctx,
            "{label:<9} {reported:<19} {offsets:<17} {in_log:<19} {lost}"
        );
    }
    say!(ctx, "");
}

/// What one setting's run shows, from its reports and its log.
fn describe_run(ctx: &Stage, r: &Run, faults: usize) {
    let lost = r.lost();
    let offsets = r.offsets();
    let label = r.acks.label();
    let all_reported = r.reported_ok() == r.sent.len();
    if all_reported && r.all_in_place() {
        say!(
            ctx,
            "{label}: nothing lost. Every record is in the log, in order, at the offset its"
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
                "{label}: nothing lost this time, but only reading the log back tells:"
            );
            say!(
                ctx,
                "its reports give offset {first}, librdkafka's \"invalid offset\": unknown."
            );
        } else {
            let n = r.sent.len();
            say!(
                ctx,
                "{label} reported all {n} records delivered, yet {} never reached the log,",
                lost.join(tr_static!(" and "))
            );
            say!(
                ctx,
                "which holds {}. With acks=0 the producer reads no answer,",
                r.log.join(" ")
            );
            if faults > 0 {
                say!(
                    ctx,
                    "so the refusals went unseen and nothing was retried. Its reports give"
                );
            } else {
                say!(
                    ctx,
                    "so whatever went wrong went unseen and nothing was retried. Its reports give"
                );
            }
            say!(
                ctx,
                "offset {first}, librdkafka's \"invalid offset\": the producer never learns"
            );
            say!(ctx, "where, or whether, a record was stored.");
        }
    } else {
        let lost = if lost.is_empty() {
            tr!("none")
        } else {
            lost.join(" ")
        };
        say!(
            ctx,
            "{label}: {} of {} reported delivered; lost: {lost}.",
            r.reported_ok(),
            r.sent.len()
        );
    }
}

/// Section "What \"delivered\" means": each promise, and what this cluster
/// can show of it.
fn what_delivered_means(ctx: &Stage, lesson: &Lesson) {
    ctx.section(&tr!("What \"delivered\" means"));
    say!(
        ctx,
        "\
acks=0    the record left this process. Nothing says it was stored.
acks=1    the leader stored it. If the leader dies before a follower copies it,
          a follower still in the ISR, but without the record, can become leader:
          the record is gone, though it was acknowledged."
    );
    let brokers: BTreeSet<i32> = lesson.placements.iter().flat_map(|p| p.brokers()).collect();
    if ctx.is_embedded() {
        say!(
            ctx,
            "          The embedded cluster keeps one copy per partition, so it cannot show\n          \
             this: chapter 3 of the book gives the steps on a real cluster."
        );
    } else if brokers.len() == 1 {
        say!(
            ctx,
            "          This cluster keeps every replica on {}: no follower elsewhere\n          \
             can take over, so it cannot show this. Chapter 3 of the book gives the\n          \
             steps on the course's 3-broker cluster.",
            brokers_named(&brokers)
        );
    } else {
        say!(
            ctx,
            "          Chapter 3 of the book gives the steps to see it on a cluster of"
        );
        say!(ctx, "          several brokers, such as this one.");
    }
    say!(
        ctx,
        "\
acks=all  every replica in the ISR stored it. The ISR can shrink to the leader
          alone: with min.insync.replicas=2 the leader then refuses acks=all
          writes (NOT_ENOUGH_REPLICAS). It still accepts acks=1 writes, but
          since Kafka 3.7 consumers are not given them until the ISR is back
          to 2 replicas."
    );
}

/// Print `text` as lines of at most 80 characters, broken between words.
fn say_wrapped(ctx: &Stage, text: &str) {
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 80 {
            ctx.say(&line);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    ctx.say(&line);
}

/// "0..9" for consecutive offsets, "-1001 (unknown)" when all are the same
/// negative value, the list otherwise.
fn offsets(list: &[i64]) -> String {
    match (list.first(), list.last()) {
        (Some(first), Some(_)) if *first < 0 && list.iter().all(|o| o == first) => {
            tr!("{first} (unknown)")
        }
        (Some(first), Some(last)) if list.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}..{last}")
        }
        (None, _) | (_, None) => tr!("none"),
        _ => list
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The values stored in partition 0 of each run's topic between the given
/// watermarks, read back from the brokers, one list per run; each record
/// read goes to the timeline.
fn read_logs(ctx: &Stage, runs: &[Run], ranges: &[(i64, i64)]) -> Result<Vec<Vec<String>>> {
    let topics: Vec<(&str, i64, i64)> = runs
        .iter()
        .zip(ranges)
        .map(|(run, (low, high))| (run.topic.as_str(), *low, *high))
        .collect();
    let logs = program::read_logs(ctx.bootstrap(), &ctx.name("ch3-reader"), &topics)
        .context(tr!("reading the logs back"))?;
    let complete = logs
        .iter()
        .zip(ranges)
        .all(|(log, (low, high))| log.last().map_or(*low, |(offset, _)| offset + 1) >= *high);
    if !complete {
        bail!("{}", tr!("could not read the logs back within 10 s"));
    }
    let mut values = Vec::new();
    for (run, log) in runs.iter().zip(logs) {
        for (offset, value) in &log {
            ctx.record(Event::Read {
                group: None,
                member: None,
                topic: run.acks.topic(),
                partition: 0,
                offset: *offset,
                key: None,
                value: Some(value.clone()),
            });
        }
        values.push(log.into_iter().map(|(_, value)| value).collect());
    }
    Ok(values)
}
