#!/bin/sh
# A "Get IT help" shortcut on a Linux or macOS desktop that opens the help page with this
# machine's facts in the link (docs/button-link.md). Run it again to update it.
#
#   install-button.sh --url https://<api> --key <button key> [--title "Get IT help"]
#                     [--email user@example.com] [--name "Dan Jump"] [--uninstall] [--print-link]
#                     [--hostname H] [--ip A.B.C.D] [--mac AA-BB-CC-DD-EE-FF]   (give any of these,
#                     and the machine's facts are taken from them instead of read)
set -eu

url= key= title="Get IT help" email= name= name_given= facts_given= uninstall= print_link= host= ip= mac=
usage() { sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --url) url=${2:-}; shift 2 ;;
    --key) key=${2:-}; shift 2 ;;
    --title) title=${2:-}; shift 2 ;;
    --email) email=${2:-}; shift 2 ;;
    --name) name=${2:-}; name_given=1; shift 2 ;;
    --hostname) host=${2:-}; facts_given=1; shift 2 ;;
    --ip) ip=${2:-}; facts_given=1; shift 2 ;;
    --mac) mac=${2:-}; facts_given=1; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    --print-link) print_link=1; shift ;;
    -h|--help) usage ;;
    *) echo "install-button.sh: unknown option $1" >&2; usage ;;
  esac
done

os=$(uname -s)
# Where the shortcut goes: the desktop (and the applications menu on Linux).
desktop=${XDG_DESKTOP_DIR:-$HOME/Desktop}
file_name=$(printf '%s' "$title" | tr -c 'A-Za-z0-9 ._-' '-')
# The shortcuts, as the positional parameters (the options are read): names may hold spaces.
if [ "$os" = Darwin ]; then
  set -- "$desktop/$file_name.webloc"
else
  set -- "$desktop/$file_name.desktop" "${XDG_DATA_HOME:-$HOME/.local/share}/applications/$file_name.desktop"
fi

if [ -n "$uninstall" ]; then
  for f in "$@"; do rm -f "$f" && echo "removed: $f"; done
  exit 0
fi
[ -n "$url" ] && [ -n "$key" ] || { echo "install-button.sh: --url and --key are needed" >&2; usage; }

# RFC 3986: letters, digits and -._~ stay, every other byte is %XX.
encode() {
  printf '%s' "$1" | od -An -v -tx1 | tr -s ' \n' '  ' | {
    out=
    for byte in $(cat); do
      case $byte in
        3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|2e|5f|7e)
          out="$out$(printf "\\$(printf '%03o' "0x$byte")")" ;;
        *) out="$out%$(printf '%s' "$byte" | tr 'a-f' 'A-F')" ;;
      esac
    done
    printf '%s' "$out"
  }
}

# This machine's facts; any that cannot be read is left out of the link.
user=${USER:-$(id -un)}
# The account's full name, unless --name says otherwise (an empty --name leaves it out).
if [ -z "$name_given" ]; then
  name=$( (getent passwd "$user" 2>/dev/null || true) | cut -d: -f5 | cut -d, -f1)
  [ -n "$name" ] || [ "$os" != Darwin ] || name=$(id -F 2>/dev/null || true)
fi
if [ -z "$facts_given" ]; then
  host=$(hostname 2>/dev/null || uname -n)
  if [ "$os" = Darwin ]; then
    iface=$(route -n get default 2>/dev/null | awk '/interface:/ {print $2}')
    [ -z "$iface" ] || ip=$(ipconfig getifaddr "$iface" 2>/dev/null || true)
    [ -z "$iface" ] || mac=$(ifconfig "$iface" 2>/dev/null | awk '/ether/ {print $2}')
  else
    # The interface of the default route, read from the routing table: nothing is sent.
    iface=$( (ip route show default 2>/dev/null || true) | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
    [ -z "$iface" ] || ip=$( (ip -4 -o addr show dev "$iface" 2>/dev/null || true) | awk '{split($4, a, "/"); print a[1]; exit}')
    [ -z "$iface" ] || [ ! -r "/sys/class/net/$iface/address" ] || mac=$(cat "/sys/class/net/$iface/address")
  fi
fi
mac=$(printf '%s' "$mac" | tr 'a-f:' 'A-F-')

# The API's base URL or the stack's TicketsUrl output (.../tickets): both lead to the help page.
base=${url%/}
base=${base%/tickets}
link="$base/help#key=$(encode "$key")"
for field in email name hostname ip mac; do
  case $field in
    email) v=$email ;; name) v=$name ;; hostname) v=$host ;; ip) v=$ip ;; mac) v=$mac ;;
  esac
  [ -z "$v" ] || link="$link&$field=$(encode "$v")"
done

if [ -n "$print_link" ]; then
  printf '%s\n' "$link"
  exit 0
fi

for f in "$@"; do
  mkdir -p "$(dirname "$f")"
  if [ "$os" = Darwin ]; then
    cat >"$f" <<WEBLOC
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>URL</key><string>$(printf '%s' "$link" | sed 's/&/\&amp;/g')</string></dict></plist>
WEBLOC
  else
    cat >"$f" <<DESKTOP
[Desktop Entry]
Type=Link
Version=1.0
Name=$title
Icon=help-browser
URL=$link
DESKTOP
    chmod 0755 "$f"
  fi
  echo "installed: $f"
done
