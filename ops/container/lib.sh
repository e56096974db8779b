# Shared by build.sh and smoke.sh (sourced).

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
IMAGE=${IMAGE:-localhost/curiosity-coach:latest}
LOCAL_BASE_IMAGE=localhost/debian-bookworm-base:latest

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Podman's defaults fail in some sandboxes (see podman-sandbox.conf): fall back to runc
# with lower limits when a trivial container does not start.
podman_setup() {
    local probe_image=$1
    command -v podman >/dev/null || die "podman is not installed (apt-get install podman)"
    if [ -n "${CONTAINERS_CONF:-}" ]; then return; fi
    if podman run --rm --network none "$probe_image" true >/dev/null 2>&1; then return; fi
    command -v runc >/dev/null || die "podman cannot start containers here; try: apt-get install runc"
    export CONTAINERS_CONF=$HERE/podman-sandbox.conf
    podman run --rm --network none "$probe_image" true >/dev/null ||
        die "podman cannot start containers here, even with $CONTAINERS_CONF"
    log "podman: using $CONTAINERS_CONF (runc, lower ulimits) on this machine"
}

# pip inside the build reaches the index as pip does here: the same CA bundle and index
# settings, handed over as build secrets (mounted for one step, never in a layer).
PIP_SECRET_ARGS=()
pip_secrets() {
    local tmp=$1 cert index extra
    cert=${PIP_CERT:-$(pip3 config get global.cert 2>/dev/null || true)}
    cert=${cert:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-}}}
    if [ -n "$cert" ] && [ -s "$cert" ]; then
        PIP_SECRET_ARGS+=(--secret "id=ca_bundle,src=$cert")
    fi
    index=${PIP_INDEX_URL:-$(pip3 config get global.index-url 2>/dev/null || true)}
    extra=${PIP_EXTRA_INDEX_URL:-$(pip3 config get global.extra-index-url 2>/dev/null || true)}
    # Only indexes a build can reach: file:// and local paths stay on this machine.
    extra=$(printf '%s\n' $extra | grep -E '^https?://' | tr '\n' ' ' || true)
    case $index in http://* | https://*) ;; *) index= ;; esac
    if [ -n "$index" ] || [ -n "$extra" ]; then
        {
            echo "[global]"
            [ -n "$index" ] && echo "index-url = $index"
            [ -n "$extra" ] && echo "extra-index-url = $extra"
        } >"$tmp/pip.conf"
        chmod 600 "$tmp/pip.conf"
        PIP_SECRET_ARGS+=(--secret "id=pip_conf,src=$tmp/pip.conf")
    fi
    return 0
}

image_mb() {
    podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'
}
