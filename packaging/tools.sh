# Sourced by the packaging scripts: a venv holding the pinned tools of requirements.txt, created
# on first use (and again when the pins change) under target/, with its bin/ put first on PATH.
# TMON_TOOLS_VENV moves it.

TMON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_VENV=${TMON_TOOLS_VENV:-$TMON_ROOT/target/packaging/tools}

tools_venv() {
  local req="$TMON_ROOT/packaging/requirements.txt" stamp="$TOOLS_VENV/.requirements"
  if ! cmp -s "$req" "$stamp" 2>/dev/null; then
    echo "packaging: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $TOOLS_VENV"
    rm -rf "$TOOLS_VENV"
    python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
  # maturin finds zig through `python -m ziglang`, so the venv's python must come first.
  export PATH="$TOOLS_VENV/bin:$PATH"
}

# The crate's version, as Cargo.toml says it (the wheel's and the binary's version).
tmon_version() {
  sed -n 's/^version = "\(.*\)"$/\1/p' "$TMON_ROOT/Cargo.toml" | head -n 1
}

# The commit `tmon --version` should name when built from this checkout.
tmon_commit() {
  git -C "$TMON_ROOT" rev-parse --short=9 HEAD
}
