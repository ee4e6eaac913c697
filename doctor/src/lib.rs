//! `course doctor`: is this machine ready for the course?
//!
//! A class loses its first half hour to machines that cannot build the
//! course: an old Rust, no C compiler (librdkafka, the Kafka client the
//! course uses, is compiled from its C sources), no `make`, a full disk,
//! 25 laptops downloading the same crates over the school's Wi-Fi at once.
//! This finds each of those before class, and says what to do about it.
//!
//! It is a package of its own, with no dependency but the course's
//! languages, so that it compiles in seconds and runs on a machine that
//! cannot build the course yet: `cargo run -p course-doctor` (or `just
//! doctor`). Once the course is built, `course doctor` runs the same checks.
//! One thing it cannot check is the C compiler's absence on Linux: Rust
//! links its programs with it, so without one not even this program links
//! (cargo then says "linker `cc` not found": the answer is the same, install
//! a C compiler).

use std::path::{Path, PathBuf};
use std::process::Command;

use kafka_course_macros::tr;

/// The Rust the course needs: the workspace's `rust-version` (Cargo.toml).
pub const RUST_VERSION: &str = env!("CARGO_PKG_RUST_VERSION");

/// Free disk space a first build needs, with its tests (measured: about
/// 3 GB for `course` and the exercises in release, 6 more for `cargo test`).
pub const DISK_NEEDED_GB: u64 = 10;

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Works, but slower or with the network: worth doing before class.
    Advice,
    /// The course cannot build or run until this is fixed.
    Blocker,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    /// What was found.
    pub what: String,
    /// What to do about it (empty when all is well).
    pub todo: String,
}

/// Where to look: the course's folder, and the programs' search path.
pub struct Machine {
    pub root: PathBuf,
    /// `PATH`, as the checks search it for programs.
    pub path: Option<std::ffi::OsString>,
    /// `CARGO_HOME`, else ~/.cargo.
    pub cargo_home: Option<PathBuf>,
}

impl Machine {
    /// This machine, for the course at `root`.
    pub fn here(root: &Path) -> Machine {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
        Machine {
            root: root.to_path_buf(),
            path: std::env::var_os("PATH"),
            cargo_home,
        }
    }

    /// The program `name` on the search path, if it is there.
    fn find(&self, name: &str) -> Option<PathBuf> {
        if name.contains('/') {
            let p = PathBuf::from(name);
            return p.is_file().then_some(p);
        }
        std::env::split_paths(self.path.as_deref()?)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    }

    /// `program args`, its standard output and error, if it ran and succeeded.
    fn output(&self, program: &Path, args: &[&str]) -> Option<String> {
        let mut cmd = Command::new(program);
        cmd.args(args);
        if let Some(path) = &self.path {
            cmd.env("PATH", path);
        }
        let out = cmd.output().ok()?;
        out.status.success().then(|| {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            text
        })
    }
}

/// Every check, in the order a reader fixes them.
pub fn check(machine: &Machine) -> Vec<Finding> {
    vec![
        rust(machine),
        c_compiler(machine),
        make(machine),
        disk(machine),
        crates(machine),
        built(machine),
    ]
}

fn ok(what: String) -> Finding {
    Finding {
        level: Level::Ok,
        what,
        todo: String::new(),
    }
}

/// "1.89.0" to (1, 89, 0); a missing part is 0.
fn version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
    });
    let major = parts.next()?.ok()?;
    let minor = parts.next().and_then(Result::ok).unwrap_or(0);
    let patch = parts.next().and_then(Result::ok).unwrap_or(0);
    Some((major, minor, patch))
}

fn rust(m: &Machine) -> Finding {
    let needed = version(RUST_VERSION).expect("rust-version is a version");
    let rustc = std::env::var_os("RUSTC")
        .map(PathBuf::from)
        .or_else(|| m.find("rustc"));
    let found = rustc
        .as_deref()
        .and_then(|r| m.output(r, &["--version"]))
        .and_then(|out| out.split_whitespace().nth(1).map(str::to_string));
    match found.as_deref().and_then(version) {
        Some(v) if v >= needed => ok(tr!(
            "Rust {} (the course needs {RUST_VERSION} or later)",
            found.as_deref().unwrap_or_default()
        )),
        Some(_) => Finding {
            level: Level::Blocker,
            what: tr!(
                "Rust {} is too old: the course needs {RUST_VERSION} or later",
                found.as_deref().unwrap_or_default()
            ),
            todo: tr!("update it: `rustup update stable` (https://rustup.rs)"),
        },
        None => Finding {
            level: Level::Blocker,
            what: tr!("no Rust compiler (rustc) found"),
            todo: tr!("install Rust with rustup: https://rustup.rs"),
        },
    }
}

fn c_compiler(m: &Machine) -> Finding {
    let cc = std::env::var("CC").ok().filter(|c| !c.is_empty());
    let candidates: Vec<String> = match cc {
        Some(cc) => vec![cc],
        None => vec!["cc".into(), "gcc".into(), "clang".into()],
    };
    match candidates.iter().find_map(|c| m.find(c)) {
        Some(path) => ok(tr!(
            "a C compiler: {} (librdkafka, the Kafka client, is built from C)",
            path.display()
        )),
        None => Finding {
            level: Level::Blocker,
            what: tr!("no C compiler (cc, gcc or clang): librdkafka, the Kafka client, is built from its C sources"),
            todo: install_hint("build-essential", "gcc make"),
        },
    }
}

fn make(m: &Machine) -> Finding {
    match m.find("make").or_else(|| m.find("gmake")) {
        Some(path) => ok(tr!("make: {}", path.display())),
        None => Finding {
            level: Level::Blocker,
            what: tr!("no `make`: librdkafka's build runs it"),
            todo: install_hint("make", "make"),
        },
    }
}

/// How to install a package: Debian's name, Fedora's name; macOS's tools.
fn install_hint(debian: &str, fedora: &str) -> String {
    if cfg!(target_os = "macos") {
        tr!("install Apple's command-line tools: `xcode-select --install`")
    } else {
        tr!("install it: `sudo apt install {debian}` (Debian, Ubuntu) or `sudo dnf install {fedora}` (Fedora)")
    }
}

/// Free space, in GB, of the file system that holds `dir`: `df -Pk`.
fn free_gb(m: &Machine, dir: &Path) -> Option<u64> {
    let df = m.find("df")?;
    let out = m.output(&df, &["-Pk", &dir.display().to_string()])?;
    let line = out.lines().nth(1)?;
    let kb: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kb / 1024 / 1024)
}

fn disk(m: &Machine) -> Finding {
    match free_gb(m, &m.root) {
        Some(gb) if gb >= DISK_NEEDED_GB => ok(tr!(
            "{gb} GB free on the course's disk ({DISK_NEEDED_GB} GB needed for a build and its tests)"
        )),
        Some(gb) => Finding {
            level: if gb >= 4 { Level::Advice } else { Level::Blocker },
            what: tr!("only {gb} GB free on the course's disk: a build and its tests take about {DISK_NEEDED_GB} GB (the course alone, about 4 GB)"),
            todo: tr!("free some space (`cargo clean` in other Rust projects frees a lot)"),
        },
        None => Finding {
            level: Level::Advice,
            what: tr!("the free disk space could not be measured (no `df`)"),
            todo: tr!("make sure about {DISK_NEEDED_GB} GB are free"),
        },
    }
}

/// The crates Cargo.lock names from crates.io: (name, version).
fn locked_crates(root: &Path) -> Vec<(String, String)> {
    let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            package.lines().find_map(|l| {
                let rest = l.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_string())
            })
        };
        if let (Some(name), Some(version), Some(source)) =
            (field("name"), field("version"), field("source"))
        {
            if source.starts_with("registry+") || source.starts_with("sparse+") {
                found.push((name, version));
            }
        }
    }
    found
}

fn crates(m: &Machine) -> Finding {
    let locked = locked_crates(&m.root);
    // Vendored (`course teacher export --offline`): .cargo/config.toml points
    // at a vendor/ folder that holds every crate.
    let vendor = m.root.join("vendor");
    let config = std::fs::read_to_string(m.root.join(".cargo/config.toml")).unwrap_or_default();
    if config.contains("vendored-sources") && vendor.is_dir() {
        let missing = locked
            .iter()
            .filter(|(name, version)| {
                !vendor.join(name).is_dir() && !vendor.join(format!("{name}-{version}")).is_dir()
            })
            .count();
        return if missing == 0 {
            ok(tr!(
                "the {} crates are vendored in vendor/: the build needs no network",
                locked.len()
            ))
        } else {
            Finding {
                level: Level::Blocker,
                what: tr!("vendor/ lacks {missing} of the {} crates", locked.len()),
                todo: tr!("ask for a complete copy (`course teacher export --offline`)"),
            }
        };
    }
    // Cargo itself knows best what this machine's build needs (the lock
    // file also lists crates only other platforms use): fetch them without
    // the network, and see whether anything was missing.
    let cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .or_else(|| m.find("cargo"));
    let rustc = std::env::var_os("RUSTC")
        .map(PathBuf::from)
        .or_else(|| m.find("rustc"));
    let host = rustc
        .as_deref()
        .and_then(|r| m.output(r, &["-vV"]))
        .and_then(|v| {
            v.lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        });
    let fetched = match (cargo, host) {
        (Some(cargo), Some(host)) => {
            let manifest = m.root.join("Cargo.toml").display().to_string();
            let args = [
                "fetch",
                "--offline",
                "--quiet",
                "--manifest-path",
                &manifest,
                "--target",
                &host,
            ];
            m.output(&cargo, &args).is_some()
        }
        _ => false,
    };
    if fetched {
        ok(tr!(
            "the crates the course needs are downloaded already: the build needs no network"
        ))
    } else {
        Finding {
            level: Level::Advice,
            what: tr!("some of the course's crates are not downloaded yet: the first build fetches them from crates.io"),
            todo: tr!("fetch them now, where the network is good: `cargo fetch`"),
        }
    }
}

fn built(m: &Machine) -> Finding {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| m.root.join("target"));
    let exe = if cfg!(windows) {
        "course.exe"
    } else {
        "course"
    };
    if target.join("release").join(exe).is_file() {
        ok(tr!("the course is built (target/release/course)"))
    } else {
        Finding {
            level: Level::Advice,
            what: tr!(
                "the course is not built yet: its first build takes about 4 minutes on 2 cores"
            ),
            todo: tr!("build it before class: `cargo build --release`"),
        }
    }
}

/// The report, one line per check, then what to do; and whether the
/// course can build here (no blocker).
pub fn report(findings: &[Finding]) -> (String, bool) {
    let mut s = tr!("Is this machine ready for the course?\n\n");
    for f in findings {
        let mark = match f.level {
            Level::Ok => tr!("ok     "),
            Level::Advice => tr!("advice "),
            Level::Blocker => tr!("MISSING"),
        };
        s.push_str(&format!("  {mark} {}\n", f.what));
        if !f.todo.is_empty() {
            s.push_str(&format!("          -> {}\n", f.todo));
        }
    }
    let blockers = findings
        .iter()
        .filter(|f| f.level == Level::Blocker)
        .count();
    s.push('\n');
    if blockers == 0 {
        s.push_str(&tr!(
            "Ready: the course builds here. Next: `just lesson-1` (or `cargo run --release -- lesson 1`).\n"
        ));
    } else {
        s.push_str(&tr!(
            "Not ready: fix what is MISSING above, then run `just doctor` again.\n"
        ));
    }
    (s, blockers == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(version("1.95.0").unwrap() >= version("1.89").unwrap());
        assert!(version("1.9.0").unwrap() < version("1.89").unwrap());
        assert_eq!(version("1.89.0-nightly"), Some((1, 89, 0)));
        assert_eq!(version("x"), None);
    }

    #[test]
    fn the_lock_files_crates_are_read() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let crates = locked_crates(&root);
        assert!(
            crates.iter().any(|(name, _)| name == "rdkafka"),
            "{crates:?}"
        );
        assert!(
            !crates.iter().any(|(name, _)| name == "kafka-course"),
            "the course's own packages are not downloaded"
        );
    }
}
