//! For teachers: hand students a clean copy, and check a class of copies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};

use crate::exercises::harness::{self, Builds, Harness, Status, Verdict};
use crate::exercises::EXERCISES;
use crate::{tr, tr_static};

/// The course's root directory (where Cargo.toml, book/ and exercises/ are).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Copy every file git tracks to `dir`, without the reference solutions,
/// and with every exercise back in its starting state, its explanations
/// (comments) in the reader's language (`--lang fr`: in French).
pub fn export(dir: &Path) -> Result<()> {
    let root = root();
    ensure!(
        !dir.exists() || fs::read_dir(dir)?.next().is_none(),
        "{}",
        tr!(
            "{} exists and is not empty: give a new directory",
            dir.display()
        )
    );
    let listing = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
        .context(tr!(
            "running `git ls-files` (export copies the files git tracks)"
        ))?;
    ensure!(
        listing.status.success(),
        "{}",
        tr!("`git ls-files` failed: is {} a git clone?", root.display())
    );
    let mut copied = 0;
    for file in listing.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = std::str::from_utf8(file)?;
        if file.starts_with("exercises/solutions/") {
            continue;
        }
        let target = dir.join(file);
        fs::create_dir_all(target.parent().unwrap())?;
        fs::copy(root.join(file), &target).with_context(|| tr!("copying {file}"))?;
        copied += 1;
    }
    // The exercises as a student starts them, whatever state this copy is
    // in, explained in the reader's language.
    fs::create_dir_all(dir.join("exercises"))?;
    for entry in fs::read_dir(root.join("exercises/solutions"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path)?;
            let slug = path.file_stem().unwrap_or_default().to_string_lossy();
            let starter = crate::exercises::starter_in_reader_language(&slug, &text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            fs::write(
                dir.join("exercises").join(path.file_name().unwrap()),
                starter,
            )?;
        }
    }
    crate::outln!(
        "Copied {copied} files to {}: the exercises are unsolved, and the solutions are not there.",
        dir.display()
    );
    crate::outln!("Students run `just exercises` (or `cargo run --release -- exercises`) in it.");
    Ok(())
}

/// One student's copy: a folder with an `exercises/` folder in it.
#[derive(Debug, Clone)]
pub struct Copy {
    /// How the table names the student: the folder's name.
    pub name: String,
    pub dir: PathBuf,
}

/// The copies `dirs` name: each is a copy of the course, or a folder whose
/// sub-folders are copies (a class), taken in name order.
pub fn find_copies(dirs: &[PathBuf]) -> Result<Vec<Copy>> {
    let mut copies = Vec::new();
    for dir in dirs {
        let name_of = |d: &Path| {
            d.canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_else(|| d.display().to_string())
        };
        ensure!(dir.is_dir(), "{}", tr!("{} is not a folder", dir.display()));
        if dir.join("exercises").is_dir() {
            copies.push(Copy {
                name: name_of(dir),
                dir: dir.clone(),
            });
            continue;
        }
        let mut inside: Vec<PathBuf> = fs::read_dir(dir)
            .with_context(|| tr!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("exercises").is_dir())
            .collect();
        inside.sort();
        ensure!(
            !inside.is_empty(),
            "{}",
            tr!(
                "{} is neither a copy of the course (it has no exercises/ folder) nor a folder of copies",
                dir.display()
            )
        );
        copies.extend(inside.into_iter().map(|d| Copy {
            name: name_of(&d),
            dir: d,
        }));
    }
    Ok(copies)
}

/// One row of the class table.
pub struct Row {
    pub student: String,
    pub verdicts: Vec<Verdict>,
}

/// A copy whose runners are built, waiting for its checks.
struct Built {
    copy: Copy,
    harness: Harness,
    /// The text of each of its exercise files (those that are there).
    files: BTreeMap<&'static str, String>,
    /// Runners of the files no copy before had (the others are known).
    builds: Option<Builds>,
    build_time: Duration,
}

/// Check every copy with this copy's checks, and print the class table
/// (and write it as CSV to `csv`).
///
/// Builds are shared: every copy's runners are built in this course's own
/// target directory, where the library and all dependencies already are,
/// so a copy costs seven small compiles and links, not a build of the course.
/// And a file that an earlier copy had too, byte for byte (the starter, as
/// handed out, most often), gets that copy's verdict without a build or a
/// run: the same program on a fresh cluster gives the same verdict. While
/// one copy's checks run, the next copy's runners are built (the checks
/// mostly wait on the embedded cluster's timers, the compiler needs the CPU).
pub fn check_class(dirs: &[PathBuf], csv: Option<&Path>, time_limit: Duration) -> Result<()> {
    let copies = find_copies(dirs)?;
    let mut base = Harness::new(&root());
    base.time_limit = time_limit;
    let start = Instant::now();
    let all = harness::all();

    // The builder: one copy ahead of the checks, no more (sync_channel(0)
    // hands each copy over only when the checks are ready for it).
    let (built_tx, built_rx) = mpsc::sync_channel::<Result<Built>>(0);
    let builder_base = base.clone();
    let builder_copies = copies.clone();
    let builder = std::thread::spawn(move || {
        let mut seen = HashSet::new();
        for copy in builder_copies {
            let t = Instant::now();
            let harness = builder_base.clone().with_exercises(
                &copy.dir.join("exercises"),
                &format!("{}/exercises", copy.name),
            );
            let files: BTreeMap<&'static str, String> = all
                .iter()
                .filter_map(|e| Some((e.id, harness.read(e)?)))
                .collect();
            let new: Vec<_> = all
                .iter()
                .copied()
                .filter(|e| {
                    files
                        .get(e.id)
                        .is_some_and(|text| seen.insert((e.id, text.clone())))
                })
                .collect();
            let result = build_copy(&harness, &new).map(|builds| Built {
                copy,
                harness,
                files,
                builds,
                build_time: t.elapsed(),
            });
            if built_tx.send(result).is_err() {
                return;
            }
        }
    });

    let mut rows = Vec::new();
    // The verdict on each file text checked so far, and whose copy it was.
    let mut known: HashMap<(&'static str, String), (Verdict, Harness)> = HashMap::new();
    for built in built_rx {
        let built = built?;
        let t = Instant::now();
        let mut verdicts = Vec::new();
        let mut reused = 0;
        for e in EXERCISES {
            let build = built.builds.as_ref().and_then(|b| b.get(e.id));
            let text = built.files.get(e.id);
            let verdict = match (built.harness.missing(e), build, text) {
                (Some(missing), _, _) => missing,
                (None, Some(build), Some(text)) => {
                    let verdict = built.harness.verdict(e, build)?;
                    let key = (e.id, text.clone());
                    known.insert(key, (verdict.clone(), built.harness.clone()));
                    verdict
                }
                (None, None, Some(text)) => {
                    reused += 1;
                    let (verdict, theirs) = &known[&(e.id, text.clone())];
                    built.harness.rehome(verdict, theirs)
                }
                (None, _, None) => unreachable!("a file that is there has a text"),
            };
            verdicts.push(verdict);
        }
        let solved = verdicts
            .iter()
            .filter(|v| v.status == Status::Solved)
            .count();
        eprintln!(
            "{}",
            tr!(
                "checked {}: {solved} of {} solved (build {build}, checks {checks}; {reused} file(s) seen in an earlier copy)",
                built.copy.name,
                verdicts.len(),
                build = crate::i18n::seconds(built.build_time.as_secs_f64(), 1),
                checks = crate::i18n::seconds(t.elapsed().as_secs_f64(), 1),
            )
        );
        rows.push(Row {
            student: built.copy.name,
            verdicts,
        });
    }
    builder.join().expect("the builder thread does not panic");
    let took = start.elapsed().as_secs_f64();
    eprintln!(
        "{}",
        tr!(
            "{} copies in {}: {} per copy",
            rows.len(),
            crate::i18n::seconds(took, 1),
            crate::i18n::seconds(took / rows.len().max(1) as f64, 1)
        )
    );
    crate::out!("{}", class_table(&rows));
    if let Some(path) = csv {
        fs::write(path, class_csv(&rows)).with_context(|| tr!("writing {}", path.display()))?;
        eprintln!("{}", tr!("wrote {}", path.display()));
    }
    Ok(())
}

/// Build the runners of `exercises` for one copy.
fn build_copy(
    harness: &Harness,
    exercises: &[&'static crate::exercises::Exercise],
) -> Result<Option<Builds>> {
    if exercises.is_empty() {
        return Ok(None);
    }
    harness.build(exercises).map(Some)
}

/// The class table: one row per student, one column per exercise, totals
/// at the end of each row and column; then what went wrong beyond "not
/// yet", one line each.
pub fn class_table(rows: &[Row]) -> String {
    let n = EXERCISES.len();
    let mut header = vec![student_header().to_string()];
    header.extend(EXERCISES.iter().map(|e| format!("ex{}", e.id)));
    header.push(solved_header().to_string());
    let mut lines = vec![header];
    for row in rows {
        let mut line = vec![row.student.clone()];
        line.extend(row.verdicts.iter().map(|v| v.status.label().to_string()));
        let solved = solved(&row.verdicts);
        line.push(of(solved, n));
        lines.push(line);
    }
    let mut totals = vec![solved_header().to_string()];
    for (i, _) in EXERCISES.iter().enumerate() {
        let count = rows
            .iter()
            .filter(|r| r.verdicts[i].status == Status::Solved)
            .count();
        totals.push(of(count, rows.len()));
    }
    let all: usize = rows.iter().map(|r| solved(&r.verdicts)).sum();
    totals.push(of(all, rows.len() * n));
    lines.push(totals);

    // Widths in characters, as `{:<w$}` pads ("résolu" is 6 wide, 7 bytes).
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    let problems: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.verdicts
                .iter()
                .filter(|v| !matches!(v.status, Status::Solved | Status::NotYet))
                .map(move |v| {
                    tr!(
                        "  {} ex{}: {}: {}",
                        r.student,
                        v.id,
                        v.status.label(),
                        v.summary
                    )
                })
        })
        .collect();
    if !problems.is_empty() {
        s.push_str(&tr!("\nWhat kept a check from giving a verdict:\n"));
        for p in problems {
            s.push_str(&p);
            s.push('\n');
        }
    }
    s
}

/// The headers of the students' column and of the totals' column (also the
/// name of the totals' row). One message, "student|solved": the status
/// "solved" is another message with the same English (`tr!` looks messages
/// up by their English alone), and French says them differently.
fn headers() -> (&'static str, &'static str) {
    let both = tr_static!("student|solved");
    both.split_once('|').unwrap_or((both, both))
}

/// "1 of 7".
fn of(count: usize, total: usize) -> String {
    tr!("{count} of {total}")
}

fn student_header() -> &'static str {
    headers().0
}

fn solved_header() -> &'static str {
    headers().1
}

fn solved(verdicts: &[Verdict]) -> usize {
    verdicts
        .iter()
        .filter(|v| v.status == Status::Solved)
        .count()
}

/// The same table as CSV: student, one column per exercise, solved.
pub fn class_csv(rows: &[Row]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut s = field(student_header());
    for e in EXERCISES {
        s.push_str(&format!(",ex{}", e.id));
    }
    s.push(',');
    s.push_str(&field(solved_header()));
    s.push('\n');
    for row in rows {
        s.push_str(&field(&row.student));
        for v in &row.verdicts {
            s.push(',');
            s.push_str(&field(v.status.label()));
        }
        s.push_str(&format!(",{}\n", solved(&row.verdicts)));
    }
    s.push_str(&field(solved_header()));
    for (i, _) in EXERCISES.iter().enumerate() {
        let count = rows
            .iter()
            .filter(|r| r.verdicts[i].status == Status::Solved)
            .count();
        s.push_str(&format!(",{count}"));
    }
    let all: usize = rows.iter().map(|r| solved(&r.verdicts)).sum();
    s.push_str(&format!(",{all}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_named_one_by_one_or_found_in_a_class_folder() {
        let class = std::env::temp_dir().join(format!("kafka-course-class-{}", std::process::id()));
        let _ = fs::remove_dir_all(&class);
        for student in ["carol", "alice", "bob"] {
            fs::create_dir_all(class.join(student).join("exercises")).unwrap();
        }
        // Not a copy: no exercises/ folder.
        fs::create_dir_all(class.join("notes")).unwrap();
        let names = |dirs: &[PathBuf]| -> Vec<String> {
            find_copies(dirs)
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(
            names(std::slice::from_ref(&class)),
            ["alice", "bob", "carol"]
        );
        assert_eq!(
            names(&[class.join("carol"), class.join("alice")]),
            ["carol", "alice"]
        );
        let err = find_copies(&[class.join("notes")]).unwrap_err().to_string();
        assert!(err.contains("neither a copy of the course"), "{err}");
        let err = find_copies(&[class.join("nobody")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a folder"), "{err}");
        fs::remove_dir_all(class).unwrap();
    }
}
