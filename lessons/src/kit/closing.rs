//! Closing the lessons' consumers without holding a lesson up.
//!
//! Dropping a consumer closes it (rdkafka's `Drop` waits until librdkafka
//! has closed it): a member of a group leaves the group, sending its
//! coordinator a LeaveGroup and waiting for the answer, or for librdkafka
//! to give up on it after 5 s. On a healthy cluster that is one round trip,
//! and the lessons rely on it: once a member is dropped, its group has
//! moved on without it.
//!
//! On a broker whose group never formed, the answer does not come: a
//! broker answers a connection's requests in order, and the member's
//! JoinGroup (or SyncGroup) before it is still unanswered. Each close then
//! costs the full 5 s, one after the other, before the lesson can print
//! why it stops: 13 to 18 s instead of 8 (measured on the build of Tansu
//! 0.6.0 whose groups never complete, and on the embedded cluster posing
//! as it, `--embedded-stuck-groups`).
//!
//! So a stage holds its consumers in a [`Held`] ([`Cluster::hold`]):
//! dropped as before while the lesson runs; once the lesson has given up
//! on a group ([`Cluster::give_up`], which [`Cluster::no_partitions`]
//! calls), each one dropped afterwards is closed on a thread of its own,
//! and the lesson goes on to say why it stopped. Those threads are listed
//! here: [`still_closing`] counts them, [`wait_closed`] waits for them.
//! Each ends when librdkafka has given up on its LeaveGroup (5 s), or when
//! the process ends: `course` does not wait for them once a lesson has
//! stopped, and says so.
//!
//! [`Cluster::hold`]: super::Cluster::hold
//! [`Cluster::give_up`]: super::Cluster::give_up
//! [`Cluster::no_partitions`]: super::Cluster::no_partitions

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A client (a consumer, usually) that a stage holds: dropped in place
/// while the lesson runs, closed on a thread of its own once the lesson
/// has given up on a group. It derefs to the client.
pub struct Held<T: Send + 'static> {
    client: Option<T>,
    given_up: Arc<AtomicBool>,
}

impl<T: Send + 'static> Held<T> {
    pub(super) fn new(client: T, given_up: Arc<AtomicBool>) -> Held<T> {
        Held {
            client: Some(client),
            given_up,
        }
    }
}

impl<T: Send + 'static> Deref for Held<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.client
            .as_ref()
            .expect("a held client is there until dropped")
    }
}

impl<T: Send + 'static> DerefMut for Held<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.client
            .as_mut()
            .expect("a held client is there until dropped")
    }
}

impl<T: Send + 'static> Drop for Held<T> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if self.given_up.load(Ordering::SeqCst) {
            close_apart(client);
        } else {
            drop(client);
        }
    }
}

/// The threads closing clients apart, finished or not.
static CLOSING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

fn closing() -> std::sync::MutexGuard<'static, Vec<JoinHandle<()>>> {
    CLOSING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Close `client` on a thread of its own, listed in [`CLOSING`]. (If no
/// thread can start, it is closed here, as any drop would.)
fn close_apart<T: Send + 'static>(client: T) {
    let thread = std::thread::Builder::new()
        .name("course-closing".to_string())
        .spawn(move || drop(client));
    if let Ok(handle) = thread {
        let mut list = closing();
        list.retain(|h| !h.is_finished());
        list.push(handle);
    }
}

/// How many clients are still being closed apart.
pub fn still_closing() -> usize {
    closing().iter().filter(|h| !h.is_finished()).count()
}

/// Wait, at most `within`, until every client being closed apart is
/// closed; returns how many still are.
pub fn wait_closed(within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let left = still_closing();
        if left == 0 || Instant::now() >= deadline {
            // Join the finished ones: their threads are gone.
            let mut list = closing();
            for handle in std::mem::take(&mut *list) {
                if handle.is_finished() {
                    let _ = handle.join();
                } else {
                    list.push(handle);
                }
            }
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
