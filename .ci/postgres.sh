# A throwaway PostgreSQL server for the tests, sourced by .ci/run and .ci/with-postgres.
#
# start_postgres installs the distribution's PostgreSQL with apt-get where it is missing,
# creates a cluster in a new temporary directory (as the unprivileged user `nobody` when run as
# root: PostgreSQL refuses to run as root), starts it listening on a Unix socket in that
# directory only, creates the role `deltalog` with no privileges but its own schema, and exports
# DELTALOG_TEST_POSTGRES_URL (and DELTALOG_TEST_POSTGRES_RESTART, a script that restarts the
# server). The server is stopped and its directory removed when the shell that sourced this
# exits, whatever happens.

postgres_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$found" ]; then
    echo "ci: PostgreSQL is not installed; installing it with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [ -n "$found" ] || { echo "ci: no PostgreSQL after apt-get" >&2; return 1; }
  echo "$found"
}

stop_postgres() {
  if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR" ]; then
    as_server "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
  fi
}

as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start_postgres() {
  POSTGRES_BIN=$(postgres_bin) || return 1
  POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/deltalog-postgres.XXXXXX")
  trap stop_postgres EXIT
  if [ "$(id -u)" = 0 ]; then chown nobody "$POSTGRES_DIR"; fi
  chmod 700 "$POSTGRES_DIR"
  (cd / && as_server "$POSTGRES_BIN/initdb" -D "$POSTGRES_DIR/data" -U postgres --auth=trust \
    -E UTF8 >"$POSTGRES_DIR/initdb.log" 2>&1) ||
    { cat "$POSTGRES_DIR/initdb.log" >&2; return 1; }
  (cd / && as_server "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" \
    -o "-k $POSTGRES_DIR -c listen_addresses=''" -w start >/dev/null) ||
    { cat "$POSTGRES_DIR/server.log" >&2; return 1; }
  local admin="postgresql://postgres@/postgres?host=$POSTGRES_DIR"
  "$POSTGRES_BIN/psql" -q -v ON_ERROR_STOP=1 "$admin" \
    -c "CREATE ROLE deltalog LOGIN" -c "CREATE DATABASE deltalog_test" >/dev/null
  "$POSTGRES_BIN/psql" -q -v ON_ERROR_STOP=1 "postgresql://postgres@/deltalog_test?host=$POSTGRES_DIR" \
    -c "REVOKE ALL ON SCHEMA public FROM PUBLIC" \
    -c "CREATE SCHEMA deltalog AUTHORIZATION deltalog" >/dev/null
  export DELTALOG_TEST_POSTGRES_URL="postgresql://deltalog@/deltalog_test?host=$POSTGRES_DIR"
  # The fault tests restart the server under a running writer with this.
  local runner=""
  if [ "$(id -u)" = 0 ]; then runner="runuser -u nobody --"; fi
  cat >"$POSTGRES_DIR/restart" <<RESTART
#!/bin/sh
cd / && exec $runner "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -m fast -w restart -o "-k $POSTGRES_DIR -c listen_addresses=''" >/dev/null
RESTART
  chmod 755 "$POSTGRES_DIR/restart"
  export DELTALOG_TEST_POSTGRES_RESTART="$POSTGRES_DIR/restart"
  echo "ci: PostgreSQL $("$POSTGRES_BIN/postgres" --version | awk '{print $3}') on $POSTGRES_DIR" >&2
}
