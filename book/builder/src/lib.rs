//! The book of "Learn Apache Kafka with Rust": both editions built with
//! mdBook as a library, so readers need nothing but cargo, and served by a
//! small local server whose pages run the lessons and check the exercises
//! ([`serve`], started by `course serve`).
//!
//! English is built into `book/build/`, French into `book/build/fr/`. The
//! French edition is the English book with its listings in place
//! ([`expand_listings`]), translated paragraph by paragraph from
//! `book/po/fr.po` (mdbook-i18n-helpers, the code behind mdbook-gettext,
//! run in-process), which translates each listing's comments too: the code
//! is the real source, its comments in French. Then mdBook includes the
//! snapshots: each chapter its lesson's French snapshot
//! (`lessons/tests/snapshots/fr/`) where the English one includes the
//! English. The diagrams' texts and mdBook's own page texts come from the
//! same catalogue; [`messages`] lists everything the catalogue translates.
//!
//! Each edition also gets the data of the pictures of the lessons' runs
//! (book/theme/picture.js draws them): `timelines/<slug>.js`, each
//! chapter's timeline from its lesson's checked snapshot
//! (`lessons/tests/snapshots/<slug>.events.snap`, the French one in
//! French), and `timelines/labels.js`, the picture's labels
//! (`book/theme/picture-labels.txt`) in the edition's language.
//!
//! This package depends on neither the course's library nor librdkafka: the
//! program that runs the lessons (`course`) does not compile mdBook, and
//! reading the book does not compile librdkafka a second time.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, Result};
#[cfg(feature = "build")]
use mdbook_driver::book::BookItem;

#[cfg(feature = "build")]
pub mod messages;
pub mod quiz;
pub mod serve;

/// The editions: (language, folder inside the output where it lives).
pub const EDITIONS: &[(&str, &str)] = &[("en", ""), ("fr", "fr")];

/// The course's root folder (`Cargo.toml`, `book/`, `lessons/`, `exercises/`).
pub fn course_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

/// The book's sources: `book.toml`, `src/`, `po/`, `theme/`.
pub fn book_root() -> PathBuf {
    course_root().join("book")
}

/// Where `just book` and `course serve` build it.
pub fn default_build_dir() -> PathBuf {
    book_root().join("build")
}

/// Written into the output last, once every edition is built: its time is
/// the build's (see [`is_stale`]).
pub const STAMP: &str = ".built";

#[cfg(feature = "build")]
/// Build every edition into `out` (English at its root, French in `out/fr`).
pub fn build(out: &Path) -> Result<()> {
    let root = book_root();
    // English first: mdBook empties its output folder, French included.
    let mut english = load(&root)?;
    english.config.build.build_dir = out.to_path_buf();
    let quizzes = quiz::quiz_slugs()?;
    add_quizzes(&mut english.book, &quizzes);
    english.build().context("building the English book")?;

    let french_out = out.join("fr");
    let mut french = load(&root)?;
    french.config.build.build_dir = french_out.clone();
    french.config.book.language = Some("fr".into());
    let catalog = load_catalog(&root.join("po/fr.po"))?;
    if let Some(title) = lookup(&catalog, "book.toml", french.config.book.title.as_deref()) {
        french.config.book.title = Some(title);
    }
    // Each chapter with its listings in place, then translated: so the
    // listings' comments are translated too (the code stays as it is), and
    // the snapshots, which mdBook includes afterwards, are the French ones.
    let src = root.join("src");
    let mut failed = Vec::new();
    french.book.for_each_mut(|item| {
        if let BookItem::Chapter(ch) = item {
            let source = ch.source_path.clone().unwrap_or_default();
            let dir = src.join(source.parent().unwrap_or(Path::new("")));
            let page = format!("book/src/{}", source.display());
            match expand_listings(&french_snapshots(&ch.content), &dir, &page) {
                Ok((content, _)) => ch.content = content,
                Err(e) => failed.push(format!("{e:#}")),
            }
        }
    });
    if !failed.is_empty() {
        anyhow::bail!("{}", failed.join("\n"));
    }
    let mut with_summary = load_catalog(&root.join("po/fr.po"))?;
    mdbook_i18n_helpers::gettext::add_stripped_summary_translations(&mut with_summary);
    mdbook_i18n_helpers::gettext::translate_book(&with_summary, &mut french.book)
        .context("translating the book")?;
    add_quizzes(&mut french.book, &quizzes);
    french.build().context("building the French book")?;
    translate_images(&root.join("src/img"), &french_out.join("img"), &catalog)?;
    translate_page_template(&french_out, &catalog)?;
    // The pictures' data: each chapter's timeline, and their labels.
    let slugs = chapter_slugs(&english.book);
    write_timelines(out, "en", &slugs, None)?;
    write_timelines(&french_out, "fr", &slugs, Some(&catalog))?;
    write_quizzes(out, &quizzes, None)?;
    write_quizzes(&french_out, &quizzes, Some(&catalog))?;
    fs::write(out.join(STAMP), b"")
        .with_context(|| format!("writing {}", out.join(STAMP).display()))?;
    Ok(())
}

#[cfg(feature = "build")]
/// Each chapter that has a quiz (`book/quizzes/<slug>.toml`) ends with it:
/// a `## Quiz` heading and the element book/theme/quiz.js fills.
fn add_quizzes(book: &mut mdbook_driver::book::Book, quizzes: &[String]) {
    book.for_each_mut(|item| {
        if let BookItem::Chapter(ch) = item {
            let stem = ch
                .source_path
                .as_deref()
                .and_then(Path::file_stem)
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            if quizzes.contains(&stem) {
                ch.content.push_str(&quiz::quiz_markdown(&stem));
            }
        }
    });
}

#[cfg(feature = "build")]
/// The quizzes' data in an edition's output `dir`: `quizzes/<slug>.js`
/// (`window.courseQuizzes[slug]`: the questions in the edition's language,
/// computed answers filled in). A script: a page opened from files may load
/// a script, not fetch a file.
fn write_quizzes(
    dir: &Path,
    slugs: &[String],
    catalog: Option<&polib::catalog::Catalog>,
) -> Result<()> {
    let folder = dir.join("quizzes");
    fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    for slug in slugs {
        let translate = |text: &str| catalog.and_then(|c| lookup(c, "quiz", Some(text)));
        let questions = quiz::quiz(slug, &translate)?;
        let js = format!(
            "// Chapter {slug}'s quiz (book/quizzes/{slug}.toml), in this edition's language.\n\
             (window.courseQuizzes = window.courseQuizzes || {{}})[{}] = {};\n",
            serde_json::to_string(slug)?,
            serde_json::to_string_pretty(&questions)?
        );
        let path = folder.join(format!("{slug}.js"));
        fs::write(&path, js).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(feature = "build")]
/// The chapters' names (`ch1_cluster`...), in the book's order: the pages
/// named `chN_<name>.md`.
fn chapter_slugs(book: &mdbook_driver::book::Book) -> Vec<String> {
    let mut slugs = Vec::new();
    for item in book.iter() {
        if let BookItem::Chapter(ch) = item {
            let stem = ch
                .source_path
                .as_deref()
                .and_then(Path::file_stem)
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            if is_chapter_slug(&stem) {
                slugs.push(stem);
            }
        }
    }
    slugs
}

/// `chN_<name>`: a chapter backed by lesson N.
pub fn is_chapter_slug(name: &str) -> bool {
    name.strip_prefix("ch")
        .and_then(|r| r.split_once('_'))
        .is_some_and(|(n, rest)| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
        })
}

/// The timeline the chapter `slug` replays in edition `lang`: its lesson's
/// timeline snapshot, `lessons/tests/snapshots/<slug>.events.snap`, in
/// French the French one (`snapshots/fr/`) where it exists, else the
/// English one.
pub fn timeline_snapshot(slug: &str, lang: &str) -> PathBuf {
    let dir = course_root().join("lessons/tests/snapshots");
    let english = dir.join(format!("{slug}.events.snap"));
    if lang == "en" {
        return english;
    }
    let translated = dir.join(lang).join(format!("{slug}.events.snap"));
    if translated.is_file() {
        translated
    } else {
        english
    }
}

/// A timeline snapshot's events: after insta's header (YAML between two
/// `---` lines), one JSON object a line, as `course lesson N --events`
/// wrote it. Each line as written (checked to be a JSON object).
pub fn timeline_events(snapshot: &Path) -> Result<Vec<String>> {
    let text = fs::read_to_string(snapshot)
        .with_context(|| format!("reading the timeline {}", snapshot.display()))?;
    let mut lines = text.lines().enumerate();
    let header_end = (lines.next().map(|(_, l)| l) == Some("---"))
        .then(|| lines.find(|(_, l)| *l == "---"))
        .flatten();
    anyhow::ensure!(
        header_end.is_some(),
        "{}: not an insta snapshot (no header between two --- lines)",
        snapshot.display()
    );
    let mut events = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", snapshot.display(), n + 1))?;
        anyhow::ensure!(
            value.is_object(),
            "{}:{}: not a JSON object",
            snapshot.display(),
            n + 1
        );
        events.push(line.to_string());
    }
    Ok(events)
}

/// The labels the picture of a run draws (book/theme/picture-labels.txt:
/// one English label a line, `#` comments), with their line numbers.
pub fn picture_labels() -> Result<Vec<(usize, String)>> {
    let path = book_root().join(PICTURE_LABELS);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut labels: Vec<(usize, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let label = line.trim();
        if label.is_empty() || label.starts_with('#') {
            continue;
        }
        if !labels.iter().any(|(_, l)| l == label) {
            labels.push((n + 1, label.to_string()));
        }
    }
    Ok(labels)
}

/// The list of the picture's labels, in `book/`.
pub const PICTURE_LABELS: &str = "theme/picture-labels.txt";

#[cfg(feature = "build")]
/// The pictures' data in an edition's output `dir`: `timelines/<slug>.js`
/// for each chapter (its timeline, `window.courseTimelines[slug]`), and
/// `timelines/labels.js` (`window.coursePictureLabels`: English label to
/// its translation, `{}` in English). Scripts, not JSON: a page opened
/// from files may load a script, not fetch a file.
fn write_timelines(
    dir: &Path,
    lang: &str,
    slugs: &[String],
    catalog: Option<&polib::catalog::Catalog>,
) -> Result<()> {
    let timelines = dir.join("timelines");
    fs::create_dir_all(&timelines).with_context(|| format!("creating {}", timelines.display()))?;
    for slug in slugs {
        let snapshot = timeline_snapshot(slug, lang);
        let events = timeline_events(&snapshot)?;
        let shown = snapshot
            .strip_prefix(course_root())
            .unwrap_or(&snapshot)
            .display()
            .to_string();
        let mut js = format!(
            "// The timeline of lesson {}'s run on the embedded cluster, as its test\n\
             // checked it ({shown}): what the picture replays.\n\
             (window.courseTimelines = window.courseTimelines || {{}})[{}] = [\n",
            slug.trim_start_matches("ch")
                .split('_')
                .next()
                .unwrap_or_default(),
            serde_json::to_string(slug)?
        );
        for event in &events {
            js.push_str(event);
            js.push_str(",\n");
        }
        js.push_str("];\n");
        let path = timelines.join(format!("{slug}.js"));
        fs::write(&path, js).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut labels = serde_json::Map::new();
    if let Some(catalog) = catalog {
        for (_, label) in picture_labels()? {
            if let Some(translated) = lookup(catalog, "picture", Some(&label)) {
                labels.insert(label, serde_json::Value::String(translated));
            }
        }
    }
    let js = format!(
        "// The picture's labels in this edition's language (English: none, the labels are English).\n\
         window.coursePictureLabels = {};\n",
        serde_json::to_string_pretty(&labels)?
    );
    let path = timelines.join("labels.js");
    fs::write(&path, js).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(feature = "build")]
fn load(root: &Path) -> Result<mdbook_driver::MDBook> {
    mdbook_driver::MDBook::load(root)
        .with_context(|| format!("loading {}", root.join("book.toml").display()))
}

/// Whether the book in `out` must be built (again): it never was, or a file
/// it is made of changed since (its pages, catalogue, theme and settings,
/// the picture's labels, the sources and snapshots its chapters include,
/// their lessons' timelines), or the program that builds it did.
pub fn is_stale(out: &Path) -> bool {
    let Some(built) = modified(&out.join(STAMP)) else {
        return true;
    };
    // The program that builds the book, when this one can: a server built
    // without mdBook only serves, so its own age says nothing of the book.
    let builder = if cfg!(feature = "build") {
        std::env::current_exe().ok().and_then(|exe| modified(&exe))
    } else {
        None
    };
    inputs()
        .iter()
        .filter_map(|p| newest(p))
        .chain(builder)
        .any(|t| t > built)
}

/// The files and folders the book is made of.
pub fn inputs() -> Vec<PathBuf> {
    let root = book_root();
    let mut found = vec![
        root.join("book.toml"),
        root.join("src"),
        root.join("po"),
        root.join("theme"),
        root.join(quiz::QUIZZES),
    ];
    // `{{#include ../../lessons/src/ch1_cluster.rs:anchor}}`: the file, and
    // for a snapshot the French one the French edition includes instead.
    let pages = fs::read_dir(root.join("src"))
        .into_iter()
        .flatten()
        .flatten();
    for page in pages.map(|e| e.path()) {
        if page.extension().is_none_or(|e| e != "md") {
            continue;
        }
        // A chapter's picture replays its lesson's timeline, in each language.
        let stem = page.file_stem().unwrap_or_default().to_string_lossy();
        if is_chapter_slug(&stem) {
            for snapshots in ["snapshots", "snapshots/fr"] {
                let file = format!("../../lessons/tests/{snapshots}/{stem}.events.snap");
                found.push(root.join("src").join(file));
            }
        }
        let Ok(text) = fs::read_to_string(&page) else {
            continue;
        };
        for piece in text.split("{{#include ").skip(1) {
            let spec = piece.split("}}").next().unwrap_or_default().trim();
            let file = spec.split(':').next().unwrap_or_default();
            found.push(root.join("src").join(file));
            let french = french_snapshots(file);
            if french != file {
                found.push(root.join("src").join(french));
            }
        }
    }
    found
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of `path`, or of any file under it.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    fs::read_dir(path)
        .ok()?
        .flatten()
        .filter_map(|e| newest(&e.path()))
        .max()
}

#[cfg(feature = "build")]
/// mdBook's own texts on every French page (menu bar, keyboard help,
/// search box and results), from the catalogue's `mdbook` entries.
fn translate_page_template(out: &Path, catalog: &polib::catalog::Catalog) -> Result<()> {
    let pairs: Vec<(&str, String)> = MDBOOK_UI
        .iter()
        .filter_map(|en| Some((*en, lookup(catalog, "mdbook", Some(en))?)))
        .collect();
    for entry in fs::read_dir(out)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let is_page = name.ends_with(".html");
        let is_searcher = name.starts_with("searcher") && name.ends_with(".js");
        if !is_page && !is_searcher {
            continue;
        }
        let mut text = fs::read_to_string(&path)?;
        for (en, fr) in &pairs {
            if is_page {
                text = text
                    .replace(&format!(">{en}<"), &format!(">{fr}<"))
                    .replace(&format!("\"{en}\""), &format!("\"{fr}\""));
            } else {
                // The search script's messages: 'No search results for ' + ...
                text = text
                    .replace(&format!("'{en} "), &format!("'{fr} "))
                    .replace(&format!("' {en} "), &format!("' {fr} "));
            }
        }
        fs::write(&path, text)?;
    }
    Ok(())
}

/// The French chapter includes its lesson's French snapshot.
pub fn french_snapshots(markdown: &str) -> String {
    markdown.replace("lessons/tests/snapshots/", "lessons/tests/snapshots/fr/")
}

/// A page with its listings in place: every `{{#include FILE[:ANCHOR |
/// :LINES]}}` of a source file replaced by the lines it names, as mdBook's
/// `links` preprocessor does (an anchor's lines without the lines that
/// hold ANCHOR markers; `:4:` is line 4 to the end, `:4:9`, `::9`, `:4`).
/// Snapshots (`.snap`) stay included: they are not translated, and mdBook
/// includes them when it builds the page. `dir` is the page's folder.
///
/// Also, for each line of the result, where it comes from: `PAGE:LINE` for
/// the page's own lines, the included file (from the course's root,
/// without a line number) for a listing's.
pub fn expand_listings(markdown: &str, dir: &Path, page: &str) -> Result<(String, Vec<String>)> {
    let root = course_root();
    let mut out = String::with_capacity(markdown.len() * 2);
    let mut origins = Vec::new();
    for (n, line) in markdown.split_inclusive('\n').enumerate() {
        let mut rest = line;
        let mut from_file: Option<String> = None;
        let mut expanded = String::new();
        while let Some(start) = rest.find("{{#include ") {
            let Some(end) = rest[start..].find("}}").map(|e| e + start) else {
                break;
            };
            let spec = rest[start + "{{#include ".len()..end].trim();
            let (file, selector) = spec.split_once(':').unwrap_or((spec, ""));
            if file.ends_with(".snap") {
                expanded.push_str(&rest[..end + 2]);
                rest = &rest[end + 2..];
                continue;
            }
            let path = dir.join(file);
            let text = fs::read_to_string(&path)
                .with_context(|| format!("{page} includes {}", path.display()))?;
            expanded.push_str(&rest[..start]);
            expanded.push_str(&select_lines(&text, selector));
            rest = &rest[end + 2..];
            let shown = path
                .canonicalize()
                .ok()
                .and_then(|p| {
                    Some(
                        p.strip_prefix(root.canonicalize().ok()?)
                            .ok()?
                            .to_path_buf(),
                    )
                })
                .unwrap_or_else(|| PathBuf::from(file));
            from_file = Some(shown.display().to_string());
        }
        expanded.push_str(rest);
        let lines = expanded.split_inclusive('\n').count().max(1);
        let origin = from_file.unwrap_or_else(|| format!("{page}:{}", n + 1));
        origins.extend(std::iter::repeat_n(origin, lines));
        out.push_str(&expanded);
    }
    Ok((out, origins))
}

/// The lines of `text` an include's selector names (see [`expand_listings`]).
fn select_lines(text: &str, selector: &str) -> String {
    // `ANCHOR: name` / `ANCHOR_END: name` (mdBook: `ANCHOR:\s*[\w_-]+`).
    let marker = |l: &str, tag: &str| -> Option<String> {
        let after = l.split_once(tag)?.1.trim_start();
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    if selector.is_empty() {
        return text.lines().collect::<Vec<_>>().join("\n");
    }
    let mut parts = selector.splitn(2, ':');
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    let start: Option<usize> = first.parse().ok();
    if start.is_none() && !first.is_empty() {
        // An anchor: its lines, without any ANCHOR markers inside.
        let mut inside = false;
        let mut kept = Vec::new();
        for l in text.lines() {
            if inside {
                match marker(l, "ANCHOR_END:") {
                    Some(name) if name == first => break,
                    Some(_) => {}
                    None if marker(l, "ANCHOR:").is_none() => kept.push(l),
                    None => {}
                }
            } else if marker(l, "ANCHOR:").is_some_and(|name| name == first) {
                inside = true;
            }
        }
        return kept.join("\n");
    }
    // Lines, numbered from 1: `N` alone, `N:`, `N:M`, `:M`.
    let from = start.map_or(0, |s| s.saturating_sub(1));
    let to: Option<usize> = match second {
        None => start.map(|s| s.max(1)),
        Some(m) => m.parse().ok(),
    };
    let lines = text.lines().skip(from);
    match to {
        Some(to) => lines.take(to.saturating_sub(from)).collect::<Vec<_>>(),
        None => lines.collect::<Vec<_>>(),
    }
    .join("\n")
}

#[cfg(feature = "build")]
fn load_catalog(path: &Path) -> Result<polib::catalog::Catalog> {
    polib::po_file::parse(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(feature = "build")]
/// The translation of `text` in context `ctxt`, if it has a checked one.
fn lookup(catalog: &polib::catalog::Catalog, ctxt: &str, text: Option<&str>) -> Option<String> {
    let message = catalog.find_message(Some(ctxt), text?, None)?;
    let french = message.msgstr().ok()?;
    (!french.is_empty() && !message.flags().is_fuzzy()).then(|| french.to_string())
}

#[cfg(feature = "build")]
/// Each diagram with its texts in French, over the copy mdBook made.
fn translate_images(src: &Path, out: &Path, catalog: &polib::catalog::Catalog) -> Result<()> {
    for entry in fs::read_dir(src)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "svg") {
            continue;
        }
        let name = format!("img/{}", path.file_name().unwrap().to_string_lossy());
        let svg = fs::read_to_string(&path)?;
        let french = translate_svg(&svg, |text| lookup(catalog, &name, Some(text)));
        let french = french.replacen("<svg ", "<svg xml:lang=\"fr\" ", 1);
        fs::write(out.join(path.file_name().unwrap()), french)?;
    }
    Ok(())
}

/// What mdBook's own page template and search script show a reader, as
/// they appear in its HTML (`>text<` or `"text"`) and JavaScript: the
/// French edition replaces them ([`build`]); `cargo run --example i18n`
/// puts them in the book's catalogue.
pub const MDBOOK_UI: &[&str] = &[
    "Keyboard shortcuts",
    "Press <kbd>←</kbd> or <kbd>→</kbd> to navigate between chapters",
    "Press <kbd>S</kbd> or <kbd>/</kbd> to search in the book",
    "Press <kbd>?</kbd> to show this help",
    "Press <kbd>Esc</kbd> to hide this help",
    "Toggle Table of Contents",
    "Table of contents",
    "Change theme",
    "Themes",
    "Light",
    "Toggle Searchbar",
    "Search (`/`)",
    "Search this book ...",
    "Print this book",
    "Previous chapter",
    "Next chapter",
    "Page navigation",
    "No search results for",
    "search result for",
    "search results for",
];

/// The texts of an SVG drawing: its `<title>` and every `<text>`, with the
/// line each starts on, as written (XML escapes kept).
pub fn svg_texts(svg: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (open, close) in [("<title", "</title>"), ("<text", "</text>")] {
        let mut from = 0;
        while let Some(start) = svg[from..].find(open).map(|i| i + from) {
            let Some(gt) = svg[start..].find('>').map(|i| i + start + 1) else {
                break;
            };
            let Some(end) = svg[gt..].find(close).map(|i| i + gt) else {
                break;
            };
            let text = &svg[gt..end];
            if !text.trim().is_empty() {
                found.push((svg[..start].lines().count().max(1), text.to_string()));
            }
            from = end;
        }
    }
    found.sort();
    found
}

/// `svg` with each text replaced by `translate(file's context, text)` where
/// it gives one.
pub fn translate_svg(svg: &str, translate: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    loop {
        let next = ["<title", "<text"]
            .iter()
            .filter_map(|open| rest.find(open).map(|i| (i, *open)))
            .min();
        let Some((start, open)) = next else {
            out.push_str(rest);
            return out;
        };
        let close = if open == "<title" {
            "</title>"
        } else {
            "</text>"
        };
        let (Some(gt), Some(end)) = (rest[start..].find('>'), rest[start..].find(close)) else {
            out.push_str(rest);
            return out;
        };
        let (gt, end) = (start + gt + 1, start + end);
        out.push_str(&rest[..gt]);
        let text = &rest[gt..end];
        out.push_str(&translate(text).unwrap_or_else(|| text.to_string()));
        rest = &rest[end..];
        out.push_str(&rest[..close.len()]);
        rest = &rest[close.len()..];
    }
}
