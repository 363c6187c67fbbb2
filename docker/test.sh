#!/usr/bin/env bash
# docker/test.sh: builds fmtbank's images without pulling anything from a registry and runs the
# compose stack end to end. Not part of "make test" / .ci/run (it takes minutes); run it as root:
#   bash docker/test.sh            (KEEP=1 keeps the stack and images afterwards)
# Steps: two Debian 12 base images from Debian packages (debootstrap, then "docker import"); the
# Dockerfile's build, test (every ctest test) and runtime stages and the postgres image, built with
# --network none; then compose.yaml (every container network_mode none, no bridge network):
# PostgreSQL healthy, "fmtbank init" completes, fmtbankd becomes active, a result file dropped in
# the inbox volume is imported exactly once (a copy under another name is not), a bad file is
# rejected with its report, the database container restarts and the daemon reconnects and imports
# again; then a failover: the standby service (db-standby) streams from db, serves a read and
# refuses a change ("read-only standby", exit 7), db is stopped, db-standby promoted, fmtbankd
# (multi-host connection string, target_session_attrs=read-write) reconnects to it and imports
# the next file exactly once; and "docker compose stop" ends fmtbankd with exit status 0.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
WORK=${WORK:-/var/tmp/fmtbank-docker}
export COMPOSE_PROJECT_NAME=fmtbank-test
COMPOSE=(docker-compose -f docker/compose.yaml -p "$COMPOSE_PROJECT_NAME")
docker compose version >/dev/null 2>&1 && COMPOSE=(docker compose -f docker/compose.yaml -p "$COMPOSE_PROJECT_NAME")

step() { echo "==> $*" >&2; }
fail() { echo "docker/test.sh: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, docker)"
command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info); start dockerd first"
"${COMPOSE[@]}" version >/dev/null 2>&1 || fail "neither \"docker compose\" nor docker-compose is installed"

# ---------------------------------------------------------------- base images from Debian packages
BUILD_PKGS=build-essential,zlib1g-dev,cmake,pkg-config,libpq-dev,uuid-dev,libxlsxwriter-dev,libssl-dev,libcmocka-dev,postgresql-15,postgresql-client-15,python3,python3-openpyxl,passwd,procps,bc,systemd
RUN_PKGS=libpq5,libuuid1,libxlsxwriter4,libssl3,passwd
base_image() { # NAME PACKAGES
    local name=$1 pkgs=$2 dir="$WORK/rootfs-$1"
    if docker image inspect "$name:$SUITE" >/dev/null 2>&1; then
        step "$name:$SUITE exists"
        return
    fi
    step "debootstrap $name ($pkgs)"
    rm -rf "$dir"
    mkdir -p "$WORK"
    debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$dir" "$MIRROR" >"$WORK/$name.log" 2>&1 \
        || { tail -20 "$WORK/$name.log"; fail "debootstrap $name"; }
    # The cluster the postgresql package made is not used (the postgres image makes its own).
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
        "$dir"/var/lib/postgresql/15 "$dir"/etc/postgresql/15
    tar -C "$dir" -c . | docker import - "$name:$SUITE" >/dev/null
    rm -rf "$dir"
}
base_image fmtbank-build-base "$BUILD_PKGS"
base_image fmtbank-run-base "$RUN_PKGS"

# ---------------------------------------------------------------- images
build() { # TARGET TAG
    step "docker build --target $1"
    DOCKER_BUILDKIT=0 docker build --network none -f docker/Dockerfile --target "$1" -t "$2" . \
        >"$WORK/build-$1.log" 2>&1 || { tail -40 "$WORK/build-$1.log"; fail "docker build --target $1"; }
}
build test fmtbank-test:latest
grep -E 'tests passed|tests failed' "$WORK/build-test.log" >&2 || true
build runtime fmtbank:latest
build postgres fmtbank-postgres:latest
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^fmtbank' >&2

# ---------------------------------------------------------------- the stack end to end
cleanup() {
    if [ -z "${KEEP:-}" ]; then
        "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
step "compose up"
"${COMPOSE[@]}" up -d >&2

wait_for() { # SECONDS DESCRIPTION CMD...
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 4; i++)); do
        "$@" >/dev/null 2>&1 && { step "ok: $what"; return 0; }
        sleep 0.25
    done
    "${COMPOSE[@]}" logs --no-color --tail 40 >&2 || true
    fail "$what"
}
logs() { "${COMPOSE[@]}" logs --no-color fmtbankd 2>&1; }
logs_have() { logs | grep -qF -- "$1"; }
inbox_has() { "${COMPOSE[@]}" exec -T fmtbankd test -e "/inbox/$1"; }
fmtbank_sql() {
    "${COMPOSE[@]}" exec -T db /usr/lib/postgresql/15/bin/psql -h /run/fmtbank -U postgres -d fmtbank \
        -X -A -t -q -c "$1"
}
drop() { # NAME < content
    "${COMPOSE[@]}" exec -T fmtbankd sh -c "cat > /inbox/.incoming && mv /inbox/.incoming /inbox/$1"
}

wait_for 120 "init completed" sh -c "[ \"\$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' \
    \$(${COMPOSE[*]} ps -q -a init 2>/dev/null || ${COMPOSE[*]} ps -q init))\" = 'exited 0' ]"
wait_for 60 "fmtbankd active" logs_have "active daemon"

printf 'code,birth_year,sex\nD-7000001,1980,F\nD-7000002,1981,M\n' | drop first.csv
wait_for 30 "first.csv imported" logs_have 'imported "first.csv": 2 rows'
wait_for 10 "first.csv in processed/" inbox_has processed/first.csv
printf 'code,birth_year,sex\nD-7000001,1980,F\nD-7000002,1981,M\n' | drop same-again.csv
wait_for 30 "the same content is not imported again" logs_have '"same-again.csv" has the same content as "first.csv"'
printf 'code,birth_year,sex\nnot-a-code,1980,F\n' | drop bad.csv
wait_for 30 "bad.csv rejected" inbox_has rejected/bad.csv.errors.txt
[ "$(fmtbank_sql "SELECT count(*) FROM fmtbank.donor WHERE code LIKE 'D-7%'")" = 2 ] || fail "donor count"
step "ok: 2 donors, imported once"
# No container has a network interface but loopback.
for s in db db-standby fmtbankd; do
    ifs=$("${COMPOSE[@]}" exec -T "$s" sh -c 'ls /sys/class/net' | tr '\n' ' ')
    [ "$ifs" = "lo " ] || fail "$s has network interfaces: $ifs"
done
step "ok: no network interface but lo in db, db-standby and fmtbankd"
[ "$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$("${COMPOSE[@]}" ps -q fmtbankd)")" = none ] \
    || fail "fmtbankd is not network_mode none"

step "restart the database container"
"${COMPOSE[@]}" restart db >&2
wait_for 60 "fmtbankd reconnected" logs_have "(reconnected)"
logs | grep -E "lost the database|could not connect|reconnected" >&2 || true
printf 'code,birth_year,sex\nD-7000003,1982,X\n' | drop after-restart.csv
wait_for 60 "after-restart.csv imported" logs_have 'imported "after-restart.csv": 1 row'
status=$("${COMPOSE[@]}" run --rm -T --entrypoint /usr/local/bin/fmtbank init \
    --db "host=/run/fmtbank dbname=fmtbank" --user postgres status)
echo "$status" | grep -q "^daemon .*pid" || fail "status shows no heartbeat: $status"
step "ok: fmtbank status shows the heartbeat"

# ---------------------------------------------------------------- standby and failover
standby_sql() {
    "${COMPOSE[@]}" exec -T db-standby /usr/lib/postgresql/15/bin/psql -h /run/fmtbank-standby \
        -U postgres -d fmtbank -X -A -t -q -c "$1"
}
cli() { # CONNINFO ARGS...: the fmtbank CLI in a one-shot container (both socket volumes)
    local ci=$1
    shift
    "${COMPOSE[@]}" run --rm -T --entrypoint /usr/local/bin/fmtbank init --db "$ci" "$@"
}
streaming() { [ "$(fmtbank_sql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ]; }
caught_up() {
    local lsn
    lsn=$(fmtbank_sql "SELECT pg_current_wal_lsn()") &&
        [ "$(standby_sql "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]
}
wait_for 120 "db-standby streams from db" streaming
wait_for 60 "db-standby has replayed everything" caught_up
[ "$(standby_sql "SELECT count(*) FROM fmtbank.donor WHERE code LIKE 'D-7%'")" = 3 ] \
    || fail "the standby does not have the imported donors"
step "ok: the standby has the 3 imported donors"
out=$(cli "host=/run/fmtbank-standby dbname=fmtbank" --user postgres status)
echo "$out" | grep -q "standby (read-only)" || fail "status on the standby: $out"
step "ok: status reads the standby"
rc=0
out=$(cli "host=/run/fmtbank-standby dbname=fmtbank" --user postgres donor add D-7000009 \
    --birth-year 1980 --sex F 2>&1) || rc=$?
[ "$rc" = 7 ] && echo "$out" | grep -q "read-only standby" || fail "a change on the standby: exit $rc: $out"
step "ok: a change on the standby fails with read-only standby (exit 7)"

step "failover: stop db, promote db-standby"
reconnects=$(logs | grep -cF "(reconnected)" || true)
losses=$(logs | grep -cF "lost the database connection" || true)
"${COMPOSE[@]}" stop db >&2
wait_for 60 "fmtbankd lost the primary" sh -c "[ \"\$(${COMPOSE[*]} logs --no-color fmtbankd 2>&1 \
    | grep -cF 'lost the database connection')\" -gt $losses ]"
"${COMPOSE[@]}" exec -T db-standby /usr/lib/postgresql/15/bin/pg_ctl promote -w \
    -D /var/lib/fmtbank/pgdata >&2
[ "$(standby_sql "SELECT pg_is_in_recovery()")" = f ] || fail "db-standby is still in recovery"
step "ok: db-standby promoted"
wait_for 60 "fmtbankd reconnected to the new primary" sh -c "[ \"\$(${COMPOSE[*]} logs --no-color \
    fmtbankd 2>&1 | grep -cF '(reconnected)')\" -gt $reconnects ]"
printf 'code,birth_year,sex\nD-7000004,1983,F\n' | drop after-failover.csv
wait_for 60 "after-failover.csv imported" logs_have 'imported "after-failover.csv": 1 row'
printf 'code,birth_year,sex\nD-7000001,1980,F\nD-7000002,1981,M\n' | drop first-again.csv
wait_for 30 "first.csv's content is still known after the failover" \
    logs_have '"first-again.csv" has the same content as "first.csv"'
[ "$(standby_sql "SELECT count(*) FROM fmtbank.donor WHERE code LIKE 'D-7%'")" = 4 ] \
    || fail "donor count on the new primary"
[ "$(standby_sql "SELECT count(*) FROM fmtbank.inbox_file WHERE name = 'after-failover.csv'")" = 1 ] \
    || fail "after-failover.csv is not recorded once"
step "ok: after the failover the next file is imported once on the new primary"

step "compose stop fmtbankd (SIGTERM)"
id=$("${COMPOSE[@]}" ps -q fmtbankd)
"${COMPOSE[@]}" stop -t 60 fmtbankd >&2
code=$(docker inspect -f '{{.State.ExitCode}}' "$id")
[ "$code" = 0 ] || fail "fmtbankd exited with $code"
step "ok: fmtbankd exited 0"
logs | tail -5 >&2
echo "docker/test.sh: PASSED" >&2
