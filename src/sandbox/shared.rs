//! One API's half of the sandbox as its handlers share it: the configuration, when it
//! started, the clock, and the API's state, which it seeds, saves, loads and resets the same
//! way for both APIs. Reads share the state, so concurrent clients do not queue behind one
//! another; a change takes it alone. A handler that panicked while holding it (a bug) leaves
//! the lock poisoned; the sandbox goes on serving with the state as that handler left it,
//! rather than failing every later request.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use super::{
    SandboxConfig,
    clock::Clock,
    persist::{Install, Part},
};

/// What an API's state offers the rest of the sandbox.
pub(crate) trait State: Ids + Send + Sync + Sized + 'static {
    /// Its key in a snapshot.
    const KEY: &'static str;
    /// The state the configuration starts with (at `epoch`); a seed that contradicts itself is
    /// refused, named.
    fn seeded(config: &SandboxConfig, epoch: DateTime<Utc>) -> Result<Self, String>;
    /// Its saved form.
    fn save(&self) -> Result<Box<RawValue>, String>;
    /// The state a saved form describes, checked as it is read.
    fn load(saved: &RawValue) -> Result<Self, String>;
}

/// One API's half: what its handlers read.
pub(crate) struct Half<T> {
    pub(crate) config: SandboxConfig,
    /// When the sandbox started: what a reset seeds from.
    pub(crate) epoch: DateTime<Utc>,
    pub(crate) clock: Arc<Clock>,
    state: Shared<T>,
}

impl<T: State> Half<T> {
    pub(crate) fn start(config: &SandboxConfig, clock: Arc<Clock>) -> Result<Arc<Self>, String> {
        let epoch = clock.now();
        let state = T::seeded(config, epoch)?;
        Ok(Arc::new(Half {
            config: config.clone(),
            epoch,
            clock,
            state: Shared::new(state),
        }))
    }

    /// The state, for reading.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.state.read()
    }

    /// The state, for changing it: one handler at a time.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.state.write()
    }
}

impl<T: State> Part for Half<T> {
    fn key(&self) -> &'static str {
        T::KEY
    }

    fn save(&self) -> Result<Box<RawValue>, String> {
        self.read().save()
    }

    fn read<'a>(&'a self, saved: &RawValue) -> Result<Install<'a>, String> {
        let state = T::load(saved)?;
        Ok(Box::new(move || self.state.install(state)))
    }

    fn reset(&self) {
        // The seed was checked when the sandbox started.
        if let Ok(state) = T::seeded(&self.config, self.epoch) {
            self.state.install(state);
        }
    }
}

/// A state whose ids are made from a counter that only grows.
pub(crate) trait Ids {
    fn counter(&mut self) -> &mut u64;
}

pub(crate) struct Shared<T>(RwLock<T>);

impl<T> Shared<T> {
    pub(crate) fn new(state: T) -> Self {
        Self(RwLock::new(state))
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Ids> Shared<T> {
    /// Puts `state` in place (a restored or reset one), its counter never below the one it
    /// replaces, so that no id is given out twice.
    pub(crate) fn install(&self, mut state: T) {
        let mut current = self.write();
        let counter = (*state.counter()).max(*current.counter());
        *state.counter() = counter;
        *current = state;
    }
}
