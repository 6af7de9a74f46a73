//! State that lasts: each API's state is a [`Part`] that can be saved, loaded and reset;
//! together with the clock they make a [`Snapshot`], a versioned JSON document. With a state
//! file the sandbox loads it at start (refusing, and never touching, a file it cannot read)
//! and saves it, by writing a new file and renaming it over the old one, shortly after each
//! change and when it stops.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::Notify;

use super::clock::{Clock, MAX_AHEAD};

/// What names the sandbox's state documents, and the version of their layout this build
/// reads and writes.
const FORMAT: &str = "revenue-agents-sandbox-state";
const VERSION: u32 = 1;

/// How long the saver waits after a change for more before it writes: a burst of requests
/// is one write.
const SETTLE: Duration = Duration::from_millis(100);

/// Installs a state that has been read and checked.
pub(crate) type Install<'a> = Box<dyn FnOnce() + Send + 'a>;

/// One API's state.
pub(crate) trait Part: Send + Sync {
    /// Its key in a snapshot.
    fn key(&self) -> &'static str;
    /// Its state as JSON.
    fn save(&self) -> Result<Box<RawValue>, String>;
    /// Reads and checks a saved state; nothing changes until the returned step runs, so a
    /// snapshot of several parts is taken whole or not at all. Ids given out later never
    /// repeat one given out before, whichever state is installed.
    fn read<'a>(&'a self, saved: &RawValue) -> Result<Install<'a>, String>;
    /// Back to the state it started with (its seed), keeping its ids unused.
    fn reset(&self);
}

/// A copy of the sandbox's whole state (both APIs and the clock), as a versioned JSON
/// document: what `--state FILE` holds and `GET /__sandbox/state` answers.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use revenue_agents::sandbox::{Sandbox, SandboxConfig};
///
/// let sandbox = Sandbox::start(SandboxConfig::default()).await?;
/// let before = sandbox.snapshot()?;
/// // … a test changes things …
/// sandbox.restore(&before)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot {
    json: String,
}

impl Snapshot {
    /// The document.
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// A document written by [`as_json`](Self::as_json) (or read from a state file); one of
    /// another format or version is refused.
    pub fn from_json(json: impl Into<String>) -> std::io::Result<Snapshot> {
        let json = json.into();
        Document::read(&json).map_err(invalid)?;
        Ok(Snapshot { json })
    }
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document<'a> {
    format: std::borrow::Cow<'a, str>,
    version: u32,
    /// The sandbox's clock when it was taken.
    clock: DateTime<Utc>,
    #[serde(borrow)]
    apis: BTreeMap<String, &'a RawValue>,
}

impl<'a> Document<'a> {
    fn read(json: &'a str) -> Result<Document<'a>, String> {
        let head: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| format!("not a sandbox state document (not JSON: {e})"))?;
        if !head.is_object() {
            return Err("not a sandbox state document (not a JSON object)".to_owned());
        }
        if head["format"] != FORMAT {
            return Err(format!(
                "not a sandbox state document (its `format` is not {FORMAT:?})"
            ));
        }
        match head["version"].as_u64() {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "a sandbox state of version {v}; this sandbox reads version {VERSION}"
                ));
            }
            None => return Err("a sandbox state without a `version`".to_owned()),
        }
        let clock = head["clock"]
            .as_str()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .ok_or("its `clock` is not an RFC 3339 date-time")?;
        let furthest = Utc::now() + chrono::Duration::from_std(MAX_AHEAD).unwrap_or_default();
        if clock > furthest {
            return Err(format!(
                "its `clock` ({clock}) is more than 100 years ahead of real time"
            ));
        }
        if !head["apis"].is_object() {
            return Err("its `apis` is not an object of each API's state".to_owned());
        }
        serde_json::from_str(json).map_err(|e| format!("an unusable sandbox state: {e}"))
    }
}

/// Marks that the state changed, for the saver.
#[derive(Clone, Default)]
pub(crate) struct Changes(Arc<Notify>);

impl Changes {
    pub(crate) fn mark(&self) {
        self.0.notify_one();
    }
}

/// The sandbox's state: its parts, the clock, and where it is kept.
pub(crate) struct Store {
    parts: Vec<Arc<dyn Part>>,
    clock: Arc<Clock>,
    file: Option<PathBuf>,
    changes: Changes,
    /// Why the latest save failed, until one succeeds.
    failure: std::sync::Mutex<Option<String>>,
}

impl Store {
    pub(crate) fn new(clock: Arc<Clock>, file: Option<PathBuf>, changes: Changes) -> Self {
        Self {
            parts: Vec::new(),
            clock,
            file,
            changes,
            failure: std::sync::Mutex::default(),
        }
    }

    pub(crate) fn add(&mut self, part: Arc<dyn Part>) {
        self.parts.push(part);
    }

    pub(crate) fn snapshot(&self) -> std::io::Result<Snapshot> {
        let mut saved = Vec::new();
        for part in &self.parts {
            saved.push((part.key(), part.save().map_err(invalid)?));
        }
        let document = Document {
            format: FORMAT.into(),
            version: VERSION,
            clock: self.clock.now(),
            apis: saved.iter().map(|(k, v)| ((*k).to_owned(), &**v)).collect(),
        };
        let json = serde_json::to_string(&document).map_err(|e| invalid(e.to_string()))?;
        Ok(Snapshot { json })
    }

    /// Installs a snapshot: every part is read and checked first, and only then is anything
    /// changed. The clock moves forward to the snapshot's if it is behind.
    pub(crate) fn restore(&self, snapshot: &Snapshot) -> std::io::Result<()> {
        let document = Document::read(&snapshot.json).map_err(invalid)?;
        let mut steps = Vec::new();
        for part in &self.parts {
            let saved = document
                .apis
                .get(part.key())
                .ok_or_else(|| invalid(format!("the state has no `{}` part", part.key())))?;
            let step = part
                .read(saved)
                .map_err(|e| invalid(format!("its `{}` part: {e}", part.key())))?;
            steps.push(step);
        }
        if let Some(unknown) = document
            .apis
            .keys()
            .find(|k| !self.parts.iter().any(|p| p.key() == k.as_str()))
        {
            return Err(invalid(format!(
                "the state has a part `{unknown}` this sandbox does not know"
            )));
        }
        self.clock.catch_up(document.clock);
        for step in steps {
            step();
        }
        self.changes.mark();
        Ok(())
    }

    pub(crate) fn reset(&self) {
        for part in &self.parts {
            part.reset();
        }
        self.changes.mark();
    }

    /// Loads the state file, if there is one yet. A file that cannot be read or used is an
    /// error naming it, and is left as it is (the sandbox does not start, so never saves).
    pub(crate) fn load_file(&self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(named(file, &e.to_string())),
        };
        // The sandbox's own saves never leave an empty file (they replace it whole), so one
        // was made or cut by something else; it is refused like any other it cannot read, but
        // with the way on, since there is nothing in it to keep.
        if text.trim().is_empty() {
            return Err(named(
                file,
                "the file is empty, so it holds no state; remove it and the sandbox starts                  from its seed and writes it",
            ));
        }
        let snapshot = Snapshot::from_json(text).map_err(|e| named(file, &e.to_string()))?;
        self.restore(&snapshot)
            .map_err(|e| named(file, &e.to_string()))
    }

    /// Writes the state file, if there is one: a new file beside it, flushed to disk, then
    /// renamed over it, so that a reader (or a crash) sees the old state or the new, never
    /// half of one.
    pub(crate) fn save_file(&self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let snapshot = self.snapshot()?;
        write_atomically(file, snapshot.as_json().as_bytes())
            .map_err(|e| named(file, &e.to_string()))
    }

    /// Saves after each burst of changes until `stop` resolves, then once more.
    pub(crate) async fn save_on_change(
        self: Arc<Self>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        if self.file.is_none() {
            return;
        }
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = self.changes.0.notified() => {
                    tokio::time::sleep(SETTLE).await;
                    self.save_reporting().await;
                }
                () = &mut stop => break,
            }
        }
        self.save_reporting().await;
    }

    async fn save_reporting(self: &Arc<Self>) {
        let store = self.clone();
        // Writing a large state takes a while; it must not hold up the server's threads.
        let saved = tokio::task::spawn_blocking(move || store.save_file()).await;
        let problem = match saved {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = &problem {
            let _ = writeln!(
                std::io::stderr().lock(),
                "revenue-agents sandbox: cannot save its state: {problem}"
            );
        }
        if let Ok(mut failure) = self.failure.lock() {
            *failure = problem;
        }
    }

    /// Why the latest save failed, if it did.
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }
}

fn named(file: &Path, problem: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the state file {}: {problem}", file.display()),
    )
}

fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = file
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "it names no file"))?;
    let mut temporary = file.to_path_buf();
    temporary.set_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut out = std::fs::File::create(&temporary)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        // The new file keeps the old one's permissions (a state kept private stays so).
        if let Ok(old) = std::fs::metadata(file) {
            std::fs::set_permissions(&temporary, old.permissions())?;
        }
        std::fs::rename(&temporary, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_of_another_format_or_version_are_refused() {
        for (text, says) in [
            ("{", "not JSON"),
            ("[]", "not a JSON object"),
            ("null", "not a JSON object"),
            (r#"{"format": "other", "version": 1}"#, "format"),
            (
                r#"{"format": "revenue-agents-sandbox-state", "version": 99}"#,
                "version 99",
            ),
            (
                r#"{"format": "revenue-agents-sandbox-state"}"#,
                "without a `version`",
            ),
            (
                r#"{"format": "revenue-agents-sandbox-state", "version": 1, "clock": "soon", "apis": {}}"#,
                "`clock`",
            ),
            (
                r#"{"format": "revenue-agents-sandbox-state", "version": 1, "clock": "2611-01-01T00:00:00Z", "apis": {}}"#,
                "100 years",
            ),
            (
                r#"{"format": "revenue-agents-sandbox-state", "version": 1, "clock": "2026-01-01T00:00:00Z", "apis": []}"#,
                "`apis`",
            ),
        ] {
            let refused = Snapshot::from_json(text).unwrap_err().to_string();
            assert!(refused.contains(says), "{text}: {refused}");
        }
        let good = r#"{"format": "revenue-agents-sandbox-state", "version": 1, "clock": "2026-12-05T10:00:00Z", "apis": {}}"#;
        assert_eq!(Snapshot::from_json(good).unwrap().as_json(), good);
    }

    #[test]
    fn a_file_is_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("sandbox-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("state.json");
        write_atomically(&file, b"first").unwrap();
        write_atomically(&file, b"second").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"second");
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
