#!/usr/bin/env bash
# Installs what rx-streamer's tests need on a fresh Debian/Ubuntu machine with
# Node 20: redis-server and PostgreSQL (real servers the tests start on free
# ports), Chromium and an emoji font (the browser tests), then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The Postgres tests run the versioned binaries (initdb, pg_ctl) from
# /usr/lib/postgresql, which are not on PATH: ask dpkg, not command -v.
dpkg -s postgresql >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Colour emoji for the live page's screenshots (Chromium draws outlines without it).
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || need+=(fonts-noto-color-emoji)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
