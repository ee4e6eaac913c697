//! Learn Apache Kafka with Rust: the lessons behind the book's chapters.
//!
//! Chapter N of the book, lesson N here (`chN_*` module), `just lesson-N`
//! and the snapshot `lessons/tests/snapshots/chN_*.snap` share one name.
//! [`kit`] is what every lesson shares: the cluster (embedded or real),
//! client settings, topic creation, narration.

pub mod kit;

pub mod ch1_cluster;
pub mod ch2_producer;
pub mod ch3_acks;
pub mod ch4_consumer;
pub mod ch5_buffer;
pub mod ch6_order;
pub mod ch7_workflow;

pub mod bench;
pub mod clean;
pub mod exercises;
pub mod teacher;
pub mod workshop;

use anyhow::Result;
use futures::future::LocalBoxFuture;

use kit::{Ctx, Narrator};

/// One lesson of the course, as the command line lists and runs it.
pub struct Lesson {
    pub number: u32,
    /// The module, book page and snapshot name, e.g. `ch1_cluster`.
    pub slug: &'static str,
    pub title: &'static str,
    /// Runs the lesson, dropping its report (tests call the module directly).
    pub run: for<'a> fn(&'a Ctx) -> LocalBoxFuture<'a, Result<()>>,
}

/// `lesson!(n, module, "title")`: a [`Lesson`] that runs `module::run`.
macro_rules! lesson {
    ($n:expr, $module:ident, $title:expr) => {
        Lesson {
            number: $n,
            slug: stringify!($module),
            title: $title,
            run: |ctx| Box::pin(async move { $module::run(ctx).await.map(drop) }),
        }
    };
}

/// Every lesson, in chapter order.
pub const LESSONS: &[Lesson] = &[
    lesson!(1, ch1_cluster, "Brokers, topics, partitions and replicas"),
    lesson!(2, ch2_producer, "The producer: serialization and keys"),
    lesson!(3, ch3_acks, "acks: what \"delivered\" means"),
    lesson!(4, ch4_consumer, "The consumer: groups and offsets"),
    lesson!(5, ch5_buffer, "Independence: a durable buffer"),
    lesson!(6, ch6_order, "Strict order within one topic"),
    lesson!(7, ch7_workflow, "Order across topics: status events"),
];

/// The lesson numbered `number`, or an error that lists the lessons.
pub fn lesson(number: u32) -> Result<&'static Lesson> {
    LESSONS.iter().find(|l| l.number == number).ok_or_else(|| {
        let list: Vec<String> = LESSONS
            .iter()
            .map(|l| format!("  {}  {}", l.number, l.title))
            .collect();
        anyhow::anyhow!(
            "there is no lesson {number}. The lessons are:\n{}",
            list.join("\n")
        )
    })
}

/// Run lesson `number` on the cluster at `brokers` (embedded if `None`),
/// narrating to `out`. Prints nothing itself: the narrator does.
pub async fn run_lesson(number: u32, brokers: Option<&str>, out: Narrator) -> Result<()> {
    let lesson = lesson(number)?;
    let ctx = Ctx::connect(brokers, out)?;
    intro(&ctx, lesson);
    (lesson.run)(&ctx).await
}

/// The first lines of every lesson's output: which lesson, which cluster.
pub fn intro(ctx: &Ctx, lesson: &Lesson) {
    ctx.say(format!("Lesson {}: {}", lesson.number, lesson.title));
    ctx.say(if ctx.is_embedded() {
        "(on the embedded cluster: 3 brokers inside this process)"
    } else {
        "(on the real cluster given by KAFKA_BOOTSTRAP_SERVERS or --brokers)"
    });
}
