#!/usr/bin/env bash
# install-deps.sh: installs what fmtbank needs from Debian 12 packages, only what is missing.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

packages=(
    build-essential cmake pkg-config git clang bc procps
    libclang-rt-14-dev          # libFuzzer and the sanitizers' runtime for clang (tests/fuzz)
    libpq-dev uuid-dev libxlsxwriter-dev libcmocka-dev zlib1g-dev
    libssl-dev                  # OpenSSL 3 libcrypto: Ed25519 audit-chain anchors
    postgresql-15 postgresql-client-15 postgresql-contrib
    postgresql-server-dev-15    # the server module src/pgmodule/fmtbank_auth.c (PGXS flags)
    libkrb5-dev                 # gssapi/gssapi.h, included by the server headers (libpq-be.h)
    python3 python3-openpyxl    # independent xlsx reader used by the tests
    valgrind
    passwd                      # useradd, for the embedded server's system user
    time                        # /usr/bin/time -v: peak memory in tests/bench/bench_report.sh
    systemd                     # systemd-analyze verify of dist/fmtbankd.service (t0707)
    pgbackrest                  # fmtbank backup: backups and point-in-time restores (t0018)
    openssl                     # the archive recipe: openssl cms / pkeyutl (t0019)
)

# --coverage: also lcov, for "make coverage".
[ "${1:-}" = --coverage ] && packages+=(lcov)
# --slow: also what the slow tier alone needs: LibreOffice Calc without a GUI (~130 MB
# installed with its libraries) and poppler-utils, to print the reports to PDF and measure them
# (t0423-printed-pdf).
[ "${1:-}" = --slow ] && packages+=(libreoffice-calc-nogui poppler-utils)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The Debian postgresql package would create and start a cluster of its own; fmtbank does not use
# it (it runs its own embedded instance), so tell the package not to create one.
$SUDO mkdir -p /etc/postgresql-common
if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
