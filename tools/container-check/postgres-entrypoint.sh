#!/bin/sh
# The entrypoint of postgres.Containerfile: on a first start with an empty
# PGDATA, a cluster whose superuser is POSTGRES_USER with POSTGRES_PASSWORD,
# and the database POSTGRES_DB; then PostgreSQL on every address, port 5432,
# password authentication from other hosts, trust on the local socket (what
# pg_isready in the container uses), as the official postgres image does.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA

if [ "${1:-}" = postgres ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: POSTGRES_PASSWORD is empty; set it" >&2
		exit 1
	fi
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA"
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
	if [ "$POSTGRES_DB" != postgres ]; then
		pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
		createdb --username="$POSTGRES_USER" "$POSTGRES_DB"
		pg_ctl -D "$PGDATA" -m fast -w stop
	fi
	echo "postgres-entrypoint: made the cluster in $PGDATA, user $POSTGRES_USER, database $POSTGRES_DB"
fi

if [ "${1:-}" = postgres ]; then
	shift
	exec postgres -c listen_addresses='*' -c port=5432 "$@"
fi
exec "$@"
