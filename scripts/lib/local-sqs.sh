# shellcheck shell=bash
# Sourced by scripts/demo after scripts/lib/local-stack.sh: a local SQS (moto_server, PyPI
# `moto[server]`, in .venv) with a parking queue, so that the function under `cargo lambda watch`
# parks presses there while the BMS sandbox is down. Stopped with the stack.
#
# `start_local_sqs` must run before `start_local_stack` (the function reads the environment when
# it starts). After it:
#   BUTTON_QUEUE_URL       the parking queue, as the function sees it
#   AWS_ENDPOINT_URL_SQS   moto, where the AWS SDK sends every SQS call

# shellcheck source=scripts/lib/ports.sh
source scripts/lib/ports.sh
SQS_PORT=$(choose_port SQS_PORT 9102) || exit 1

start_local_sqs() {
  venv_tool moto_server 'moto[server]>=5.1,<6'
  SQS_LOGS=$(mktemp -d)
  .venv/bin/moto_server -H 127.0.0.1 -p "$SQS_PORT" >"$SQS_LOGS/moto.log" 2>&1 &
  _stack_pids+=($!)
  # Stopped with the stack, or on its own should the demo fail before the stack starts.
  trap stop_local_stack EXIT
  _wait_for_port "$SQS_PORT" || _stack_fail "moto_server did not listen on port $SQS_PORT" "$SQS_LOGS/moto.log"

  # Local only: moto takes any credentials, and these keep real ones out of the demo.
  export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$SQS_PORT"
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
  BUTTON_QUEUE_URL=$(python3 scripts/lib/sqs.py create-queue "$AWS_ENDPOINT_URL_SQS/" kaseya-button-parked) ||
    _stack_fail "the parking queue could not be created" "$SQS_LOGS/moto.log"
  export BUTTON_QUEUE_URL
}
