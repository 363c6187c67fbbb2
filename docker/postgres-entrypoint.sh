#!/bin/sh
# postgres-entrypoint.sh: the compose stack's PostgreSQL 15. Creates the cluster on first start
# (no TCP listener; a Unix socket in /run/fmtbank, the volume shared with the fmtbank containers,
# mode 0700 so only uid 990 reaches it), creates the database fmtbank, then runs the server in
# the foreground (SIGINT from "docker stop": fast shutdown).
set -eu
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=/var/lib/fmtbank/pgdata
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=reject -E UTF8 --no-locale
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '/run/fmtbank'
unix_socket_permissions = 0700
fsync = on
CONF
    echo "CREATE DATABASE fmtbank" | "$PGBIN/postgres" --single -D "$PGDATA" postgres >/dev/null
fi
exec "$PGBIN/postgres" -D "$PGDATA"
