#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the tests: `start DIR` initialises a cluster in DIR (as the
# unprivileged user wanllmdb-test, created when missing: PostgreSQL refuses to run as root),
# starts it on a free port with its socket in DIR, creates database `wanllmdb_test`, and prints
# the libpq conninfo on stdout. `stop DIR` stops it; `restart DIR` starts it again on its port.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg-test-server.sh start|stop|restart DIR}
dir=${2:?usage: pg-test-server.sh start|stop|restart DIR}
user=wanllmdb-test

as_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ "$(id -u)" -eq 0 ] && ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$user" "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_user "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
  echo "$port" >"$dir/port"
  # Tuned for tests, not for keeping data: no fsync; a short checkpoint keeps the WAL small.
  as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  as_user "$PGBIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
    -c "CREATE DATABASE wanllmdb_test" >/dev/null
  echo "host=$dir port=$port user=postgres dbname=wanllmdb_test"
  ;;
restart)
  port=$(cat "$dir/port")
  as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  ;;
stop)
  as_user "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: pg-test-server.sh start|stop|restart DIR" >&2
  exit 2
  ;;
esac
