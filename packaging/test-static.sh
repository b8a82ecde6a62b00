#!/usr/bin/env bash
# Checks static binaries from build-static.sh (run by .ci/run for the host's architecture): that
# the file asks for no dynamic loader and no shared library, and that it runs with an empty
# environment (`env -i`: no PATH, no HOME, no TERM) and, where this user may chroot, in a root
# directory holding nothing but itself and a log (no /lib, no /etc, no /proc).
#
#   packaging/test-static.sh               the host architecture's binary
#   packaging/test-static.sh BINARY...     these (another architecture's through qemu-user, if
#                                          installed: apt-get install qemu-user)
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$TMON_ROOT"

version=$(tmon_version)
commit=$(tmon_commit)
fixtures="$TMON_ROOT/tests/fixtures/check"
if [ $# -eq 0 ]; then
  set -- "target/static/tmon-$version-$(uname -m)-unknown-linux-musl"
fi

fail() { echo "test-static: FAIL: $*" >&2; exit 1; }

for f in healthy.jsonl nan.jsonl; do
  [ -f "$fixtures/$f" ] || fail "fixture $fixtures/$f is missing"
done

for bin in "$@"; do
  [ -f "$bin" ] || fail "no binary at $bin (packaging/build-static.sh builds it)"
  desc=$(file -b "$bin")
  grep -Eq "statically linked|static-pie linked" <<<"$desc" || fail "$bin: file says: $desc"
  # No PT_INTERP (no dynamic loader to find) and no DT_NEEDED (no library to find).
  if readelf -lW "$bin" | grep -q INTERP; then fail "$bin asks for a dynamic loader"; fi
  if readelf -dW "$bin" | grep -q NEEDED; then fail "$bin needs a shared library: $(readelf -dW "$bin" | grep NEEDED)"; fi

  case "$desc" in
    *x86-64*) arch=x86_64 ;;
    *aarch64*) arch=aarch64 ;;
    *) fail "$bin: not an x86_64 or aarch64 executable: $desc" ;;
  esac
  run=()
  if [ "$arch" != "$(uname -m)" ]; then
    qemu=$(command -v "qemu-$arch" || true)
    [ -n "$qemu" ] || fail "$bin is for $arch: running it here needs qemu-$arch (apt-get install qemu-user)"
    run=("$qemu")
  fi
  if [ "$arch" = "$(uname -m)" ]; then
    ldd_out=$(ldd "$bin" 2>&1 || true)
    grep -Eq "statically linked|not a dynamic executable" <<<"$ldd_out" || fail "$bin: ldd says: $ldd_out"
  fi

  tmp=$(mktemp -d)
  cp "$bin" "$tmp/tmon"
  cp "$fixtures/healthy.jsonl" "$fixtures/nan.jsonl" "$tmp/"
  bare() { (cd "$tmp" && env -i "${run[@]}" ./tmon "$@"); }

  got=$(bare --version)
  want="tmon $version (commit $commit)"
  [ "$got" = "$want" ] || fail "$bin --version printed '$got', expected '$want'"
  out=$(bare check healthy.jsonl) || fail "$bin check healthy.jsonl exited $? (expected 0): $out"
  grep -q "no flags" <<<"$out" || fail "$bin check healthy.jsonl: $out"
  set +e
  out=$(bare check nan.jsonl)
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "$bin check nan.jsonl exited $rc (expected 1, a flag): $out"
  grep -q "loss became NaN at step 20" <<<"$out" || fail "$bin check nan.jsonl did not report the NaN: $out"
  # MLflow's store goes through the SQLite compiled into the binary (the one C part).
  cp "$TMON_ROOT/tests/fixtures/formats/mlflow/sqlite/mlflow.db" "$tmp/"
  set +e
  out=$(bare check mlflow.db)
  rc=$?
  set -e
  [ "$rc" -le 1 ] && grep -q "first-run" <<<"$out" || fail "$bin check mlflow.db exited $rc: $out"
  where="env -i"

  # The strongest form: a root file system with no libc at all. chroot needs root and the
  # CAP_SYS_CHROOT capability; where they are missing the env -i run above stands alone.
  chroot=$(command -v chroot || true)
  if [ ${#run[@]} -eq 0 ] && [ -n "$chroot" ] && [ "$(id -u)" = 0 ] && "$chroot" "$tmp" /tmon --version >/dev/null 2>&1; then
    got=$(env -i "$chroot" "$tmp" /tmon --version)
    [ "$got" = "$want" ] || fail "$bin --version in an empty root printed '$got'"
    set +e
    out=$(cd / && env -i "$chroot" "$tmp" /tmon check /nan.jsonl)
    rc=$?
    set -e
    [ "$rc" -eq 1 ] && grep -q "loss became NaN at step 20" <<<"$out" || fail "$bin check in an empty root exited $rc: $out"
    where="env -i and in an empty root (chroot)"
  fi
  rm -rf "$tmp"
  echo "test-static: $(basename "$bin"): $desc; --version and check pass under $where"
done
