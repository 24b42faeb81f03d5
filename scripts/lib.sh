# Shared by scripts/dev and scripts/test. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
RUN_DIR="$ROOT/.run"
mkdir -p "$RUN_DIR"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the pinned Python tools into .venv unless they are already there, so a fresh
# machine needs only what the README lists (Rust, Python 3 with venv and pip, Node.js 20, git).
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

# A full run from a fresh clone writes about 5 GB (target/, .venv, web/node_modules); 6 GB leaves
# room for logs. When the disk runs out mid-build the linker dies with a bus error that names no
# cause, so say it first. Only a warning: a failing df never stops the run.
warn_if_disk_low() {
  local need_kb=$((6 * 1024 * 1024)) free_kb
  free_kb="$(df -Pk "$ROOT" 2>/dev/null | awk 'NR == 2 { print $4 }')" || return 0
  if [[ -n "$free_kb" && "$free_kb" -lt "$need_kb" ]]; then
    log "warning: only $((free_kb / 1024)) MB free beside $ROOT; a full run needs about 6 GB," \
      "and a full disk shows up as a linker 'Bus error' or 'No space left on device'"
  fi
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

# The admin app's npm packages, exactly as web/package-lock.json pins them (npm ci), installed
# again only when the lock file changes.
ensure_web() {
  local stamp="$ROOT/web/node_modules/.lock.sha" want
  want="$(sha256sum "$ROOT/web/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "installing the admin app's npm packages (npm ci in web/)"
    (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

# Debian's Chromium for the browser tests; Playwright drives it, and downloads no browser.
ensure_chromium() {
  if [[ ! -x /usr/bin/chromium ]]; then
    log "installing Chromium from Debian's packages"
    local sudo=""
    [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
    # Another install on the machine may hold dpkg's lock for a while: wait for it.
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
  fi
}

# The local OpenID Connect issuer and the front door (the API Gateway stand-in, which also
# serves the built app from web/dist) in front of `cargo lambda watch` at $1. Logs go to $2.
# Ports: $3 app, $4 front door, $5 issuer (free ports when not given). Sets APP_URL,
# FRONT_DOOR_URL and ISSUER_URL.
start_web_stack() {
  local watch_url="$1" log_dir="$2"
  local app_port="${3:-$(free_port)}" door_port="${4:-$(free_port)}" issuer_port="${5:-$(free_port)}"
  APP_URL="http://127.0.0.1:$app_port"
  FRONT_DOOR_URL="http://127.0.0.1:$door_port"
  ISSUER_URL="http://127.0.0.1:$issuer_port"
  node "$ROOT/web/dev/issuer.mjs" --port "$issuer_port" --redirect-origin "$APP_URL" \
    >"$log_dir/issuer.log" 2>&1 &
  PIDS+=("$!")
  wait_for_line "$log_dir/issuer.log" "issuer listening on" "the local issuer"
  node "$ROOT/web/dev/front-door.mjs" --port "$door_port" --watch "$watch_url" \
    --issuer "$ISSUER_URL" --app-port "$app_port" --app-dir "$ROOT/web/dist" \
    >"$log_dir/front-door.log" 2>&1 &
  PIDS+=("$!")
  wait_for_line "$log_dir/front-door.log" "admin app on" "the front door"
}

# One request per function through `cargo lambda watch` at $1 (with the development identity
# headers): watch builds and starts each function on its first request, which must not happen
# while a test or a fuzzer waits for an answer.
warm_functions() {
  local api="$1"
  local l="/v1/companies/c0000000-0000-4000-8000-000000000001/locations/10000000-0000-4000-8000-000000000001"
  local method path
  for route in "GET /v1/companies" "GET /v1/me" "GET $l/booking/request-details?system=hano" "POST $l/booking/test" "POST $l/booking/save"; do
    method="${route%% *}" path="${route#* }"
    local ok=""
    for _ in $(seq 600); do
      if python3 - "$method" "$api$path" <<'PY' 2>/dev/null; then ok=1; break; fi
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
data = b"{}" if method == "POST" else None
req = urllib.request.Request(url, data=data, method=method, headers={
    "X-Dev-User": "demo-admin", "Content-Type": "application/json"})
try:
    status = urllib.request.urlopen(req, timeout=60).status
except urllib.error.HTTPError as e:
    status = e.code
sys.exit(0 if status < 500 else 1)
PY
      sleep 0.5
    done
    if [[ -z "$ok" ]]; then
      log "$method $path did not answer at $api"
      return 1
    fi
  done
}
