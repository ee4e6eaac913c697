//! A headless Chromium session driven through chromedriver with the W3C
//! WebDriver protocol (JSON over HTTP on loopback), for the tests of the
//! pages' scripts (the picture, the quizzes).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::path::Path;

use serde_json::{json, Value};

use super::scratch;

/// Debian's Chromium and its driver (CI installs them).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const IGNORED: &str = "needs headless Chromium: apt-get install chromium chromium-driver";

/// chromedriver and one browser session, both ended when dropped.
pub struct Browser {
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

/// One WebDriver request; its `value`, or the driver's error.
pub fn request(port: u16, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    // chromedriver keeps the connection open: read what Content-Length says.
    let mut all = Vec::new();
    let mut buf = [0u8; 65536];
    let body = loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        all.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&all).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .to_ascii_lowercase()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|l| l.trim().to_string())
                })
                .and_then(|l| l.parse::<usize>().ok());
            match length {
                Some(length) if body.len() >= length => break body[..length].to_string(),
                None if n == 0 => break body.to_string(),
                _ => {}
            }
        }
        if n == 0 {
            return Err(format!("the connection closed early: {text}"));
        }
    };
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error") {
        return Err(format!("{error}: {}", value["message"]));
    }
    Ok(value)
}

impl Browser {
    pub fn start(name: &str, extra: &[&str]) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).is_file(),
                "{program} is missing: {IGNORED}"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
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
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--window-size=1100,1300",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
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

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        request(self.port, method, &path, body).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Wait until `script` gives a value `ok` accepts.
    pub fn until(&self, script: &str, within: Duration, ok: impl Fn(&Value) -> bool) -> Value {
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
}

/// Standard base64 (a WebDriver screenshot) to bytes.
pub fn decode_base64(text: &str) -> Vec<u8> {
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
