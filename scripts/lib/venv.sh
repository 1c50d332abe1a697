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
