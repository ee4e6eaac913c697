//! What the book's tests share: the course's chapters and exercises, read
//! from its files (this package does not depend on the course's library),
//! the book built once per test program, a server on a thread of its own,
//! a stand-in for the course's program, and a raw HTTP client.
//!
//! The HTTP client is raw TCP on purpose: it sends paths exactly as written
//! (`..`, `%2e%2e`), where an HTTP library would tidy them.

#![allow(dead_code)]

pub mod webdriver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kafka_course_book::serve::{self, Config, Exercise};
use kafka_course_book::{book_root, course_root};

/// The chapters, in order, as the book's summary lists them: (number,
/// slug), for `- [Title](chN_slug.md)`. Chapter N is backed by lesson N.
pub fn chapters() -> Vec<(u32, String)> {
    let summary = std::fs::read_to_string(book_root().join("src/SUMMARY.md")).unwrap();
    let found: Vec<(u32, String)> = summary
        .split("](")
        .skip(1)
        .filter_map(|link| {
            let slug = link.split(".md)").next()?;
            let number = slug.strip_prefix("ch")?.split('_').next()?.parse().ok()?;
            Some((number, slug.to_string()))
        })
        .collect();
    let numbers: Vec<u32> = found.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (1..=found.len() as u32).collect::<Vec<_>>(),
        "SUMMARY.md lists the chapters 1, 2, 3... in order"
    );
    assert!(found.len() >= 7, "SUMMARY.md lists {found:?}");
    found
}

/// The exercises, as students' files: `exercises/exC_word.rs` is exercise
/// C.1, `exercises/exC_K_word.rs` exercise C.K, both practising chapter C;
/// `exercises/capstone.rs` the capstone (chapter 7).
pub fn exercises() -> Vec<Exercise> {
    let mut found: Vec<((u32, u32), Exercise)> = std::fs::read_dir(course_root().join("exercises"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".rs")?;
            let (chapter, k) = if stem == "capstone" {
                (7, u32::MAX)
            } else {
                let mut parts = stem.strip_prefix("ex")?.split('_');
                let chapter: u32 = parts.next()?.parse().ok()?;
                let k: u32 = parts.next()?.parse().unwrap_or(1);
                (chapter, k)
            };
            let id = if k == u32::MAX {
                "capstone".to_string()
            } else {
                format!("{chapter}.{k}")
            };
            Some((
                (chapter, k),
                Exercise {
                    id,
                    chapter,
                    file: format!("exercises/{name}"),
                },
            ))
        })
        .collect();
    found.sort_by_key(|(order, _)| *order);
    assert!(found.len() >= 7, "exercises/ has {} exercises", found.len());
    found.into_iter().map(|(_, e)| e).collect()
}

/// This test program's own folder for what it writes.
pub fn scratch(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", env!("CARGO_CRATE_NAME")))
}

/// The book, built once for every test of this program.
pub fn book() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = scratch("book");
        let _ = std::fs::remove_dir_all(&out);
        kafka_course_book::build(&out).expect("the book builds");
        // A file just outside the served folder: no request may reach it.
        std::fs::write(secret(), "SECRET-OUTSIDE-THE-BOOK").unwrap();
        out
    })
}

/// A file just outside the served folder.
pub fn secret() -> PathBuf {
    scratch("secret.txt")
}

/// A stand-in for the course's program: prints its arguments, starts a
/// process of its own (as `course exercise` starts cargo and a runner) and
/// prints its id, then sleeps, long enough to test Stop, disconnects, the
/// time limit and the server's end, which a real lesson (about a second)
/// would end too soon to show. Given `--events FILE` (a lesson), it writes
/// a timeline there as a lesson would ([`SLEEPER_EVENTS`]), with lines no
/// lesson writes among them: not JSON, not an object, one too long.
pub fn sleeper() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = scratch("sleeper.sh");
        std::fs::write(
            &path,
            format!(
                r#"#!/bin/sh
echo "args: $* lang=$COURSE_LANG"
events=
for a in "$@"; do case "$a" in /dev/fd/*) events=$a;; esac; done
if [ -n "$events" ]; then
  {{
    echo 'not json'
    echo '[1, 2]'
    printf '%s\n' '{}'
    printf '{{"seq":9,"line":0,"kind":"section","title":"%s"}}\n' "$(head -c 70000 /dev/zero | tr '\0' a)"
    printf '%s\n' '{}'
  }} > "$events"
fi
sleep 30 &
echo "grandchild: $!"
exec sleep 30
"#,
                SLEEPER_EVENTS[0], SLEEPER_EVENTS[1]
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    })
    .clone()
}

/// The course's program (package `kafka-course`, which this package does
/// not depend on), built by cargo in this test program's own target folder
/// and profile, where `cargo test` built it already: then cargo only
/// checks it. The pages run it as `course serve`'s pages do.
pub fn course_program() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // This program is <target>/<profile folder>/deps/browser-<hash>.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let target = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => "dev",
            other => other,
        };
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(course_root())
            .args(["build", "--quiet", "-p", "kafka-course", "--bin", "course"])
            .args(["--profile", profile])
            .arg("--target-dir")
            .arg(target)
            .stdin(Stdio::null())
            .status()
            .expect("running cargo");
        assert!(
            status.success(),
            "cargo could not build the course's program"
        );
        profile_dir.join(format!("course{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// The timeline the sleeper writes for a lesson, before its second line:
/// the first event after its first line, the second after its second line.
pub const SLEEPER_EVENTS: [&str; 2] = [
    r#"{"seq":0,"line":1,"kind":"section","title":"Stand-in"}"#,
    r#"{"seq":1,"line":2,"kind":"member_joined","group":"g\"}\n{\"event\":\"end\"}","member":"m"}"#,
];

/// The course's lessons and exercises, as `course serve` gives them.
pub fn config(course: PathBuf) -> Config {
    let mut config = Config::new(book().to_path_buf(), course);
    config.lessons = chapters().iter().map(|(n, _)| *n).collect();
    config.exercises = exercises();
    config
}

/// A server on a thread of its own, until `stop` says so (or never).
pub struct Server {
    pub port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    pub fn start(config: Config) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // One thread, as serve-book runs it (a run's child dies with the
        // thread that started it).
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let stopped = async {
                        let _ = stopped.await;
                    };
                    serve::serve(listener, config, stopped).await.unwrap();
                })
        });
        Server {
            port,
            thread: Some(thread),
            stop: Some(stop),
        }
    }

    /// Stop the server as Ctrl-C does, and wait until it returned.
    pub fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.thread.take().unwrap().join().unwrap();
    }
}

/// Send a request as written; return the connection, to read the answer.
pub fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req += &format!("Host: 127.0.0.1:{port}\r\n");
    }
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += "\r\n";
    s.write_all(req.as_bytes()).unwrap();
    s
}

/// Status and the whole answer (chunked framing left in: tests look for text).
pub fn answer(mut s: TcpStream) -> (u16, String) {
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

pub fn get(port: u16, path: &str) -> (u16, String) {
    answer(send(port, "GET", path, &[]))
}

/// A run as the book's page starts it: POST, with the page's own Origin.
pub fn post_run(port: u16, path: &str) -> TcpStream {
    let origin = format!("http://127.0.0.1:{port}");
    send(port, "POST", path, &[("Origin", origin.as_str())])
}

/// Read a run's stream until a line holds `what`; return that line.
pub fn read_until(r: &mut BufReader<&TcpStream>, what: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line).unwrap();
        assert!(n > 0, "the stream ended before {what:?}");
        if line.contains(what) {
            return line;
        }
    }
}

/// The number after `key` in `line`.
pub fn number_after(line: &str, key: &str) -> u32 {
    let rest = &line[line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len()..];
    rest.chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

/// A sleeper's run: its stream, the child's id and its own child's id.
pub fn sleeper_run(s: &TcpStream) -> (BufReader<&TcpStream>, u32, u32) {
    let mut r = BufReader::new(s);
    let pid = number_after(&read_until(&mut r, "\"event\":\"start\""), "\"pid\":");
    let grandchild = number_after(&read_until(&mut r, "grandchild: "), "grandchild: ");
    (r, pid, grandchild)
}

/// True once process `pid` is gone (or at most a zombie).
pub fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

pub fn wait_gone(pid: u32, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    gone(pid)
}
