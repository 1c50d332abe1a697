#!/bin/sh
# Installs the help-desk button on Linux or macOS: the launcher (kaseya-button, beside this
# script), its settings, and a "Get IT help" shortcut that runs it. The launcher reads the
# machine's facts when the button is pressed (docs/button-link.md). Run it again to update it.
#
#   install-button.sh --url https://<api> --key <button key> [--title "Get IT help"]
#                     [--email user@example.com] [--user] [--uninstall] [--print-link]
#
# As root (an RMM) it installs for every user: /usr/local/bin/kaseya-button,
# /etc/kaseya-button.conf, the applications menu and each /home/*/Desktop. As a user, or with
# --user: ~/.local/bin, ~/.config/kaseya-button.conf, ~/Desktop and the user's menu. $DESTDIR,
# when set, is put before every system path (packaging; tests).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
url= key= title="Get IT help" email= per_user= uninstall= print_link=
usage() { sed -n '6,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --url) url=${2:-}; shift 2 ;;
    --key) key=${2:-}; shift 2 ;;
    --title) title=${2:-}; shift 2 ;;
    --email) email=${2:-}; shift 2 ;;
    --user) per_user=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    --print-link) print_link=1; shift ;;
    -h|--help) usage ;;
    *) echo "install-button.sh: unknown option $1" >&2; usage ;;
  esac
done

if [ -n "$print_link" ]; then
  [ -n "$url" ] && [ -n "$key" ] || { echo "install-button.sh: --url and --key are needed" >&2; usage; }
  exec sh "$here/kaseya-button" --print-link --url "$url" --key "$key" --email "$email"
fi

os=$(uname -s)
file_name=$(printf '%s' "$title" | tr -c 'A-Za-z0-9 ._-' '-')
if [ "$(id -u)" -eq 0 ] && [ -z "$per_user" ]; then
  root=${DESTDIR:-}
  bin_dir=$root/usr/local/bin
  conf=$root/etc/kaseya-button.conf
  if [ "$os" = Darwin ]; then
    set -- "$root/Applications/$file_name.app"
  else
    set -- "$root/usr/local/share/applications/$file_name.desktop"
    for d in "$root"/home/*/Desktop; do
      [ ! -d "$d" ] || set -- "$@" "$d/$file_name.desktop"
    done
  fi
else
  bin_dir=$HOME/.local/bin
  conf=${XDG_CONFIG_HOME:-$HOME/.config}/kaseya-button.conf
  desktop=${XDG_DESKTOP_DIR:-$HOME/Desktop}
  if [ "$os" = Darwin ]; then
    set -- "$desktop/$file_name.app" "$HOME/Applications/$file_name.app"
  else
    set -- "$desktop/$file_name.desktop" "${XDG_DATA_HOME:-$HOME/.local/share}/applications/$file_name.desktop"
  fi
fi
launcher=$bin_dir/kaseya-button
# The path the shortcut runs: the installed one, without $DESTDIR.
run_path=${launcher#"${root:-}"}

if [ -n "$uninstall" ]; then
  for f in "$@" "$launcher" "$conf"; do
    [ ! -e "$f" ] || { rm -rf "$f" && echo "removed: $f"; }
  done
  exit 0
fi
[ -n "$url" ] && [ -n "$key" ] || { echo "install-button.sh: --url and --key are needed" >&2; usage; }
case "$url$key$email" in
  *'
'*) echo "install-button.sh: --url, --key and --email must be one line each" >&2; exit 2 ;;
esac

mkdir -p "$bin_dir" "$(dirname "$conf")"
cp "$here/kaseya-button" "$launcher.new"
chmod 0755 "$launcher.new"
mv -f "$launcher.new" "$launcher"
echo "installed: $launcher"
# Every user reads the settings; the button key is on every desktop anyway (docs/SECURITY.md).
(umask 022 && printf 'url=%s\nkey=%s\nemail=%s\n' "$url" "$key" "$email" >"$conf.new")
chmod 0644 "$conf.new"
mv -f "$conf.new" "$conf"
echo "installed: $conf"

# A .desktop file's Exec quotes its path: ", `, $ and \ escaped.
exec_path=$(printf '%s' "$run_path" | sed 's/[\\"`$]/\\&/g')
for f in "$@"; do
  mkdir -p "$(dirname "$f")"
  if [ "$os" = Darwin ]; then
    # A small application bundle whose program is the launcher: Finder runs it, no Terminal.
    rm -rf "$f"
    mkdir -p "$f/Contents/MacOS"
    printf '#!/bin/sh\nexec "%s" "$@"\n' "$run_path" >"$f/Contents/MacOS/kaseya-button"
    chmod 0755 "$f/Contents/MacOS/kaseya-button"
    cat >"$f/Contents/Info.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CFBundleExecutable</key><string>kaseya-button</string>
<key>CFBundleIdentifier</key><string>com.kaseya-button.launcher</string>
<key>CFBundleName</key><string>$(printf '%s' "$title" | sed 's/&/\&amp;/g; s/</\&lt;/g')</string>
<key>CFBundlePackageType</key><string>APPL</string>
</dict></plist>
PLIST
  else
    cat >"$f" <<DESKTOP
[Desktop Entry]
Type=Application
Version=1.0
Name=$title
Icon=help-browser
Exec="$exec_path"
Terminal=false
Categories=Utility;
DESKTOP
    chmod 0755 "$f"
    # A shortcut on someone's desktop is theirs, so that their desktop may trust it.
    case $f in
      */home/*/Desktop/*) chown "$(stat -c %u:%g "$(dirname "$f")")" "$f" 2>/dev/null || true ;;
    esac
  fi
  echo "installed: $f"
done
