//! The book's tests, from `cargo test`.
//!
//! The book and its server have their own package, `kafka-course-book`
//! (book/builder), and their tests live with their code, in
//! book/builder/tests: `cargo test -p kafka-course-book` runs them. That
//! package is not a default member of the workspace (so that `cargo run`
//! runs the course, and the course never compiles mdBook), so a plain
//! `cargo test` would skip them: this test runs them, as a cargo of their
//! own. Apart, they also keep their dependencies' features apart from the
//! course's, so the course's library is built the same way by `cargo test`
//! and by `course exercise N` (tests/exercises.rs checks that). (So
//! `cargo test --workspace` runs them twice: `cargo test` is the command.)
//! The live class table's server (class/, `course-class`) is run the same
//! way, for the same reasons.

use std::process::{Command, Stdio};

#[test]
fn the_books_own_tests_pass() {
    own_tests_pass("kafka-course-book");
}

#[test]
fn the_class_tables_own_tests_pass() {
    own_tests_pass("course-class");
}

/// `cargo test -p PACKAGE`, in this build's target folder and profile.
fn own_tests_pass(package: &str) {
    // This program is <target>/<profile folder>/deps/book-<hash>: the
    // book's tests are built beside it, with the same profile.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let target = profile_dir.parent().unwrap();
    let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev",
        other => other,
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(root)
        .args(["test", "-p", package, "--profile", profile])
        .arg("--target-dir")
        .arg(target)
        .stdin(Stdio::null())
        .output()
        .expect("running cargo");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`cargo test -p {package}` failed:\n{report}"
    );
    // What ran, for `cargo test -- --nocapture`.
    for line in report.lines().filter(|l| l.starts_with("test result:")) {
        println!("{line}");
    }
}
