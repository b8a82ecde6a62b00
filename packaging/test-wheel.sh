#!/usr/bin/env bash
# CI check of the Python wheel (run by .ci/run): builds the host's wheel with build-wheels.sh,
# installs it with pip into a fresh virtual environment, and runs the installed `tmon` the way a
# user without Rust would: `env -i` with only the venv and the system's bin directories on PATH.
#
#   packaging/test-wheel.sh            build, then test
#   packaging/test-wheel.sh WHEEL      test a wheel built elsewhere (on its own architecture)
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$TMON_ROOT"

version=$(tmon_version)
commit=$(tmon_commit)
arch=$(uname -m)
fixtures="$TMON_ROOT/tests/fixtures/check"

fail() { echo "test-wheel: FAIL: $*" >&2; exit 1; }

if [ $# -ge 1 ]; then
  wheel=$1
else
  start=$SECONDS
  bash packaging/build-wheels.sh
  echo "test-wheel: wheel built in $((SECONDS - start)) s"
  # The name is the promise: the manylinux_2_17 tag (see build-wheels.sh), which maturin's audit
  # grants only when every glibc symbol and library the binary needs is in that policy.
  wheel="target/wheels/tmon-$version-py3-none-manylinux2014_$arch.manylinux_2_17_$arch.whl"
fi
[ -f "$wheel" ] || fail "no wheel at $wheel"
listing=$(python3 -m zipfile -l "$wheel")
grep -q "tmon-$version.data/scripts/tmon " <<<"$listing" || fail "the wheel holds no tmon-$version.data/scripts/tmon"
grep -q "licenses/LICENSE " <<<"$listing" || fail "the wheel holds no LICENSE"

for f in healthy.jsonl nan.jsonl; do
  [ -f "$fixtures/$f" ] || fail "fixture $fixtures/$f is missing"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check --no-index --no-deps "$wheel"
cp "$fixtures/healthy.jsonl" "$fixtures/nan.jsonl" "$tmp/"

# What a user's shell has: the venv and the system, no cargo, no rustc, none of this shell's
# variables (CARGO_*, RUSTUP_*, the tools venv).
clean() { (cd "$tmp" && env -i HOME="$tmp" PATH="$tmp/venv/bin:/usr/bin:/bin" "$@"); }

for tool in cargo rustc rustup; do
  if clean sh -c "command -v $tool" >/dev/null; then fail "$tool is on the clean PATH"; fi
done
where=$(clean sh -c 'command -v tmon') || fail "tmon is not on the PATH after pip install"
[ "$where" = "$tmp/venv/bin/tmon" ] || fail "tmon resolves to $where, not the venv's"

got=$(clean tmon --version)
want="tmon $version (commit $commit)"
[ "$got" = "$want" ] || fail "tmon --version printed '$got', expected '$want'"
echo "test-wheel: $got"

out=$(clean tmon check healthy.jsonl) || fail "tmon check healthy.jsonl exited $? (expected 0): $out"
grep -q "204 records, 0 skipped lines" <<<"$out" || fail "tmon check healthy.jsonl: $out"
grep -q "no flags" <<<"$out" || fail "tmon check healthy.jsonl flagged something: $out"

set +e
out=$(clean tmon check nan.jsonl)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "tmon check nan.jsonl exited $rc (expected 1, a flag): $out"
grep -q "loss became NaN at step 20" <<<"$out" || fail "tmon check nan.jsonl did not report the NaN: $out"

"$tmp/venv/bin/pip" uninstall --quiet --yes tmon
[ ! -e "$tmp/venv/bin/tmon" ] || fail "pip uninstall left $tmp/venv/bin/tmon"

echo "test-wheel: $(basename "$wheel"): installed in a clean venv, --version and check pass, uninstalled"
