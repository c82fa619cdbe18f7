#!/usr/bin/env bash
# The tests check feeds with independent tools from Debian: xmllint (libxml2-utils),
# python3-feedparser (run by /usr/bin/python3) and Chromium (the feeds' browser pages, headless).
# Install whichever is missing, or say how.
set -euo pipefail
need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
/usr/bin/python3 -c "import feedparser" >/dev/null 2>&1 || need+=(python3-feedparser)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test tools: ${need[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing test tools: ${need[*]}. Install them: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
