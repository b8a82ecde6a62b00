#!/usr/bin/env bash
# CI check of what `cargo install`/`cargo publish` would ship (run by .ci/run): cargo packages the
# crate without warnings (complete metadata, every declared target present), and the tarball holds
# the sources, build script, license and docs but none of the test fixtures, snapshots, fuzz
# targets, proptest regressions or scripts. `cargo package` (with its verifying build) is the full check; this
# one skips the build so CI pays seconds for it.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-crate: FAIL: $*" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --allow-dirty: a developer's uncommitted edits are not what this checks (CI's clone is clean).
list=$(cargo package --list --locked --allow-dirty 2>"$log") || { cat "$log" >&2; fail "cargo package --list failed"; }
cargo package --no-verify --locked --allow-dirty 2>>"$log" >/dev/null || { cat "$log" >&2; fail "cargo package failed"; }
if grep -i "warning" "$log"; then fail "cargo package warned (above)"; fi

# The font exported charts are drawn with is compiled in (include_bytes!): it ships, with its license.
for want in Cargo.toml Cargo.lock LICENSE README.md build.rs src/main.rs src/lib.rs docs/flags.md \
  src/export/font/DejaVuSans-subset.ttf src/export/font/LICENSE; do
  grep -qx "$want" <<<"$list" || fail "the crate does not ship $want"
done
# Test sources ship (cargo warns about each test target left out); what they read does not.
if bad=$(grep -Ev '^(src|tests|benches|examples)/.*\.rs$|^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|build\.rs|README\.md|LICENSE|docs/flags\.md)$|^src/export/font/(DejaVuSans-subset\.ttf|LICENSE|README\.md)$' <<<"$list"); then
  fail "the crate ships files it should not: $bad"
fi
crate=$(ls -t target/package/tmon-*.crate | head -n 1)
echo "check-crate: $(basename "$crate"): $(wc -l <<<"$list") files, $(stat -c %s "$crate") bytes, no warnings"
