# Shared by scripts/dev and scripts/test. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
RUN_DIR="$ROOT/.run"
mkdir -p "$RUN_DIR"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the pinned Python tools into .venv unless they are already there, so a fresh
# machine needs nothing but Rust, Python 3 and git.
ensure_tools() {
  local stamp="$VENV/.requirements.sha"
  local want
  want="$(sha256sum "$ROOT/scripts/requirements.txt" | cut -d' ' -f1)"
  if [[ ! -x "$VENV/bin/python3" ]]; then
    log "creating virtualenv in .venv"
    python3 -m venv "$VENV"
  fi
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "installing tools (moto, cargo-lambda, zig, cfn-lint, schemathesis) into .venv"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
    echo "$want" > "$stamp"
  fi
  # cargo-lambda finds zig through `python3 -m ziglang`: the venv's python must come first.
  export PATH="$VENV/bin:$PATH"
}

# rustfmt and clippy come with rustup's default profile, but a minimal toolchain lacks them.
ensure_rust_components() {
  local component
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      log "installing the Rust component $component"
      rustup component add "$component"
    fi
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_http() {
  local url="$1" what="$2" tries="${3:-100}"
  for _ in $(seq "$tries"); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  log "$what did not answer at $url"
  return 1
}

wait_for_line() {
  local file="$1" pattern="$2" what="$3"
  for _ in $(seq 150); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.2
  done
  log "$what did not start (see $file)"
  return 1
}

# Dummy credentials: the emulator accepts any, and the SDK must not go looking for real ones.
use_emulator_env() {
  local port="$1"
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-north-1
  export AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# moto, answering one request at a time so its conditional writes are atomic (see the script).
start_moto() {
  local port="$1" logfile="$2"
  "$VENV/bin/python3" "$ROOT/scripts/moto_serial.py" 127.0.0.1 "$port" >"$logfile" 2>&1 &
  echo $! > "$RUN_DIR/moto-$port.pid"
  PIDS+=("$!")
  wait_for_http "http://127.0.0.1:$port/moto-api/data.json" "the AWS emulator (moto)"
}

PIDS=()
stop_started() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
}
