//! The texts of the book to translate, as the French edition translates
//! them: what the book's catalogue (`book/po/fr.po`) must hold.
//!
//! `cargo run --example i18n -- update|check` (in lessons/) reads them
//! from the `book-messages` program of this package, which prints them:
//!
//! - the book's title (`msgctxt "book.toml"`);
//! - every paragraph, heading, list item and table cell of each page, as
//!   mdbook-i18n-helpers extracts them, from the page with its listings in
//!   place ([`crate::expand_listings`]): so the comments of each listing
//!   are messages of their own (mdbook-i18n-helpers finds them with a
//!   Rust lexer), and the French pages show them in French while the
//!   source stays English; the code, string literals included, stays as
//!   it runs. Snapshots are not messages: the French page includes the
//!   French one;
//! - the diagrams' texts (`msgctxt` the file);
//! - the labels of the picture of a run (`msgctxt "picture"`), listed in
//!   `book/theme/picture-labels.txt`;
//! - mdBook's own page texts (`msgctxt "mdbook"`).

use std::fs;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::{book_root, expand_listings, picture_labels, svg_texts, MDBOOK_UI, PICTURE_LABELS};

/// One text to translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Set for texts that must not share a translation with the same
    /// English elsewhere (a diagram's text: its file).
    pub ctxt: String,
    pub id: String,
    /// Where it is, from the course's root: `path:line` in a page, `path`
    /// alone in a listing's source (so that editing it churns no line).
    pub refs: Vec<String>,
    /// A note for the translator (`#.` in the catalogue).
    pub note: String,
}

/// Every text of the book to translate, in order: title, pages (SUMMARY.md
/// first, then by name), diagrams, the picture's labels, mdBook's page texts.
pub fn messages() -> Result<Vec<Message>> {
    let root = book_root();
    let src = root.join("src");
    let mut messages = Vec::new();
    let toml = fs::read_to_string(root.join("book.toml"))?;
    let title = toml
        .lines()
        .find_map(|l| l.strip_prefix("title = "))
        .context("book.toml has a title")?;
    messages.push(Message {
        ctxt: "book.toml".into(),
        id: title.trim_matches('"').to_string(),
        refs: vec!["book/book.toml".into()],
        note: "The book's title, on every page.".into(),
    });
    let mut pages: Vec<PathBuf> = fs::read_dir(&src)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    pages.retain(|p| p.extension().is_some_and(|e| e == "md"));
    pages.sort_by_key(|p| (!p.ends_with("SUMMARY.md"), p.clone()));
    for page in pages {
        let name = format!("book/src/{}", page.file_name().unwrap().to_string_lossy());
        let (text, origins) = expand_listings(&fs::read_to_string(&page)?, &src, &name)?;
        let extracted = mdbook_i18n_helpers::extract_messages(&text)
            .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
        for (line, m) in extracted {
            let origin = origins
                .get(line.saturating_sub(1))
                .cloned()
                .unwrap_or_else(|| format!("{name}:{line}"));
            let in_listing = !origin.starts_with(&name);
            if in_listing && !listing_text_to_translate(&m.message) {
                continue;
            }
            let id = if page.ends_with("SUMMARY.md") {
                strip_link(&m.message)
            } else {
                m.message
            };
            let note = if in_listing && m.comment.is_empty() {
                LISTING_NOTE.to_string()
            } else {
                m.comment
            };
            messages.push(Message {
                ctxt: String::new(),
                id,
                refs: vec![origin],
                note,
            });
        }
    }
    let mut images: Vec<PathBuf> = fs::read_dir(src.join("img"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    images.retain(|p| p.extension().is_some_and(|e| e == "svg"));
    images.sort();
    for image in images {
        let name = format!("img/{}", image.file_name().unwrap().to_string_lossy());
        let svg = fs::read_to_string(&image)?;
        for (line, text) in svg_texts(&svg) {
            messages.push(Message {
                ctxt: name.clone(),
                id: text,
                refs: vec![format!("book/src/{name}:{line}")],
                note: "Text of a diagram, written as XML (&amp; for &): keep it about as \
                       long as the English, it must fit its box."
                    .into(),
            });
        }
    }
    for (line, label) in picture_labels()? {
        messages.push(Message {
            ctxt: "picture".into(),
            id: label,
            refs: vec![format!("book/{PICTURE_LABELS}:{line}")],
            note: "A label of the picture of a lesson's run (book/theme/picture.js): keep \
                   each {placeholder} as it is, and the label about as short as the English, \
                   it must fit the drawing."
                .into(),
        });
    }
    for slug in crate::quiz::quiz_slugs()? {
        for text in crate::quiz::quiz_texts(&slug)? {
            messages.push(Message {
                ctxt: "quiz".into(),
                id: text,
                refs: vec![format!("book/{}/{slug}.toml", crate::quiz::QUIZZES)],
                note: "A question of a chapter's quiz, one of its answers, or why that answer \
                       is right or wrong (book/theme/quiz.js, `course quiz`)."
                    .into(),
            });
        }
    }
    for text in MDBOOK_UI {
        messages.push(Message {
            ctxt: "mdbook".into(),
            id: text.to_string(),
            refs: vec!["mdBook's page template (mdbook-html 0.5.4)".into()],
            note: "Part of every page: the menu bar, the keyboard help, the search. \
                   HTML: keep the <kbd> tags."
                .into(),
        });
    }
    Ok(messages)
}

/// The translator's note on a listing's comment or string.
const LISTING_NOTE: &str = "A comment of a code listing (the French page shows it in place \
     of the English): keep each line's `//` or `///` and the indentation before it, and each \
     line about as long as the English.";

/// Of what mdbook-i18n-helpers finds in a listing (comments and string
/// literals), what the French page translates: the comments. The code
/// itself, string literals included, stays as the program has it: it is
/// what runs, and what it prints.
pub fn listing_text_to_translate(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("//") || text.starts_with("/*")
}

/// "[Foo *Bar*](foo-bar.md)" to "Foo *Bar*", as mdbook-xgettext does for
/// SUMMARY.md (the gettext preprocessor looks chapter names up that way).
fn strip_link(text: &str) -> String {
    use mdbook_i18n_helpers::{extract_events, reconstruct_markdown};
    use pulldown_cmark::{Event, Tag, TagEnd};
    let events: Vec<_> = extract_events(text, None)
        .into_iter()
        .filter(|(_, e)| !matches!(e, Event::Start(Tag::Link { .. }) | Event::End(TagEnd::Link)))
        .map(|(_, e)| (0, e))
        .collect();
    reconstruct_markdown(&events, None)
        .map(|(text, _)| text)
        .unwrap_or_else(|_| text.to_string())
}
