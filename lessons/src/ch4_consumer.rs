//! Lesson 4: not written yet.

use anyhow::{bail, Result};

use crate::kit::Ctx;

pub async fn run(_ctx: &Ctx) -> Result<()> {
    bail!("lesson 4 is not written yet")
}
