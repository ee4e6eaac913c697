//! Headless Chromium and its WebDriver (Debian's `chromium` and
//! `chromium-driver`), for the tests that press Run and Check in a real
//! browser (tests/browser.rs): `cfg(has_chromium)` when both are installed.
//! CI installs them (`.ci/run`); there (`CI` set, or COURSE_REQUIRE_CHROMIUM)
//! `cfg(require_chromium)` makes those tests run, and fail, without them,
//! where elsewhere they are reported as ignored, saying why. The tests find
//! the programs themselves: nothing is passed on in the environment.
//! It also recompiles the server's messages when the catalogue changes.

use std::path::Path;

fn main() {
    // The server's messages are translated at compile time by `tr!` from
    // the course's catalogue: compile them again when it changes.
    println!("cargo::rerun-if-changed=../../lessons/po/fr.po");
    println!("cargo::rustc-check-cfg=cfg(has_chromium)");
    println!("cargo::rustc-check-cfg=cfg(require_chromium)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=COURSE_REQUIRE_CHROMIUM");
    let bins = [
        Path::new("/usr/bin/chromium"),
        Path::new("/usr/bin/chromedriver"),
    ];
    for bin in bins {
        // The program, or the nearest folder that exists: installing it later is noticed.
        if let Some(watched) = bin.ancestors().find(|p| p.exists() && *p != Path::new("/")) {
            println!("cargo::rerun-if-changed={}", watched.display());
        }
    }
    if bins.iter().all(|b| b.is_file()) {
        println!("cargo::rustc-cfg=has_chromium");
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("COURSE_REQUIRE_CHROMIUM").is_some() {
        println!("cargo::rustc-cfg=require_chromium");
    }
}
