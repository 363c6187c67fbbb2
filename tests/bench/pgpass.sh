# pgpass.sh (sourced by the benchmarks): authenticate like the tests (README "Authentication"):
# commands without --user act as the superuser by peer (service account); the demo users log in
# with their passwords from a mode-0600 PGPASSFILE.
export PGUSER=postgres
unset PGPASSWORD
PGPASSFILE=$(mktemp /tmp/fmtbank-bench-pgpass.XXXXXX)
export PGPASSFILE
chmod 600 "$PGPASSFILE"
printf '%s\n' '*:*:*:alice:alice-signs-1' '*:*:*:quinn:quinn-signs-1' \
    '*:*:*:audrey:audrey-signs-1' '*:*:*:adam:adam-signs-1' >"$PGPASSFILE"
