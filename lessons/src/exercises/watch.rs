//! `course watch`: rustlings' watch mode, for this course.
//!
//! It checks every exercise once, shows the first one not solved, and then
//! checks it again each time its file is saved; once it passes, it moves on
//! to the next one. The last lines show the overall progress and the keys:
//! `q` (or Ctrl-C) quits, `h` shows the hint, `r` checks again, `l` lists
//! every exercise.
//!
//! Three sources of events feed one loop: the terminal's keys (crossterm,
//! on a thread of their own), file events (notify, debounced: an editor's
//! save is several events), and the verdicts of the checks, which run on a
//! worker thread so that the keys keep answering while a check runs.

use std::collections::{BTreeMap, VecDeque};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};
use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode, DebounceEventResult};

use super::harness::{self, Harness, Status, Verdict};
use super::{Exercise, EXERCISES};
use crate::{tr, tr_static};

/// What the loop reacts to.
enum Event {
    Key(KeyCode, KeyModifiers),
    /// These exercises' files changed.
    Changed(Vec<&'static str>),
    /// A check finished (`None` for the first build of every runner).
    Checked(Option<Result<Verdict, String>>),
    /// The file watcher failed.
    WatchError(String),
}

/// A check to run on the worker thread.
enum Job {
    /// Build every runner at once (both cores), before checking one by one.
    BuildAll,
    Check(&'static str),
}

/// The terminal in raw mode (single keys, no echo) while this lives.
struct RawMode;

impl RawMode {
    fn enter() -> Result<RawMode> {
        terminal::enable_raw_mode().context(tr!("switching the terminal to single keys"))?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// The state of the watch, and what it shows.
struct Watch {
    verdicts: BTreeMap<&'static str, Verdict>,
    /// The exercise shown and watched.
    current: Option<&'static str>,
    /// What the worker is doing, and what waits for it.
    busy: Option<String>,
    queue: VecDeque<Job>,
    /// A line above the report: "Exercise 3 solved! On to exercise 4."
    banner: Option<String>,
    show_hint: bool,
    /// How many of the current exercise's hints `h` shows.
    hints_shown: usize,
    show_list: bool,
    error: Option<String>,
    /// The last word about the teacher's live table, if the student joined
    /// one (`course join`): "not sent", then "reachable again".
    class_note: Option<String>,
}

pub fn run(harness: &Harness) -> Result<()> {
    ensure!(
        std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        "{}",
        tr!("`course watch` needs a terminal: it reads single keys. \
             Without one, `course exercise N` checks one exercise.")
    );
    let (tx, events) = mpsc::channel();

    // File events, debounced: one "changed" per save, whatever the editor.
    let files_tx = tx.clone();
    let mut debouncer = new_debouncer(
        Duration::from_millis(200),
        move |result: DebounceEventResult| {
            let event = match result {
                Ok(changes) => {
                    let mut numbers: Vec<&'static str> = changes
                        .iter()
                        .filter_map(|c| exercise_of(&c.path))
                        .collect();
                    numbers.sort();
                    numbers.dedup();
                    if numbers.is_empty() {
                        return;
                    }
                    Event::Changed(numbers)
                }
                Err(e) => Event::WatchError(e.to_string()),
            };
            let _ = files_tx.send(event);
        },
    )
    .context(tr!("starting the file watcher"))?;
    debouncer
        .watcher()
        .watch(harness.exercises_dir(), RecursiveMode::NonRecursive)
        .with_context(|| tr!("watching {}", harness.exercises_dir().display()))?;

    // Keys, read on their own thread (reading blocks).
    let keys_tx = tx.clone();
    std::thread::spawn(move || loop {
        match event::read() {
            Ok(TermEvent::Key(key)) if key.kind == KeyEventKind::Press => {
                if keys_tx.send(Event::Key(key.code, key.modifiers)).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });

    let _raw = RawMode::enter()?;
    let mut watch = Watch {
        verdicts: BTreeMap::new(),
        current: None,
        busy: None,
        queue: VecDeque::from([Job::BuildAll]),
        banner: None,
        show_hint: false,
        hints_shown: 1,
        show_list: false,
        error: None,
        class_note: None,
    };
    crate::class::hold_notices();
    watch
        .queue
        .extend(EXERCISES.iter().map(|e| Job::Check(e.id)));
    watch.next_job(harness, &tx);
    watch.render()?;
    while let Ok(event) = events.recv() {
        match event {
            Event::Key(KeyCode::Char('q') | KeyCode::Esc, _) => break,
            Event::Key(KeyCode::Char('c'), m) if m.contains(KeyModifiers::CONTROL) => break,
            Event::Key(KeyCode::Char('h'), _) => {
                watch.show_hint = !watch.show_hint;
                // Each time the hint is shown: one more, stronger (recorded).
                if let (true, Some(n)) = (watch.show_hint, watch.current) {
                    let available = super::exercise(n).map_or(1, |e| e.hints().len());
                    watch.hints_shown = crate::record::update(|r| r.next_hint(n, available));
                }
            }
            Event::Key(KeyCode::Char('l'), _) => watch.show_list = !watch.show_list,
            Event::Key(KeyCode::Char('r'), _) => {
                if let Some(n) = watch.current {
                    watch.enqueue(n);
                }
            }
            Event::Key(..) => continue,
            Event::Changed(numbers) => {
                for n in numbers {
                    watch.enqueue(n);
                }
            }
            Event::Checked(result) => {
                watch.busy = None;
                match result {
                    Some(Ok(verdict)) => watch.record(verdict),
                    Some(Err(e)) => watch.error = Some(e),
                    None => {}
                }
            }
            Event::WatchError(e) => watch.error = Some(tr!("watching the files: {e}")),
        }
        if let Some(note) = crate::class::take_notice() {
            watch.class_note = Some(note);
        }
        watch.next_job(harness, &tx);
        watch.render()?;
    }
    drop(_raw);
    println!();
    Ok(())
}

/// The exercise whose student file `path` is.
fn exercise_of(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    EXERCISES
        .iter()
        .find(|e| name == format!("{}.rs", e.slug))
        .map(|e| e.id)
}

impl Watch {
    /// Check exercise `n` next (first in line: the student just saved it).
    fn enqueue(&mut self, n: &'static str) {
        self.queue
            .retain(|job| !matches!(job, Job::Check(m) if *m == n));
        self.queue.push_front(Job::Check(n));
    }

    /// Start the next job on a worker thread, unless one is running.
    fn next_job(&mut self, harness: &Harness, tx: &mpsc::Sender<Event>) {
        if self.busy.is_some() {
            return;
        }
        let Some(job) = self.queue.pop_front() else {
            return;
        };
        let harness = harness.clone();
        let tx = tx.clone();
        match job {
            Job::BuildAll => {
                self.busy = Some(tr!("building the exercises"));
                std::thread::spawn(move || {
                    let result = harness
                        .build(&harness::all())
                        .map(drop)
                        .map_err(|e| format!("{e:#}"));
                    let _ = tx.send(Event::Checked(result.err().map(Err)));
                });
            }
            Job::Check(n) => {
                self.busy = Some(tr!("checking exercise {n}"));
                std::thread::spawn(move || {
                    let exercise = super::exercise(n).expect("a known exercise");
                    let result = harness
                        .check(&[exercise])
                        .map(|mut v| v.remove(0))
                        .inspect(|v| harness.record(std::slice::from_ref(v)))
                        .map_err(|e| format!("{e:#}"));
                    let _ = tx.send(Event::Checked(Some(result)));
                });
            }
        }
    }

    /// A new verdict; move on if the exercise shown is now solved.
    fn record(&mut self, verdict: Verdict) {
        let n = verdict.exercise().id;
        let was_current = self.current == Some(n);
        let solved = verdict.status == Status::Solved;
        self.verdicts.insert(n, verdict);
        self.error = None;
        match self.current {
            // At the start: the first exercise not solved, once known.
            None => {
                let known_in_order = EXERCISES
                    .iter()
                    .take_while(|e| self.verdicts.contains_key(e.id));
                self.current = known_in_order
                    .map(|e| e.id)
                    .find(|m| self.verdicts[m].status != Status::Solved);
            }
            Some(_) if was_current && solved => {
                self.show_hint = false;
                let next = self.next_unsolved(n);
                self.banner = Some(match next {
                    Some(m) => tr!("Exercise {n} solved! On to exercise {m}."),
                    None => tr!("Exercise {n} solved!"),
                });
                if let Some(m) = next {
                    self.current = Some(m);
                }
            }
            Some(_) if was_current => self.banner = None,
            Some(_) => {}
        }
    }

    /// The first exercise after `n` (then from the start) not known solved.
    fn next_unsolved(&self, n: &str) -> Option<&'static str> {
        let at = EXERCISES.iter().position(|e| e.id == n).unwrap_or(0);
        let after = EXERCISES.iter().skip(at + 1);
        let before = EXERCISES.iter().take(at);
        after.chain(before).map(|e| e.id).find(|m| {
            self.verdicts
                .get(m)
                .is_none_or(|v| v.status != Status::Solved)
        })
    }

    fn render(&self) -> Result<()> {
        let mut s = String::new();
        if let Some(b) = &self.banner {
            s.push_str(&format!("{b}\n\n"));
        }
        let solved = self
            .verdicts
            .values()
            .filter(|v| v.status == Status::Solved)
            .count();
        let all_solved = solved == EXERCISES.len();
        match self.current.and_then(|n| self.verdicts.get(&n)) {
            Some(v) => {
                s.push_str(&v.report);
                if self.show_hint {
                    let e: &Exercise = v.exercise();
                    s.push('\n');
                    s.push_str(&super::hints_text(e, self.hints_shown));
                }
            }
            None if all_solved => {
                s.push_str(tr_static!("Every exercise is solved. Well done!\n"));
            }
            None => {}
        }
        if self.show_list {
            // In the course's order.
            let verdicts: Vec<Verdict> = EXERCISES
                .iter()
                .filter_map(|e| self.verdicts.get(e.id).cloned())
                .collect();
            s.push('\n');
            s.push_str(&harness::table(&verdicts));
        }
        s.push('\n');
        s.push_str(&progress(&self.verdicts));
        s.push('\n');
        if let Some(e) = &self.error {
            s.push_str(&tr!("error: {e}\n"));
        }
        if let Some(note) = &self.class_note {
            s.push_str(note);
            s.push('\n');
        }
        match (&self.busy, self.current) {
            (Some(what), _) => s.push_str(&format!("... {what}\n")),
            (None, Some(n)) => {
                let e = super::exercise(n).expect("a known exercise");
                s.push_str(&tr!(
                    "Watching exercises/{}.rs: save it to check it again.\n",
                    e.slug
                ));
            }
            (None, None) => {}
        }
        s.push_str(tr_static!("q quit   h hint   r check again   l list\n"));
        // Raw mode: a new line must also return the cursor to the left.
        let text = s.replace('\n', "\r\n");
        let mut out = std::io::stdout().lock();
        execute!(
            out,
            terminal::Clear(terminal::ClearType::All),
            terminal::Clear(terminal::ClearType::Purge),
            cursor::MoveTo(0, 0)
        )?;
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }
}

/// `Progress [###----] 3 of 7 solved`: one mark per exercise, `#` solved,
/// `-` not yet (or failing otherwise), `?` not checked yet.
fn progress(verdicts: &BTreeMap<&'static str, Verdict>) -> String {
    let solved = verdicts
        .values()
        .filter(|v| v.status == Status::Solved)
        .count();
    let bar: String = EXERCISES
        .iter()
        .map(|e| match verdicts.get(e.id).map(|v| v.status) {
            Some(Status::Solved) => '#',
            Some(_) => '-',
            None => '?',
        })
        .collect();
    tr!(
        "Progress [{bar}] {solved} of {} exercises solved",
        EXERCISES.len()
    )
}
