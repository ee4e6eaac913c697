//! Chapter 2's key widget (book/theme/keys.js) gives lesson 2's partitions.
//!
//! Lesson 2 sends lot-A…lot-H through real producers (librdkafka's default
//! partitioner, and `murmur2_random`, the Java client's hash) and prints
//! where the delivery reports say each key landed, on 3 partitions and on 4:
//! the table "Two partitioners, one key" of its snapshot. This test reads
//! that table, opens the chapter's page from files in headless Chromium
//! with `#key=lot-X` in its address, for each key, and compares the
//! widget's four outputs (`data-key-partition`, by `data-partitioner` and
//! `data-partitions`) with it. The one combination the lesson does not
//! print, murmur2 on 4 partitions, is checked against Kafka's algorithm
//! transcribed below, itself checked against the table and known values.
//!
//! Opt-in as tests/browser.rs: where Debian's `chromium` and
//! `chromium-driver` are installed (build.rs: `cfg(has_chromium)`), else
//! reported as ignored; CI (COURSE_REQUIRE_CHROMIUM) runs it. Alone:
//! `cargo test -p kafka-course-book --test keys`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kafka_course_book::course_root;

/// (partitioner, partition count) → partition, for one key.
type Partitions = BTreeMap<(String, u32), u32>;

/// Lesson 2's table "Two partitioners, one key", from its English
/// snapshot: key → what the lesson's producers reported.
fn lesson_2_table() -> Vec<(String, Partitions)> {
    let path = course_root().join("lessons/tests/snapshots/ch2_producer.snap");
    let snap = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = snap.lines().collect();
    let section = lines
        .iter()
        .position(|l| l.trim() == "== Two partitioners, one key ==")
        .expect("the snapshot has the section \"Two partitioners, one key\"");
    // "… (the hash of the Java client), to 3 partitions,": the count of
    // the first two columns.
    let count = |text: &str, before: &str| -> u32 {
        let at = text
            .find(before)
            .unwrap_or_else(|| panic!("no {before:?} in {text:?}"));
        text[at + before.len()..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count after {before:?} in {text:?}"))
    };
    let header = section
        + lines[section..]
            .iter()
            .position(|l| l.starts_with("key ") && l.contains("CRC32 (default)"))
            .expect("the table's header");
    let intro = lines[section..header].join(" ");
    let first = count(&intro, "(the hash of the Java client), to ");
    let columns = lines[header];
    let (crc, murmur, crc_more) = (
        columns.find("CRC32 (default)"),
        columns.find("murmur2 (Java)"),
        columns.find("CRC32, "),
    );
    assert!(
        crc < murmur && murmur < crc_more && crc.is_some(),
        "the columns are CRC32, murmur2, CRC32 with more partitions: {columns:?}"
    );
    let more = count(columns, "CRC32, ");
    let columns = [("crc32", first), ("murmur2", first), ("crc32", more)];
    let table: Vec<(String, Partitions)> = lines[header + 1..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let partitions = columns
                .iter()
                .zip(&words[1..])
                .map(|((name, n), p)| {
                    let p = p
                        .parse()
                        .unwrap_or_else(|_| panic!("a partition in {line:?}"));
                    ((name.to_string(), *n), p)
                })
                .collect::<Partitions>();
            assert_eq!(partitions.len(), 3, "three partitions in {line:?}");
            (words[0].to_string(), partitions)
        })
        .collect();
    let keys: Vec<&str> = table.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["lot-A", "lot-B", "lot-C", "lot-D", "lot-E", "lot-F", "lot-G", "lot-H"],
        "the lesson's keys"
    );
    table
}

/// librdkafka's default partitioner, consistent_random, for a key of at
/// least one byte: `rd_crc32(key) % partition_cnt` (rdkafka_msg.c).
fn crc32_partition(key: &[u8], partitions: u32) -> u32 {
    crc32(key) % partitions
}

/// CRC-32 (IEEE), as librdkafka's rd_crc32 and zlib's crc32.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The Java client's default for a keyed record:
/// `Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`.
fn murmur2_partition(key: &[u8], partitions: u32) -> u32 {
    (murmur2(key) & 0x7fff_ffff) % partitions
}

/// Kafka's `Utils.murmur2` (seed 0x9747b28c), on wrapping 32-bit integers.
fn murmur2(data: &[u8]) -> u32 {
    let m: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> 24;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(m);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    h
}

/// The four partitions the widget shows for a key, by these functions.
fn computed(key: &str) -> Partitions {
    let mut all = Partitions::new();
    for n in [3, 4] {
        all.insert(("crc32".into(), n), crc32_partition(key.as_bytes(), n));
        all.insert(("murmur2".into(), n), murmur2_partition(key.as_bytes(), n));
    }
    all
}

#[test]
fn the_reference_hashes_give_lesson_2s_table() {
    // Known values: the CRC-32 check value, and the Java-compatible
    // murmur2 values of librdkafka's own unit test (rdmurmur2.c).
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(murmur2(b"kafka"), 0xd067_cf64);
    assert_eq!(murmur2(b"giberish123456789"), 0x8f55_2b0c);
    assert_eq!(murmur2(b"1234"), 0x9fc9_7b14);
    assert_eq!(murmur2(b""), 0x106e_08d9);
    // And what the lesson's producers reported.
    for (key, partitions) in lesson_2_table() {
        let all = computed(&key);
        for (column, p) in &partitions {
            assert_eq!(all[column], *p, "{key} {column:?}");
        }
    }
}

/// The book, built once for this test program, apart from tests/book.rs's.
fn built() -> &'static Path {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book-keys");
        let _ = std::fs::remove_dir_all(&out);
        kafka_course_book::build(&out).expect("the book builds");
        out
    })
}

/// The page's DOM after its scripts ran: headless Chromium's --dump-dom.
fn dump_dom(url: &str) -> String {
    // A profile of its own: a second Chromium on a profile in use hands
    // its page to the first and prints nothing.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("chromium-keys-{}-{call}", std::process::id()));
    let mut child = Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting /usr/bin/chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish {url} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap().expect("Chromium's output")
}

/// An attribute's value in an element's opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[at..].split('"').next()
}

/// The text of the element with this id (no markup inside).
fn text_of_id<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let at = dom.find(&format!(" id=\"{id}\""))?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    rest[start..].split('<').next()
}

/// What the widget shows: its outputs by (partitioner, count), each
/// checked labelled, and its note.
fn widget(dom: &str) -> (BTreeMap<(String, u32), String>, String) {
    let mut outputs = BTreeMap::new();
    for piece in dom.split("<output").skip(1) {
        let (tag, rest) = piece.split_once('>').unwrap();
        if attr(tag, "data-key-partition").is_none() {
            continue;
        }
        let partitioner = attr(tag, "data-partitioner").expect("data-partitioner");
        let count: u32 = attr(tag, "data-partitions")
            .and_then(|n| n.parse().ok())
            .expect("data-partitions");
        // Labelled by its row's and its column's headers.
        let labels = attr(tag, "aria-labelledby").expect("aria-labelledby");
        let label: Vec<&str> = labels
            .split_whitespace()
            .map(|id| text_of_id(dom, id).unwrap_or(""))
            .collect();
        assert!(
            label.len() == 2 && label.iter().all(|l| !l.trim().is_empty()),
            "the output {partitioner}/{count} is labelled by {labels:?}: {label:?}"
        );
        let value = rest.split("</output>").next().unwrap().to_string();
        outputs.insert((partitioner.to_string(), count), value);
    }
    let note = dom
        .split_once("class=\"course-keys-note\">")
        .and_then(|(_, rest)| rest.split('<').next())
        .unwrap_or("")
        .to_string();
    (outputs, note)
}

fn page_url(page: &str, key: &str) -> String {
    let encoded: String = key
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("file://{}#key={encoded}", built().join(page).display())
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn the_key_widget_gives_lesson_2s_partitions() {
    let mut problems = Vec::new();
    for (key, reported) in lesson_2_table() {
        let dom = dump_dom(&page_url("ch2_producer.html", &key));
        let (outputs, note) = widget(&dom);
        assert_eq!(outputs.len(), 4, "four outputs for {key}: {outputs:?}");
        // What the lesson's producers reported, and for murmur2 on 4
        // partitions (which the lesson does not print), Kafka's algorithm.
        let mut expected = computed(&key);
        expected.extend(reported);
        for (column, p) in &expected {
            let shown = outputs.get(column).map(String::as_str);
            if shown != Some(p.to_string().as_str()) {
                problems.push(format!(
                    "{key} {column:?}: the widget shows {shown:?}, expected {p}"
                ));
            }
        }
        assert!(!note.is_empty(), "a note for {key}");
        eprintln!("{key}: {outputs:?} {note}");
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
#[cfg_attr(
    not(any(has_chromium, require_chromium)),
    ignore = "needs headless Chromium: apt-get install chromium chromium-driver"
)]
fn the_key_widget_hashes_utf8_bytes_and_says_a_keyless_record_is_not_hashed() {
    // A key beyond ASCII: its UTF-8 bytes are hashed, on both editions' pages.
    let key = "Fräse-7";
    for page in ["ch2_producer.html", "fr/ch2_producer.html"] {
        let dom = dump_dom(&page_url(page, key));
        let (outputs, _) = widget(&dom);
        let expected: BTreeMap<(String, u32), String> = computed(key)
            .into_iter()
            .map(|(c, p)| (c, p.to_string()))
            .collect();
        assert_eq!(outputs, expected, "{page}");
        assert!(
            dom.contains("46 72 c3 a4 73 65 2d 37"),
            "{page} shows the key's UTF-8 bytes"
        );
    }
    // No key: no partition, and why.
    let dom = dump_dom(&format!(
        "file://{}#key=",
        built().join("ch2_producer.html").display()
    ));
    let (outputs, note) = widget(&dom);
    assert_eq!(outputs.len(), 4);
    assert!(outputs.values().all(|v| v.is_empty()), "{outputs:?}");
    assert!(note.contains("not hashed"), "{note}");
}
