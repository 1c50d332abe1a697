# shellcheck shell=bash
# Sourced: the loopback ports the local stack listens on, chosen so that a busy machine (another
# demo, a service on 9100) does not stop it with "Address already in use".

# Whether something listens on 127.0.0.1:PORT.
_port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The port for the variable NAME, printed: its value when set (which must be free: the caller
# asked for that one), else DEFAULT when free, else a free port the system gives. What was
# chosen instead of DEFAULT, or why a given port cannot be used, goes to stderr.
#   choose_port NAME DEFAULT
choose_port() {
  local name=$1 default=$2
  local given=${!name:-}
  if [ -n "$given" ]; then
    if _port_taken "$given"; then
      echo "port $given ($name) is in use: stop what listens there, or set $name to a free port" >&2
      return 1
    fi
    echo "$given"
    return 0
  fi
  if ! _port_taken "$default"; then
    echo "$default"
    return 0
  fi
  local free
  free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "port $default is in use: $name=$free instead (set $name to choose another)" >&2
  echo "$free"
}
