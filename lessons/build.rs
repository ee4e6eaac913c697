//! Reads the exercises' table, and finds what some tests need.
//!
//! `exercises/exercises.toml` lists the exercises: this script writes
//! `$OUT_DIR/exercise_table.rs`, the `EXERCISES` of src/exercises/mod.rs,
//! each title and hint a `tr_static!` (their French is in po/fr.po; the
//! i18n tool, examples/i18n.rs, reads them from `EXERCISES`). The runners'
//! package (exercises/build.rs) reads the same table.
//!
//! `cfg(has_solutions)`: `exercises/solutions/` exists (the teacher's copy,
//! not a student's copy made by `course teacher export`): the tests that
//! need the reference solutions run.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// `EXERCISES`, as Rust, from the table's text (`table` names it in errors).
fn exercise_table(text: &str, table: &str) -> String {
    let parsed: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{table} is not valid TOML: {e}"));
    let entries = match parsed.get("exercise") {
        Some(toml::Value::Array(entries)) => entries.clone(),
        _ => panic!("{table}: no [[exercise]]"),
    };
    let mut out = String::from(
        "// Written by lessons/build.rs from exercises/exercises.toml: edit that file.\n\
         /// Every exercise, in order, as exercises/exercises.toml lists them.\n\
         pub const EXERCISES: &[Exercise] = &[\n",
    );
    for (i, entry) in entries.iter().enumerate() {
        let at = format!("{table}: exercise {}", i + 1);
        let number = |key: &str| match entry.get(key) {
            Some(toml::Value::Integer(n)) if *n > 0 => *n,
            _ => panic!("{at}: `{key}` must be a positive number"),
        };
        // The id: "C.K", the K-th exercise of chapter C, or "capstone".
        let chapter = number("chapter");
        let id = match entry.get("number") {
            Some(toml::Value::String(id)) => id.clone(),
            _ => panic!("{at}: `number` must be a text, \"C.K\" or \"capstone\""),
        };
        let well_formed = id == "capstone"
            || id.split_once('.').is_some_and(|(c, k)| {
                c == chapter.to_string()
                    && !k.is_empty()
                    && !k.starts_with('0')
                    && k.bytes().all(|b| b.is_ascii_digit())
            });
        if !well_formed {
            panic!("{at}: `number` is {id:?}: it must be \"{chapter}.K\" (K = 1, 2, ...) or \"capstone\"");
        }
        let kind = match entry.get("kind").and_then(|k| k.as_str()) {
            Some("fix") => "Fix",
            Some("completion") => "Completion",
            Some("blank") => "Blank",
            Some("capstone") => "Capstone",
            _ => panic!("{at}: `kind` must be \"fix\", \"completion\", \"blank\" or \"capstone\""),
        };
        let text = |key: &str| match entry.get(key) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => panic!("{at}: `{key}` must be a text"),
        };
        let hints: Vec<String> = match entry.get("hints") {
            Some(toml::Value::Array(hints)) => hints
                .iter()
                .map(|h| match h {
                    toml::Value::String(s) => s.clone(),
                    _ => panic!("{at}: every hint is a text"),
                })
                .collect(),
            _ => panic!("{at}: `hints` must be a list of texts"),
        };
        // `{:?}`: a Rust string literal, which `tr_static!` looks up.
        let hints: Vec<String> = hints
            .iter()
            .map(|h| format!("|| crate::tr_static!({h:?})"))
            .collect();
        let _ = writeln!(
            out,
            "    Exercise {{\n        id: {:?},\n        chapter: {},\n        kind: Kind::{},\n        slug: {:?},\n        \
             function: {:?},\n        title: || crate::tr_static!({:?}),\n        hints: &[{}],\n    }},",
            id,
            chapter,
            kind,
            text("slug"),
            text("function"),
            text("title"),
            hints.join(", "),
        );
    }
    out.push_str("];\n");
    out
}

/// Tansu, the independent broker the tests run every lesson against
/// (tests/lessons/tansu.rs): `cfg(has_tansu)` when its binary is installed,
/// so that a machine without it reports those tests as ignored, saying why.
/// CI installs it and sets COURSE_REQUIRE_TANSU, so that they must run.
fn find_tansu() {
    println!("cargo::rustc-check-cfg=cfg(has_tansu)");
    println!("cargo::rerun-if-env-changed=TANSU_BIN");
    println!("cargo::rerun-if-env-changed=COURSE_REQUIRE_TANSU");
    let bin = std::env::var_os("TANSU_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tansu-0.6.0/bin/tansu"));
    // Watch the nearest folder that exists, so installing Tansu later is noticed.
    if let Some(watched) = bin.ancestors().find(|p| p.exists() && *p != Path::new("/")) {
        println!("cargo::rerun-if-changed={}", watched.display());
    }
    if bin.is_file() {
        println!("cargo::rustc-cfg=has_tansu");
        // Under another name than the input: cargo also sets this variable
        // when it runs the tests, and a test that runs cargo again (the
        // exercise runners) must not see a TANSU_BIN the first build did not
        // have, or that build would redo this script and the whole library.
        println!("cargo::rustc-env=COURSE_TANSU_BIN={}", bin.display());
    } else if std::env::var_os("COURSE_REQUIRE_TANSU").is_some() {
        panic!(
            "COURSE_REQUIRE_TANSU is set but Tansu is not at {}",
            bin.display()
        );
    }
}

fn main() {
    find_tansu();
    // The French catalogues: `tr!` reads them while this crate compiles.
    println!("cargo::rerun-if-changed=po");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    let table = manifest.join("../exercises/exercises.toml");
    println!("cargo::rerun-if-changed={}", table.display());
    let text = fs::read_to_string(&table).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
    let rust = exercise_table(&text, "exercises/exercises.toml");
    fs::write(out.join("exercise_table.rs"), rust).unwrap();

    println!("cargo::rustc-check-cfg=cfg(has_solutions)");
    // Not watched: a copy gains or loses its solutions only when it is
    // made (and watching the folder would rebuild the course at each edit
    // of a solution).
    if manifest.join("../exercises/solutions").is_dir() {
        println!("cargo::rustc-cfg=has_solutions");
    }
}
