#!/usr/bin/env bash
# Idempotent set-up for a fresh clone on Debian with Node 20+: the Debian tools the lab and the
# tests lean on, the npm packages, and the TypeScript build. Quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: command or file that proves each one is installed -> package name.
declare -A need=(
  [tcpdump]=tcpdump [tshark]=tshark [ip]=iproute2 [iptables]=iptables [curl]=curl
  [openssl]=openssl [python3]=python3 [javac]=default-jdk-headless [chromium]=chromium [firefox-esr]=firefox-esr
  [/usr/share/java/okhttp.jar]=libokhttp-java [/usr/share/java/okio.jar]=libokio-java
  [/usr/bin/socat]=socat [conntrack]=conntrack [/usr/share/fonts/truetype/dejavu]=fonts-dejavu-core
  [/usr/lib/python3/dist-packages/requests]=python3-requests [/usr/lib/python3/dist-packages/httpx]=python3-httpx
  [/usr/lib/python3/dist-packages/aiohttp]=python3-aiohttp
  [go]=golang-go [bpftrace]=bpftrace
  [psql]=postgresql-client [/usr/lib/postgresql/15/bin/postgres]=postgresql [redis-cli]=redis-tools
  [redis-server]=redis-server [mariadb]=mariadb-client [/usr/sbin/mariadbd]=mariadb-server
  [/usr/sbin/nginx]=nginx-light [/usr/sbin/haproxy]=haproxy [/usr/bin/mitmdump]=mitmproxy
)
missing=()
for probe in "${!need[@]}"; do
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("${need[$probe]}")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("${need[$probe]}"); fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root to install them): ${missing[*]}" >&2
    echo "setup: the parts that need them will say so and be skipped" >&2
  fi
fi

# npm packages: install when node_modules is missing or older than the lock file.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build (TypeScript, strict; the tests are compiled and type-checked with everything else), then
# the command's bundle (scripts/bundle.ts): package.json's build script, the one place it is said.
npm run --silent build
