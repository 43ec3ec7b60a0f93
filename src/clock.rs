//! The one source of "now" for what schedules or stamps by time: scheduled rules, retry
//! backoff and `MaximumEventAgeInSeconds`, retention, default event times, replays.
//!
//! Real by default (the system clock, no lock: PutEvents reads it on every request). Under
//! `--clock manual` time is virtual: it stands still until `/_local/clock` moves it, and
//! whoever waits for an instant (`sleep_until`) is woken when the clock reaches it. Tests
//! then see an hour of `rate(5 minutes)` or a whole retry policy in milliseconds.
//!
//! Waking is observable: `set` counts the sleepers it wakes, and each holds a [`Wake`]
//! until it has reacted (queued its retry), so that whoever moves the clock can wait for
//! the consequences before moving it further ([`Clock::settled`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};

use crate::model::time::now_ms;

/// A handle on the clock; clones share it.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Manual>>,
}

struct Manual {
    now: AtomicI64,
    /// Sleepers by (deadline, registration number).
    sleepers: Mutex<BTreeMap<(i64, u64), oneshot::Sender<Wake>>>,
    next_sleeper: AtomicU64,
    /// Sleepers woken that have not dropped their `Wake` yet.
    reacting: AtomicUsize,
    settled: Notify,
    /// One move of the clock at a time (a move waits for what it triggers).
    moving: tokio::sync::Mutex<()>,
}

/// Held by a woken sleeper until it has done what the instant asked of it.
pub struct Wake(Option<Arc<Manual>>);

impl Drop for Wake {
    fn drop(&mut self) {
        if let Some(manual) = &self.0
            && manual.reacting.fetch_sub(1, Ordering::SeqCst) == 1
        {
            manual.settled.notify_waiters();
        }
    }
}

impl Clock {
    /// The system clock.
    pub fn real() -> Clock {
        Clock { manual: None }
    }

    /// A virtual clock standing at `start_ms` until moved.
    pub fn manual(start_ms: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(Manual {
                now: AtomicI64::new(start_ms),
                sleepers: Mutex::new(BTreeMap::new()),
                next_sleeper: AtomicU64::new(0),
                reacting: AtomicUsize::new(0),
                settled: Notify::new(),
                moving: tokio::sync::Mutex::new(()),
            })),
        }
    }

    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Epoch milliseconds.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            None => now_ms(),
            Some(m) => m.now.load(Ordering::SeqCst),
        }
    }

    /// Waits until the clock reads `deadline_ms` or later. The sleeper is registered when
    /// this is called, not when the future is first polled, so that a move of the clock
    /// right after the call already sees it.
    pub fn sleep_until(&self, deadline_ms: i64) -> impl Future<Output = Wake> + Send + 'static {
        let registered = self.manual.as_ref().and_then(|m| {
            if deadline_ms <= m.now.load(Ordering::SeqCst) {
                return None;
            }
            let (tx, rx) = oneshot::channel();
            let n = m.next_sleeper.fetch_add(1, Ordering::Relaxed);
            lock(&m.sleepers).insert((deadline_ms, n), tx);
            Some(rx)
        });
        let real_wait = match &self.manual {
            None => Some(Duration::from_millis(
                deadline_ms.saturating_sub(now_ms()).max(0) as u64,
            )),
            Some(_) => None,
        };
        async move {
            if let Some(wait) = real_wait {
                tokio::time::sleep(wait).await;
                return Wake(None);
            }
            match registered {
                // The sender is dropped only with its clock; nobody is left to wait for.
                Some(rx) => rx.await.unwrap_or(Wake(None)),
                None => Wake(None),
            }
        }
    }

    /// Waits `delay` on this clock.
    pub fn sleep(&self, delay: Duration) -> impl Future<Output = Wake> + Send + 'static {
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        self.sleep_until(self.now_ms().saturating_add(delay_ms))
    }

    /// The earliest instant someone sleeps until (manual clock only).
    pub fn next_deadline(&self) -> Option<i64> {
        let m = self.manual.as_ref()?;
        let mut sleepers = lock(&m.sleepers);
        // Sleepers whose futures were dropped wait for nothing.
        sleepers.retain(|_, tx| !tx.is_closed());
        sleepers.keys().next().map(|(at, _)| *at)
    }

    /// Moves a manual clock to `to_ms` (backwards too) and wakes every sleeper due by then.
    /// Does nothing to the real clock.
    pub fn set(&self, to_ms: i64) {
        let Some(m) = &self.manual else { return };
        m.now.store(to_ms, Ordering::SeqCst);
        let due: Vec<oneshot::Sender<Wake>> = {
            let mut sleepers = lock(&m.sleepers);
            let later = sleepers.split_off(&(to_ms.saturating_add(1), 0));
            std::mem::replace(&mut *sleepers, later)
                .into_values()
                .collect()
        };
        for tx in due {
            m.reacting.fetch_add(1, Ordering::SeqCst);
            // A sleeper gone meanwhile drops the Wake here, which counts it back.
            let _ = tx.send(Wake(Some(m.clone())));
        }
    }

    /// Waits until every sleeper woken so far has reacted.
    pub async fn settled(&self) {
        let Some(m) = &self.manual else { return };
        loop {
            let notified = m.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if m.reacting.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Held while one caller moves the clock and waits for what follows (manual only).
    pub async fn exclusive(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.manual {
            Some(m) => Some(m.moving.lock().await),
            None => None,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleepers_wake_when_the_clock_reaches_them() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        let early = clock.sleep_until(2_000);
        let late = clock.sleep_until(5_000);
        assert_eq!(clock.next_deadline(), Some(2_000));
        clock.set(3_000);
        assert_eq!(clock.now_ms(), 3_000);
        assert_eq!(clock.next_deadline(), Some(5_000));
        let wake = early.await;
        // Woken but not done reacting: not settled.
        let pending = tokio::time::timeout(Duration::from_millis(20), clock.settled()).await;
        assert!(pending.is_err());
        drop(wake);
        clock.settled().await;
        drop(late);
        assert_eq!(clock.next_deadline(), None);
        // A deadline already past does not wait.
        clock.sleep_until(10).await;
    }

    #[tokio::test]
    async fn real_clock_sleeps_really() {
        let clock = Clock::real();
        assert!(!clock.is_manual());
        let before = now_ms();
        clock.sleep(Duration::from_millis(20)).await;
        assert!(now_ms() - before >= 19);
        assert_eq!(clock.next_deadline(), None);
    }
}
