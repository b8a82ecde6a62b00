#!/usr/bin/env bash
# Builds tmon as one static Linux executable (musl libc linked in, no dynamic loader, no glibc
# version to match) into target/static/tmon-VERSION-TARGET.
#
#   packaging/build-static.sh              the host's architecture
#   packaging/build-static.sh --all        x86_64 and aarch64
#   packaging/build-static.sh TRIPLE...    these musl targets
#
# tmon's one C dependency is SQLite (rusqlite's bundled copy, for MLflow's store). It is compiled
# for musl by zig's C compiler (`zig cc`, from the pinned ziglang wheel of requirements.txt, the
# one the Python wheel uses): a build machine needs no musl-gcc or cross toolchain. The link is
# the host's own cc for the host's architecture (Rust's musl targets bring their own crt objects
# and libc.a) and rust-lld, shipped with the toolchain, for the other one. The binary is
# stripped and carries no debug info.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
cd "$TMON_ROOT"

host="$(uname -m)-unknown-linux-musl"
if [ $# -eq 0 ]; then
  targets=("$host")
elif [ "$1" = --all ]; then
  targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
else
  targets=("$@")
fi

version=$(tmon_version)
mkdir -p target/static
tools_venv

# `zig cc` and `zig ar` for a musl target, as cc-rs calls a C compiler: zig names its targets
# without the vendor part, so cc-rs's --target (the Rust triple) is replaced by the one zig knows.
# No sanitizer runtime: the objects link into a binary without zig's.
zig_tool() {
  local t=$1 kind=$2 wrapper="$TMON_ROOT/target/packaging/zig-$2-$1"
  {
    echo '#!/usr/bin/env bash'
    if [ "$kind" = cc ]; then
      echo 'args=(); for a in "$@"; do case "$a" in --target=*) ;; *) args+=("$a") ;; esac; done'
      echo "exec \"$TOOLS_VENV/bin/python3\" -m ziglang cc -target ${t%%-*}-linux-musl -fno-sanitize=all \"\${args[@]}\""
    else
      echo "exec \"$TOOLS_VENV/bin/python3\" -m ziglang ar \"\$@\""
    fi
  } >"$wrapper"
  chmod +x "$wrapper"
  echo "$wrapper"
}
for t in "${targets[@]}"; do
  case "$t" in
    *-linux-musl*) ;;
    *) echo "build-static: $t is not a musl target" >&2; exit 2 ;;
  esac
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  triple=$(tr '-' '_' <<<"$t")
  export "CC_$triple=$(zig_tool "$t" cc)" "AR_$triple=$(zig_tool "$t" ar)"
  if [ "$t" != "$host" ]; then
    var="CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$t")_LINKER"
    export "$var=${!var:-rust-lld}"
  fi
  start=$SECONDS
  CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked --target "$t" --bin tmon
  cp "target/$t/release/tmon" "target/static/tmon-$version-$t"
  echo "build-static: target/static/tmon-$version-$t ($(stat -c %s "target/static/tmon-$version-$t") bytes) in $((SECONDS - start)) s"
done
