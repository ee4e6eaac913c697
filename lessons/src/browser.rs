//! Headless Chromium, driven through chromedriver with the W3C WebDriver
//! protocol (JSON over HTTP on loopback: a few requests, written out
//! below), for `course bench`'s measurements of the book's pages: the
//! first frame of the picture after Run, and the replay's load time. The
//! same programs as the book's browser tests (book/builder/tests/browser.rs):
//! Debian's `chromium` and `chromium-driver`; without them the bench says
//! what it did not measure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use crate::tr;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether Chromium and its driver are installed.
pub fn available() -> bool {
    Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file()
}

/// chromedriver and a browser session, both ended when dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = request(self.port, "DELETE", &path, None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One WebDriver request; its `value`, or the driver's error.
fn request(port: u16, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver may keep the connection open: read what Content-Length says.
    let mut all = Vec::new();
    let mut buf = [0u8; 65536];
    let body = loop {
        let n = s.read(&mut buf)?;
        all.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&all).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .to_ascii_lowercase()
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(str::to_string))
                .and_then(|l| l.trim().parse::<usize>().ok());
            match length {
                Some(length) if body.len() >= length => break body[..length].to_string(),
                None if n == 0 => break body.to_string(),
                _ => {}
            }
        }
        if n == 0 {
            bail!(tr!("chromedriver closed the connection early: {text}"));
        }
    };
    let v: Value = serde_json::from_str(&body)?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error") {
        bail!("{error}: {}", value["message"]);
    }
    Ok(value)
}

impl Browser {
    /// Headless Chromium with a fresh profile in `profile`, kept from
    /// calling home (on a closed network it would wait).
    pub fn start(profile: &Path) -> Result<Browser> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| tr!("starting {CHROMEDRIVER}"))?;
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let start = Instant::now();
        while request(port, "GET", "/status", None).is_err() {
            if start.elapsed() > Duration::from_secs(20) {
                bail!(tr!("{CHROMEDRIVER} did not start in 20 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(profile);
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
        let session = request(port, "POST", "/session", Some(caps))
            .with_context(|| tr!("starting Chromium"))?;
        browser.session = session["sessionId"]
            .as_str()
            .with_context(|| tr!("chromedriver gave no session"))?
            .to_string();
        Ok(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let path = format!("/session/{}{path}", self.session);
        request(self.port, method, &path, body)
    }

    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .map(drop)
    }

    /// The value of `script`, JavaScript that returns one.
    pub fn js(&self, script: &str) -> Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Run `script` in every page from now on, before the page's own
    /// scripts (Chromium's DevTools protocol, through chromedriver).
    pub fn on_new_document(&self, script: &str) -> Result<()> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Page.addScriptToEvaluateOnNewDocument",
                "params": { "source": script }
            })),
        )
        .map(drop)
    }

    /// Click the element `css` finds, as a user does.
    pub fn click(&self, css: &str) -> Result<()> {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        let id = found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .with_context(|| tr!("no element {css}"))?
            .to_string();
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})))
            .map(drop)
    }

    /// The first value of `script` that `ok` accepts, within `within`; None
    /// if none came.
    pub fn until(
        &self,
        script: &str,
        within: Duration,
        ok: impl Fn(&Value) -> bool,
    ) -> Result<Option<Value>> {
        let start = Instant::now();
        loop {
            let v = self.js(script)?;
            if ok(&v) {
                return Ok(Some(v));
            }
            if start.elapsed() > within {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
