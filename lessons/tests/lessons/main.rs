//! Lesson tests: each chapter's lesson runs on an embedded cluster; its whole
//! output is snapshot-tested (the book shows that snapshot), and what the
//! chapter claims is asserted on what actually happened.

mod common;

mod ch1_cluster;
mod ch2_producer;
mod ch3_acks;
mod ch4_consumer;
mod ch5_buffer;
mod ch6_order;
mod ch7_workflow;
mod cli;
mod french;
mod groups;
mod stop;
mod tansu;
