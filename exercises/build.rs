//! Writes each exercise's runner, from the table `exercises.toml`.
//!
//! Every runner (each `[[bin]]` of Cargo.toml) is `runner.rs`, which
//! includes `$OUT_DIR/<its name>.rs`, written here for each exercise of
//! the table: the student's file as a module,
//! `#[path = "<folder>/exN_*.rs"] mod exN_*;`, and a `main` that runs the
//! exercise's checks (`kafka_course::exercises::exN_*::checks`) on the
//! student's function. The folder is this one (the course's `exercises/`),
//! or the one `COURSE_EXERCISES_DIR` names: that is how a teacher checks a
//! student's copy with the course's own checks, and how `course dev check`
//! checks the solutions and the starters, without touching the real files.
//!
//! Only that variable and the table make this script run again. Edits to a
//! student's file are seen by cargo anyway (the compiler reports every file
//! it read), and they rebuild only that exercise's runner.

use std::path::PathBuf;
use std::{env, fs};

/// What a runner needs of one exercise of the table.
struct Exercise {
    /// "C.K" or "capstone".
    id: String,
    slug: String,
    function: String,
    /// The student's function is an `async fn`.
    is_async: bool,
}

fn table(text: &str) -> Vec<Exercise> {
    let parsed: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("exercises.toml is not valid TOML: {e}"));
    let Some(toml::Value::Array(entries)) = parsed.get("exercise") else {
        panic!("exercises.toml: no [[exercise]]");
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let text = |key: &str| match entry.get(key) {
                Some(toml::Value::String(s)) => s.clone(),
                _ => panic!("exercises.toml: exercise {}: `{key}` must be a text", i + 1),
            };
            Exercise {
                // lessons/build.rs checks its form.
                id: text("number"),
                slug: text("slug"),
                function: text("function"),
                is_async: matches!(entry.get("async"), Some(toml::Value::Boolean(true))),
            }
        })
        .collect()
}

/// The runner of `e`, on the student's file `student`.
fn runner(e: &Exercise, student: &str) -> String {
    let (id, slug, function) = (&e.id, &e.slug, &e.function);
    let code = if e.is_async {
        // An `async fn`: boxed, so that it has the one type the checks take.
        format!("|ctx| Box::pin({slug}::{function}(ctx))")
    } else {
        format!("{slug}::{function}")
    };
    // `{:?}` quotes and escapes the path as a Rust string literal.
    format!(
        "// Exercise {id}'s runner, written by exercises/build.rs from exercises.toml:\n\
         // the checks of lessons/src/exercises/{slug}.rs on the student's {slug}.rs.\n\
         #[path = {student:?}]\n\
         mod {slug};\n\
         \n\
         use kafka_course::exercises::{{{slug} as checks, runner}};\n\
         \n\
         fn main() -> std::process::ExitCode {{\n    \
             let code: checks::Code = {code};\n    \
             let exercise = kafka_course::exercises::exercise({id:?}).expect(\"exercise {id} is in the table\");\n    \
             runner::main(exercise, checks::checks, code)\n\
         }}\n"
    )
}

fn main() {
    println!("cargo::rerun-if-env-changed=COURSE_EXERCISES_DIR");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=exercises.toml");
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = match env::var_os("COURSE_EXERCISES_DIR") {
        Some(dir) => env::current_dir().unwrap().join(dir),
        None => here.clone(),
    };
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let text = fs::read_to_string(here.join("exercises.toml")).unwrap();
    for e in table(&text) {
        let student = dir.join(format!("{}.rs", e.slug));
        let source = runner(&e, &student.display().to_string());
        fs::write(out.join(format!("{}.rs", e.slug)), source).unwrap();
    }
}
