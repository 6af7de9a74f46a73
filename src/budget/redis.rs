//! The rate budget kept in Redis, so that every process using one credential shares it
//! (feature `redis`). Each pool of each credential is a sorted set of the moments its counted
//! requests stop counting, and a key holding the end of a 429's pause. One Lua script per
//! step reads Redis's own clock and updates both atomically, so processes on machines whose
//! clocks disagree still count one window. Nothing newer than Redis 6.0 is used (Valkey
//! works too). Keys derive from SHA-256 of the API name and credential, never the credential.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use redis::{Script, aio::ConnectionManager};
use sha2::{Digest, Sha256};
use tokio::{sync::OnceCell, time::Instant};

use super::{CredentialKey, Pool, PoolLimit, RateBudget, Refusal, Store, local::LocalStore};
use crate::error::{Error, ErrorKind};

/// What a client does when Redis cannot be reached (the connection fails or a step takes
/// longer than half a second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RedisUnavailable {
    /// Count in this process until Redis answers again (the default): each process then
    /// keeps to the whole limit by itself, so a fleet may meet 429s, which are retried, but
    /// no request fails for the budget's sake.
    #[default]
    UseLocalBudget,
    /// Fail the request with [`ErrorKind::RateBudgetUnavailable`], nothing sent.
    Fail,
}

/// How long one step may take before Redis counts as unreachable.
const STEP_TIMEOUT: Duration = Duration::from_millis(500);

/// How long after a failed connection the next one is tried; meanwhile the fallback holds.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local window = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + window, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) - now)
";

const CORRECT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local missing = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
for i = 1, missing do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return math.max(0, missing)
";

const PAUSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = now + tonumber(ARGV[1])
if ends > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ends, 'PX', tonumber(ARGV[1]))
end
return 0
";

pub(crate) struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    last_failure: Mutex<Option<Instant>>,
    fallback: LocalStore,
    /// Whether an unreachable Redis fails the request ([`RedisUnavailable::Fail`]).
    fail_when_unreachable: AtomicBool,
    prefix: String,
    scripts: [Script; 3],
}

/// Makes each counted request's member unique across processes.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

pub(super) fn credential_key(api: &str, credential: Option<&str>) -> CredentialKey {
    let mut digest = Sha256::new();
    digest.update(api.as_bytes());
    digest.update([0]);
    digest.update(credential.unwrap_or("").as_bytes());
    let hash = digest.finalize();
    let number = u64::from_be_bytes(hash[..8].try_into().unwrap_or_default());
    let text: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    CredentialKey(number, format!("{api}:{text}").to_lowercase())
}

impl RedisStore {
    fn keys(&self, key: &CredentialKey, pool: Pool) -> (String, String) {
        let base = format!("{}:{}:{}", self.prefix, key.1, pool.as_str());
        (format!("{base}:log"), format!("{base}:pause"))
    }

    /// The shared connection, made on first use; `None` while Redis is unreachable.
    async fn connection(&self) -> Option<ConnectionManager> {
        if let Some(connection) = self.connection.get() {
            return Some(connection.clone());
        }
        let recent_failure = self
            .last_failure
            .lock()
            .map(|f| f.is_some_and(|at| at.elapsed() < RECONNECT_AFTER))
            .unwrap_or(false);
        if recent_failure {
            return None;
        }
        let made = tokio::time::timeout(STEP_TIMEOUT, async {
            self.connection
                .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
                .await
                .cloned()
        })
        .await;
        match made {
            Ok(Ok(connection)) => Some(connection),
            _ => {
                if let Ok(mut failure) = self.last_failure.lock() {
                    *failure = Some(Instant::now());
                }
                None
            }
        }
    }

    /// Runs one script within [`STEP_TIMEOUT`]; `None` when Redis did not answer.
    async fn run(&self, script: usize, keys: &[&str], args: &[String]) -> Option<i64> {
        let mut connection = self.connection().await?;
        let mut invocation = self.scripts[script].prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        match tokio::time::timeout(
            STEP_TIMEOUT,
            invocation.invoke_async::<i64>(&mut connection),
        )
        .await
        {
            Ok(Ok(answer)) => Some(answer),
            _ => {
                if let Ok(mut failure) = self.last_failure.lock() {
                    *failure = Some(Instant::now());
                }
                None
            }
        }
    }

    pub(super) async fn try_take(
        &self,
        key: &CredentialKey,
        pool: Pool,
        limit: PoolLimit,
    ) -> Result<Result<(), Duration>, Refusal> {
        let (log, pause) = self.keys(key, pool);
        let member = format!(
            "{}:{}:{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        let args = [
            limit.requests.to_string(),
            millis(limit.counted_for()).to_string(),
            member,
        ];
        match self.run(0, &[&log, &pause], &args).await {
            Some(-1) => Ok(Ok(())),
            Some(wait) => Ok(Err(Duration::from_millis(wait.max(1) as u64))),
            None if self.fail_when_unreachable.load(Ordering::Relaxed) => {
                Err(Refusal::Unavailable {
                    reason: "Redis did not answer".into(),
                })
            }
            None => Ok(self.fallback.try_take(key.0, pool, limit)),
        }
    }

    pub(super) async fn correct(&self, key: &CredentialKey, pool: Pool, used: u32, until: Instant) {
        self.fallback.correct(key.0, pool, used, until);
        let (log, _) = self.keys(key, pool);
        let reset_in = until.saturating_duration_since(Instant::now());
        let args = [
            used.min(100_000).to_string(),
            millis(reset_in).max(1).to_string(),
            millis(reset_in).max(1000).to_string(),
            format!("server:{}", SEQUENCE.fetch_add(1, Ordering::Relaxed)),
        ];
        let _ = self.run(1, &[&log], &args).await;
    }

    pub(super) async fn pause(&self, key: &CredentialKey, pool: Pool, until: Instant) {
        self.fallback.pause(key.0, pool, until);
        let (_, pause) = self.keys(key, pool);
        let pause_for = millis(until.saturating_duration_since(Instant::now())).max(1);
        let _ = self.run(2, &[&pause], &[pause_for.to_string()]).await;
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl RateBudget {
    /// The same limits, counted in Redis at `url` (`redis://host:6379/0`) and shared by every
    /// process whose client uses this credential and this URL. TLS (`rediss://`) is not built
    /// in and is refused; reach a TLS-only Redis through a local tunnel. The connection is made on the first request, and remade after a failure;
    /// while Redis cannot be reached the client does what
    /// [`when_redis_is_unreachable`](Self::when_redis_is_unreachable) says.
    pub fn shared_through_redis(self, url: &str) -> Result<Self, Error> {
        if url.trim().to_ascii_lowercase().starts_with("rediss:") {
            return Err(Error::new(ErrorKind::InvalidSetting {
                setting: "redis URL",
                reason: "TLS (rediss://) is not built into this crate; reach the Redis through \
                         a local tunnel (stunnel, an SSH forward) at redis://"
                    .into(),
            }));
        }
        let client = redis::Client::open(url).map_err(|e| {
            Error::new(ErrorKind::InvalidSetting {
                setting: "redis URL",
                reason: format!("not a Redis URL ({:?})", e.kind()),
            })
        })?;
        Ok(Self {
            store: std::sync::Arc::new(Store::Redis(Box::new(RedisStore {
                client,
                connection: OnceCell::new(),
                last_failure: Mutex::new(None),
                fallback: LocalStore::default(),
                fail_when_unreachable: AtomicBool::new(self.unreachable == RedisUnavailable::Fail),
                prefix: "revenue-agents".to_owned(),
                scripts: [Script::new(TAKE), Script::new(CORRECT), Script::new(PAUSE)],
            }))),
            turns: Default::default(),
            ..self
        })
    }

    /// What to do when the shared budget cannot be reached (for this budget and its clones),
    /// whether called before or after [`shared_through_redis`](Self::shared_through_redis);
    /// no effect on a budget kept in the process.
    pub fn when_redis_is_unreachable(mut self, what: RedisUnavailable) -> Self {
        self.unreachable = what;
        if let Store::Redis(store) = &*self.store {
            store
                .fail_when_unreachable
                .store(what == RedisUnavailable::Fail, Ordering::Relaxed);
        }
        self
    }
}
