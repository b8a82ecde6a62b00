#!/usr/bin/env bash
# Builds tmon as one static Linux executable (musl libc linked in, no dynamic loader, no glibc
# version to match) into target/static/tmon-VERSION-TARGET.
#
#   packaging/build-static.sh              the host's architecture
#   packaging/build-static.sh --all        x86_64 and aarch64
#   packaging/build-static.sh TRIPLE...    these musl targets
#
# tmon has no C dependency, so the only foreign part is the link: the host's own cc for the
# host's architecture (Rust's musl targets bring their own crt objects and libc.a), and rust-lld,
# shipped with the toolchain, for the other one. The binary is stripped and carries no debug info.
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
for t in "${targets[@]}"; do
  case "$t" in
    *-linux-musl*) ;;
    *) echo "build-static: $t is not a musl target" >&2; exit 2 ;;
  esac
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
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
