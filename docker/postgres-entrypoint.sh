#!/bin/sh
# postgres-entrypoint.sh: the compose stack's PostgreSQL 15. Creates the cluster on first start
# (no TCP listener; a Unix socket in /run/fmtbank, the volume shared with the fmtbank containers,
# mode 0700 so only uid 990 reaches it), creates the database fmtbank, then runs the server in
# the foreground (SIGINT from "docker stop": fast shutdown).
# With FMTBANK_STANDBY_OF=DIR (the primary's socket directory, a shared volume) the first start
# instead copies that primary with pg_basebackup -R (a streaming hot standby) and listens in
# FMTBANK_SOCKET_DIR (its own socket volume). Promote it with
#   pg_ctl promote -D /var/lib/fmtbank/pgdata    (docker compose exec db-standby ...)
# once the primary is stopped (README "Standby and failover").
set -eu
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=/var/lib/fmtbank/pgdata
SOCKET_DIR=${FMTBANK_SOCKET_DIR:-/run/fmtbank}
if [ ! -s "$PGDATA/PG_VERSION" ] && [ -n "${FMTBANK_STANDBY_OF:-}" ]; then
    until "$PGBIN/pg_isready" -q -h "$FMTBANK_STANDBY_OF" -d fmtbank; do sleep 1; done
    "$PGBIN/pg_basebackup" -h "$FMTBANK_STANDBY_OF" -U postgres -D "$PGDATA" -R -X stream -c fast -w
    cat >>"$PGDATA/postgresql.conf" <<CONF
# a streaming standby of $FMTBANK_STANDBY_OF
unix_socket_directories = '$SOCKET_DIR'
hot_standby = on
hot_standby_feedback = on
CONF
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=reject -E UTF8 --no-locale
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCKET_DIR'
unix_socket_permissions = 0700
fsync = on
# a primary serves the standby (local replication: initdb's pg_hba.conf, trust on the socket)
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
CONF
    echo "CREATE DATABASE fmtbank" | "$PGBIN/postgres" --single -D "$PGDATA" postgres >/dev/null
fi
exec "$PGBIN/postgres" -D "$PGDATA"
