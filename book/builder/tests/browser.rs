//! The Run and Check buttons in a real browser: headless Chromium, driven
//! through chromedriver with the W3C WebDriver protocol (JSON over HTTP on
//! loopback: a few requests, written out below), on pages served by this
//! package's server with the real course's program.
//!
//! Opt-in: these tests run where Debian's `chromium` and `chromium-driver`
//! are installed (build.rs: `cfg(has_chromium)`), else they are reported as
//! ignored, saying why; CI installs them and sets COURSE_REQUIRE_CHROMIUM,
//! so that there they run, and fail without them. Alone:
//! `cargo test -p kafka-course-book --test browser`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use kafka_course_book::course_root;
use serde_json::{json, Value};

/// The real course program, as `course serve` runs it.
fn real() -> kafka_course_book::serve::Config {
    config(course_program())
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const IGNORED: &str = "needs headless Chromium: apt-get install chromium chromium-driver";

/// chromedriver and a browser session, both ended when dropped.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = request(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One WebDriver request; its `value`, or the driver's error.
fn request(port: u16, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    // chromedriver keeps the connection open, whatever it says: read
    // as much as its Content-Length says.
    let mut all = Vec::new();
    let mut buf = [0u8; 65536];
    let body = loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        all.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&all).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let head = head.to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|l| l.trim().parse::<usize>().ok());
            match length {
                Some(length) if body.len() >= length => break body[..length].to_string(),
                // No length: the body ends with the connection.
                None if n == 0 => break body.to_string(),
                _ => {}
            }
        }
        if n == 0 {
            return Err(format!("the connection closed early: {text}"));
        }
    };
    let body = body.as_str();
    let v: Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error") {
        return Err(format!("{error}: {}", value["message"]));
    }
    Ok(value)
}

impl Browser {
    /// Headless Chromium with a fresh profile of its own. The flags
    /// keep it from calling home: on a closed network it would wait.
    fn start(name: &str) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).is_file(),
                "{program} is missing: {IGNORED}"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let start = Instant::now();
        while request(port, "GET", "/status", None).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = scratch(&format!("chromium-{name}"));
        let _ = std::fs::remove_dir_all(&profile);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-extensions", "--hide-scrollbars",
                    "--window-size=1100,1300",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let session = request(port, "POST", "/session", Some(caps)).expect("starting Chromium");
        browser.session = session["sessionId"].as_str().unwrap().to_string();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        request(self.port, method, &path, body).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Click the element `css` finds, as a user does.
    fn click(&self, css: &str) {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let id = found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap()
            .to_string();
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Wait until `script` (JavaScript that returns a value) gives one `ok` accepts.
    fn until(&self, script: &str, within: Duration, ok: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let v = self.js(script);
            if ok(&v) {
                return v;
            }
            assert!(
                start.elapsed() < within,
                "{script} never satisfied: last {v}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A screenshot, where a person can look at it after the run
    /// (COURSE_SCREENSHOTS, else the tests' folder).
    fn screenshot(&self, name: &str) {
        let png = decode_base64(self.call("GET", "/screenshot", None).as_str().unwrap());
        let dir = std::env::var_os("COURSE_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (d as u32) << (18 - 6 * i));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// Scroll the element `js` finds to the top of the window, under
/// mdBook's menu bar, with the paragraph above it in view.
fn show_top_of(b: &Browser, js: &str) {
    b.js(&format!(
        "const e = {js}; window.scrollBy(0, e.getBoundingClientRect().top - 120)"
    ));
}

fn text_of(b: &Browser, script: &str) -> String {
    b.js(script).as_str().unwrap_or_default().to_string()
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn run_lesson_1_in_the_page() {
    let server = Server::start(real());
    let b = Browser::start("run");
    b.goto(&format!(
        "http://127.0.0.1:{}/ch1_cluster.html",
        server.port
    ));
    let label = b.until(
        "const e = document.querySelector('.course-run-button'); return e && e.textContent",
        Duration::from_secs(10),
        |v| v.is_string(),
    );
    assert_eq!(label, "Run lesson 1");
    // The snapshot stays on the page, just below the control.
    assert_eq!(
        b.js("const box = document.querySelector('.course-run'); return box.nextElementSibling.textContent.startsWith('Lesson 1: ')"),
        true
    );
    b.js("document.querySelector('.course-run').scrollIntoView({block: 'center'})");
    b.click(".course-run-button");
    show_top_of(&b, "document.querySelector('.course-run')");
    // During the run: the first lines are there, the run goes on.
    b.until(
        "return document.querySelector('.course-output').textContent",
        Duration::from_secs(10),
        |v| v.as_str().is_some_and(|t| t.contains("Lesson 1: ")),
    );
    b.screenshot("ch1-during-run.png");
    let state = b.until(
        "return document.querySelector('.course-run').dataset.state",
        Duration::from_secs(60),
        |v| v.as_str().is_some_and(|s| s != "running"),
    );
    assert_eq!(state, "ok");
    // After: the lesson's last line, as in the snapshot.
    let snap =
        std::fs::read_to_string(course_root().join("lessons/tests/snapshots/ch1_cluster.snap"))
            .unwrap();
    let last = snap
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap()
        .trim();
    let out = text_of(
        &b,
        "return document.querySelector('.course-output').textContent",
    );
    assert!(
        out.contains(last),
        "the last line {last:?} is not in the page:\n{out}"
    );
    assert_eq!(
        text_of(
            &b,
            "return document.querySelector('.course-status').textContent"
        ),
        "done"
    );
    let first_ms = b.js("return document.querySelector('.course-run').dataset.firstLineMs");
    eprintln!("first line on the page {first_ms} ms after the click");
    b.js("document.querySelector('.course-output').scrollTop = 1e9");
    show_top_of(&b, "document.querySelector('.course-run')");
    b.screenshot("ch1-after-run.png");
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn run_lesson_1_in_the_french_page_in_french() {
    let server = Server::start(config(sleeper()));
    let b = Browser::start("run-fr");
    b.goto(&format!(
        "http://127.0.0.1:{}/fr/ch1_cluster.html",
        server.port
    ));
    let label = b.until(
        "const e = document.querySelector('.course-run-button'); return e && e.textContent",
        Duration::from_secs(10),
        |v| v.is_string(),
    );
    assert_eq!(label, "Lancer la leçon 1");
    b.click(".course-run-button");
    let out = b.until(
        "return document.querySelector('.course-output').textContent",
        Duration::from_secs(10),
        |v| v.as_str().is_some_and(|t| t.contains("grandchild")),
    );
    assert!(
        out.as_str()
            .unwrap()
            .contains("args: --lang fr lesson 1 --events /dev/fd/3 lang=fr"),
        "{out}"
    );
    // Stop ends the run, and what it started, within 2 s.
    let pid: u32 = text_of(
        &b,
        "return document.querySelector('.course-run').dataset.pid",
    )
    .parse()
    .unwrap();
    let grandchild = number_after(out.as_str().unwrap(), "grandchild: ");
    b.click(".course-stop-button");
    assert!(
        wait_gone(pid, Duration::from_secs(2)),
        "Stop left process {pid} running"
    );
    assert!(
        wait_gone(grandchild, Duration::from_secs(2)),
        "Stop left process {grandchild} running"
    );
    b.until(
        "return document.querySelector('.course-run').dataset.state",
        Duration::from_secs(5),
        |v| v == "stopped",
    );
    assert_eq!(
        text_of(
            &b,
            "return document.querySelector('.course-status').textContent"
        ),
        "arrêté"
    );
    show_top_of(&b, "document.querySelector('.course-run')");
    b.screenshot("ch1-fr-stopped.png");
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn check_exercise_1_fails_as_shipped() {
    let server = Server::start(real());
    let b = Browser::start("check");
    b.goto(&format!(
        "http://127.0.0.1:{}/ch1_cluster.html",
        server.port
    ));
    let file = b.until(
        "const e = document.querySelector('.course-file'); return e && e.textContent",
        Duration::from_secs(10),
        |v| v.is_string(),
    );
    assert!(
        file.as_str().unwrap().contains("exercises/ex1_topic.rs"),
        "{file}"
    );
    // The control sits in the exercise's section, after its command.
    let box_ = "document.querySelectorAll('.course-run')[1]";
    assert_eq!(
        b.js(&format!(
            "return {box_}.previousElementSibling.textContent.includes('just exercise 1')"
        )),
        true
    );
    b.js(&format!("{box_}.scrollIntoView({{block: 'center'}})"));
    b.click(".course-file + .course-bar .course-run-button");
    show_top_of(&b, box_);
    let state = b.until(
        &format!("return {box_}.dataset.state"),
        Duration::from_secs(170),
        |v| v.as_str().is_some_and(|s| s != "running"),
    );
    let out = text_of(
        &b,
        &format!("return {box_}.querySelector('.course-output').textContent"),
    );
    assert!(
        out.contains("Exercise 1.1: A topic for a group of four consumers"),
        "{out}"
    );
    // As shipped (the starter, with its TODO markers; always in CI), it fails.
    let shipped = std::fs::read_to_string(course_root().join("exercises/ex1_topic.rs")).unwrap();
    if shipped.contains("TODO") || std::env::var_os("CI").is_some() {
        assert_eq!(state, "failed", "{out}");
        assert!(out.contains("FAIL") && out.contains("just hint 1"), "{out}");
        assert_eq!(
            text_of(
                &b,
                &format!("return {box_}.querySelector('.course-status').textContent")
            ),
            "not solved yet: the report below says why"
        );
    }
    b.screenshot("ch1-check-exercise-1.png");
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn a_page_opened_from_files_says_how_to_serve_it() {
    let b = Browser::start("files");
    for (page, says) in [
        (
            "ch1_cluster.html",
            "To run lesson 1 from this page, start the course's server",
        ),
        (
            "fr/ch1_cluster.html",
            "Pour lancer la leçon 1 depuis cette page, démarrez le serveur du cours",
        ),
    ] {
        b.goto(&format!("file://{}", book().join(page).display()));
        let text = b.until(
            "const e = document.querySelector('.course-offline'); return e && e.textContent",
            Duration::from_secs(10),
            |v| v.is_string(),
        );
        let text = text.as_str().unwrap();
        assert!(
            text.contains(says) && text.contains("just serve"),
            "{page}: {text}"
        );
        // The lesson's, and one for each of the chapter's exercises.
        let exercises = common::exercises()
            .iter()
            .filter(|e| e.chapter == 1)
            .count();
        assert_eq!(
            b.js("return document.querySelectorAll('.course-offline').length"),
            1 + exercises as u64,
            "{page}: the lesson's and each exercise's"
        );
        assert_eq!(
            b.js("return document.querySelector('.course-run-button')"),
            Value::Null,
            "{page}: no button that would fail"
        );
        if page == "ch1_cluster.html" {
            assert!(
                text.contains("http://127.0.0.1:3000/ch1_cluster.html"),
                "{text}"
            );
            show_top_of(&b, "document.querySelector('.course-offline')");
            b.screenshot("ch1-from-files.png");
        } else {
            assert!(
                text.contains("http://127.0.0.1:3000/fr/ch1_cluster.html"),
                "{text}"
            );
        }
    }
}

// ------------------------------------------------------ the picture's data

/// The events of a chapter's timeline snapshot (English, or French where
/// it exists), as the book's timelines hold them.
fn snapshot_timeline(slug: &str, lang: &str) -> Vec<Value> {
    let path = kafka_course_book::timeline_snapshot(slug, lang);
    let text = std::fs::read_to_string(&path).unwrap();
    text.split_once("\n---\n")
        .unwrap()
        .1
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Listen, before the run, to what course.js tells the page about it.
const LISTEN: &str = "window.heard = {starts: [], events: [], ends: []};
    document.addEventListener('course:run-start', (e) => heard.starts.push(e.detail));
    document.addEventListener('course:event', (e) => heard.events.push(e.detail));
    document.addEventListener('course:run-end', (e) => heard.ends.push(e.detail));";

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn a_page_opened_from_files_loads_its_chapters_timeline_and_labels() {
    // The picture loads them with script tags, from `path_to_root`: that
    // works from files as from a server.
    let b = Browser::start("timeline-files");
    for (page, lang) in [("ch1_cluster.html", "en"), ("fr/ch1_cluster.html", "fr")] {
        b.goto(&format!("file://{}", book().join(page).display()));
        b.until("return document.readyState", Duration::from_secs(10), |v| {
            v == "complete"
        });
        b.js(
            "for (const f of ['timelines/labels.js', 'timelines/ch1_cluster.js']) {
                const s = document.createElement('script');
                s.src = path_to_root + f;
                document.head.append(s);
              }",
        );
        let events = b.until(
            "return window.courseTimelines && window.courseTimelines.ch1_cluster",
            Duration::from_secs(10),
            |v| v.is_array(),
        );
        assert_eq!(
            events.as_array().unwrap(),
            &snapshot_timeline("ch1_cluster", lang),
            "{page}"
        );
        let labels = b.js("return window.coursePictureLabels");
        let built =
            std::fs::read_to_string(book().join(page).with_file_name("timelines/labels.js"))
                .unwrap();
        let object = built
            .split_once(" = ")
            .unwrap()
            .1
            .trim_end()
            .trim_end_matches(';');
        assert_eq!(
            labels,
            serde_json::from_str::<Value>(object).unwrap(),
            "{page}"
        );
        if lang == "en" {
            assert_eq!(labels, json!({}), "{page}");
        }
    }
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn run_lesson_4_sends_its_timeline_to_the_page_as_it_happens() {
    // The page hears the run start, each event of its timeline, and its
    // end: what the picture draws live.
    let server = Server::start(real());
    let b = Browser::start("run-events");
    b.goto(&format!(
        "http://127.0.0.1:{}/ch4_consumer.html",
        server.port
    ));
    b.until(
        "return document.querySelector('.course-run-button') !== null",
        Duration::from_secs(10),
        |v| v == true,
    );
    b.js(LISTEN);
    b.js("document.querySelector('.course-run').scrollIntoView({block: 'center'})");
    b.click(".course-run-button");
    b.until("return heard.ends.length", Duration::from_secs(60), |v| {
        v.as_u64().is_some_and(|n| n > 0)
    });
    let heard = b.js("return heard");
    assert_eq!(heard["starts"], json!([{"chapter": 4}]));
    assert_eq!(heard["ends"], json!([{"chapter": 4, "ok": true}]));
    let events = heard["events"].as_array().unwrap();
    // On the embedded cluster, the run's timeline is the one its test
    // checked, which the page replays without the server.
    assert_eq!(events, &snapshot_timeline("ch4_consumer", "en"));
    let first_event = b.js("return document.querySelector('.course-run').dataset.firstEventMs");
    let first_frame = b.js("return document.querySelector('.course-run').dataset.firstFrameMs");
    eprintln!(
        "lesson 4 from its page: first event {first_event} ms after the click, first frame after it {first_frame} ms"
    );
}

// ------------------------------------------- the picture (book/theme/picture.js)

/// The chapter's picture, once the renderer has put it on the page.
fn picture(b: &Browser, slug: &str) -> String {
    let figure =
        format!("document.querySelector('figure.course-picture[data-chapter=\"{slug}\"]')");
    b.until(
        &format!("return {figure} !== null"),
        Duration::from_secs(10),
        |v| v == true,
    );
    figure
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn chapter_1_replayed_from_files_ends_with_12_records_in_3_partitions() {
    let b = Browser::start("replay-ch1");
    b.goto(&format!(
        "file://{}",
        book().join("ch1_cluster.html").display()
    ));
    let figure = picture(&b, "ch1_cluster");
    let timeline = snapshot_timeline("ch1_cluster", "en");
    let last = timeline.last().unwrap()["seq"].as_u64().unwrap();
    // Played to its end: by itself, or with the replay button.
    std::thread::sleep(Duration::from_millis(500));
    if b.js(&format!("return {figure}.dataset.seq")) != json!(last.to_string()) {
        b.js(&format!("{figure}.scrollIntoView({{block: 'center'}})"));
        b.click("figure.course-picture [data-replay]");
    }
    b.until(
        &format!("return {figure}.dataset.seq"),
        Duration::from_secs(60),
        |v| v == &json!(last.to_string()),
    );
    let drawn = b.js(&format!(
        "return Array.from({figure}.querySelectorAll('[data-topic][data-partition][data-offset][data-key]'))
           .map(e => [e.dataset.topic, Number(e.dataset.partition), Number(e.dataset.offset), e.dataset.key])"
    ));
    let mut drawn: Vec<(String, i64, i64, String)> =
        serde_json::from_value(drawn).expect("records' data");
    drawn.sort();
    drawn.dedup();
    let mut delivered: Vec<(String, i64, i64, String)> = timeline
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
        .collect();
    delivered.sort();
    assert_eq!(drawn.len(), 12, "{drawn:?}");
    let partitions: std::collections::BTreeSet<i64> = drawn.iter().map(|r| r.1).collect();
    assert_eq!(partitions.len(), 3, "{drawn:?}");
    assert_eq!(drawn, delivered, "the records at the snapshot's offsets");
    show_top_of(&b, &figure);
    b.screenshot("ch1-picture-replayed.png");
}

/// A member's partitions as `data-partitions` lists them ("0,1" or
/// "topic:0,topic:1"): the partitions' numbers.
fn owned(partitions: &str) -> Vec<i64> {
    partitions
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.rsplit(':').next().unwrap().trim().parse().unwrap())
        .collect()
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn chapter_4_run_live_shows_two_members_a_rebalance_and_the_committed_offsets() {
    let server = Server::start(real());
    let b = Browser::start("live-ch4");
    b.goto(&format!(
        "http://127.0.0.1:{}/ch4_consumer.html",
        server.port
    ));
    b.until(
        "return document.querySelector('.course-run-button') !== null",
        Duration::from_secs(10),
        |v| v == true,
    );
    let figure = picture(&b, "ch4_consumer");
    b.js(LISTEN);
    // Every state of group "machines" the picture shows: its members and
    // what each owns, after each event (this listener comes after the
    // picture's, which draws the event).
    b.js(&format!(
        "window.states = [];
         const figure = {figure};
         document.addEventListener('course:event', () => states.push(Array.from(
           figure.querySelectorAll('[data-group=\"machines\"][data-member]'))
           .map(e => [e.dataset.member, e.dataset.partitions || ''])));"
    ));
    b.js("document.querySelector('.course-run').scrollIntoView({block: 'center'})");
    b.click(".course-run-button");
    b.until(
        &format!("return {figure}.dataset.state"),
        Duration::from_secs(10),
        |v| v == "live",
    );
    show_top_of(&b, &figure);
    std::thread::sleep(Duration::from_millis(700));
    b.screenshot("ch4-picture-live.png");
    b.until("return heard.ends.length", Duration::from_secs(60), |v| {
        v.as_u64().is_some_and(|n| n > 0)
    });
    let events = b.js("return heard.events");
    let last = events.as_array().unwrap().last().unwrap()["seq"].clone();
    b.until(
        &format!("return {figure}.dataset.seq"),
        Duration::from_secs(10),
        |v| v == &json!(last.to_string()),
    );
    let states: Vec<Vec<(String, String)>> = serde_json::from_value(b.js("return states")).unwrap();
    // Two members of "machines" at once.
    assert!(
        states.iter().any(|s| {
            let members: std::collections::BTreeSet<&String> = s.iter().map(|m| &m.0).collect();
            members.len() >= 2
        }),
        "never two members of group machines: {states:?}"
    );
    // A rebalance: a partition one member owned, later owned by another.
    let owner_of = |s: &Vec<(String, String)>, p: i64| {
        s.iter()
            .find(|(_, parts)| owned(parts).contains(&p))
            .map(|(m, _)| m.clone())
    };
    let rebalanced = (0..3).any(|p| {
        let owners: Vec<String> = states.iter().filter_map(|s| owner_of(s, p)).collect();
        owners.windows(2).any(|w| w[0] != w[1])
    });
    assert!(rebalanced, "no partition changed owner: {states:?}");
    // The committed offsets: the timeline's last for each partition.
    let mut committed = std::collections::BTreeMap::new();
    for e in events.as_array().unwrap() {
        if e["kind"] == "committed" && e["group"] == "machines" {
            committed.insert(
                e["partition"].as_i64().unwrap(),
                e["offset"].as_i64().unwrap(),
            );
        }
    }
    let drawn: Vec<(String, String)> = serde_json::from_value(b.js(&format!(
        "return Array.from({figure}.querySelectorAll('[data-group=\"machines\"][data-committed]'))
           .map(e => [e.dataset.partition, e.dataset.committed])"
    )))
    .unwrap();
    let drawn: std::collections::BTreeMap<i64, i64> = drawn
        .iter()
        .map(|(p, c)| (owned(p)[0], c.parse().unwrap()))
        .collect();
    assert_eq!(drawn, committed, "the committed offsets drawn");
    assert_eq!(
        b.js(&format!("return {figure}.dataset.state")),
        "done",
        "the last frame stays"
    );
    show_top_of(&b, &figure);
    b.screenshot("ch4-picture-after-live.png");
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn the_french_chapter_4_page_draws_french_labels() {
    let b = Browser::start("labels-fr");
    // The labels whose French is not the English (their fixed text, without
    // the {values}).
    let fixed = |label: &str| -> Vec<String> {
        label
            .split(['{', '}'])
            .step_by(2)
            .map(str::trim)
            .filter(|p| p.chars().filter(|c| c.is_alphabetic()).count() >= 3)
            .map(String::from)
            .collect()
    };
    b.goto(&format!(
        "file://{}",
        book().join("fr/ch4_consumer.html").display()
    ));
    let figure = picture(&b, "ch4_consumer");
    let labels = b.until(
        "return window.coursePictureLabels",
        Duration::from_secs(10),
        |v| v.is_object(),
    );
    let french: Vec<(String, String)> = labels
        .as_object()
        .unwrap()
        .iter()
        .map(|(en, fr)| (en.clone(), fr.as_str().unwrap().to_string()))
        .filter(|(en, fr)| en != fr)
        .collect();
    assert!(!french.is_empty(), "no label has a French of its own");
    std::thread::sleep(Duration::from_millis(500));
    let text = text_of(&b, &format!("return {figure}.textContent"));
    let shown: Vec<&(String, String)> = french
        .iter()
        .filter(|(_, fr)| fixed(fr).iter().all(|p| text.contains(p.as_str())))
        .collect();
    assert!(!shown.is_empty(), "no French label in the picture: {text}");
    // And none of those labels in English.
    for (en, fr) in &french {
        for part in fixed(en) {
            if !fixed(fr).iter().any(|p| p.contains(&part)) {
                assert!(
                    !text.contains(&format!(" {part} ")),
                    "{en:?} in English on the French page: {text}"
                );
            }
        }
    }
    show_top_of(&b, &figure);
    b.screenshot("ch4-fr-picture.png");
}
