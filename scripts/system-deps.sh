#!/usr/bin/env bash
# System packages (Debian), only what is missing. `system-deps.sh run`: what the local stack needs
# (ffmpeg: every conversion decodes and encodes with it). No argument: what the tests need too
# (chromium for the PWA tests, node, fonts, PostgreSQL when no server answers).
set -euo pipefail
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
if [ "${1:-test}" = "run" ]; then
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing system packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  exit 0
fi
command -v chromium >/dev/null || need+=(chromium)
command -v node >/dev/null || need+=(nodejs npm)
# Devanagari and Tamil glyphs for the PWA's screenshots.
dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core)
if ! command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  need+=(postgresql postgresql-contrib)
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
