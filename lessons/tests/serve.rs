//! `course serve`, end to end: the command builds the book's server
//! (package `kafka-course-book`, with cargo), which builds the book and
//! serves it; a page's Run runs lesson 1 with this very program and streams
//! its output to the end. The server's own rules, and the buttons in a
//! browser, are tested with its code (book/builder/tests, which `cargo
//! test` runs too: tests/book.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `course serve`, ended when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_lesson_streams_its_output_to_the_end() {
    // The book is built into the tests' folder, not book/build.
    let book = Path::new(env!("CARGO_TARGET_TMPDIR")).join("course-serve-book");
    let mut child = Command::new(env!("CARGO_BIN_EXE_course"))
        .args(["serve", "--port", "0"])
        .env("COURSE_BOOK_DIR", &book)
        .env("COURSE_LANG", "en")
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting course serve");
    let stdout = child.stdout.take().unwrap();
    let served = Served(child);
    // It says where it serves (after building the server and the book).
    let mut said = String::new();
    let mut lines = BufReader::new(stdout).lines();
    let port: u16 = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("course serve stopped before serving:\n{said}"))
            .unwrap();
        said += &line;
        said.push('\n');
        if let Some(rest) = line.split("Serving the book at http://127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    assert!(book.join("ch1_cluster.html").is_file(), "{said}");

    // Run lesson 1 as its page does: POST, with the page's own Origin.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "POST /api/lesson/1?lang=en HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all).into_owned();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("application/x-ndjson"), "{text}");
    assert!(
        text.contains("{\"event\":\"line\",\"text\":\"Lesson 1: "),
        "{text}"
    );
    // Its last line, as in the snapshot the chapter shows.
    let snap = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/ch1_cluster.snap"
    ))
    .unwrap();
    let last = snap.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(
        text.contains(&serde_json::to_string(last.trim_end()).unwrap()[1..]),
        "no {last:?} in {text}"
    );
    assert!(
        text.contains("{\"event\":\"end\",\"status\":\"ok\",\"code\":0}"),
        "{text}"
    );
    drop(served);
}
