#!/usr/bin/env bash
# What a user's clean build of this crate costs, against a hand-written client's: the crate with
# default features, then a minimal crate with the same reqwest (same features), serde,
# serde_json and tokio, each from an empty target directory, one after the other, in the dev
# profile a plain `cargo build` uses. Prints both wall times, their ratio, and from cargo's
# --timings report the slowest units of the crate's build and what the units the minimal
# build does not have cost in all (progenitor's tree among them).
#
# Minutes on two cores, so it is not part of .ci/run: `bash benches/build_time.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BUILD_TIME_DIR:-/tmp/revenue-agents-build-time}
rm -rf "$work"
mkdir -p "$work/minimal/src"

reqwest=$(grep -E '^reqwest = ' Cargo.toml)
cat >"$work/minimal/Cargo.toml" <<EOF
[package]
name = "minimal-client"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$reqwest
serde = { version = "1", features = ["derive"] }
serde_json = "1"
tokio = { version = "1", features = ["time", "sync", "rt"] }
EOF
cat >"$work/minimal/src/lib.rs" <<'EOF'
//! A hand-written client's skeleton: one typed call.
#[derive(serde::Deserialize)]
pub struct Agent {
    pub status: String,
}

pub async fn agent(http: &reqwest::Client, url: &str) -> reqwest::Result<Agent> {
    http.get(url).send().await?.json().await
}
EOF
# The versions this repository's lock file holds, where the minimal crate shares them.
cp Cargo.lock "$work/minimal/Cargo.lock"

export CARGO_INCREMENTAL=0
seconds() { date +%s.%N; }

echo "== revenue-agents, default features, empty target directory"
start=$(seconds)
cargo build --quiet --timings --target-dir "$work/crate-target"
crate=$(python3 -c "print($(seconds) - $start)")

echo "== minimal reqwest + serde + tokio client, empty target directory"
start=$(seconds)
(cd "$work/minimal" && cargo build --quiet --timings --target-dir "$work/minimal-target")
minimal=$(python3 -c "print($(seconds) - $start)")

python3 - "$crate" "$minimal" "$work" <<'EOF'
import glob, json, os, re, sys

crate, minimal, work = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]


def units(target):
    """The --timings report's units: (name version, mode) -> seconds."""
    report = max(glob.glob(os.path.join(target, "cargo-timings", "cargo-timing-*.html")), key=os.path.getmtime)
    data = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(report).read(), re.S).group(1))
    return {(f"{u['name']} {u['version']}", u.get("mode", "")): u["duration"] for u in data}


ours, theirs = units(os.path.join(work, "crate-target")), units(os.path.join(work, "minimal-target"))
print(f"clean build: revenue-agents {crate:.1f} s, minimal client {minimal:.1f} s, ratio {crate / minimal:.2f}")
extra = {k: v for k, v in ours.items() if k not in theirs}
print(f"units only the crate's build has: {len(extra)}, {sum(extra.values()):.1f} s of compile time in all"
      f" (across both cores; the wall time they add is {crate - minimal:.1f} s)")
for (name, mode), duration in sorted(extra.items(), key=lambda kv: -kv[1])[:15]:
    print(f"  {duration:6.1f} s  {name} {mode}")
EOF
