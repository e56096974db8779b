#!/usr/bin/env bash
# Make a Debian 12 (bookworm) base image from Debian's own packages, for machines that
# reach Debian's package mirror but no container registry. The result stands in for
# debian:bookworm-slim: a minbase debootstrap without documentation, manuals, locales or
# package lists, with the slim image's dpkg and apt settings.
#
#   ops/container/base.sh [IMAGE]      # default: localhost/debian-bookworm-base:latest
#
# Environment: DEBIAN_MIRROR (default: the mirror of this machine's apt sources, else
# http://deb.debian.org/debian), CONTAINER_CACHE (default /var/tmp/curiosity-coach-container:
# the root file system is kept there as a tarball, reused while it is younger than
# BASE_MAX_AGE_DAYS, 7). Needs root (debootstrap), debootstrap and podman.
set -euo pipefail

IMAGE=${1:-localhost/debian-bookworm-base:latest}
CACHE=${CONTAINER_CACHE:-/var/tmp/curiosity-coach-container}
MAX_AGE_DAYS=${BASE_MAX_AGE_DAYS:-7}
SUITE=bookworm

log() { printf '%s base: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
    local found
    found=$(grep -h -E '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        head -n 1 | awk '{print $2}' || true)
    if [ -z "$found" ]; then
        found=$(grep -h -E '^deb .*/debian/? ' /etc/apt/sources.list 2>/dev/null |
            head -n 1 | awk '{print $2}' || true)
    fi
    echo "${found:-http://deb.debian.org/debian}"
}

mkdir -p "$CACHE"
tarball=$CACHE/debian-$SUITE-minbase.tar

if [ -f "$tarball" ] && [ -z "$(find "$tarball" -mtime +"$MAX_AGE_DAYS")" ]; then
    log "reusing $tarball"
else
    MIRROR=$(mirror)
    SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap $SUITE from $MIRROR (a minute or two)"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
        tail -n 20 "$CACHE/debootstrap.log" >&2
        exit 1
    }

    # The slim image's settings: no documentation from later installs, no kept packages.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    cat >"$rootfs/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/* \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
        "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
        -exec rm -rf {} +
    : >"$rootfs/etc/machine-id"
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
fi

log "importing as $IMAGE"
podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$tarball" "$IMAGE" >/dev/null
podman image inspect --format '{{.Id}} {{.Size}}' "$IMAGE" |
    awk -v image="$IMAGE" '{printf "%s: %s, %.0f MB\n", image, substr($1, 1, 12), $2 / 1e6}' >&2
