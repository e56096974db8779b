#!/usr/bin/env bash
# Build the Curiosity Coach image with podman, then (unless --build-only) smoke-test it:
# the image alone against this machine's PostgreSQL and Redis, then the compose stack.
#
#   ops/container/build.sh                     # base image (if needed), image, smoke tests
#   ops/container/build.sh --build-only
#   ops/container/build.sh --no-model          # without the built-in model (WITH_LOCAL_MODEL=0)
#
# Environment:
#   IMAGE        the tag to build (localhost/curiosity-coach:latest)
#   BASE_IMAGE   the Debian 12 base to build on. Unset: docker.io/library/debian:bookworm-slim
#                when a registry answers, else one made here from Debian's packages
#                (ops/container/base.sh). LOCAL_BASE=1 always makes the local one.
#   any smoke.sh variable (PG_URL, REDIS_URL, SKIP_COMPOSE, ...)
#
# Needs podman (buildah inside), and for the local base debootstrap and root.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

build_only=0
with_model=1
for arg in "$@"; do
    case $arg in
    --build-only) build_only=1 ;;
    --no-model) with_model=0 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument $arg" ;;
    esac
done

cd "$ROOT"

if [ -z "${BASE_IMAGE:-}" ]; then
    if [ "${LOCAL_BASE:-0}" != 1 ] &&
        timeout 60 podman pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
        BASE_IMAGE=docker.io/library/debian:bookworm-slim
    else
        log "no registry image: making the base from Debian's packages"
        bash "$HERE/base.sh" "$LOCAL_BASE_IMAGE"
        BASE_IMAGE=$LOCAL_BASE_IMAGE
    fi
fi
podman_setup "$BASE_IMAGE"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip_secrets "$tmp"

log "building $IMAGE on $BASE_IMAGE (WITH_LOCAL_MODEL=$with_model)"
started=$(now)
# --network host: build steps resolve and reach the package mirrors as this machine does.
podman build --format docker --network host --layers \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "WITH_LOCAL_MODEL=$with_model" \
    "${PIP_SECRET_ARGS[@]}" \
    -f Containerfile -t "$IMAGE" . >"$tmp/build.log" 2>&1 || {
    tail -n 60 "$tmp/build.log" >&2
    die "podman build (full log above)"
}
build_seconds=$(since "$started")
size=$(image_mb "$IMAGE")
log "built $IMAGE in ${build_seconds}s: ${size} MB (runtime stage)"
printf 'image=%s size_mb=%s build_s=%s\n' "$IMAGE" "$size" "$build_seconds"

# The runtime stage must hold no compiler.
if podman run --rm --entrypoint sh "$IMAGE" -c \
    'for tool in gcc cc g++ c++ cmake make; do command -v $tool && exit 0; done; exit 1'; then
    die "the runtime image contains a compiler"
fi

if [ "$build_only" = 0 ]; then
    # An image without the built-in model answers the smoke test's chat turn with the
    # scripted model, unless SMOKE_LLM_PROVIDER says otherwise.
    if [ "$with_model" = 0 ]; then export SMOKE_LLM_PROVIDER=${SMOKE_LLM_PROVIDER:-scripted}; fi
    IMAGE=$IMAGE bash "$HERE/smoke.sh"
fi
