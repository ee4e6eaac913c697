//! Lesson 7: not written yet.

use anyhow::{bail, Result};

use crate::kit::Ctx;

pub async fn run(_ctx: &Ctx) -> Result<()> {
    bail!("lesson 7 is not written yet")
}
