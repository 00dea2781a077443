#!/usr/bin/env bash
# gatewise's container check: builds the image from the repository's
# Dockerfile and starts compose.yaml, for real, with podman, on a Debian
# bookworm machine that reaches Debian's package mirror and the Go module
# proxy but no container registry.
#
#   tools/container-check/run.sh           # as root; about 15 minutes on 2 cores
#   tools/container-check/run.sh clean     # removes the images and files it made
#
# No registry is reached, so the base images the Dockerfile and compose.yaml
# name are made here first, from Debian bookworm (debootstrap) and this
# machine's Go: golang:1.26.8-bookworm, gcr.io/distroless/static-debian12:nonroot
# and a PostgreSQL 15 for the db service (GATEWISE_POSTGRES_IMAGE); the
# *.Containerfile files beside this script say what each has. Then go test's
# TestPodman (docker_test.go) builds gatewise:local from the Dockerfile as it
# is and checks the image alone and compose.yaml's three services, once with
# Docker Compose (built from the Go module proxy, against podman's Docker API)
# and once with Debian's podman-compose 1.0.3. README.md, "Docker", says what
# that proves and what it does not.
#
# .ci/run does not run this: it needs root, installs podman, bootstraps a
# Debian system and builds several images, which takes minutes and depends
# on the machine's kernel and cgroups. Run it after changing the Dockerfile,
# .dockerignore or compose.yaml.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
here=$repo/tools/container-check
work=${GATEWISE_CHECK_DIR:-/tmp/gatewise-container-check}
compose_version=v2.40.3
postgres_image=localhost/gatewise-check/postgres:15-bookworm
go_version=$(sed -n 's/^ARG GO_VERSION=//p' Dockerfile)
golang_image=docker.io/library/golang:$go_version-bookworm
distroless_image=gcr.io/distroless/static-debian12:nonroot
say() { printf 'container-check: %s\n' "$*"; }
# quiet LOG COMMAND...: runs the command with its output in $work/LOG,
# shown only when it fails.
quiet() {
	local log=$work/$1
	shift
	"$@" >"$log" 2>&1 || { cat "$log" >&2; echo "container-check: failed: $*" >&2; exit 1; }
}

if [ "$(id -u)" -ne 0 ]; then
	echo "container-check: run it as root (podman and debootstrap need it)" >&2
	exit 1
fi

if [ "${1:-}" = clean ]; then
	podman rmi -f gatewise:local "$golang_image" "$distroless_image" "$postgres_image" localhost/gatewise-check/bookworm:minbase 2>/dev/null || true
	podman image prune -f >/dev/null
	rm -rf "$work"
	say "removed the check's images and $work"
	exit 0
fi

# podman and what the check uses, from Debian.
need=()
for tool in podman buildah podman-compose debootstrap runc; do
	command -v "$tool" >/dev/null || need+=("$tool")
done
if [ "${#need[@]}" -gt 0 ]; then
	say "installing ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
mkdir -p "$work"

# podman's settings for this check only. runc, since crun refuses a machine
# whose cgroup v1 and v2 are mounted side by side ("cgroups in hybrid mode
# not supported"); resource limits no higher than podman's own (it lowers
# its process limit to 32768), since without CAP_SYS_RESOURCE, as in a
# sandbox, a container cannot be given more ("setrlimit RLIMIT_NOFILE:
# Operation not permitted" for podman's default of 1048576).
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$work/containers.conf

# Debian bookworm, minimal, from this machine's own Debian mirror and with
# its apt sources (security updates included).
if [ ! -e "$work/rootfs/etc/debian_version" ]; then
	if [ -e /etc/apt/sources.list.d/debian.sources ]; then
		mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | head -1)
	else
		mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)
	fi
	say "debootstrap bookworm from $mirror"
	rm -rf "$work/rootfs.new"
	quiet debootstrap.log debootstrap --variant=minbase --include=ca-certificates,tzdata,git bookworm "$work/rootfs.new" "$mirror"
	if [ -e /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$work/rootfs.new/etc/apt/sources.list.d/"
		rm -f "$work/rootfs.new/etc/apt/sources.list"
	fi
	rm -f "$work"/rootfs.new/var/cache/apt/archives/*.deb
	mv "$work/rootfs.new" "$work/rootfs"
fi
tar --numeric-owner -C "$work/rootfs" -c . | podman import -q - localhost/gatewise-check/bookworm:minbase >/dev/null
podman run --rm localhost/gatewise-check/bookworm:minbase true # podman can run a container at all

# golang: this machine's Go, which must be the Dockerfile's.
goroot=$(go env GOROOT)
if [ "$(go env GOVERSION)" != "go$go_version" ]; then
	echo "container-check: the Dockerfile builds with Go $go_version, this machine has $(go env GOVERSION)" >&2
	exit 1
fi
cas=/usr/local/share/ca-certificates
[ -d "$cas" ] || { cas=$work/no-cas; mkdir -p "$cas"; }
say "building $golang_image (stand-in)"
quiet golang-build.log podman build --pull=never -v "$goroot:/host-go:ro" -v "$cas:/host-ca:ro" \
	--build-arg GOPROXY="$(go env GOPROXY)" --build-arg GOSUMDB="$(go env GOSUMDB)" \
	-t "$golang_image" -f "$here/golang.Containerfile" "$here"

# distroless static: Debian's files a static binary needs, with the owners
# and modes distroless gives them.
say "building $distroless_image (stand-in)"
root=$work/distroless/root
rm -rf "$work/distroless"
mkdir -p "$root/etc/ssl/certs" "$root/usr/share" "$root/tmp" "$root/home/nonroot" "$root/root"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
	'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'tty:x:5:' 'staff:x:50:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$root/etc/group"
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
cp "$work/rootfs/usr/lib/os-release" "$root/etc/os-release"
cp -L "$work/rootfs/etc/ssl/certs/ca-certificates.crt" "$root/etc/ssl/certs/"
cp -a "$work/rootfs/usr/share/zoneinfo" "$root/usr/share/"
chmod 1777 "$root/tmp"
chmod 700 "$root/root" "$root/home/nonroot"
chown 65532:65532 "$root/home/nonroot"
tar --numeric-owner -C "$root" -cf "$work/distroless/distroless-root.tar" .
quiet distroless-build.log podman build --pull=never -t "$distroless_image" -f "$here/distroless.Containerfile" "$work/distroless"

say "building $postgres_image"
quiet postgres-build.log podman build --pull=never -t "$postgres_image" -f "$here/postgres.Containerfile" "$here"

# Docker Compose, the compose file's reference implementation, from the Go
# module proxy (its go.mod has exclude directives, so go install cannot
# build it: it is built as its own main module).
if [ ! -x "$work/bin/docker-compose" ]; then
	say "building Docker Compose $compose_version"
	src=$(GOFLAGS= go mod download -json "github.com/docker/compose/v2@$compose_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	rm -rf "$work/compose-src"
	cp -r "$src" "$work/compose-src"
	chmod -R u+w "$work/compose-src"
	(cd "$work/compose-src" && GOFLAGS= CGO_ENABLED=0 quiet compose-build.log go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$compose_version" -o "$work/bin/docker-compose" ./cmd)
fi

# podman's Docker API, for Docker Compose, while the check runs.
rm -f "$work/podman.sock"
podman system service --time=0 "unix://$work/podman.sock" >"$work/podman-service.log" 2>&1 &
service=$!
trap 'kill "$service" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$work/podman.sock" ] && break; sleep 0.2; done

export GATEWISE_PODMAN=1 GATEWISE_POSTGRES_IMAGE=$postgres_image
say "go test -run TestPodman, with Docker Compose $compose_version"
DOCKER_HOST=unix://$work/podman.sock GATEWISE_COMPOSE=$work/bin/docker-compose \
	go test -count=1 -timeout 30m -run TestPodman -v .
say "go test -run TestPodman, with podman-compose $(podman-compose version 2>/dev/null | awk '/^podman-compose/ { print $NF; exit }')"
GATEWISE_COMPOSE="podman-compose -f compose.yaml -f tools/container-check/podman-compose-1.0.yaml" \
	go test -count=1 -timeout 30m -run TestPodman -v .
# podman-compose 1.0.3's down leaves the project's network.
podman network rm -f gatewise-test_default >/dev/null 2>&1 || true
say "passed"
