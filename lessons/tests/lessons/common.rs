//! What every lesson test shares: an embedded cluster, the lesson's intro,
//! and the snapshot that the book includes.

use std::future::Future;

use kafka_course::kit::{Narrator, Options, ProtocolChoice, Stage};
use kafka_course::{intro, lesson};

/// A fresh embedded cluster with lesson `number`'s intro already narrated,
/// exactly as `course lesson N` starts.
pub fn start(number: u32) -> Stage {
    start_with(number, Options::default())
}

/// The same, on the cluster `options` describe.
pub fn start_with(number: u32, options: Options) -> Stage {
    let ctx = Stage::connect_with(&options, Narrator::quiet()).expect("cluster");
    intro(&ctx, lesson(number).expect("lesson exists"));
    ctx
}

/// The embedded cluster, with the classic group protocol.
pub fn classic() -> Options {
    Options {
        group_protocol: ProtocolChoice::Classic,
        ..Options::default()
    }
}

/// Run a test body on a single-threaded runtime, as the `course` binary does.
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Compare everything `ctx` narrated with `lessons/tests/snapshots/<slug>.snap`,
/// the file the book's chapter includes.
pub fn assert_output(slug: &str, ctx: &Stage) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(slug, ctx.out().text());
    });
    // The timeline of the same run: what the lesson observed, as data.
    assert_events("", slug, &ctx.out().events_json_lines());
}

/// Compare a lesson's timeline (JSON Lines) with
/// `lessons/tests/snapshots/<dir>/<slug>.events.snap` (`dir`: "" for
/// English, "fr" for French), the run the book's picture replays.
///
/// What the embedded cluster draws at random is compared as such (see
/// [`comparable`]): the stored run stays, as long as this run did the same
/// things. Anything else that differs fails, as insta does, and leaves a
/// `.snap.new` to review.
pub fn assert_events(dir: &str, slug: &str, actual: &str) {
    let path = format!(
        "{}/tests/snapshots/{dir}/{slug}.events.snap",
        env!("CARGO_MANIFEST_DIR")
    );
    if let Ok(stored) = std::fs::read_to_string(&path) {
        let body = stored.splitn(3, "---\n").nth(2).unwrap_or_default();
        if body != actual && comparable(slug, body) == comparable(slug, actual) {
            return;
        }
    }
    let snapshots = if dir.is_empty() {
        "../snapshots".to_string()
    } else {
        format!("../snapshots/{dir}")
    };
    insta::with_settings!({
        snapshot_path => snapshots,
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(format!("{slug}.events"), actual);
    });
}

/// A timeline as the tests compare it, without what the embedded cluster
/// draws at random from run to run:
///
/// * lesson 2's keyless records: their partitions are drawn at random (that
///   is the point), so their partitions and offsets are left out;
/// * lesson 7's status-event run (its third section on): the machines and
///   the workflow run side by side, and the two lots' steps interleave as
///   they please. The same events must happen, in any order, wherever
///   they landed: their order, offsets and lines are left out.
///
/// `seq` is left out everywhere: the order of the lines is the order.
pub fn comparable(slug: &str, json_lines: &str) -> Vec<String> {
    let mut events: Vec<serde_json::Value> = json_lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let mut sections = 0;
    let mut tail = events.len();
    for (i, e) in events.iter_mut().enumerate() {
        let object = e.as_object_mut().expect("an event is an object");
        object.remove("seq");
        if object["kind"] == "section" {
            sections += 1;
            if slug == "ch7_workflow" && sections == 3 {
                tail = i + 1;
            }
        }
        let keyless = object.get("topic").and_then(|t| t.as_str()) == Some("keyless-commands");
        if slug == "ch2_producer" && keyless {
            object.remove("partition");
            object.remove("offset");
        }
        if i >= tail {
            for field in ["line", "offset", "partition"] {
                object.remove(field);
            }
        }
    }
    let mut lines: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    if tail < lines.len() {
        lines[tail..].sort();
    }
    lines
}

/// The body of a snapshot file (without insta's header).
pub fn snapshot_body(slug: &str) -> String {
    let path = format!("{}/tests/snapshots/{slug}.snap", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body = text
        .splitn(3, "---\n")
        .nth(2)
        .unwrap_or_else(|| panic!("{path}: no insta header"));
    body.to_string()
}

/// A lesson's output without the line that names the group protocol.
pub fn story(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("(its groups use the "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// On a cluster whose groups never get partitions (here: KIP-848 forced on
/// an embedded cluster that does not offer it), lesson `number` stops within
/// seconds and says why (naming `group`), instead of timing out.
pub fn assert_explains_group_without_partitions(number: u32, group: &str) {
    block_on(async {
        let options = Options {
            group_protocol: ProtocolChoice::Consumer,
            embedded_without_kip848: true,
            ..Options::default()
        };
        let ctx = start_with(number, options);
        let started = std::time::Instant::now();
        let err = (lesson(number).unwrap().run)(&ctx)
            .await
            .expect_err("no group can form");
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
        let text = format!("{err:#}");
        for needle in [
            format!("group \"{group}\" got no partitions within 8s"),
            "ConsumerGroupHeartbeat: none".to_string(),
        ] {
            assert!(text.contains(&needle), "{needle:?} missing from:\n{text}");
        }
    });
}

/// The events of the timeline `ctx` recorded, in order.
pub fn events(ctx: &Stage) -> Vec<kafka_course::kit::Event> {
    ctx.out().events().into_iter().map(|e| e.event).collect()
}

/// The topics the timeline says were created, in order (logical names).
pub fn created_topics(events: &[kafka_course::kit::Event]) -> Vec<&str> {
    use kafka_course::kit::Event;
    events
        .iter()
        .filter_map(|e| match e {
            Event::TopicCreated { topic, .. } => Some(topic.as_str()),
            _ => None,
        })
        .collect()
}
