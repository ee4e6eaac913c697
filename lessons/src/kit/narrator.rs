//! The narration of a lesson (its text, in the reader's language) and its
//! timeline (what it observed on the cluster, as data).

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use super::timeline::{Entry, Event};

/// Collects what a lesson prints and, when running in a terminal, echoes it
/// as it goes (so a lesson that crashes still shows how far it got).
///
/// It also keeps the lesson's timeline ([`Event`]s), each with the number
/// of lines printed when it was recorded, and can write each event to a
/// file as it happens (`course lesson N --events FILE`). Clones share all.
#[derive(Clone, Default)]
pub struct Narrator {
    text: Arc<Mutex<String>>,
    events: Arc<Mutex<Vec<Entry>>>,
    echo: bool,
    /// Where each event goes as soon as it is recorded, one JSON line each:
    /// a lesson that stops early (an error, a crash, a closed pipe) leaves
    /// the timeline of everything it did.
    sink: Option<Arc<Mutex<std::fs::File>>>,
}

impl Narrator {
    /// A narrator that only records (tests, benchmarks).
    pub fn quiet() -> Narrator {
        Narrator::default()
    }

    /// A narrator that also prints each line to standard output.
    pub fn echoing() -> Narrator {
        Narrator {
            echo: true,
            ..Narrator::default()
        }
    }

    /// The same narrator, also writing each event to `file` as it happens.
    pub fn with_events_file(self, file: std::fs::File) -> Narrator {
        Narrator {
            sink: Some(Arc::new(Mutex::new(file))),
            ..self
        }
    }

    pub fn line(&self, line: &str) {
        if self.echo {
            write_out(&format!("{line}\n"));
        }
        let mut text = self.text.lock().unwrap_or_else(|e| e.into_inner());
        text.push_str(line);
        text.push('\n');
    }

    /// Everything narrated so far.
    pub fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Add an event to the timeline, after the lines printed so far.
    pub fn record(&self, event: Event) {
        let line = self
            .text
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .matches('\n')
            .count();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let seq = events.len();
        let entry = Entry { seq, line, event };
        if let Some(sink) = &self.sink {
            let json = super::timeline::to_json_lines(std::slice::from_ref(&entry));
            let mut file = sink.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = file.write_all(json.as_bytes()) {
                eprintln!("{}", crate::tr!("writing the timeline: {e}"));
            }
        }
        events.push(entry);
    }

    /// The timeline so far.
    pub fn events(&self) -> Vec<Entry> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The timeline so far, as JSON Lines (`course lesson N --events FILE`).
    pub fn events_json_lines(&self) -> String {
        super::timeline::to_json_lines(&self.events())
    }
}

/// `say!(ctx, "format {}", args)`: one line of narration.
#[macro_export]
macro_rules! say {
    ($ctx:expr, $($arg:tt)*) => { $ctx.say($crate::tr!($($arg)*)) };
}

/// Write to standard output. If the reader has gone away (`course lesson 1
/// | head -1` closes the pipe after one line), stop quietly, as Unix tools
/// do, instead of panicking with a backtrace.
pub fn write_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("writing to standard output: {e}");
    }
}

/// `out!("...")`: `print!` that stops quietly on a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::kit::write_out(&$crate::tr!($($arg)*)) };
}

/// `outln!("...")`: `println!` that stops quietly on a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::kit::write_out("\n") };
    ($($arg:tt)*) => { $crate::kit::write_out(&format!("{}\n", $crate::tr!($($arg)*))) };
}
