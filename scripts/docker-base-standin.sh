#!/usr/bin/env bash
# A local stand-in for the image `node:20-slim`, for a machine that has a Docker daemon but
# cannot pull from Docker Hub (as on the project's development machines): Debian bookworm
# (debootstrap, minbase, from the Debian mirror apt already uses) plus this machine's own Node 20
# (node, npm) in /usr/local and a `node` user with uid 1000, as in the real image, imported and
# tagged node:20-slim so that the Dockerfile builds unchanged. Wherever node:20-slim can be
# pulled, do not use this: the real image is what users get.
#
#   sudo scripts/docker-base-standin.sh [--force]      (--force replaces an existing node:20-slim)
set -euo pipefail

fail() { echo "docker-base-standin: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and chroot need it)"
command -v docker >/dev/null || fail "no docker client"
if docker image inspect node:20-slim >/dev/null 2>&1 && [ "${1:-}" != --force ]; then
  echo "node:20-slim is already here ($(docker image inspect node:20-slim --format '{{.Id}}')); --force to replace it"
  exit 0
fi
node_bin=$(readlink -f "$(command -v node)")
version=$("$node_bin" --version)
case "$version" in v20.*) ;; *) fail "this machine's node is $version, not Node 20" ;; esac
npm_dir="$(npm root -g)/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || fail "no npm at $npm_dir"
command -v debootstrap >/dev/null || apt-get install -y debootstrap
mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' | grep -v -- -security | grep -m1 /debian/ || true)}
[ -n "$mirror" ] || fail "no Debian mirror found in apt's sources; set DEBIAN_MIRROR"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
started=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
# slim, like debian:bookworm-slim: no package lists, caches, docs, man pages or locales
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
install -m 755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$root" node --version > /dev/null || fail "node does not run in the new root"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${version#v}" \
  --change 'CMD ["node"]' - node:20-slim > /dev/null
echo "node:20-slim stand-in: Debian bookworm + node $version, $(docker image inspect node:20-slim --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'), in $(( $(date +%s) - started )) s"
