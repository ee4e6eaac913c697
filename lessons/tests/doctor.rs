//! `course doctor` and `cargo run -p course-doctor` (`just doctor`): a
//! machine is checked before class, and what is missing is named, with
//! what to do, in the reader's language.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder of programs: these, found on this machine's PATH, and nothing else.
fn path_with(programs: &[&str], name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("doctor-path-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for program in programs {
        let found = std::env::split_paths(&path)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("no {program} on this machine's PATH"));
        std::os::unix::fs::symlink(found, dir.join(program)).unwrap();
    }
    dir
}

#[test]
fn the_doctor_passes_here_and_names_a_missing_make() {
    // This machine builds the course: the doctor says so.
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .args(["--lang", "en", "doctor"])
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains(&format!(
            "(the course needs {} or later)",
            env!("CARGO_PKG_RUST_VERSION")
        )) && report.contains("  ok      make: ")
            && report.contains("Ready: the course builds here."),
        "{report}"
    );

    // Without make: named, what to do, and a failure.
    let no_make = path_with(&["rustc", "cargo", "cc", "df"], "no-make");
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .args(["--lang", "en", "doctor"])
        .env("PATH", &no_make)
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("  MISSING no `make`: librdkafka's build runs it\n")
            && report.contains("-> install it: `sudo apt install make`")
            && report.contains("Not ready: fix what is MISSING above"),
        "{report}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("this machine cannot build the course yet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `just doctor` is its own small package, built before the course can be:
/// it compiles and runs without librdkafka, and speaks French.
#[test]
fn the_doctor_runs_before_the_course_is_built_in_french() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let no_make = path_with(&["rustc", "cargo", "cc", "df"], "no-make-fr");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "-p",
            "course-doctor",
            "--",
            "--lang",
            "fr",
        ])
        .env("PATH", &no_make)
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        !out.status.success()
            && report.starts_with("Cette machine est-elle prête pour le cours\u{a0}?")
            && report.contains(
                "  MANQUE  pas de `make`\u{a0}: la construction de librdkafka en a besoin"
            )
            && report.contains("Pas prête\u{a0}: corrigez ce qui MANQUE ci-dessus"),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
