#!/usr/bin/env bash
# Installs Debian's chromium for the browser test (test/browser/), once: does nothing when a chromium is
# already there (CHROMIUM names another one), and never downloads a browser of its own. Needs root (or
# sudo) and apt; prints one line when it installs, nothing otherwise.
set -euo pipefail
browser="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: $browser is missing and apt-get is not available; install Chromium and set CHROMIUM to its path" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-chromium: installing Debian's chromium (apt-get)" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# apt's own chatter goes to the log, shown only when it fails.
if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
       $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-chromium: apt-get failed" >&2
  exit 1
fi
[ -x "$browser" ] || { echo "install-chromium: apt installed chromium but $browser is missing" >&2; exit 1; }
