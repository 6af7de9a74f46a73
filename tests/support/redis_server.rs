//! A `redis-server` of a test's (or a benchmark's) own.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A `redis-server` of this test's own, stopped when dropped.
pub struct Redis {
    child: Child,
    /// `redis://127.0.0.1:<port>/0`.
    pub url: String,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    /// Stops the server now.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a missing `redis-server` fails the tests: `REVENUE_AGENTS_REQUIRE_REDIS` set to `1`
/// or `true` (as `.ci/run` does). `0`, `false` or unset lets them be skipped; any other value
/// is a mistake, refused rather than read as either.
fn redis_required() -> bool {
    match std::env::var("REVENUE_AGENTS_REQUIRE_REDIS")
        .as_deref()
        .map(str::trim)
    {
        Err(std::env::VarError::NotPresent) | Ok("" | "0" | "false") => false,
        Ok("1" | "true") => true,
        other => panic!("REVENUE_AGENTS_REQUIRE_REDIS must be 1, true, 0 or false, not {other:?}"),
    }
}

/// A fresh `redis-server` on a free loopback port, persistence off; `None` (after saying on
/// standard error that the test is skipped, and how to install it) when the machine has none
/// and a missing one is not required.
pub fn start_redis() -> Option<Redis> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let hint = "redis-server is not installed (Debian/Ubuntu: apt-get install \
                        redis-server; macOS: brew install redis)";
            assert!(!redis_required(), "{hint}: {e}");
            // Written to the process's standard error itself, which `cargo test` does not
            // capture (eprintln! would be shown only if the test failed): the skip is seen.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!(
                    "SKIPPED {}: {hint}\n",
                    std::thread::current().name().unwrap_or("a Redis test")
                )
                .as_bytes(),
            );
            return None;
        }
    };
    let redis = Redis {
        child,
        url: format!("redis://127.0.0.1:{port}/0"),
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(redis);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("redis-server did not start on port {port}");
}
