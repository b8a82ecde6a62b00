#!/usr/bin/env bash
# Builds tmon's Python wheels with maturin (`bindings = "bin"` in pyproject.toml: the wheel holds
# the `tmon` binary and no Python code) into target/wheels.
#
#   packaging/build-wheels.sh               the host's wheel
#   packaging/build-wheels.sh --all         every wheel this host can build, and the sdist
#   packaging/build-wheels.sh --sdist       the sdist alone
#   packaging/build-wheels.sh TRIPLE...     wheels for these Rust targets
#
# Linux wheels are tagged manylinux_2_17 (manylinux2014): zig links them against glibc 2.17's
# symbol versions whatever glibc the build machine has, and maturin's audit refuses the wheel if
# a newer symbol or a library outside the manylinux policy slips in. 2.17 is the oldest glibc
# Rust's standard library supports, so no lower tag is possible; it covers every distribution
# since CentOS 7 and Ubuntu 14.04, which older GPU clusters still run, and pip >= 19.3 installs
# it. zig also cross-links, so an x86_64 machine builds the aarch64 wheel.
#
# macOS wheels need Apple's SDK to link (notify uses the CoreServices framework), so they are
# built on a Mac: there, this script builds universal2-apple-darwin (x86_64 and arm64 in one
# wheel) with the system linker.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$TMON_ROOT"

case "$(uname -s)" in
  Linux) host="$(uname -m)-unknown-linux-gnu"; all=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu) ;;
  Darwin) host=universal2-apple-darwin; all=(universal2-apple-darwin) ;;
  *) echo "build-wheels: no wheel recipe for $(uname -s)" >&2; exit 2 ;;
esac

sdist=false
if [ $# -eq 0 ]; then
  targets=("$host")
elif [ "$1" = --all ]; then
  targets=("${all[@]}")
  sdist=true
elif [ "$1" = --sdist ]; then
  targets=()
  sdist=true
else
  targets=("$@")
fi

tools_venv
out="$TMON_ROOT/target/wheels"
# The wheel's binary is stripped (pyproject.toml): skip making the release profile's line tables.
export CARGO_PROFILE_RELEASE_DEBUG=0

add_target() {
  rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}

for t in "${targets[@]}"; do
  start=$SECONDS
  case "$t" in
    *-linux-gnu)
      add_target "$t"
      maturin build --release --locked --out "$out" --target "$t" --zig --compatibility manylinux2014
      ;;
    universal2-apple-darwin)
      [ "$(uname -s)" = Darwin ] || { echo "build-wheels: $t links only on macOS (Apple's SDK)" >&2; exit 2; }
      add_target x86_64-apple-darwin
      add_target aarch64-apple-darwin
      maturin build --release --locked --out "$out" --target "$t"
      ;;
    *-apple-darwin)
      [ "$(uname -s)" = Darwin ] || { echo "build-wheels: $t links only on macOS (Apple's SDK)" >&2; exit 2; }
      add_target "$t"
      maturin build --release --locked --out "$out" --target "$t"
      ;;
    *)
      echo "build-wheels: no wheel recipe for $t" >&2
      exit 2
      ;;
  esac
  echo "build-wheels: $t in $((SECONDS - start)) s"
done

if $sdist; then
  # The sdist has no git: .tmon-commit carries the commit to build.rs (pyproject.toml includes it).
  git rev-parse HEAD >.tmon-commit
  trap 'rm -f "$TMON_ROOT/.tmon-commit"' EXIT
  maturin sdist --out "$out"
fi
