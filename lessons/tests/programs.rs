//! Each chapter's program is a program a reader can copy: the chapter's
//! Kafka code, plain rdkafka, tokio, serde_json and anyhow, in
//! `lessons/src/chN_<name>/program.rs`, with none of the course's own
//! machinery (the stage, narration, translation, test bookkeeping), at most
//! 300 lines. The chapter pages include code from these files only, and
//! each listing starts where a reader can see where its names come from.

use std::fs;
use std::path::{Path, PathBuf};

use kafka_course::LESSONS;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// What a program must not use: the course's stage, narration and
/// translation, and its kit (a program gets rdkafka types and plain values).
const PLUMBING: &[&str] = &[
    "Ctx",
    "Stage",
    "Narrator",
    "say!",
    "tr!",
    "tr_static!",
    "out!",
    "outln!",
    "crate::kit",
    "crate::i18n",
    "Report",
];

/// The longest a program may be.
const MAX_LINES: usize = 300;

/// Chapters whose lesson is not yet split into a program and its stage.
const PENDING: &[&str] = &[];

fn program(slug: &str) -> PathBuf {
    root().join(format!("lessons/src/{slug}/program.rs"))
}

#[test]
fn every_chapter_has_a_plain_program() {
    for lesson in LESSONS.iter().filter(|l| !PENDING.contains(&l.slug)) {
        let path = program(lesson.slug);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let lines = text.lines().count();
        assert!(
            lines <= MAX_LINES,
            "{}: {lines} lines, more than {MAX_LINES}",
            path.display()
        );
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in PLUMBING {
                let found = code.match_indices(word).any(|(i, _)| {
                    let before = code[..i].chars().next_back();
                    let after = code[i + word.len()..].chars().next();
                    let ident =
                        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !ident(before) && (word.ends_with('!') || !ident(after))
                });
                assert!(
                    !found,
                    "{}:{}: `{word}` is the course's machinery, not Kafka code a reader would write:\n{line}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}

/// Every `{{#include ...}}` of `book/src/*.md` that takes code from
/// `lessons/`: (page, path, anchor).
fn code_includes() -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    let src = root().join("book/src");
    let mut pages: Vec<PathBuf> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = fs::read_to_string(&page).unwrap();
        for piece in text.split("{{#include ").skip(1) {
            let target = piece.split("}}").next().unwrap().trim();
            let (path, anchor) = match target.split_once(".rs:") {
                Some((path, anchor)) => (format!("{path}.rs"), Some(anchor.to_string())),
                None => (target.to_string(), None),
            };
            if path.ends_with(".rs") {
                let name = page.file_name().unwrap().to_string_lossy().to_string();
                found.push((name, path, anchor));
            }
        }
    }
    found
}

#[test]
fn pages_include_code_only_from_programs() {
    let includes = code_includes();
    assert!(!includes.is_empty());
    for (page, path, _) in &includes {
        let pending = PENDING.iter().any(|slug| page.starts_with(slug));
        let from_program = path.starts_with("../../lessons/src/ch")
            && path.ends_with("/program.rs")
            && page.starts_with(
                path.trim_start_matches("../../lessons/src/")
                    .split('/')
                    .next()
                    .unwrap(),
            );
        assert!(
            from_program || pending,
            "{page} includes {path}: a chapter page includes code only from its own program.rs"
        );
    }
}

#[test]
fn every_listing_starts_where_its_names_come_from() {
    // The first line of code of a listing is a whole item or statement (a
    // signature, a `let`, a type): not the middle of an expression.
    const STARTS: &[&str] = &[
        "pub fn ",
        "fn ",
        "pub async fn ",
        "async fn ",
        "pub struct ",
        "struct ",
        "pub enum ",
        "enum ",
        "impl",
        "let ",
        "use ",
        "pub const ",
        "const ",
        "#[",
        "for ",
        "loop",
        "while ",
        "match ",
        "if ",
    ];
    for (page, path, anchor) in code_includes() {
        let Some(anchor) = anchor else { continue };
        if PENDING.iter().any(|slug| page.starts_with(slug)) {
            continue;
        }
        let file = root().join("book/src").join(&path);
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let begin = format!("ANCHOR: {anchor}");
        let body: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(&format!("// {begin}")))
            .skip(1)
            .take_while(|l| !l.contains(&format!("ANCHOR_END: {anchor}")))
            .collect();
        assert!(
            !body.is_empty(),
            "{page}: anchor {anchor} of {path} is empty or missing"
        );
        let first = body
            .iter()
            .map(|l| l.trim_start())
            .find(|l| !l.is_empty() && !l.starts_with("//"))
            .unwrap_or_else(|| panic!("{page}: {anchor} has no code"));
        assert!(
            STARTS.iter().any(|s| first.starts_with(s)),
            "{page}: the listing {anchor} of {path} starts with `{first}`: start it at a signature or a whole statement"
        );
    }
}
