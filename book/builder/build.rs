//! The server's messages are translated at compile time by `tr!` from the
//! course's catalogue: compile them again when it changes.

fn main() {
    println!("cargo::rerun-if-changed=../../lessons/po/fr.po");
}
