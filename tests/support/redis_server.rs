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

/// A fresh `redis-server` on a free loopback port, persistence off; `None` (after saying how
/// to install it) when the machine has none and `REVENUE_AGENTS_REQUIRE_REDIS` is not set.
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
                        redis-server; macOS: brew install redis); the Redis tests are skipped";
            assert!(
                std::env::var_os("REVENUE_AGENTS_REQUIRE_REDIS").is_none(),
                "{hint}: {e}"
            );
            eprintln!("{hint}");
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
