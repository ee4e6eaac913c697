//! The book builds with nothing but cargo, in English and in French; every
//! include resolves to something non-empty, and every chapter shows exactly
//! its lesson's snapshot in its edition's language: the output a reader
//! sees is the output a test checked. Links and anchors resolve in both
//! editions, and each page links to itself in the other.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kafka_course_book::{book_root, course_root, EDITIONS};

mod common;

/// The lessons' output snapshots, which the chapters include.
fn snapshots() -> PathBuf {
    course_root().join("lessons/tests/snapshots")
}

/// Build both editions once for all the tests of this file; return the
/// output dir (English at its root, French in `fr/`).
fn built() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book");
        let _ = fs::remove_dir_all(&out);
        kafka_course_book::build(&out).expect("the book builds");
        out
    })
}

fn html(page: &str) -> String {
    let path = built().join(page);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The HTML pages of an edition (`""` English, `"fr"` French).
fn pages(edition: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(built().join(edition))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    found.sort();
    found
}

/// Text as mdBook writes it inside a code block.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every `{{#include path[:anchor|:lines]}}` of the book's sources.
fn includes() -> Vec<(PathBuf, String, String)> {
    let mut found = Vec::new();
    for entry in fs::read_dir(book_root().join("src")).unwrap() {
        let md = entry.unwrap().path();
        if md.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&md).unwrap();
        for piece in text.split("{{#include ").skip(1) {
            let spec = piece.split("}}").next().unwrap().trim().to_string();
            let (file, selector) = match spec.split_once(':') {
                Some((f, s)) => (f.to_string(), s.to_string()),
                None => (spec.clone(), String::new()),
            };
            found.push((md.clone(), file, selector));
        }
    }
    found
}

#[test]
fn every_include_resolves_to_non_empty_text() {
    let includes = includes();
    assert!(!includes.is_empty());
    for (md, file, selector) in includes {
        let path = md.parent().unwrap().join(&file);
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} includes {file}: {e}", md.display()));
        let what = format!("{} includes {file}:{selector}", md.display());
        let content: String =
            if selector.is_empty() || selector.chars().next().unwrap().is_ascii_digit() {
                // Whole file or a line range: the range must start inside the file.
                let first: usize = selector.split(':').next().unwrap().parse().unwrap_or(1);
                text.lines()
                    .skip(first.saturating_sub(1))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                let start = format!("ANCHOR: {selector}");
                let end = format!("ANCHOR_END: {selector}");
                let body = text
                    .split_once(&start)
                    .and_then(|(_, rest)| rest.split_once(&end))
                    .unwrap_or_else(|| panic!("{what}: no {start} ... {end} in the file"))
                    .0;
                body.lines()
                    .skip(1)
                    .filter(|l| !l.contains("ANCHOR"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
        assert!(content.trim().len() > 10, "{what}: included text is empty");
    }
}

#[test]
fn no_unexpanded_include_in_the_built_book() {
    for (_, edition) in EDITIONS {
        for path in pages(edition) {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("{{#"),
                "{} has an unexpanded {{{{#...}}}}",
                path.display()
            );
        }
    }
}

#[test]
fn each_chapter_shows_its_lessons_snapshot() {
    // Check every chapter and report all that fail, not just the first.
    let chapters = common::chapters();
    let problems: Vec<String> = chapters
        .iter()
        .filter_map(|(number, slug)| chapter_problem(*number, slug))
        .chain(
            chapters
                .iter()
                .filter_map(|(number, slug)| french_chapter_problem(*number, slug)),
        )
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The French chapter shows the French snapshot (`snapshots/fr/`), which
/// is not the English one.
fn french_chapter_problem(number: u32, slug: &str) -> Option<String> {
    let path = snapshots().join(format!("fr/{slug}.snap"));
    let Ok(snap) = fs::read_to_string(&path) else {
        return Some(format!(
            "French chapter {number}: no snapshot {}",
            path.display()
        ));
    };
    let body: String = snap.lines().skip(3).map(|l| format!("{l}\n")).collect();
    let english = fs::read_to_string(snapshots().join(format!("{slug}.snap"))).unwrap_or_default();
    if english.lines().skip(3).eq(snap.lines().skip(3)) {
        return Some(format!(
            "French chapter {number}: fr/{slug}.snap is the English output"
        ));
    }
    if !html(&format!("fr/{slug}.html")).contains(escape(body.trim_end()).as_str()) {
        return Some(format!(
            "French chapter {number}'s page does not show its lesson's French snapshot"
        ));
    }
    None
}

fn chapter_problem(number: u32, slug: &str) -> Option<String> {
    let md = fs::read_to_string(book_root().join("src").join(format!("{slug}.md"))).unwrap();
    let include = format!("{{{{#include ../../lessons/tests/snapshots/{slug}.snap:4:}}}}");
    if !md.contains(&include) {
        return Some(format!(
            "chapter {number} must include its snapshot: {include}"
        ));
    }
    let path = snapshots().join(format!("{slug}.snap"));
    let Ok(snap) = fs::read_to_string(&path) else {
        return Some(format!("chapter {number}: no snapshot {}", path.display()));
    };
    // Line 4 on is the output: lines 1-3 are insta's header.
    let header: Vec<&str> = snap.lines().take(3).collect();
    if !(header.len() == 3
        && header[0] == "---"
        && header[1].starts_with("source:")
        && header[2] == "---")
    {
        return Some(format!(
            "chapter {number}: {slug}.snap's header is not 3 lines, the include's :4: is wrong"
        ));
    }
    let body: String = snap.lines().skip(3).map(|l| format!("{l}\n")).collect();
    if !body.starts_with(&format!("Lesson {number}: ")) {
        return Some(format!(
            "chapter {number}: {slug}.snap is not lesson {number}'s output"
        ));
    }
    if !html(&format!("{slug}.html")).contains(escape(body.trim_end()).as_str()) {
        return Some(format!(
            "chapter {number}'s page does not show its lesson's snapshot"
        ));
    }
    None
}

#[test]
fn chapter_1_shows_the_cluster_diagram() {
    let page = html("ch1_cluster.html");
    assert!(page.contains("img/ch1-cluster.svg"));
    let svg = fs::read_to_string(built().join("img/ch1-cluster.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Broker 3"));
}

#[test]
fn every_page_loads_the_run_and_check_script_in_both_languages() {
    // course.js adds Run and Check to the chapter pages (or, on a copy
    // read without `course serve`, how to start it), in the page's language.
    for (_, edition) in EDITIONS {
        for path in pages(edition) {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                text.contains("theme/course") && text.contains(".js"),
                "{} does not load theme/course.js",
                path.display()
            );
        }
    }
    let script = fs::read_dir(built().join("theme"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("course") && name.ends_with(".js")
        })
        .expect("theme/course*.js is copied");
    let script = fs::read_to_string(script).unwrap();
    for text in [
        "/api/lesson/",
        "Run lesson ",
        "Lancer la leçon ",
        "just serve",
    ] {
        assert!(script.contains(text), "course.js has no {text:?}");
    }
}

#[test]
fn a_build_knows_when_it_is_stale() {
    // `course serve` builds the book again when it was never built, or when
    // a file it is made of is newer than the build: its pages and theme, and
    // what its chapters include and replay, in both languages.
    let inputs = kafka_course_book::inputs();
    let root = kafka_course_book::book_root().join("src");
    for file in [
        "../../lessons/src/ch1_cluster/program.rs",
        "../../lessons/tests/snapshots/ch1_cluster.snap",
        "../../lessons/tests/snapshots/fr/ch1_cluster.snap",
        // The timeline the chapter's picture replays, in each language.
        "../../lessons/tests/snapshots/ch1_cluster.events.snap",
        "../../lessons/tests/snapshots/fr/ch1_cluster.events.snap",
    ] {
        assert!(inputs.contains(&root.join(file)), "{file} is not an input");
    }
    // The picture's labels are in theme/.
    assert!(book_root()
        .join(kafka_course_book::PICTURE_LABELS)
        .starts_with(book_root().join("theme")));
    for dir in ["src", "po", "theme", "book.toml"] {
        assert!(
            inputs.contains(&book_root().join(dir)),
            "{dir} is not an input"
        );
    }
    assert!(
        !kafka_course_book::is_stale(built()),
        "a fresh build is stale"
    );
    let never = Path::new(env!("CARGO_TARGET_TMPDIR")).join("never-built");
    assert!(kafka_course_book::is_stale(&never));
}

/// The events of a built `timelines/<slug>.js`, and its slug.
fn built_timeline(path: &Path) -> (String, Vec<serde_json::Value>) {
    let js = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let code: String = js
        .lines()
        .filter(|l| !l.starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    let rest = code
        .strip_prefix("(window.courseTimelines = window.courseTimelines || {})[")
        .unwrap_or_else(|| panic!("{}: not a timeline script:\n{js}", path.display()));
    let (slug, array) = rest.split_once("] = ").unwrap();
    let array = array.trim_end().strip_suffix(';').unwrap();
    // The script's array is JSON but for the comma after its last event.
    let array = array.replace(",\n]", "\n]");
    let events: Vec<serde_json::Value> =
        serde_json::from_str(&array).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (serde_json::from_str(slug).unwrap(), events)
}

/// The events of a timeline snapshot (after insta's header, between two
/// `---` lines).
fn snapshot_events(path: &Path) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (header, body) = text.split_once("\n---\n").unwrap();
    assert!(header.starts_with("---\n"), "{}", path.display());
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn each_chapter_replays_its_lessons_checked_timeline_in_both_editions() {
    // The picture replays exactly the timeline the lesson's test checked:
    // its snapshot, in the edition's language (French: snapshots/fr/ once
    // it exists, else the English one).
    for (number, slug) in common::chapters() {
        for (lang, edition) in EDITIONS {
            let english = snapshots().join(format!("{slug}.events.snap"));
            let french = snapshots().join(format!("fr/{slug}.events.snap"));
            let snapshot = if *lang == "fr" && french.is_file() {
                french
            } else {
                english
            };
            let path = built().join(edition).join(format!("timelines/{slug}.js"));
            let (name, events) = built_timeline(&path);
            assert_eq!(name, slug, "{}", path.display());
            let expected = snapshot_events(&snapshot);
            assert!(
                expected.len() > 5,
                "chapter {number}: {} has {} events",
                snapshot.display(),
                expected.len()
            );
            assert_eq!(
                events,
                expected,
                "{} is not {}",
                path.display(),
                snapshot.display()
            );
            for (i, e) in events.iter().enumerate() {
                assert_eq!(e["seq"], i, "{}: event {i}", path.display());
                assert!(e["kind"].is_string(), "{}: event {i}", path.display());
            }
        }
    }
    // Chapter 1: 12 records in 3 partitions.
    let (_, events) = built_timeline(&built().join("timelines/ch1_cluster.js"));
    let delivered: Vec<_> = events.iter().filter(|e| e["kind"] == "delivered").collect();
    assert_eq!(delivered.len(), 12);
}

/// `window.coursePictureLabels` of an edition.
fn built_labels(edition: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = built().join(edition).join("timelines/labels.js");
    let js = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let code: String = js
        .lines()
        .filter(|l| !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let object = code
        .strip_prefix("window.coursePictureLabels = ")
        .and_then(|c| c.trim_end().strip_suffix(';'))
        .unwrap_or_else(|| panic!("{}: not the labels' script:\n{js}", path.display()));
    serde_json::from_str(object).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_pictures_labels_are_translated_from_the_books_catalogue() {
    // English: the labels are the English the script holds.
    assert!(built_labels("").is_empty());
    let french = built_labels("fr");
    let labels = kafka_course_book::picture_labels().unwrap();
    assert!(!labels.is_empty());
    for (_, label) in &labels {
        if let Some(fr) = french.get(label) {
            let fr = fr.as_str().unwrap();
            // The same {placeholders}: the script fills them in.
            let names = |s: &str| -> Vec<String> {
                s.split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}'))
                    .map(|(n, _)| n.to_string())
                    .collect()
            };
            assert_eq!(names(label), names(fr), "{label:?} -> {fr:?}");
        }
    }
    // Every label the catalogue translates, with its translation.
    let catalogue = polib::po_file::parse(&book_root().join("po/fr.po")).unwrap();
    for (_, label) in &labels {
        let translated = catalogue
            .find_message(Some("picture"), label, None)
            .and_then(|m| Some(m.msgstr().ok()?.to_string()).filter(|_| !m.flags().is_fuzzy()))
            .filter(|fr| !fr.is_empty());
        assert_eq!(
            french.get(label).and_then(|v| v.as_str()),
            translated.as_deref(),
            "{label:?}"
        );
    }
    // Every label is a message of the catalogue's, in the context "picture".
    let messages = kafka_course_book::messages::messages().unwrap();
    for (line, label) in labels {
        assert!(
            messages.iter().any(|m| m.ctxt == "picture"
                && m.id == label
                && m.refs == [format!("book/theme/picture-labels.txt:{line}")]),
            "{label:?} is not in the catalogue's messages"
        );
    }
}

#[test]
fn search_is_built() {
    let index = search_index("");
    assert!(index.contains("partition") && index.contains("watermark"));
}

#[test]
fn every_link_and_anchor_resolves_in_both_editions() {
    // Every link to a page of the book, with or without #anchor, in either
    // edition, leads to a page of that edition that has that id. (A
    // translated heading keeps the id the English gives it: `{#offset}`.)
    let mut broken = Vec::new();
    for (_, edition) in EDITIONS {
        let dir = built().join(edition);
        for path in pages(edition) {
            let text = fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            for link in text.split("href=\"").skip(1) {
                let href = link.split('"').next().unwrap();
                if href.contains("://")
                    || href.starts_with("mailto:")
                    || href.starts_with("javascript:")
                {
                    continue;
                }
                let (file, anchor) = href.split_once('#').unwrap_or((href, ""));
                let target = if file.is_empty() {
                    name.clone()
                } else {
                    file.to_string()
                };
                if !target.ends_with(".html") {
                    continue;
                }
                let Ok(page) = fs::read_to_string(dir.join(&target)) else {
                    broken.push(format!("{edition}/{name}: {href}: no page {target}"));
                    continue;
                };
                if !anchor.is_empty() && !page.contains(&format!("id=\"{anchor}\"")) {
                    broken.push(format!(
                        "{edition}/{name}: {href}: {target} has no id {anchor}"
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

#[test]
fn every_page_has_the_language_switch_to_the_same_page() {
    // lang.js links each page to the page of the same name in the other
    // edition: every page must be there, and load the script.
    let english: Vec<String> = pages("")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into())
        .collect();
    let french: Vec<String> = pages("fr")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into())
        .collect();
    assert_eq!(english, french, "the editions have different pages");
    for (_, edition) in EDITIONS {
        // toc.html is the sidebar's frame (for readers without JavaScript), not a page.
        for path in pages(edition)
            .into_iter()
            .filter(|p| !p.ends_with("toc.html"))
        {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                text.contains("src=\"theme/lang"),
                "{} has no language switch",
                path.display()
            );
        }
    }
    assert!(html("fr/index.html").contains("<html lang=\"fr\""));
    assert!(html("index.html").contains("<html lang=\"en\""));
}

#[test]
fn the_french_search_finds_french_words() {
    let index = search_index("fr");
    for word in ["acquittements", "réplique", "coordinateur"] {
        assert!(
            index.contains(word),
            "the French search index has no {word:?}"
        );
    }
}

#[test]
fn the_french_diagrams_are_in_french() {
    let english = fs::read_to_string(built().join("img/ch1-cluster.svg")).unwrap();
    let french = fs::read_to_string(built().join("fr/img/ch1-cluster.svg")).unwrap();
    assert!(french.starts_with("<svg") && french != english);
    assert!(french.contains("xml:lang=\"fr\""));
}

fn search_index(edition: &str) -> String {
    let dir = built().join(edition);
    let file = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("searchindex") && n.ends_with(".js"))
        .unwrap_or_else(|| panic!("no search index in {}", dir.display()));
    fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn glossary_links_point_at_existing_terms() {
    let glossary = html("glossary.html");
    let ids: BTreeSet<&str> = glossary
        .split("id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    for entry in fs::read_dir(built()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for link in text.split("href=\"glossary.html#").skip(1) {
            let id = link.split('"').next().unwrap();
            assert!(
                ids.contains(id),
                "{} links to glossary#{id}, which does not exist",
                path.display()
            );
        }
    }
}

/// The text of each `<code class="language-LANG">` block of a page, as
/// written (HTML escapes undone).
fn code_blocks(page: &str, lang: &str) -> Vec<String> {
    let open = format!("<code class=\"language-{lang}");
    page.split(open.as_str())
        .skip(1)
        .map(|rest| {
            let body = rest.split_once('>').unwrap().1;
            body.split("</code>")
                .next()
                .unwrap()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

/// A listing without its comments: its code lines (a line that is only a
/// comment is dropped, a trailing comment cut), and its comments.
fn code_and_comments(listing: &str) -> (Vec<String>, Vec<String>) {
    let (mut code, mut comments) = (Vec::new(), Vec::new());
    for line in listing.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut cut = None;
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '/' if !in_string && line[i..].starts_with("//") => {
                    cut = Some(i);
                    break;
                }
                _ => {}
            }
        }
        match cut {
            Some(i) => {
                comments.push(line[i..].to_string());
                if !line[..i].trim().is_empty() {
                    code.push(line[..i].trim_end().to_string());
                }
            }
            None => code.push(line.trim_end().to_string()),
        }
    }
    (code, comments)
}

#[test]
fn the_french_listings_are_the_code_with_its_comments_in_french() {
    // The French edition translates a listing's comments (book/po/fr.po),
    // after its include is expanded: the code is the same in both
    // editions, the comments are not.
    let mut problems = Vec::new();
    let mut translated = 0;
    for (number, slug) in common::chapters() {
        let english = code_blocks(&html(&format!("{slug}.html")), "rust");
        let french = code_blocks(&html(&format!("fr/{slug}.html")), "rust");
        assert!(!english.is_empty(), "chapter {number} shows no listing");
        if english.len() != french.len() {
            problems.push(format!("chapter {number}: not as many listings in French"));
            continue;
        }
        for (i, (en, fr)) in english.iter().zip(&french).enumerate() {
            let (en_code, en_comments) = code_and_comments(en);
            let (fr_code, fr_comments) = code_and_comments(fr);
            if en_code != fr_code {
                problems.push(format!(
                    "chapter {number}, listing {}: the French code differs:\n{fr}",
                    i + 1
                ));
            }
            let same: Vec<&String> = fr_comments
                .iter()
                .filter(|c| c.len() > 12 && en_comments.contains(c))
                .collect();
            if !same.is_empty() {
                problems.push(format!(
                    "chapter {number}, listing {}: comments in English on the French page: {same:#?}",
                    i + 1
                ));
            }
            translated += fr_comments.len();
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(translated > 50, "only {translated} comment lines");
    // Chapter 1, for instance: the client's settings.
    let page = html("fr/ch1_cluster.html");
    assert!(page.contains("/// Les réglages dont part chaque client du cours"));
    assert!(!page.contains("The settings every client of the course starts from"));
    assert!(code_blocks(&page, "rust")[0].contains(".set(\"bootstrap.servers\", bootstrap)"));
}

#[test]
fn the_catalogue_gets_the_listings_comments_not_their_code_nor_the_snapshots() {
    let messages = kafka_course_book::messages::messages().unwrap();
    let program = "lessons/src/ch1_cluster/program.rs";
    let comments: Vec<&str> = messages
        .iter()
        .filter(|m| m.refs.iter().any(|r| r == program))
        .map(|m| m.id.as_str())
        .collect();
    assert!(
        comments.contains(&"/// A producer, from the shared settings.\n"),
        "{comments:#?}"
    );
    assert!(comments.len() >= 10, "{comments:#?}");
    for m in &messages {
        if m.refs.iter().any(|r| r.starts_with("lessons/")) {
            assert!(m.id.trim_start().starts_with("//"), "not a comment: {m:?}");
        }
        assert!(
            !m.refs.iter().any(|r| r.contains(".snap")),
            "from a snapshot: {m:?}"
        );
    }
    // Nothing of a snapshot's output: the French page includes the French one.
    let snapshot = fs::read_to_string(snapshots().join("ch1_cluster.snap")).unwrap();
    for line in snapshot.lines().skip(3).filter(|l| l.trim().len() > 20) {
        assert!(
            !messages.iter().any(|m| m.id.contains(line.trim())),
            "a snapshot's line is a message: {line}"
        );
    }
}

#[test]
fn listings_are_expanded_as_mdbook_does() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("expand");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("code.rs"),
        "one\n// ANCHOR: a\ntwo\n// ANCHOR: b\nthree\n// ANCHOR_END: b\n// ANCHOR_END: a\nfour\n",
    )
    .unwrap();
    let expand = |spec: &str| {
        let page = format!("```rust\n{{{{#include code.rs{spec}}}}}\n```\n");
        kafka_course_book::expand_listings(&page, &dir, "page.md")
            .unwrap()
            .0
    };
    assert_eq!(expand(":a"), "```rust\ntwo\nthree\n```\n");
    assert_eq!(expand(":b"), "```rust\nthree\n```\n");
    assert_eq!(expand(":8"), "```rust\nfour\n```\n");
    assert_eq!(expand(":8:"), "```rust\nfour\n```\n");
    assert_eq!(expand(":2:3"), "```rust\n// ANCHOR: a\ntwo\n```\n");
    assert_eq!(expand("::1"), "```rust\none\n```\n");
    // Snapshots stay for mdBook, and each line says where it comes from.
    let page = "text\n{{#include out.snap:4:}}\n{{#include code.rs:b}}\nend\n";
    let (expanded, origins) = kafka_course_book::expand_listings(page, &dir, "page.md").unwrap();
    assert_eq!(expanded, "text\n{{#include out.snap:4:}}\nthree\nend\n");
    assert_eq!(origins[0], "page.md:1");
    assert_eq!(origins[1], "page.md:2");
    assert!(origins[2].ends_with("code.rs"), "{origins:?}");
    assert_eq!(origins[3], "page.md:4");
}

// ------------------------------------------------------------ the core path

/// A chapter's core path is what a beginner reads on a first pass: the
/// words of the page's `<main>` outside the folded boxes (`<details>`),
/// code and output blocks (`<pre>`), diagrams and scripts.
fn core_path_words(page: &str) -> usize {
    let main = page
        .split_once("<main>")
        .and_then(|(_, rest)| rest.split_once("</main>"))
        .map_or(page, |(main, _)| main);
    // The exercises are practice, not reading: their section (from its
    // heading to the next one of its level) is not on the core path.
    let without_exercises;
    let main = match main.find("<h2 id=\"exercises\"") {
        Some(start) => {
            let after = &main[start + 4..];
            let end = after.find("<h2").map_or(main.len(), |i| start + 4 + i);
            without_exercises = format!("{}{}", &main[..start], &main[end..]);
            without_exercises.as_str()
        }
        None => main,
    };
    let mut text = String::new();
    let mut rest = main;
    // Drop each folded or verbatim element whole (none of them nests in
    // another of the same name on these pages), then every tag.
    'scan: while !rest.is_empty() {
        for (open, close) in [
            ("<details", "</details>"),
            ("<pre", "</pre>"),
            ("<svg", "</svg>"),
            ("<script", "</script>"),
            ("<style", "</style>"),
        ] {
            if rest.starts_with(open) {
                rest = rest.split_once(close).map_or("", |(_, after)| after);
                continue 'scan;
            }
        }
        if rest.starts_with('<') {
            rest = rest.split_once('>').map_or("", |(_, after)| after);
            text.push(' ');
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        text.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    text.split_whitespace()
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .count()
}

/// Each chapter's core path is at most 1,600 words, about 15 minutes for a
/// beginner (the issue "A beginner's path"); the French one is comparable.
/// The exercises' section is practice, not reading: it is not counted.
/// Depth is folded in "Going deeper" boxes, and each chapter gathers what
/// other introductions get wrong in one "Common misconceptions" box, in
/// both editions.
#[test]
fn each_chapter_core_path_is_about_15_minutes() {
    let mut problems = Vec::new();
    for (number, slug) in common::chapters() {
        for (edition, limit, deeper, misconceptions) in [
            ("", 1600, "Going deeper: ", "Common misconceptions"),
            ("fr/", 1800, "Pour aller plus loin\u{a0}: ", "Idées reçues"),
        ] {
            let page = html(&format!("{edition}{slug}.html"));
            let words = core_path_words(&page);
            if words > limit {
                problems.push(format!(
                    "{edition}{slug}: {words} words on the core path (at most {limit})"
                ));
            }
            if !page.contains(&format!("<summary>\n<p>{deeper}")) {
                problems.push(format!("{edition}{slug}: no \"{deeper}\" box"));
            }
            if !page.contains(&format!(
                "<details class=\"misconceptions\">\n<summary>\n<p>{misconceptions}</p>"
            )) {
                problems.push(format!(
                    "{edition}{slug}: no \"{misconceptions}\" box (chapter {number})"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_core_path_leaves_out_folded_boxes_and_code() {
    let page = "<nav>menu</nav><main><h1>Two words</h1><p>three more <a>here</a></p>\
        <details class=\"deeper\"><summary><p>Going deeper: x</p></summary><p>a b c</p></details>\
        <pre><code>let x = 1;</code></pre><p>end — .</p></main>";
    assert_eq!(core_path_words(page), 6);
    let page = "<main><p>one two</p><h2 id=\"exercises\">Exercises</h2><p>not counted</p>\
        <h3>Exercise 1.1</h3><p>nor this</p><h2 id=\"remember\">Three</h2></main>";
    assert_eq!(core_path_words(page), 3);
}
