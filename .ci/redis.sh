#!/usr/bin/env bash
# Start or stop a throwaway redis-server for the tests.
#
#   eval "$(bash .ci/redis.sh start)"   # prints export REDIS_URL=... lines
#   go test ./storage/...
#   bash .ci/redis.sh stop              # stops it and removes its directory
#
# start installs redis-server if it is missing (apt-get), picks a free
# loopback port, and runs it in a new temporary directory with the
# durability settings docs/REDIS.md asks of a deployment (appendonly yes,
# appendfsync always) and no RDB snapshots. Only the export lines go to
# stdout; everything else goes to stderr. The state (pid, directory) is in
# $DRAFTROOM_REDIS_DIR, also exported, and recorded in $STATE so that stop
# works from a shell that did not eval start's output.
set -euo pipefail

STATE="${TMPDIR:-/tmp}/draftroom-ci-redis.state"

free_port() {
	# Ask the kernel for a free port: bind port 0, read it, release it.
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

start() {
	if ! command -v redis-server >/dev/null; then
		echo "redis.sh: installing redis-server" >&2
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
	fi
	local dir port i
	dir=$(mktemp -d "${TMPDIR:-/tmp}/draftroom-redis.XXXXXX")
	for i in 1 2 3 4 5; do
		port=$(free_port)
		redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
			--save '' --appendonly yes --appendfsync always \
			--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2 || true
		for _ in $(seq 50); do
			if redis-cli -p "$port" ping >/dev/null 2>&1; then
				echo "$dir" >"$STATE"
				echo "redis.sh: redis-server on 127.0.0.1:$port, dir $dir" >&2
				echo "export REDIS_URL=redis://127.0.0.1:$port/0"
				echo "export DRAFTROOM_REDIS_DIR=$dir"
				return 0
			fi
			sleep 0.1
		done
		# Port taken between the probe and the start: stop what may run, retry.
		[ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
	done
	echo "redis.sh: could not start redis-server; log:" >&2
	cat "$dir/redis.log" >&2 || true
	return 1
}

stop() {
	local dir="${DRAFTROOM_REDIS_DIR:-}"
	if [ -z "$dir" ] && [ -f "$STATE" ]; then dir=$(cat "$STATE"); fi
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		echo "redis.sh: nothing to stop" >&2
		return 0
	fi
	if [ -f "$dir/redis.pid" ]; then
		local pid
		pid=$(cat "$dir/redis.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$dir"
	if [ -f "$STATE" ] && [ "$(cat "$STATE")" = "$dir" ]; then rm -f "$STATE"; fi
	echo "redis.sh: stopped, removed $dir" >&2
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
