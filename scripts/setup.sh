#!/usr/bin/env bash
# Installs what rx-streamer's tests need on a fresh Debian/Ubuntu machine with
# Node 20: redis-server, PostgreSQL and nginx (real servers the tests start on
# free ports), Chromium and an emoji font (the browser tests), then the npm packages.
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
# nginx in front of two instances (test/e2e/nginx.test.ts runs deploy/nginx.conf);
# the binary is in /usr/sbin, which a non-root PATH may lack: ask dpkg.
dpkg -s nginx >/dev/null 2>&1 || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [[ " ${need[*]} " == *" nginx "* ]]; then
    # Debian's package starts nginx as a service on port 80 and enables it at boot.
    # The tests start their own, on free ports with a config and prefix of their
    # own, and need none: stop it and keep it from starting again.
    if [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
    else
      $sudo service nginx stop >/dev/null 2>&1 || true
      $sudo update-rc.d nginx disable >/dev/null 2>&1 || true
    fi
  fi
fi

npm ci --no-audit --no-fund
