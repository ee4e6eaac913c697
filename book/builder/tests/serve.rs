//! `course serve`: the rules that keep it safe, at the HTTP level.
//!
//! Each test starts its own server (this package's `serve`, in-process) on
//! a free loopback port, serving a book built once into the tests' folder,
//! with a stand-in for the course's program that says what it was asked to
//! run and sleeps. The browser tests (tests/browser.rs) press Run and Check
//! with the real course; the lessons' own tests (lessons/tests/serve.rs) run
//! lesson 1 through `course serve`, end to end.

mod common;

use std::io::{BufRead as _, BufReader};
use std::time::{Duration, Instant};

use common::*;
use kafka_course_book::serve;

#[test]
fn serves_both_editions_and_what_the_pages_may_run() {
    let server = Server::start(config(sleeper()));
    let port = server.port;
    let (status, page) = get(port, "/ch1_cluster.html");
    assert_eq!(status, 200);
    assert!(
        page.contains("theme/course"),
        "the page loads the Run script"
    );
    let (status, page) = get(port, "/fr/ch1_cluster.html");
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"fr\""));
    let (status, _) = get(port, "/");
    assert_eq!(status, 200);
    let (status, info) = get(port, "/api/course");
    assert_eq!(status, 200);
    assert!(info.contains("\"server\":\"course serve\""), "{info}");
    assert!(
        info.contains("\"file\":\"exercises/ex1_topic.rs\""),
        "{info}"
    );
    let (status, _) = get(port, "/no-such-page.html");
    assert_eq!(status, 404);
}

#[test]
fn listens_on_loopback_only() {
    // serve-book binds 127.0.0.1; the server itself refuses anything else.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let refused = runtime.block_on(async {
        let everywhere = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        serve::serve(everywhere, config(sleeper()), std::future::pending()).await
    });
    let e = refused.expect_err("serving on 0.0.0.0");
    assert!(e.to_string().contains("loopback only"), "{e}");
}

#[test]
fn refuses_a_foreign_origin_or_host() {
    let server = Server::start(config(sleeper()));
    let port = server.port;
    let own = format!("http://localhost:{port}");
    for origin in [
        "http://evil.example",
        "null",
        "http://127.0.0.1:1",
        "https://127.0.0.1",
        &format!("https://127.0.0.1:{port}"),
        &format!("http://127.0.0.1:{port}.evil.example"),
    ] {
        for (method, path) in [("POST", "/api/lesson/1"), ("GET", "/ch1_cluster.html")] {
            let (status, text) = answer(send(port, method, path, &[("Origin", origin)]));
            assert_eq!(status, 403, "{method} {path} with Origin {origin}: {text}");
            assert!(!text.contains("args:"), "Origin {origin} started a run");
        }
    }
    // A POST without Origin does not come from a page of the book's.
    let (status, text) = answer(send(port, "POST", "/api/lesson/1", &[]));
    assert_eq!(status, 403, "{text}");
    // DNS rebinding: a foreign name that resolves to 127.0.0.1.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1",
        "127.0.0.1:1",
        &format!("0.0.0.0:{port}"),
    ] {
        let (status, _) = answer(send(port, "GET", "/index.html", &[("Host", host)]));
        assert_eq!(status, 421, "GET with Host {host}");
        let headers = [("Host", host), ("Origin", own.as_str())];
        let (status, text) = answer(send(port, "POST", "/api/lesson/1", &headers));
        assert_eq!(status, 421, "POST with Host {host}");
        assert!(!text.contains("args:"));
    }
    // Its own names pass.
    let (status, _) = answer(send(
        port,
        "GET",
        "/index.html",
        &[("Host", &format!("localhost:{port}"))],
    ));
    assert_eq!(status, 200);
}

#[test]
fn serves_nothing_outside_the_book() {
    let server = Server::start(config(sleeper()));
    let port = server.port;
    assert!(secret().is_file());
    let name = secret();
    let name = name.file_name().unwrap().to_string_lossy();
    for path in [
        format!("/../{name}"),
        format!("/fr/../../{name}"),
        format!("/%2e%2e/{name}"),
        format!("/%2E%2E%2F{name}"),
        format!("/..%2f{name}"),
        format!("/theme/..%2f..%2f{name}"),
        format!("/theme/%252e%252e/%252e%252e/{name}"),
        format!("/..\\{name}"),
        format!("/%5c..%5c{name}"),
        format!("/..%5c{name}"),
        format!("//{name}"),
        format!("/./../{name}"),
        format!("/%2e%2e%2f%2e%2e%2f{name}"),
        format!("/%c0%ae%c0%ae/{name}"),
        format!("/..%00/{name}"),
        format!("/api/../../{name}"),
    ] {
        let (status, text) = get(port, &path);
        assert!(
            !text.contains("SECRET-OUTSIDE"),
            "{path} reached a file outside the book"
        );
        assert_ne!(status, 200, "{path}");
    }
    for path in [
        "/%2Fetc%2Fpasswd",
        "/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/etc/passwd",
    ] {
        let (status, text) = get(port, path);
        assert!(status != 200 && !text.contains("root:"), "{path}");
    }
}

#[test]
fn runs_only_the_courses_lessons_and_exercises_by_number() {
    let server = Server::start(config(sleeper()));
    let port = server.port;
    for path in [
        "/api/lesson/99",
        "/api/lesson/0",
        "/api/lesson/-1",
        "/api/lesson/abc",
        "/api/lesson/",
        "/api/lesson/1%20--keep",
        "/api/lesson/1;ls",
        "/api/lesson/1/../2",
        "/api/lesson/..%2f1",
        "/api/lesson/4294967297",
        "/api/exercise/99",
        "/api/exercise/7",
        "/api/exercise/1.1%0Als",
        "/api/exercise/1%0Als",
        "/api/run/1",
        "/api/course",
    ] {
        let (status, text) = answer(post_run(port, path));
        assert!(status == 404 || status == 405, "{path}: {status} {text}");
        assert!(!text.contains("args:"), "{path} started a process");
    }
    // The child gets the list's number and language, not the request's text.
    for (path, args) in [
        (
            "/api/lesson/01",
            "args: --lang en lesson 1 --events /dev/fd/3 lang=en",
        ),
        (
            "/api/lesson/%31",
            "args: --lang en lesson 1 --events /dev/fd/3 lang=en",
        ),
        (
            "/api/lesson/2?lang=fr",
            "args: --lang fr lesson 2 --events /dev/fd/3 lang=fr",
        ),
        (
            "/api/lesson/3?lang=de;rm%20-rf",
            "args: --lang en lesson 3 --events /dev/fd/3 lang=en",
        ),
        (
            "/api/exercise/7.1?lang=fr&lang=en",
            "args: --lang fr exercise 7.1 lang=fr",
        ),
    ] {
        // The server runs at most MAX_RUNS at once, and frees the slot of
        // the previous run once it sees its connection closed: on a busy
        // machine the next request may come first and be told 429. Ask
        // again (the rule under test is what the child gets, not the limit).
        let deadline = Instant::now() + Duration::from_secs(10);
        let line = loop {
            let s = post_run(port, path);
            let mut r = BufReader::new(&s);
            let mut status = String::new();
            r.read_line(&mut status).unwrap();
            if status.contains(" 429 ") && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            break read_until(&mut r, "args:");
        };
        assert!(
            line.contains(&format!("\"text\":\"{args}\"")),
            "{path}: {line}"
        );
    }
}

#[test]
fn a_closed_connection_ends_its_run_and_what_it_started_within_2_s() {
    let server = Server::start(config(sleeper()));
    let s = post_run(server.port, "/api/exercise/1.1");
    let (_, pid, grandchild) = sleeper_run(&s);
    assert!(!gone(pid) && !gone(grandchild), "the run is going");
    drop(s); // the tab is closed, or Stop pressed
    assert!(
        wait_gone(pid, Duration::from_secs(2)),
        "process {pid} outlived its page"
    );
    assert!(
        wait_gone(grandchild, Duration::from_secs(2)),
        "process {grandchild}, which the run started, outlived its page"
    );
}

#[test]
fn at_most_two_runs_at_once_each_with_a_time_limit() {
    let mut config = config(sleeper());
    config.lesson_limit = Duration::from_secs(2);
    config.exercise_limit = Duration::from_secs(3);
    let server = Server::start(config);
    let port = server.port;
    let a = post_run(port, "/api/lesson/1");
    let (_, a_pid, a_grandchild) = sleeper_run(&a);
    let b = post_run(port, "/api/exercise/1.1");
    let (_, b_pid, _) = sleeper_run(&b);
    let (status, text) = answer(post_run(port, "/api/lesson/2"));
    assert_eq!(status, 429, "a third run must wait: {text}");
    assert!(!text.contains("args:"));
    // The sleeper would sleep 30 s: the limits stop them after 2 and 3.
    let started = Instant::now();
    let (_, text) = answer(a);
    assert!(
        text.contains("{\"event\":\"end\",\"status\":\"timeout\""),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(wait_gone(a_pid, Duration::from_secs(2)));
    assert!(wait_gone(a_grandchild, Duration::from_secs(2)));
    let (_, text) = answer(b);
    assert!(text.contains("\"status\":\"timeout\""), "{text}");
    assert!(wait_gone(b_pid, Duration::from_secs(2)));
    // Their slots are free again.
    std::thread::sleep(Duration::from_millis(200));
    let c = post_run(port, "/api/lesson/2");
    let (_, pid, _) = sleeper_run(&c);
    assert!(pid > 0);
}

#[test]
fn stopping_the_server_ends_every_run() {
    let server = Server::start(config(sleeper()));
    let a = post_run(server.port, "/api/lesson/1");
    let b = post_run(server.port, "/api/exercise/2.1");
    let (_, a_pid, a_grandchild) = sleeper_run(&a);
    let (_, b_pid, b_grandchild) = sleeper_run(&b);
    server.stop();
    for pid in [a_pid, a_grandchild, b_pid, b_grandchild] {
        assert!(
            wait_gone(pid, Duration::from_secs(2)),
            "process {pid} outlived the server"
        );
    }
}

/// The lines of a run's stream, as JSON, up to its end (heartbeats and
/// HTTP's chunk framing left out).
fn stream_events(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.starts_with("{\"event\":"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn a_lessons_stream_carries_its_timeline_in_step_with_its_text() {
    // The lesson writes its timeline to its descriptor 3 (`--events
    // /dev/fd/3`); the stream carries each event that is a JSON object,
    // as a `timeline` line, once the lesson's text has as many lines as
    // the event's `line` says; nothing else of that pipe.
    let mut config = config(sleeper());
    config.lesson_limit = Duration::from_secs(3);
    let server = Server::start(config);
    let (status, text) = answer(post_run(server.port, "/api/lesson/4"));
    assert_eq!(status, 200, "{text}");
    let events = stream_events(&text);
    let kinds: Vec<String> = events
        .iter()
        .map(|e| match e["event"].as_str().unwrap() {
            "line" => format!(
                "line {}",
                e["text"].as_str().unwrap().split(':').next().unwrap()
            ),
            "timeline" => format!("timeline {}", e["entry"]["seq"]),
            other => other.to_string(),
        })
        .collect();
    // The first event after the first line; the second held back until
    // the second line, though the lesson wrote it before.
    assert_eq!(
        kinds,
        [
            "start",
            "line args",
            "timeline 0",
            "line grandchild",
            "timeline 1",
            "end"
        ],
        "{text}"
    );
    for (i, sent) in SLEEPER_EVENTS.iter().enumerate() {
        let sent: serde_json::Value = serde_json::from_str(sent).unwrap();
        let got = events.iter().find(|e| e["entry"]["seq"] == i).unwrap();
        assert_eq!(got["entry"], sent);
    }
    // A string that looks like the stream's end stays inside its event.
    assert_eq!(events.last().unwrap()["status"], "timeout");
    // No line of the stream is longer than the server lets through.
    assert!(text.lines().all(|l| l.len() < serve::MAX_LINE + 100));
}

#[test]
fn an_exercises_check_has_no_timeline() {
    let server = Server::start(config(sleeper()));
    let s = post_run(server.port, "/api/exercise/1.1");
    let mut r = BufReader::new(&s);
    let args = read_until(&mut r, "args:");
    assert!(
        args.contains("\"text\":\"args: --lang en exercise 1.1 lang=en\""),
        "{args}"
    );
}

#[test]
fn lesson_1s_stream_carries_the_timeline_its_test_checked() {
    // The real course, on the embedded cluster: the events of a run from
    // the page are the ones of the snapshot the book's picture replays.
    let server = Server::start(config(course_program()));
    let started = Instant::now();
    let s = post_run(server.port, "/api/lesson/1?lang=en");
    let mut text = String::new();
    let mut first_event = None;
    for line in BufReader::new(&s).lines() {
        let line = line.unwrap();
        if first_event.is_none() && line.contains("{\"event\":\"timeline\"") {
            first_event = Some(started.elapsed());
        }
        text += &line;
        text.push('\n');
    }
    let first_event = first_event.unwrap_or_else(|| panic!("no timeline: {text}"));
    let events = stream_events(&text);
    assert_eq!(events.last().unwrap()["status"], "ok", "{text}");
    let timeline: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "timeline")
        .map(|e| &e["entry"])
        .collect();
    let snapshot = std::fs::read_to_string(
        kafka_course_book::course_root().join("lessons/tests/snapshots/ch1_cluster.events.snap"),
    )
    .unwrap();
    let expected: Vec<serde_json::Value> = snapshot
        .split_once("\n---\n")
        .unwrap()
        .1
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(timeline.len(), expected.len(), "{text}");
    // As the lesson wrote them, in its order of fields.
    assert!(
        text.contains(&format!(
            "{{\"event\":\"timeline\",\"entry\":{}}}",
            snapshot
                .split_once("\n---\n")
                .unwrap()
                .1
                .lines()
                .next()
                .unwrap()
        )),
        "{text}"
    );
    for (got, want) in timeline.iter().zip(&expected) {
        assert_eq!(*got, want);
    }
    // Each event after as many lines of text as it says.
    let mut printed = 0;
    for e in &events {
        match e["event"].as_str().unwrap() {
            "line" => printed += 1,
            "timeline" => assert!(
                e["entry"]["line"].as_u64().unwrap() <= printed,
                "{e} came after {printed} lines"
            ),
            _ => {}
        }
    }
    eprintln!(
        "lesson 1's first event {} ms after the request",
        first_event.as_millis()
    );
}
