#!/usr/bin/env bash
# The tests check feeds with independent tools from Debian: xmllint (libxml2-utils),
# python3-feedparser (run by /usr/bin/python3) and Chromium (the feeds' browser pages, headless);
# the integration tests run against moto_server (a real S3/SQS API, from PyPI's moto[server]).
# Install whichever is missing where we can; otherwise say, in one line, what is missing and how
# to install it, and fail before any test runs (a missing moto_server would otherwise fail every
# integration suite, one hint at a time).
set -euo pipefail

MOTO_PACKAGE="moto[server]"
missing=()
how=()

# --- Debian packages -------------------------------------------------------------------------
need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
/usr/bin/python3 -c "import feedparser" >/dev/null 2>&1 || need+=(python3-feedparser)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test tools: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    missing+=("${need[@]}")
    how+=("install with: sudo apt-get install ${need[*]}")
  fi
fi

# --- moto_server -----------------------------------------------------------------------------
# test/support/moto.ts runs the first moto_server on PATH, so that is the only place that counts.
on_path() { hash -r; command -v moto_server >/dev/null 2>&1; }

# Where an installer may have put moto_server without it being on PATH (pip --user, pipx).
install_dirs() {
  if command -v pipx >/dev/null 2>&1; then
    pipx environment --value PIPX_BIN_DIR 2>/dev/null || echo "${PIPX_BIN_DIR:-$HOME/.local/bin}"
  fi
  # pip puts scripts in the interpreter's own folder, or the user scheme's with --user.
  command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import os, sysconfig
print(sysconfig.get_path("scripts"))
print(sysconfig.get_path("scripts", os.name + "_user"))' 2>/dev/null
  return 0
}

# Bounded retries: without a package index (offline, a proxy) pip would otherwise retry for minutes.
PIP_ARGS=(--retries 1 --timeout 20 --disable-pip-version-check --quiet)
failure=""
try_install() { # label, command...
  local label="$1" log
  shift
  log="$(mktemp)"
  echo "installing $MOTO_PACKAGE with $label (needed by the integration tests)" >&2
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  # Keep the installer's own last word for the one line below.
  failure="$label failed: $(grep -v '^[[:space:]]*$' "$log" | tail -n 1 || true)"
  rm -f "$log"
  return 1
}

if ! on_path; then
  if command -v pipx >/dev/null 2>&1; then
    try_install pipx pipx install --pip-args="${PIP_ARGS[*]}" "$MOTO_PACKAGE" || true
  fi
  if ! on_path && command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    # --user is refused inside a virtualenv, whose bin folder is on PATH anyway.
    user=(--user)
    python3 -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)' 2>/dev/null && user=()
    try_install pip python3 -m pip install "${user[@]}" "${PIP_ARGS[@]}" "$MOTO_PACKAGE" || true
  fi
  if ! on_path; then
    found=""
    while IFS= read -r dir; do
      if [ -n "$dir" ] && [ -x "$dir/moto_server" ]; then
        found="$dir"
        break
      fi
    done < <(install_dirs)
    missing+=(moto_server)
    if [ -n "$found" ]; then
      how+=("moto_server is in $found, which is not on PATH: export PATH=\"$found:\$PATH\"")
    else
      how+=("install with: pipx install '$MOTO_PACKAGE' (or python3 -m pip install --user '$MOTO_PACKAGE'${failure:+; $failure})")
    fi
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  joined="$(printf '%s; ' "${how[@]}")"
  echo "missing test tools: ${missing[*]}; ${joined%; }" >&2
  exit 1
fi
