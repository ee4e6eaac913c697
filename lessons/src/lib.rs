//! Learn Apache Kafka with Rust: the lessons behind the book's chapters.
//!
//! Chapter N of the book, lesson N here (`chN_*` module), `just lesson-N`
//! and the snapshot `lessons/tests/snapshots/chN_*.snap` share one name.
//! [`kit`] is what every lesson shares: the cluster (embedded or real),
//! client settings, topic creation, narration.

pub mod apis;
pub mod i18n;
pub mod kit;

pub use kafka_course_macros::{tr, tr_static, trn};

pub mod ch1_cluster;
pub mod ch2_producer;
pub mod ch3_acks;
pub mod ch4_consumer;
pub mod ch5_buffer;
pub mod ch6_order;
pub mod ch7_workflow;

pub mod bench;
pub mod browser;
pub mod class;
pub mod clean;
pub mod cli;
pub mod exercises;
pub mod keep;
pub mod playground;
pub mod quiz;
pub mod record;
pub mod serve;
pub mod teacher;
pub mod workshop;

use anyhow::Result;
use futures::future::LocalBoxFuture;

use kit::{GroupProtocol, Narrator, Options, Stage};

/// One lesson of the course, as the command line lists and runs it.
pub struct Lesson {
    pub number: u32,
    /// The module, book page and snapshot name, e.g. `ch1_cluster`.
    pub slug: &'static str,
    /// The title in the reader's language: [`Lesson::title`].
    title: fn() -> &'static str,
    /// Whether the lesson's consumers read in consumer groups.
    pub groups: bool,
    /// Runs the lesson, dropping its report (tests call the module directly).
    pub run: for<'a> fn(&'a Stage) -> LocalBoxFuture<'a, Result<()>>,
}

/// `lesson!(n, module, tr_static!("title"))`: a [`Lesson`] that runs `module::run`.
macro_rules! lesson {
    ($n:expr, $module:ident, $title:expr, groups: $groups:expr) => {
        Lesson {
            number: $n,
            slug: stringify!($module),
            title: || $title,
            groups: $groups,
            run: |ctx| Box::pin(async move { $module::run(ctx).await.map(drop) }),
        }
    };
}

/// Every lesson, in chapter order.
pub const LESSONS: &[Lesson] = &[
    lesson!(1, ch1_cluster, tr_static!("Brokers, topics, partitions and replicas"), groups: false),
    lesson!(2, ch2_producer, tr_static!("The producer: serialization and keys"), groups: false),
    lesson!(3, ch3_acks, tr_static!("acks: what \"delivered\" means"), groups: false),
    lesson!(4, ch4_consumer, tr_static!("The consumer: groups and offsets"), groups: true),
    lesson!(5, ch5_buffer, tr_static!("Independence: a durable buffer"), groups: true),
    lesson!(6, ch6_order, tr_static!("Strict order within one topic"), groups: true),
    lesson!(7, ch7_workflow, tr_static!("Order across topics: status events"), groups: true),
];

impl Lesson {
    /// The lesson's title, its chapter's, in the reader's language.
    pub fn title(&self) -> &'static str {
        (self.title)()
    }
}

/// The lesson numbered `number`, or an error that lists the lessons.
pub fn lesson(number: u32) -> Result<&'static Lesson> {
    LESSONS.iter().find(|l| l.number == number).ok_or_else(|| {
        let list: Vec<String> = LESSONS
            .iter()
            .map(|l| format!("  {}  {}", l.number, l.title()))
            .collect();
        anyhow::anyhow!(tr!(
            "there is no lesson {number}. The lessons are:\n{}",
            list.join("\n")
        ))
    })
}

/// Run lesson `number` on the cluster `options` describe, narrating to
/// `out`, and return its context (the cluster stays up while it lives).
/// Prints nothing itself: the narrator does.
pub async fn run_lesson(number: u32, options: &Options, out: Narrator) -> Result<Stage> {
    let lesson = lesson(number)?;
    let ctx = Stage::connect_with(options, out)?;
    intro(&ctx, lesson);
    (lesson.run)(&ctx).await?;
    Ok(ctx)
}

/// The first lines of every lesson's output: which lesson, which cluster.
pub fn intro(ctx: &Stage, lesson: &Lesson) {
    crate::say!(ctx, "Lesson {}: {}", lesson.number, lesson.title());
    ctx.say(if ctx.is_embedded() {
        tr_static!("(on the embedded cluster: 3 brokers inside this process)")
    } else {
        tr_static!("(on the real cluster given by KAFKA_BOOTSTRAP_SERVERS or --brokers)")
    });
    if lesson.groups {
        let groups = ctx.groups();
        match groups.protocol {
            GroupProtocol::Consumer => crate::say!(
                ctx,
                "(its groups use the KIP-848 consumer protocol: {})",
                groups.why
            ),
            GroupProtocol::Classic => {
                crate::say!(ctx, "(its groups use the classic protocol: {})", groups.why)
            }
        }
    }
}
