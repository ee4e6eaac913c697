//! The picture of a run (book/theme/picture.js) in a real browser: headless
//! Chromium through chromedriver (the WebDriver client of tests/browser.rs,
//! in its smallest form), on the built book's pages opened from files, as a
//! reader without `course serve` opens them.
//!
//! The timeline files (`timelines/<slug>.js`, `timelines/labels.js`) are the
//! builder's. Where the build does not write them (yet), the test writes
//! them itself from the snapshots, in the format the builder writes: the
//! picture is tested either way, and the builder's own files once it does.
//!
//! Opt-in as tests/browser.rs: ignored without Chromium, except in CI.
//! Alone: `cargo test -p kafka-course-book --test picture`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::webdriver::*;
use common::*;
use kafka_course_book::{book_root, course_root};
use serde_json::{json, Value};

/// A chapter's timeline: the events of its `.events.snap` (after insta's
/// header), as JSON values.
fn timeline(slug: &str) -> Vec<Value> {
    let path = course_root().join(format!("lessons/tests/snapshots/{slug}.events.snap"));
    let text = std::fs::read_to_string(&path).unwrap();
    // insta's header: "---", its fields, "---".
    let body = text.splitn(3, "---\n").nth(2).expect("an insta header");
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The built book, with its timeline files: the builder's, or written here
/// from the snapshots while the builder does not write them.
fn book_with_timelines() -> &'static Path {
    let out = book();
    for edition in [out.to_path_buf(), out.join("fr")] {
        let dir = edition.join("timelines");
        if dir.join("labels.js").is_file() {
            continue;
        }
        std::fs::create_dir_all(&dir).unwrap();
        for (_, slug) in chapters() {
            let events = Value::Array(timeline(&slug));
            let js = format!(
                "(window.courseTimelines = window.courseTimelines || {{}})[\"{slug}\"] = {events};\n"
            );
            std::fs::write(dir.join(format!("{slug}.js")), js).unwrap();
        }
        std::fs::write(dir.join("labels.js"), "window.coursePictureLabels = {};\n").unwrap();
    }
    out
}

fn page_url(page: &str) -> String {
    format!("file://{}", book_with_timelines().join(page).display())
}

impl Browser {
    /// A screenshot of the picture, where a person can look at it after the
    /// run (COURSE_SCREENSHOTS, else the tests' folder).
    fn screenshot_picture(&self, name: &str) {
        self.js("document.querySelector('figure.course-picture').scrollIntoView()");
        let found = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": "figure.course-picture" })),
        );
        let id = found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap()
            .to_string();
        let png = self.call("GET", &format!("/element/{id}/screenshot"), None);
        let dir = std::env::var_os("COURSE_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), decode_base64(png.as_str().unwrap())).unwrap();
    }
}

/// The picture, once mounted (its timeline loaded).
const MOUNTED: &str = "const f = document.querySelector('figure.course-picture'); return f && !f.classList.contains('cp-loading') && f.dataset.seq";

/// The records drawn: (topic, partition, offset, key), from the contract's
/// data attributes.
fn records(b: &Browser) -> BTreeSet<(String, i64, i64, String)> {
    let v = b.js(
        "return Array.from(document.querySelectorAll('figure.course-picture [data-offset]')).map(r => [r.dataset.topic, Number(r.dataset.partition), Number(r.dataset.offset), r.dataset.key])",
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_i64().unwrap(),
                r[2].as_i64().unwrap(),
                r[3].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What lesson 1's snapshot delivered: where each record went.
fn delivered(slug: &str) -> BTreeSet<(String, i64, i64, String)> {
    timeline(slug)
        .iter()
        .filter(|e| e["kind"] == "delivered")
        .map(|e| {
            (
                e["topic"].as_str().unwrap().to_string(),
                e["partition"].as_i64().unwrap(),
                e["offset"].as_i64().unwrap(),
                e["key"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn chapter_1_replayed_from_files_ends_with_its_12_records() {
    let b = Browser::start("picture-ch1", &[]);
    let events = timeline("ch1_cluster");
    let last = events.last().unwrap()["seq"].as_i64().unwrap();
    b.goto(&page_url("ch1_cluster.html"));
    // The page opens on the end of the run.
    let seq = b.until(MOUNTED, Duration::from_secs(10), |v| v.is_string());
    assert_eq!(seq, last.to_string());
    assert_eq!(
        b.js("return document.querySelector('figure.course-picture').dataset.state"),
        "replay"
    );
    // Just before the lesson's output (or the box that offers to run it).
    assert_eq!(
        b.js("let n = document.querySelector('figure.course-picture').nextElementSibling; while (n && n.tagName !== 'PRE') n = n.nextElementSibling; return n.textContent.startsWith('Lesson 1: ')"),
        true
    );
    let want = delivered("ch1_cluster");
    assert_eq!(want.len(), 12, "lesson 1 delivers 12 records");
    assert_eq!(records(&b), want, "the records drawn are the snapshot's");
    let partitions: BTreeSet<i64> = records(&b).iter().map(|r| r.1).collect();
    assert_eq!(partitions, BTreeSet::from([0, 1, 2]));
    b.screenshot_picture("picture-ch1-end.png");

    // Step back one event, then forward: the state is computed again.
    b.js("document.querySelector('figure.course-picture [data-step=\"-1\"]').click()");
    assert_eq!(
        b.js("return document.querySelector('figure.course-picture').dataset.seq"),
        (last - 1).to_string()
    );
    b.js("document.querySelector('figure.course-picture [data-step=\"1\"]').click()");
    assert_eq!(
        b.js("return document.querySelector('figure.course-picture').dataset.seq"),
        last.to_string()
    );

    // A moment of the run by its link: after event 9, 6 records, and the
    // output's line about event 9 highlighted.
    b.goto(&page_url("ch1_cluster.html#picture-seq=9"));
    b.until(MOUNTED, Duration::from_secs(10), |v| v == "9");
    b.until(
        "return document.querySelectorAll('figure.course-picture [data-offset]').length",
        Duration::from_secs(5),
        |v| v == 6,
    );
    let line = events[9]["line"].as_u64().unwrap() as usize;
    let snap =
        std::fs::read_to_string(course_root().join("lessons/tests/snapshots/ch1_cluster.snap"))
            .unwrap();
    let text_line = snap
        .splitn(3, "---\n")
        .nth(2)
        .unwrap()
        .lines()
        .nth(line)
        .unwrap()
        .to_string();
    assert_eq!(
        b.js("return document.querySelector('.cp-line-current').textContent.trimEnd()"),
        text_line.trim_end()
    );
    b.screenshot_picture("picture-ch1-seq9.png");

    // Replay from the start, at 4×: it plays to the end, 12 records again.
    b.js("const f = document.querySelector('figure.course-picture'); f.querySelector('[data-speed]').click(); f.querySelector('[data-speed]').click(); f.querySelector('[data-replay]').click()");
    assert!(
        b.js("return Number(document.querySelector('figure.course-picture').dataset.seq)")
            .as_i64()
            .unwrap()
            < 2
    );
    b.until(
        "return document.querySelector('figure.course-picture').dataset.seq",
        Duration::from_secs(30),
        |v| v == &Value::String(last.to_string()),
    );
    assert_eq!(records(&b), want);
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn chapter_4_draws_a_live_run_as_its_events_come_then_replays_the_built_one() {
    let b = Browser::start("picture-ch4", &["--force-prefers-reduced-motion"]);
    b.goto(&page_url("ch4_consumer.html"));
    b.until(MOUNTED, Duration::from_secs(10), |v| v.is_string());
    // A live run, as course.js announces it: an empty picture at the start,
    // each event drawn as it comes, the last frame kept at the end.
    let state = b.js(
        "const f = document.querySelector('figure.course-picture');
         const events = window.courseTimelines.ch4_consumer;
         document.dispatchEvent(new CustomEvent('course:run-start', {detail: {chapter: 4}}));
         const start = [f.dataset.state, f.dataset.seq, f.querySelectorAll('[data-offset]').length];
         for (const e of events.slice(0, 10)) document.dispatchEvent(new CustomEvent('course:event', {detail: e}));
         const members = Array.from(f.querySelectorAll('[data-group=machines][data-member]')).map(m => m.dataset.member + '=' + m.dataset.partitions);
         for (const e of events.slice(10)) document.dispatchEvent(new CustomEvent('course:event', {detail: e}));
         document.dispatchEvent(new CustomEvent('course:run-end', {detail: {chapter: 4, ok: true}}));
         return [start, members, f.dataset.state, f.dataset.seq, !!f.querySelector('button[data-replay]')];",
    );
    let last = timeline("ch4_consumer").last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    assert_eq!(state[0], json!(["live", "-1", 0]));
    // After the rebalance: two members of group machines, partition 2 moved.
    assert_eq!(
        state[1],
        json!([
            "member-a=machine-commands:0,machine-commands:1",
            "member-b=machine-commands:2"
        ])
    );
    assert_eq!(state[2], "done");
    assert_eq!(state[3], last.to_string());
    assert_eq!(state[4], true);
    // The committed markers: the group's last commit on each partition.
    let mut committed = std::collections::BTreeMap::new();
    for e in timeline("ch4_consumer") {
        if e["kind"] == "committed" && e["group"] == "machines" {
            committed.insert(
                e["partition"].as_i64().unwrap(),
                e["offset"].as_i64().unwrap(),
            );
        }
    }
    let drawn = b.js("return Array.from(document.querySelectorAll('figure.course-picture [data-group=machines][data-committed]')).map(c => [Number(c.dataset.partition), Number(c.dataset.committed)])");
    let drawn: std::collections::BTreeMap<i64, i64> = drawn
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_i64().unwrap(), c[1].as_i64().unwrap()))
        .collect();
    assert_eq!(drawn, committed);
    // Replay: back to the built run, from its start.
    b.js("document.querySelector('figure.course-picture [data-replay]').click()");
    assert_eq!(
        b.js("return document.querySelector('figure.course-picture').dataset.state"),
        "replay"
    );
    b.js("document.querySelector('figure.course-picture [data-play]').click()");
    b.screenshot_picture("picture-ch4-live-done.png");
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn the_french_page_draws_its_picture() {
    let b = Browser::start("picture-fr", &[]);
    b.goto(&page_url("fr/ch4_consumer.html"));
    b.until(MOUNTED, Duration::from_secs(10), |v| v.is_string());
    assert_eq!(
        b.js("let n = document.querySelector('figure.course-picture').nextElementSibling; while (n && n.tagName !== 'PRE') n = n.nextElementSibling; return n.textContent.startsWith('Leçon 4')"),
        true
    );
    assert!(records(&b).len() >= 15);
    b.screenshot_picture("picture-fr-ch4-end.png");
}

/// Every label the script shows is listed for translation, and the script
/// stays small.
#[test]
fn every_label_of_the_picture_is_listed_and_the_script_is_small() {
    let script = std::fs::read_to_string(book_root().join("theme/picture.js")).unwrap();
    let listed: BTreeSet<String> =
        std::fs::read_to_string(book_root().join("theme/picture-labels.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
    let code: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut missing = Vec::new();
    // L("label") and the two forms of Ln(n, "one", "other").
    for (call, strings) in [("L(\"", 1), ("Ln(", 2)] {
        for (at, _) in code.match_indices(call) {
            // A call, not a longer name nor the function's definition.
            let before = &code[..at];
            if before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                || before.ends_with("function ")
            {
                continue;
            }
            let mut rest = &code[at + call.len()..];
            if strings == 2 {
                // Past the count, to the first string.
                rest = &rest[rest.find('"').unwrap() + 1..];
            }
            for i in 0..strings {
                let end = rest.find('"').unwrap();
                let label = rest[..end].to_string();
                if !listed.contains(&label) {
                    missing.push(label);
                }
                if i + 1 < strings {
                    rest = &rest[end + 1..];
                    rest = &rest[rest.find('"').unwrap() + 1..];
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "labels missing from book/theme/picture-labels.txt: {missing:#?}"
    );
    assert!(
        script.len() < 40 * 1024,
        "picture.js is {} bytes: keep it under 40 KB",
        script.len()
    );
}
