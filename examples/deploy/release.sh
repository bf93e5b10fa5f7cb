#!/usr/bin/env bash
# release.sh: a repeatable release of the example portal on one machine, in
# the Capistrano shape, gated by `launchready verify` with an automatic
# rollback.
#
#   ROOT/releases/<revision>/   portal, launchready, flows.yaml of one commit
#   ROOT/current -> releases/<revision>   switched atomically (rename of a symlink)
#   ROOT/shared/                pid, logs, audit trail, release token: kept across releases
#
# Usage: release.sh -src DIR -root DIR [-addr 127.0.0.1:8080] [-attempts 5]
#
# It builds from a clean git checkout only (refuses a dirty tree), with
# -trimpath and VCS stamping, so `go version -m` and GET /version name the
# exact commit. It stops the running release, switches `current`, starts the
# new release and runs `launchready verify -expect-revision <rev>`. When
# verification fails it switches `current` back to the previous release,
# restarts it and exits 1; the failed release stays in releases/ for
# inspection. Exit codes: 0 released, 1 rolled back (or nothing to roll
# back to), 2 could not build or start.
#
# Environment: LAUNCHREADY_FLOW_EMAIL / LAUNCHREADY_FLOW_PASSWORD (the
# verification account; the portal's development demo agent by default),
# PORTAL_ARGS (extra portal flags, e.g. "-env production -tls").
set -euo pipefail

src="" root="" addr="127.0.0.1:8080" attempts=5
while [ $# -gt 0 ]; do
	case "$1" in
	-src) src=$2; shift 2 ;;
	-root) root=$2; shift 2 ;;
	-addr) addr=$2; shift 2 ;;
	-attempts) attempts=$2; shift 2 ;;
	*) echo "release: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$src" ] && [ -n "$root" ] || { echo "usage: release.sh -src DIR -root DIR [-addr HOST:PORT] [-attempts N]" >&2; exit 2; }
src=$(cd "$src" && pwd)
mkdir -p "$root/releases" "$root/shared"
root=$(cd "$root" && pwd)
shared=$root/shared

log() { echo "release: $*"; }

# --- build ------------------------------------------------------------------
if [ -n "$(git -C "$src" status --porcelain --untracked-files=normal)" ]; then
	echo "release: refusing to build: $src has uncommitted changes (commit them, so the revision names exactly what runs)" >&2
	git -C "$src" status --short >&2
	exit 2
fi
rev=$(git -C "$src" rev-parse HEAD)
release=$root/releases/$rev
if [ ! -x "$release/portal" ]; then
	log "building $rev"
	tmp=$(mktemp -d "$root/releases/.build-XXXXXX")
	# This machine may set GOFLAGS=-buildvcs=false; a release must carry its revision.
	(cd "$src" && GOFLAGS= go build -trimpath -buildvcs=true -o "$tmp/portal" ./examples/portal) || { rm -rf "$tmp"; exit 2; }
	(cd "$src/cmd/launchready" && GOFLAGS= go build -trimpath -buildvcs=true -o "$tmp/launchready" .) || { rm -rf "$tmp"; exit 2; }
	cp "$src/examples/portal/flows.yaml" "$tmp/flows.yaml"
	rm -rf "$release"
	mv "$tmp" "$release"
fi
go version -m "$release/portal" | grep -E 'vcs\.(revision|modified)' | sed 's/^/release:   /'

# --- release token (reads GET /version) ----------------------------------------
if [ -z "${LAUNCHREADY_RELEASE_TOKEN:-}" ]; then
	if [ ! -s "$shared/release-token" ]; then
		(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$shared/release-token")
	fi
	LAUNCHREADY_RELEASE_TOKEN=$(cat "$shared/release-token")
fi
export LAUNCHREADY_RELEASE_TOKEN

# --- process control ----------------------------------------------------------
stop() {
	[ -s "$shared/portal.pid" ] || return 0
	local pid
	pid=$(cat "$shared/portal.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	fi
	rm -f "$shared/portal.pid"
}

start() { # start the release `current` points to; $1 is the release it would roll back to
	# shellcheck disable=SC2086
	LAUNCHREADY_PREVIOUS_RELEASE=${1:-} nohup "$root/current/portal" -addr "$addr" -audit "$shared/audit.jsonl" -outbox "$shared/outbox" ${PORTAL_ARGS:-} \
		>>"$shared/portal.log" 2>&1 </dev/null &
	echo $! > "$shared/portal.pid"
}

switch_to() { # atomically point `current` at releases/$1
	ln -sfn "releases/$1" "$root/.current.tmp"
	mv -T "$root/.current.tmp" "$root/current"
}

verify() { # verify the release $1 answers at addr
	"$root/releases/$1/launchready" verify -flows "$root/releases/$1/flows.yaml" \
		-expect-revision "$1" -attempts "$attempts" -wait 1s "http://$addr"
}

# --- release --------------------------------------------------------------------
previous=""
if [ -L "$root/current" ]; then
	previous=$(basename "$(readlink "$root/current")")
fi
[ "$previous" = "$rev" ] && previous=$(cat "$shared/previous" 2>/dev/null || true)

stop
switch_to "$rev"
start "$previous"
log "started $rev (pid $(cat "$shared/portal.pid")); verifying http://$addr"
if verify "$rev"; then
	[ -n "$previous" ] && [ "$previous" != "$rev" ] && echo "$previous" > "$shared/previous"
	log "released $rev (previous: ${previous:-none})"
	exit 0
fi

echo "release: verification of $rev FAILED" >&2
stop
if [ -z "$previous" ] || [ ! -x "$root/releases/$previous/portal" ]; then
	echo "release: no previous release to roll back to; the portal is stopped" >&2
	exit 1
fi
log "rolling back to $previous"
switch_to "$previous"
start "$(cat "$shared/previous" 2>/dev/null || true)"
if verify "$previous"; then
	log "rolled back: $previous is live again"
else
	echo "release: the previous release $previous does not verify either" >&2
fi
exit 1
