# shellcheck shell=bash
# Sourced: the project's Python tools live in its own virtualenv, .venv (gitignored), installed
# from PyPI on first use, each pinned to a major version.

# Install a PyPI package into .venv unless its executable is already there.
#   venv_tool EXECUTABLE 'PIP-REQUIREMENT...'
venv_tool() {
  local exe=$1
  shift
  if [ ! -x ".venv/bin/$exe" ]; then
    echo "installing $* into .venv" >&2
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet "$@"
  fi
}

# Like venv_tool, in a virtualenv of its own: .venv/apart/EXECUTABLE (for a tool whose pinned
# dependencies clash with another's: checkov and aws-sam-cli pin different boto3 releases).
#   venv_tool_apart EXECUTABLE 'PIP-REQUIREMENT...'; then run .venv/apart/EXECUTABLE/bin/EXECUTABLE
venv_tool_apart() {
  local exe=$1
  shift
  local venv=".venv/apart/$exe"
  if [ ! -x "$venv/bin/$exe" ]; then
    echo "installing $* into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "$@"
  fi
}
