# lib.sh: fixture and assertions for integration tests (git t/ style). Each test script gets a
# throwaway embedded instance in a temporary FMTBANK_HOME, removed when it ends; the binaries
# under test are the build's (FMTBANK_BIN), against a real PostgreSQL.
set -u

: "${FMTBANK_BIN:?FMTBANK_BIN must point at the build directory}"
: "${FMTBANK_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export PATH="$FMTBANK_BIN:$PATH"
# The tests' Python is Debian's (scripts/install-deps.sh installs it with python3-openpyxl), not
# whatever "python3" comes first in PATH: a version manager's shim there costs ~0.4 s a call.
python3() { /usr/bin/python3 "$@"; }
export -f python3
unset FMTBANK_DSN PGHOST PGHOSTADDR PGPORT PGDATABASE PGSERVICE PGUSER FMTBANK_SCHEMA FMTBANK_REPORTS
export FMTBANK_HOME
FMTBANK_HOME=$(mktemp -d /tmp/fmtbank-test.XXXXXX)
chmod 755 "$FMTBANK_HOME"
TMP="$FMTBANK_HOME/tmp"
mkdir -p "$TMP"
chmod 777 "$TMP"
# Every connection authenticates like a person's: scram with the passwords of a mode-0600
# PGPASSFILE (the demo users'), peer only for the service account (postgres, fmtbankd).
export PGPASSFILE="$FMTBANK_HOME/pgpass"
unset PGPASSWORD
# Commands without --user act as PGUSER: the instance's superuser, by peer as the service account
# (the OS user running the tests; root, who started the server as "fmtbank", is mapped too).
export PGUSER=postgres
printf '%s\n' '*:*:*:alice:alice-signs-1' '*:*:*:quinn:quinn-signs-1' \
    '*:*:*:audrey:audrey-signs-1' '*:*:*:adam:adam-signs-1' >"$PGPASSFILE"
chmod 600 "$PGPASSFILE"
# pgpass_add USER PASSWORD: the password of a user a test created (replaces an earlier line).
pgpass_add() {
    local pw=${2//\\/\\\\}
    pw=${pw//:/\\:}
    grep -v "^\*:\*:\*:$1:" "$PGPASSFILE" >"$PGPASSFILE.new"
    printf '*:*:*:%s:%s\n' "$1" "$pw" >>"$PGPASSFILE.new"
    chmod 600 "$PGPASSFILE.new"
    mv "$PGPASSFILE.new" "$PGPASSFILE"
}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

T_NAME=$(basename "$0" .sh)
T_PASS=0
T_FAIL=0
OUT=""
ERR=""
RC=0

t_cleanup() {
    fmtbank db stop >/dev/null 2>&1
    rm -rf "$FMTBANK_HOME"
}
trap t_cleanup EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok $((T_PASS + T_FAIL)) - $*"; }
not_ok() {
    T_FAIL=$((T_FAIL + 1))
    echo "not ok $((T_PASS + T_FAIL)) - $1"
    shift
    for line in "$@"; do echo "#   $line"; done
    echo "#   stdout: ${OUT:0:2000}"
    echo "#   stderr: ${ERR:0:2000}"
}

# run_in FILE CMD...: runs CMD with FILE on stdin, keeping stdout in $OUT, stderr in $ERR and the
# exit code in $RC. A sanitizer report fails the test whatever the exit code.
run_in() {
    local input=$1
    shift
    "$@" >"$TMP/out" 2>"$TMP/err" <"$input"
    RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TMP/err"; then
        not_ok "sanitizer report from: $*" "$(head -20 "$TMP/err")"
    fi
}

# run CMD...: as run_in, with no input.
run() { run_in /dev/null "$@"; }

# expect CODE DESCRIPTION CMD...: runs CMD and checks its exit code.
expect() {
    local code=$1 desc=$2
    shift 2
    run "$@"
    if [ "$RC" -eq "$code" ]; then ok "$desc"; else not_ok "$desc" "expected exit $code, got $RC: $*"; fi
}

assert_eq() { # ACTUAL EXPECTED DESCRIPTION
    if [ "$1" == "$2" ]; then ok "$3"; else not_ok "$3" "expected: $2" "actual:   $1"; fi
}

assert_contains() { # HAYSTACK NEEDLE DESCRIPTION
    if [[ "$1" == *"$2"* ]]; then ok "$3"; else not_ok "$3" "expected to contain: $2" "in: ${1:0:2000}"; fi
}

assert_not_contains() { # HAYSTACK NEEDLE DESCRIPTION
    if [[ "$1" != *"$2"* ]]; then ok "$3"; else not_ok "$3" "expected NOT to contain: $2"; fi
}

# sql QUERY [ROLE]: one value-per-line result of QUERY via psql (superuser unless ROLE).
sql() {
    local role=${2:-postgres}
    fmtbank --user "$role" db psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"
}

# sql_as ROLE QUERY: runs QUERY through psql as ROLE; $RC, $OUT, $ERR as run.
sql_as() {
    run fmtbank --user "$1" db psql -X -A -t -q -v ON_ERROR_STOP=1 -c "$2"
}

# The demo users: alice (technician), quinn (quality), audrey (auditor), adam (admin).
# setup_db: an embedded instance initialised with the demo users. Under CTest it is a copy of the
# stopped template instance the fixture made with "fmtbank init --demo" (tests/integration/
# template.sh; FMTBANK_TEMPLATE), started here with its socket in this test's FMTBANK_HOME;
# without a template, or when this test already made an instance, init --demo itself.
setup_db() {
    local tpl=${FMTBANK_TEMPLATE:-}
    if [ -n "$tpl" ] && [ -f "$tpl/data/PG_VERSION" ] && [ ! -e "$FMTBANK_HOME/data" ]; then
        cp -a "$tpl/." "$FMTBANK_HOME/" &&
            sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$FMTBANK_HOME'|" \
                "$FMTBANK_HOME/data/postgresql.conf" &&
            fmtbank db start >/dev/null 2>"$TMP/init.err" || { cat "$TMP/init.err"; exit 1; }
        # the server module's functions name it by its path in the template (migration 075):
        # point them at this instance's copy, which the server preloads, before anything calls them
        sql "UPDATE pg_catalog.pg_proc SET probin = '$FMTBANK_HOME/lib/fmtbank_auth.so'
             WHERE probin = '$tpl/lib/fmtbank_auth.so'" >/dev/null ||
            { echo "could not relocate the template's server module"; exit 1; }
        return
    fi
    fmtbank init --demo >/dev/null 2>"$TMP/init.err" || { cat "$TMP/init.err"; exit 1; }
}

# donor_consent CODE...: records each donor's signed consent for every use, dated long before any
# test's donations (what "donation add" and "aliquot issue" need: schema/code/150_consent.sql).
donor_consent() {
    local code
    for code in "$@"; do
        fmtbank --user alice donor consent "$code" --version test-1 --signed 2020-01-02 \
            --scope clinical,research,trial >/dev/null 2>"$TMP/consent.err" ||
            { echo "# consent of $code refused: $(cat "$TMP/consent.err")"; return 1; }
    done
}

# shown ID: an ID as tables, labels and reports show it, the check character set apart
# ("L26000001-0011" -> "L26000001-001 ·1", src/common/idtext.h).
shown() { printf '%s \u00b7%s' "${1:0:${#1}-1}" "${1: -1}"; }

# Audit row count: a refused operation must not change it.
audit_count() { sql "SELECT count(*) FROM fmtbank.audit_log"; }

done_testing() {
    echo "# $T_NAME: $T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
    exit $?
}
