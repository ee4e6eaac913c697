//! The French edition's catalogues: what needs translating, and what is
//! translated.
//!
//! ```text
//! cargo run --example i18n -- update   # add new English texts to the catalogues
//! cargo run --example i18n -- check    # list what has no French, or stale French,
//!                                      # typography faults and banned terms
//! ```
//!
//! Everything is translated with gettext catalogues (PO files), one format
//! for the book and the program, so that a translator uses one tool
//! (Poedit, Lokalize, a text editor):
//!
//! - `book/po/fr.po`: every paragraph, heading, list item and table cell of
//!   the book, and the comments of its listings (as mdbook-i18n-helpers
//!   extracts them, the same code that translates the French edition when
//!   it is built), the book's title, the text of the diagrams
//!   (`book/src/img/*.svg`, `msgctxt` the file) and mdBook's page texts:
//!   the book's package lists them (book/builder/src/messages.rs), and
//!   this program runs it.
//! - `lessons/po/fr.po`: the program's messages, every source file of
//!   `lessons/src` in one catalogue whose references name files without
//!   line numbers. A message is the English format string of a `tr!`,
//!   `tr_static!`, `say!`, `out!` or `outln!`, or the title or a hint of an
//!   exercise in the table `exercises/exercises.toml` (read from the
//!   course's `EXERCISES`, which `tr_static!`s them).
//! - `exercises/po/fr.po`: the explanations in the files students get
//!   (`exercises/exN_*.rs` as `course teacher export` writes them): one
//!   message per paragraph of comments, `msgctxt` the file. The course
//!   writes French files with them (lessons/src/exercises/comments.rs).
//!
//! The `msgid` is the English itself. Change the English and its old
//! translation no longer matches anything: `update` keeps it as an obsolete
//! entry (`#~`) for the translator to start from, and `check` (and so
//! `cargo test`, tests/i18n.rs) fails until the new text is translated.
//!
//! `check` also reads each French text as a copy editor would: French
//! typography ([`typography`]), and the terminology sheet `TERMINOLOGY.md`
//! at the repository's root, one French term per concept, whose list of
//! banned variants no French text may use ([`terminology_problems`]).
//!
//! tests/i18n.rs includes this file as a module: `main` is the command.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// `"a\n"`-style literal source to its text (shared with the `tr!` macro).
#[path = "../macros/src/literal.rs"]
mod literal;

/// The paragraphs of comments of the students' files.
#[path = "../src/exercises/comments.rs"]
mod comments;
/// The students' files: the starters, made from the solutions.
#[path = "../src/exercises/starter.rs"]
mod starter;

/// The macros whose first string literal is a message (for `say!`, the
/// first after the narrator).
/// `trn!(count; "one", "many", ..)`'s first form is the `msgid`, its second
/// the `msgid_plural`.
pub const MESSAGE_MACROS: &[&str] = &["tr", "tr_static", "trn", "say", "out", "outln"];

/// One text to translate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Set for texts that must not share a translation with the same
    /// English elsewhere (a diagram's text: its file).
    pub ctxt: String,
    pub id: String,
    /// Where it is: `path:line`, from the repository's root.
    pub refs: Vec<String>,
    /// A note for the translator (`#.` in the catalogue).
    pub note: String,
    /// The English plural form (`msgid_plural`) of a `trn!` message; empty
    /// for every other text.
    pub plural: String,
}

/// A catalogue and the texts it must translate.
#[derive(Debug)]
pub struct Domain {
    /// The PO file, from the repository's root.
    pub po: PathBuf,
    pub messages: Vec<Msg>,
}

/// A translation as a catalogue holds it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub ctxt: String,
    pub id: String,
    pub text: String,
    pub fuzzy: bool,
    /// The translator's own comments (`# `), kept as they are.
    pub comments: String,
    /// A plural entry's forms (`msgstr[0]`, `msgstr[1]`); empty otherwise.
    /// `text` is then the first form, or empty if any form is.
    pub forms: Vec<String>,
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every catalogue of the French edition and what it must hold, from the
/// sources as they are now.
pub fn domains(repo: &Path) -> Result<Vec<Domain>> {
    let mut domains = vec![book_domain(repo)?];
    domains.extend(program_domains(repo)?);
    domains.extend(exercise_files_domain(repo)?);
    Ok(domains)
}

// ---------------------------------------------------------------- the book

/// The book's texts, as the book's own package extracts them (its
/// `book-messages` program, which cargo builds in this program's target
/// folder and profile): the same code that translates the French edition,
/// which this package does not depend on.
pub fn book_domain(repo: &Path) -> Result<Domain> {
    // This program is <target>/<profile folder>/(examples|deps)/<name>.
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("where this program is")?;
    let target = profile_dir.parent().context("the target folder")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let out =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(repo)
            .args([
                "run",
                "--quiet",
                "-p",
                "kafka-course-book",
                "--bin",
                "book-messages",
            ])
            .args(["--profile", profile])
            .arg("--target-dir")
            .arg(target)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("running cargo for the book's messages")?;
    if !out.status.success() {
        bail!("cargo run -p kafka-course-book --bin book-messages failed");
    }
    let mut messages = Vec::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        let m: serde_json::Value = serde_json::from_str(line)?;
        let text = |key: &str| m[key].as_str().unwrap_or_default().to_string();
        messages.push(Msg {
            ctxt: text("ctxt"),
            id: text("id"),
            refs: m["refs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(String::from))
                .collect(),
            note: text("note"),
            plural: String::new(),
        });
    }
    Ok(Domain {
        po: PathBuf::from("book/po/fr.po"),
        messages: merge_duplicates(messages),
    })
}

// ------------------------------------------------------------- the program

/// The program's catalogue, `lessons/po/fr.po`: every message of every
/// source file of `lessons/src` and of the book's server
/// (`book/builder/src`), in file order and, within a file, in source order. References name the file only (like mdbook-xgettext's
/// `granularity = 0`), so an edit or rustfmt changes no catalogue line.
pub fn program_domains(repo: &Path) -> Result<Vec<Domain>> {
    let mut files = Vec::new();
    for dir in PROGRAM_SOURCES {
        let mut found = Vec::new();
        rust_files(&repo.join(dir), &mut found)?;
        found.sort();
        files.extend(found);
    }
    let mut messages = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(repo)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let found = rust_messages(&fs::read_to_string(&file)?, &rel)
            .with_context(|| format!("reading the messages of {rel}"))?;
        messages.extend(found.into_iter().map(|mut m| {
            for r in &mut m.refs {
                if let Some((path, _line)) = r.rsplit_once(':') {
                    *r = path.to_string();
                }
            }
            m
        }));
    }
    // The exercises' table: lessons/build.rs makes each title and hint a
    // `tr_static!`; in this program (never told to speak French) they are
    // the table's English.
    for e in kafka_course::exercises::EXERCISES {
        for text in std::iter::once(e.title()).chain(e.hints()) {
            messages.push(Msg {
                ctxt: String::new(),
                id: text.to_string(),
                refs: vec!["exercises/exercises.toml".into()],
                note: format!(
                    "Exercise {}: its title, or one of its hints (`course hint {}`).",
                    e.id, e.id
                ),
                plural: String::new(),
            });
        }
    }
    // `course --help`: clap makes it from lessons/src/cli.rs's doc comments
    // when the program runs; kafka_course::cli::command shows it in French
    // from the entries with this reference.
    for text in kafka_course::cli::help_texts() {
        messages.push(Msg {
            ctxt: String::new(),
            id: text,
            refs: vec![kafka_course::cli::HELP_TEXTS_PLACE.into()],
            note: "`course --help`: a command's or an option's help.".into(),
            plural: String::new(),
        });
    }
    let mut messages = merge_duplicates(messages);
    for m in &mut messages {
        m.refs.dedup();
    }
    Ok(vec![Domain {
        po: PathBuf::from(PROGRAM_PO),
        messages,
    }])
}

/// The program's catalogue, from the repository's root.
pub const PROGRAM_PO: &str = "lessons/po/fr.po";

/// The folders whose Rust files print through `tr!`, from the repository's root.
pub const PROGRAM_SOURCES: &[&str] =
    &["lessons/src", "book/builder/src", "doctor/src", "class/src"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

/// The messages of one Rust source file: the format strings of its
/// message macros, wherever they are (inside other macros too).
pub fn rust_messages(source: &str, name: &str) -> Result<Vec<Msg>> {
    use proc_macro2::{TokenStream, TokenTree};
    let tokens: TokenStream = source
        .parse()
        .map_err(|e| anyhow::anyhow!("{name} does not parse: {e}"))?;
    fn walk(tokens: TokenStream, name: &str, found: &mut Vec<Msg>) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            if let TokenTree::Group(g) = token {
                walk(g.stream(), name, found);
            }
            let TokenTree::Ident(ident) = token else {
                continue;
            };
            let macro_name = ident.to_string();
            if !MESSAGE_MACROS.contains(&macro_name.as_str()) {
                continue;
            }
            let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args))) =
                (tokens.get(i + 1), tokens.get(i + 2))
            else {
                continue;
            };
            if bang.as_char() != '!' {
                continue;
            }
            let mut inner = args.stream().into_iter().peekable();
            // Skip the narrator of `say!` (up to the first comma), the count
            // of `trn!` (up to the semicolon).
            let skip_to = match macro_name.as_str() {
                "say" => Some(','),
                "trn" => Some(';'),
                _ => None,
            };
            if let Some(stop) = skip_to {
                for t in inner.by_ref() {
                    if matches!(&t, TokenTree::Punct(p) if p.as_char() == stop) {
                        break;
                    }
                }
            }
            if let Some(TokenTree::Literal(lit)) = inner.next() {
                if let Some(text) = literal::string_value(&lit.to_string()) {
                    let mut plural = String::new();
                    if macro_name == "trn" {
                        inner.next(); // the comma
                        if let Some(TokenTree::Literal(many)) = inner.next() {
                            plural = literal::string_value(&many.to_string()).unwrap_or_default();
                        }
                    }
                    if is_message(&text) {
                        found.push(Msg {
                            ctxt: String::new(),
                            id: text,
                            refs: vec![format!("{name}:{}", lit.span().start().line)],
                            note: String::new(),
                            plural,
                        });
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(tokens, name, &mut found);
    found.sort_by_key(|m| {
        m.refs[0]
            .rsplit(':')
            .next()
            .and_then(|l| l.parse::<usize>().ok())
    });
    Ok(found)
}

/// Where a reader-facing text is made without a message macro, so that it
/// would print in English in the French edition: prose (two words or more)
/// as the format string of `format!`, `anyhow!`, `bail!`, `ensure!`,
/// `print!`/`println!`/`eprint!`/`eprintln!`, or as the argument of
/// `.say(`, `.section(` or `.context(`. Code under `#[cfg(test)]` is left
/// out. Each is `path:line: text`.
pub fn untranslated_prose(source: &str, name: &str) -> Result<Vec<String>> {
    use proc_macro2::{Delimiter, TokenStream, TokenTree};
    const FORMATTING: &[&str] = &[
        "format", "anyhow", "bail", "print", "println", "eprint", "eprintln",
    ];
    const CALLS: &[&str] = &["say", "section", "context"];
    let tokens: TokenStream = source
        .parse()
        .map_err(|e| anyhow::anyhow!("{name} does not parse: {e}"))?;
    fn prose(lit: &proc_macro2::Literal) -> Option<String> {
        let text = literal::string_value(&lit.to_string())?;
        let words = text
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 2)
            .count();
        // `// ...`: a line of code the course writes, not prose.
        let code = text.starts_with("//");
        (words >= 2 && !code && is_message(&text) && text.contains(' ')).then_some(text)
    }
    fn walk(tokens: TokenStream, name: &str, found: &mut Vec<String>) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut skip_next_item = false;
        for (i, token) in tokens.iter().enumerate() {
            match token {
                // #[cfg(test)]: skip the item it is on (up to its body).
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    if let Some(TokenTree::Group(g)) = tokens.get(i + 1) {
                        let attr = g.stream().to_string().replace(' ', "");
                        if attr == "cfg(test)" {
                            skip_next_item = true;
                        }
                    }
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && skip_next_item => {
                    skip_next_item = false;
                }
                TokenTree::Group(g) => {
                    if !skip_next_item {
                        walk(g.stream(), name, found);
                    }
                }
                TokenTree::Ident(ident) if !skip_next_item => {
                    let word = ident.to_string();
                    let args = match (tokens.get(i + 1), tokens.get(i + 2)) {
                        (Some(TokenTree::Punct(b)), Some(TokenTree::Group(g)))
                            if b.as_char() == '!'
                                && (FORMATTING.contains(&word.as_str()) || word == "ensure") =>
                        {
                            g.stream()
                        }
                        (Some(TokenTree::Group(g)), _)
                            if g.delimiter() == Delimiter::Parenthesis
                                && CALLS.contains(&word.as_str())
                                && matches!(tokens.get(i.wrapping_sub(1)), Some(TokenTree::Punct(p)) if p.as_char() == '.') =>
                        {
                            g.stream()
                        }
                        _ => continue,
                    };
                    let mut inner = args.into_iter();
                    if word == "ensure" {
                        // The message comes after the condition.
                        for t in inner.by_ref() {
                            if matches!(&t, TokenTree::Punct(p) if p.as_char() == ',') {
                                break;
                            }
                        }
                    }
                    if let Some(TokenTree::Literal(lit)) = inner.next() {
                        if let Some(text) = prose(&lit) {
                            found.push(format!(
                                "{name}:{}: {}",
                                lit.span().start().line,
                                short(&text)
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    walk(tokens, name, &mut found);
    Ok(found)
}

/// [`untranslated_prose`] in every source file of `lessons/src`.
pub fn all_untranslated_prose(repo: &Path) -> Result<Vec<String>> {
    let src = repo.join("lessons/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files)?;
    files.sort();
    // The book's server prints to the reader too (its library's messages
    // are HTTP answers for the page's script and build errors for authors).
    files.push(repo.join("book/builder/src/bin/serve-book.rs"));
    // starter.rs: compiled into this tool too, where tr! does not exist: its
    // errors are for the course's authors, about a solution file. dev.rs:
    // `course dev check` and `update`, a tool for the course's authors, in
    // English only.
    const NOT_FOR_READERS: &[&str] = &[
        "lessons/src/exercises/starter.rs",
        "lessons/src/exercises/dev.rs",
    ];
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(repo)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if NOT_FOR_READERS.contains(&rel.as_str()) {
            continue;
        }
        found.extend(untranslated_prose(&fs::read_to_string(&file)?, &rel)?);
    }
    Ok(found)
}

/// Whether a format string has words to translate: letters outside its
/// `{...}` placeholders. `"{key:<6} -> {partition}"` has none.
pub fn is_message(format: &str) -> bool {
    let mut depth = 0;
    let mut letters = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
            }
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            c if depth == 0 && c.is_alphabetic() => letters += 1,
            _ => {}
        }
    }
    letters >= 2
}

/// One message per (context, text), with all the places it is used.
fn merge_duplicates(messages: Vec<Msg>) -> Vec<Msg> {
    let mut merged: Vec<Msg> = Vec::new();
    for m in messages {
        match merged.iter_mut().find(|o| o.ctxt == m.ctxt && o.id == m.id) {
            Some(o) => o.refs.extend(m.refs),
            None => merged.push(m),
        }
    }
    merged
}

// ------------------------------------------------------ the students' files

/// The comments of the files students get, one message per paragraph (see
/// lessons/src/exercises/comments.rs), `msgctxt` the file: the starters,
/// made from `exercises/solutions/` as `course teacher export` makes them.
/// A student's copy has no solutions (and its files are being edited): no
/// domain there.
pub fn exercise_files_domain(repo: &Path) -> Result<Option<Domain>> {
    let solutions = repo.join("exercises/solutions");
    if !solutions.is_dir() {
        return Ok(None);
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&solutions)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    files.sort();
    let mut messages = Vec::new();
    for file in files {
        let name = format!("exercises/{}", file.file_name().unwrap().to_string_lossy());
        let starter = starter::starter_from_solution(&fs::read_to_string(&file)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        for p in comments::paragraphs(&starter) {
            messages.push(Msg {
                ctxt: name.clone(),
                id: p.text,
                refs: vec![format!("{name}:{}", p.line)],
                note: "A comment of the file students edit: keep `code`, names and commands \
                       as they are. Break the lines where you like (under 80 columns): each \
                       becomes a comment line. Keep the \"TODO:\" marker as it is."
                    .into(),
                plural: String::new(),
            });
        }
    }
    Ok(Some(Domain {
        po: PathBuf::from("exercises/po/fr.po"),
        messages: merge_duplicates(messages),
    }))
}

// ---------------------------------------------------------- the catalogues

/// The entries of a PO file (none if it does not exist).
pub fn read_po(path: &Path) -> Result<Vec<Entry>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let catalog =
        polib::po_file::parse(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(catalog
        .messages()
        .map(|m| {
            let forms = m.msgstr_plural().cloned().unwrap_or_default();
            let text = match m.msgstr() {
                Ok(text) => text.to_string(),
                Err(_) if forms.iter().all(|f| !f.is_empty()) => forms[0].clone(),
                Err(_) => String::new(),
            };
            Entry {
                ctxt: m.msgctxt().unwrap_or("").to_string(),
                id: m.msgid().to_string(),
                text,
                fuzzy: m.flags().is_fuzzy(),
                comments: m.translator_comments().to_string(),
                forms,
            }
        })
        .collect())
}

/// What is wrong with a catalogue, given what it must translate: texts
/// with no French (missing, empty or fuzzy), and French for texts that no
/// longer exist (their English changed: stale).
pub fn problems(domain: &Domain, entries: &[Entry]) -> Vec<String> {
    let po = domain.po.display();
    let mut problems = Vec::new();
    let have: BTreeMap<(&str, &str), &Entry> = entries
        .iter()
        .map(|e| ((e.ctxt.as_str(), e.id.as_str()), e))
        .collect();
    for m in &domain.messages {
        let what = match have.get(&(m.ctxt.as_str(), m.id.as_str())) {
            None => "has no French",
            Some(e) if e.text.is_empty() => "has an empty translation",
            Some(e) if e.fuzzy => "has a fuzzy (unchecked) translation",
            Some(e) if e.text == m.id && english_prose(&m.id) => {
                "has its English copied as the translation"
            }
            Some(e) => match typography(&e.text) {
                Some(fault) => {
                    problems.push(format!("{po}: {}: {fault}: {:?}", m.refs[0], e.text));
                    continue;
                }
                None => continue,
            },
        };
        problems.push(format!("{po}: {} {what}: {:?}", m.refs[0], short(&m.id)));
    }
    let wanted: BTreeSet<(&str, &str)> = domain
        .messages
        .iter()
        .map(|m| (m.ctxt.as_str(), m.id.as_str()))
        .collect();
    for e in entries {
        if !wanted.contains(&(e.ctxt.as_str(), e.id.as_str())) {
            problems.push(format!(
                "{po}: stale: its English is no longer in the sources: {:?}",
                short(&e.id)
            ));
        }
    }
    problems
}

/// Whether a text reads as English prose (four words or more outside code
/// spans and placeholders), which a French translation cannot leave as is.
pub fn english_prose(text: &str) -> bool {
    let mut plain = String::new();
    let mut in_code = false;
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            plain.push(c);
        }
    }
    // Lower-case words only: `lot-A`, OUT_OF_ORDER and the like are names.
    const ENGLISH: &[&str] = &["the", "and", "is", "of", "to", "it", "with", "for", "that"];
    let words: Vec<&str> = plain
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_lowercase))
        .collect();
    words.len() >= 4 && words.iter().any(|w| ENGLISH.contains(w))
}

/// A French typography fault: a plain space before `:` `;` `?` `!` or
/// inside « », where French puts a no-break space (U+00A0 or U+202F);
/// three dots where French writes « … »; a plain space between a number
/// and its unit (« 4,5 s », « 30 ms », « 64 Kio », « 50 % »); « x » for a
/// multiplication between numbers, where French writes « × ». Text in
/// `code spans` is not French prose: only the first two faults are looked
/// for there (a colon in code is not followed by a space anyway).
pub fn typography(french: &str) -> Option<&'static str> {
    let chars: Vec<char> = french.chars().collect();
    for (i, pair) in chars.windows(2).enumerate() {
        let next_is_space_or_end = chars.get(i + 2).is_none_or(|c| c.is_whitespace());
        match pair {
            [' ', ':' | ';' | '?' | '!'] if next_is_space_or_end => {
                return Some(
                    "a plain space before : ; ? or ! (French puts a no-break space, U+00A0)",
                )
            }
            ['«', ' '] | [' ', '»'] => {
                return Some("a plain space inside « » (French puts a no-break space, U+00A0)")
            }
            _ => {}
        }
    }
    let prose: Vec<char> = without_code(french).chars().collect();
    if prose.windows(3).any(|w| w == ['.', '.', '.']) {
        return Some("three dots (French writes the ellipsis « … », U+2026)");
    }
    // A number (or a placeholder, `{took:.1}`), then a space, then a unit.
    const UNITS: &[&str] = &[
        "s", "ms", "µs", "min", "h", "Ko", "Mo", "Go", "Kio", "Mio", "Gio", "KiB", "MiB", "GiB",
        "kB", "KB", "MB", "GB", "%",
    ];
    for i in 1..prose.len() {
        if prose[i] != ' ' || !(prose[i - 1].is_ascii_digit() || prose[i - 1] == '}') {
            continue;
        }
        let rest: String = prose[i + 1..].iter().take(4).collect();
        for unit in UNITS {
            if let Some(after) = rest.strip_prefix(unit) {
                let ends = after
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric() && c != '\'' && c != '’');
                if ends {
                    return Some(
                        "a plain space between a number and its unit (French puts a no-break \
                         space, U+00A0 or U+202F: « 4,5 s »)",
                    );
                }
            }
        }
    }
    // « 3 x 3 », « 2,5x plus »: a multiplication.
    for i in 0..prose.len() {
        if prose[i] != 'x' {
            continue;
        }
        let before = i.checked_sub(1).map(|j| prose[j]);
        let after = prose.get(i + 1).copied();
        let spaced = before == Some(' ');
        let number_before = if spaced {
            i.checked_sub(2)
                .is_some_and(|j| prose[j].is_ascii_digit() || prose[j] == '}')
        } else {
            before.is_some_and(|c| c.is_ascii_digit() || c == '}')
        };
        let times = if spaced {
            // « 3 x 3 », « {} x {} »
            after == Some(' ')
                && prose
                    .get(i + 2)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '{')
        } else {
            // « 2,5x plus lent »; `0x1f` is a number.
            after.is_none_or(|c| !c.is_alphanumeric() && c != '_')
        };
        if number_before && times {
            return Some("« x » for a multiplication (French writes « × », U+00D7: « 3 × 3 »)");
        }
    }
    None
}

/// A text with its `code spans` (and fenced code) replaced by a space: a run
/// of backticks opens a span that the next run of as many closes.
pub fn without_code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '`').count();
        // Find the closing run of the same length.
        let mut j = i + run;
        let mut closed = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let r = chars[j..].iter().take_while(|c| **c == '`').count();
                if r == run {
                    closed = Some(j + r);
                    break;
                }
                j += r;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                out.push(' ');
                i = end;
            }
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}

// ------------------------------------------------------------ terminology

/// The terminology sheet, from the repository's root: its ```banned block
/// lists the variants no French text may use.
pub const TERMINOLOGY: &str = "TERMINOLOGY.md";

/// A rule of the terminology sheet: `pattern => preferred`.
#[derive(Debug, Clone)]
pub struct Banned {
    /// As the sheet writes it, `(a|b)` choices included.
    pub pattern: String,
    /// Every phrase the pattern stands for, normalised (see [`words_of`]).
    pub phrases: Vec<String>,
    pub preferred: String,
}

/// The banned variants of the sheet `TERMINOLOGY.md` (its ```banned block).
pub fn terminology(repo: &Path) -> Result<Vec<Banned>> {
    let path = repo.join(TERMINOLOGY);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse_terminology(&text).with_context(|| format!("reading {}", path.display()))
}

/// The rules of a terminology sheet's ```banned block.
pub fn parse_terminology(sheet: &str) -> Result<Vec<Banned>> {
    let mut rules = Vec::new();
    let mut inside = false;
    let mut found = false;
    for (n, line) in sheet.lines().enumerate() {
        let trimmed = line.trim();
        if !inside {
            if trimmed == "```banned" {
                inside = true;
                found = true;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            inside = false;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((pattern, preferred)) = trimmed.split_once("=>") else {
            bail!("line {}: not `banned => preferred`: {trimmed}", n + 1);
        };
        let (pattern, preferred) = (pattern.trim(), preferred.trim());
        let phrases: Vec<String> = expand(pattern)
            .with_context(|| format!("line {}", n + 1))?
            .iter()
            .map(|p| words_of(p))
            .filter(|p| !p.is_empty())
            .collect();
        if phrases.is_empty() || preferred.is_empty() {
            bail!("line {}: an empty rule: {trimmed}", n + 1);
        }
        rules.push(Banned {
            pattern: pattern.to_string(),
            phrases,
            preferred: preferred.to_string(),
        });
    }
    if !found || rules.is_empty() {
        bail!("no ```banned block with rules");
    }
    Ok(rules)
}

/// Every phrase of a pattern: `(a|b) c` is `a c` and `b c`.
fn expand(pattern: &str) -> Result<Vec<String>> {
    let Some(open) = pattern.find('(') else {
        return Ok(vec![pattern.to_string()]);
    };
    let close = pattern[open..]
        .find(')')
        .map(|c| open + c)
        .with_context(|| format!("an unclosed ( in {pattern:?}"))?;
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut out = Vec::new();
    for choice in pattern[open + 1..close].split('|') {
        out.extend(expand(&format!("{head}{choice}{tail}"))?);
    }
    Ok(out)
}

/// A French text as the terminology check reads it: lower case, one space
/// for any run of spaces, `'` for `’`, and without what is not its own
/// wording: `code spans`, `{placeholders}`, a gloss (a parenthesis of one
/// word or of italics: « (*retry*) », « (runner) »), text in English quotes ("…", “…”) and English prose
/// quoted in « » (what another text says). What is left
/// out becomes a `|`, which no phrase matches across.
pub fn words_of(text: &str) -> String {
    let text = without_code(text).replace("**", "").replace('’', "'");
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        // Where a span that is not the text's own wording ends, if `c` opens one.
        let close = match c {
            '{' => chars[i + 1..]
                .iter()
                .position(|d| *d == '}' || d.is_whitespace())
                .filter(|p| chars[i + 1 + p] == '}')
                .map(|p| i + 1 + p),
            // A gloss: a parenthesis holding one word, or only italics,
            // « nouvelle tentative (retry) », « (*unclean leader election*) ».
            '(' => chars[i + 1..]
                .iter()
                .position(|d| *d == ')' || *d == '(')
                .filter(|p| chars[i + 1 + p] == ')')
                .map(|p| i + 1 + p)
                .filter(|end| {
                    let inner: String = chars[i + 1..*end].iter().collect();
                    let inner = inner.trim();
                    let italic = inner.len() > 2
                        && ((inner.starts_with('*') && inner.ends_with('*'))
                            || (inner.starts_with('_') && inner.ends_with('_')));
                    let one_word =
                        !inner.is_empty() && inner.chars().all(|c| c.is_alphabetic() || c == '-');
                    italic || one_word
                }),
            '"' => chars[i + 1..]
                .iter()
                .position(|d| *d == '"')
                .map(|p| i + 1 + p),
            // « … » around English prose quotes another text; around French
            // it is the text's own wording, checked like the rest.
            '«' => chars[i + 1..]
                .iter()
                .position(|d| *d == '»')
                .map(|p| i + 1 + p)
                .filter(|end| english_prose(&chars[i + 1..*end].iter().collect::<String>())),
            '“' => chars[i + 1..]
                .iter()
                .position(|d| *d == '”')
                .map(|p| i + 1 + p),
            _ => None,
        };
        if let Some(end) = close {
            out.push_str(" | ");
            i = end + 1;
            continue;
        }
        // An emphasis mark is not part of a word: `_temps dépassé_`.
        let mark = c == '*'
            || (c == '_'
                && (!prev.is_some_and(char::is_alphanumeric)
                    || !next.is_some_and(char::is_alphanumeric)));
        if c.is_whitespace() || mark {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.extend(c.to_lowercase());
        }
        i += 1;
    }
    out.trim().to_string()
}

/// The banned variants a French text uses: each rule with the phrase found.
/// A phrase counts as whole words only, and not inside a name joined by
/// `.`, `_` or `-` (`log.retention.ms`, `max-batches`).
pub fn banned_in<'a>(french: &str, rules: &'a [Banned]) -> Vec<(&'a Banned, String)> {
    let text: Vec<char> = words_of(french).chars().collect();
    let joins = |c: char| c == '.' || c == '-' || c == '_';
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for rule in rules {
        'phrases: for phrase in &rule.phrases {
            let p: Vec<char> = phrase.chars().collect();
            for start in 0..text.len().saturating_sub(p.len() - 1) {
                if text[start..start + p.len()] != p[..] {
                    continue;
                }
                let end = start + p.len();
                let before_ok = match start.checked_sub(1).map(|j| text[j]) {
                    None => true,
                    Some(c) if word(c) => false,
                    Some(c) if joins(c) => !start
                        .checked_sub(2)
                        .is_some_and(|j| text[j].is_alphanumeric()),
                    Some(_) => true,
                };
                let after_ok = match text.get(end) {
                    None => true,
                    Some(c) if word(*c) => false,
                    Some(c) if joins(*c) => !text.get(end + 1).is_some_and(|d| d.is_alphanumeric()),
                    Some(_) => true,
                };
                if before_ok && after_ok {
                    found.push((rule, phrase.clone()));
                    break 'phrases;
                }
            }
        }
    }
    found
}

/// The French texts of a catalogue that use a banned variant of the
/// terminology sheet, each named with its catalogue, where it is, the
/// variant, the preferred term and the start of its English.
pub fn terminology_problems(domain: &Domain, entries: &[Entry], rules: &[Banned]) -> Vec<String> {
    let po = domain.po.display();
    let wanted: BTreeMap<(&str, &str), &Msg> = domain
        .messages
        .iter()
        .map(|m| ((m.ctxt.as_str(), m.id.as_str()), m))
        .collect();
    let mut problems = Vec::new();
    for e in entries {
        let forms: Vec<&str> = if e.forms.is_empty() {
            vec![e.text.as_str()]
        } else {
            e.forms.iter().map(String::as_str).collect()
        };
        let mut seen = BTreeSet::new();
        for form in forms {
            for (rule, phrase) in banned_in(form, rules) {
                if !seen.insert(rule.pattern.clone()) {
                    continue;
                }
                let place = wanted
                    .get(&(e.ctxt.as_str(), e.id.as_str()))
                    .and_then(|m| m.refs.first().cloned())
                    .unwrap_or_else(|| e.ctxt.clone());
                problems.push(format!(
                    "{po}: {place}: « {phrase} » is a banned variant ({TERMINOLOGY}): write « {} », \
                     in the French of {:?}",
                    rule.preferred,
                    short(&e.id)
                ));
            }
        }
    }
    problems
}

fn short(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    if first.chars().count() > 70 || text.contains('\n') {
        format!("{}...", first.chars().take(70).collect::<String>())
    } else {
        first.to_string()
    }
}

/// Rewrite a catalogue from what it must translate: new texts get an empty
/// translation, known ones keep theirs (found in any of `known`), and
/// translations of texts that are gone stay at the end as obsolete
/// entries, for the translator to start from.
pub fn write_po(repo: &Path, domain: &Domain, known: &[Entry]) -> Result<()> {
    let path = repo.join(&domain.po);
    let old = read_po(&path)?;
    let mut out = String::from(
        "# The French edition of \"Learn Apache Kafka with Rust\".\n\
         # Written by `cargo run --example i18n -- update`; translate the msgstr lines.\n\
         # Keep every {...} placeholder of a program message as it is ({{ and }} are braces).\n\
         msgid \"\"\n\
         msgstr \"\"\n\
         \"Project-Id-Version: Learn Apache Kafka with Rust\\n\"\n\
         \"POT-Creation-Date: \\n\"\n\
         \"PO-Revision-Date: \\n\"\n\
         \"Last-Translator: \\n\"\n\
         \"Language-Team: French\\n\"\n\
         \"Language: fr\\n\"\n\
         \"MIME-Version: 1.0\\n\"\n\
         \"Content-Type: text/plain; charset=UTF-8\\n\"\n\
         \"Content-Transfer-Encoding: 8bit\\n\"\n\
         \"Plural-Forms: nplurals=2; plural=(n > 1);\\n\"\n",
    );
    let find = |m: &Msg| {
        old.iter()
            .chain(known)
            .find(|e| e.ctxt == m.ctxt && e.id == m.id)
            .cloned()
    };
    for m in &domain.messages {
        out.push('\n');
        let entry = find(m);
        if let Some(e) = &entry {
            for line in e.comments.lines() {
                let _ = writeln!(out, "# {line}");
            }
        }
        for line in m.note.lines().filter(|l| !l.is_empty()) {
            let _ = writeln!(out, "#. {line}");
        }
        let _ = writeln!(out, "#: {}", m.refs.join(" "));
        if entry.as_ref().is_some_and(|e| e.fuzzy) {
            out.push_str("#, fuzzy\n");
        }
        if !m.ctxt.is_empty() {
            out.push_str(&po_string("msgctxt", &m.ctxt));
        }
        out.push_str(&po_string("msgid", &m.id));
        if m.plural.is_empty() {
            out.push_str(&po_string(
                "msgstr",
                entry.as_ref().map_or("", |e| e.text.as_str()),
            ));
        } else {
            // French has two forms: msgstr[0] for 0 and 1, msgstr[1] beyond.
            out.push_str(&po_string("msgid_plural", &m.plural));
            let forms = entry.as_ref().map(|e| e.forms.clone()).unwrap_or_default();
            for i in 0..2 {
                let form = forms.get(i).map_or("", String::as_str);
                out.push_str(&po_string(&format!("msgstr[{i}]"), form));
            }
        }
    }
    let wanted: BTreeSet<(&str, &str)> = domain
        .messages
        .iter()
        .map(|m| (m.ctxt.as_str(), m.id.as_str()))
        .collect();
    for e in old.iter().filter(|e| !e.text.is_empty()) {
        if !wanted.contains(&(e.ctxt.as_str(), e.id.as_str())) {
            out.push('\n');
            for (kw, text) in [("msgctxt", &e.ctxt), ("msgid", &e.id), ("msgstr", &e.text)] {
                if kw == "msgctxt" && text.is_empty() {
                    continue;
                }
                for line in po_string(kw, text).lines() {
                    let _ = writeln!(out, "#~ {line}");
                }
            }
        }
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(&path, out).with_context(|| format!("writing {}", path.display()))
}

/// `msgid "..."`, split after each `\n` as gettext tools write it.
fn po_string(keyword: &str, text: &str) -> String {
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
    };
    let pieces: Vec<&str> = text.split_inclusive('\n').collect();
    if pieces.len() <= 1 {
        return format!("{keyword} \"{}\"\n", escape(text));
    }
    let mut out = format!("{keyword} \"\"\n");
    for piece in pieces {
        out.push_str(&format!("\"{}\"\n", escape(piece)));
    }
    out
}

/// Every problem of every catalogue: what has no current French, French
/// typography, and the banned variants of the terminology sheet.
pub fn check(repo: &Path) -> Result<Vec<String>> {
    let rules = terminology(repo)?;
    let mut all = Vec::new();
    for domain in domains(repo)? {
        let entries = read_po(&repo.join(&domain.po))?;
        all.extend(check_catalogue(&domain, &entries, &rules));
    }
    Ok(all)
}

/// Every problem of one catalogue (see [`check`]).
pub fn check_catalogue(domain: &Domain, entries: &[Entry], rules: &[Banned]) -> Vec<String> {
    let mut all = problems(domain, entries);
    all.extend(terminology_problems(domain, entries, rules));
    all
}

/// Rewrite every catalogue (see [`write_po`]).
pub fn update(repo: &Path) -> Result<()> {
    let domains = domains(repo)?;
    // A program message that moved to another file keeps its translation.
    let mut known = Vec::new();
    for d in &domains {
        known.extend(read_po(&repo.join(&d.po))?);
    }
    for d in &domains {
        write_po(repo, d, &known)?;
        let entries = read_po(&repo.join(&d.po))?;
        let todo = problems(d, &entries).len();
        println!(
            "{}: {} texts{}",
            d.po.display(),
            d.messages.len(),
            if todo > 0 {
                format!(", {todo} to translate")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let repo = repo();
    match std::env::args().nth(1).as_deref() {
        Some("update") => update(&repo),
        Some("check") => {
            let problems = check(&repo)?;
            for p in &problems {
                println!("{p}");
            }
            if problems.is_empty() {
                println!("Every text of the French edition is translated.");
                Ok(())
            } else {
                bail!("{} texts need translating", problems.len())
            }
        }
        _ => bail!("usage: cargo run --example i18n -- update|check"),
    }
}
