# shellcheck shell=bash
# Sourced by scripts/demo and scripts/api-check: the BMS sandbox and the function under
# `cargo lambda watch`, both on loopback, started once and stopped by their PIDs on exit.
#
# After `start_local_stack`:
#   SANDBOX_URL  the sandbox's base URL (its seeded tenant: Contoso MSP)
#   INVOKE_URL   cargo lambda's invoke server (`cargo lambda invoke --invoke-port`)
#   FUNCTION_URL the function over plain HTTP, as a Lambda function URL: INVOKE_URL/lambda-url/kaseya-button
#   STACK_LOGS   the directory with sandbox.log and watch.log

# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh

SANDBOX_PORT=$(choose_port SANDBOX_PORT 9100) || exit 1
INVOKE_PORT=$(choose_port INVOKE_PORT 9000) || exit 1
DEMO_BUTTON_KEY=demo-button-key
DEMO_OPERATOR_KEY=demo-operator-key

_stack_pids=()
STACK_LOGS=
stop_local_stack() {
  local p
  for p in "${_stack_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_stack_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  _stack_pids=()
  # The logs were shown if something failed; nothing else reads them once the stack is down.
  if [ -n "$STACK_LOGS" ]; then rm -rf "$STACK_LOGS"; fi
  STACK_LOGS=
}

# Fail with the log that explains why.
_stack_fail() {
  echo "$1; its log ($2):" >&2
  tail -n 40 "$2" >&2
  exit 1
}

_wait_for_port() {
  local port=$1 i
  for i in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

start_local_stack() {
  venv_tool cargo-lambda 'cargo-lambda>=1.8,<2'
  export PATH="$PWD/.venv/bin:$PATH"
  trap stop_local_stack EXIT

  # One build of both binaries, shared with `cargo test` and `cargo lambda watch`: every build
  # of the workspace asks for the same features (workspace-hack), so none compiles a crate again.
  local started=$SECONDS
  echo "building the function and the BMS sandbox (cargo build --workspace --bins): the first build" >&2
  echo "  compiles about 290 crates, 3 to 15 minutes depending on the machine; later builds take seconds" >&2
  cargo build --workspace --bins
  echo "built in $((SECONDS - started)) s" >&2

  STACK_LOGS=$(mktemp -d)
  "${CARGO_TARGET_DIR:-target}/debug/bms-sandbox" --port "$SANDBOX_PORT" >"$STACK_LOGS/sandbox.out" 2>"$STACK_LOGS/sandbox.log" &
  _stack_pids+=($!)
  local i
  for i in $(seq 100); do
    grep -q '^KASEYA_CREDENTIALS=' "$STACK_LOGS/sandbox.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^KASEYA_CREDENTIALS=' "$STACK_LOGS/sandbox.out" ||
    _stack_fail "the sandbox did not start on port $SANDBOX_PORT" "$STACK_LOGS/sandbox.log"
  SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT"
  local credentials
  credentials=$(sed -n 's/^KASEYA_CREDENTIALS=//p' "$STACK_LOGS/sandbox.out")

  # The function's environment as template.yaml sets it in AWS, except that the secret's value
  # is given directly instead of through Secrets Manager.
  export KASEYA_API_URL="$SANDBOX_URL"
  export KASEYA_CREDENTIALS="{\"credentials\": \"$credentials\", \"buttonKeys\": [\"$DEMO_BUTTON_KEY\"], \"operatorKeys\": [\"$DEMO_OPERATOR_KEY\"]}"
  BUTTON_RULES=$(cat docs/rules.example.json)
  export BUTTON_RULES
  export BUTTON_PREVIEW=on
  unset KASEYA_SECRET_ID

  cargo lambda watch --quiet --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
    >"$STACK_LOGS/watch.log" 2>&1 &
  _stack_pids+=($!)
  _wait_for_port "$INVOKE_PORT" ||
    _stack_fail "cargo lambda watch did not listen on port $INVOKE_PORT" "$STACK_LOGS/watch.log"
  INVOKE_URL="http://127.0.0.1:$INVOKE_PORT"
  FUNCTION_URL="$INVOKE_URL/lambda-url/kaseya-button"
}
