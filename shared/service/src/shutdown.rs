//! The shutdown signal background work listens to: set once, seen by every clone.

use std::sync::Arc;

use tokio::sync::watch;

/// Sets the shutdown signal. Held by the [`crate::server::Lifecycle`] and the stop handle.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(Arc<watch::Sender<bool>>);

/// A cheap, cloneable view of the shutdown signal for tasks and long-polling handlers.
#[derive(Debug, Clone)]
pub struct ShutdownSignal(watch::Receiver<bool>);

/// A new, unset signal and its trigger.
pub fn channel() -> (ShutdownTrigger, ShutdownSignal) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(Arc::new(tx)), ShutdownSignal(rx))
}

impl ShutdownTrigger {
    /// Sets the signal; every waiter wakes. Idempotent.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// A new view of the signal.
    pub fn signal(&self) -> ShutdownSignal {
        ShutdownSignal(self.0.subscribe())
    }
}

impl ShutdownSignal {
    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown has begun (at once if it has, or if the trigger is gone).
    pub async fn triggered(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|set| *set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_view_sees_the_trigger() {
        let (trigger, signal) = channel();
        let other = trigger.signal();
        assert!(!signal.is_triggered());
        trigger.trigger();
        signal.triggered().await;
        other.triggered().await;
        assert!(other.is_triggered());
    }

    #[tokio::test]
    async fn a_dropped_trigger_releases_the_waiters() {
        let (trigger, signal) = channel();
        drop(trigger);
        signal.triggered().await;
    }
}
