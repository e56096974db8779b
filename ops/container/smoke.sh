#!/usr/bin/env bash
# Start the built image and prove it works from outside, then the compose stack.
#
#   ops/container/smoke.sh              # after ops/container/build.sh --build-only
#
# 1. The image alone, against this machine's PostgreSQL and Redis (host network, a scratch
#    database): migrate; web and worker started together, read-only root file systems;
#    cold start to GET /health 200; both HEALTHCHECKs; a learner made with
#    `manage.py demo_learner` inside the container; one chat turn from outside
#    (ops/container/chat_turn.py: JWT, POST a conversation, the reply over the websocket).
# 2. compose.yaml under podman-compose: PostgreSQL and Redis in containers (images made
#    from Debian's packages when no registry answers), the one-shot migrate, web, two
#    workers; /health 200, both workers' heartbeats, one chat turn; then down -v.
#
# Environment: IMAGE; PG_URL (postgres://postgres@127.0.0.1:5432, trust auth), REDIS_URL
# (redis://127.0.0.1:6379/7); SMOKE_PORT (18000); SMOKE_LLM_PROVIDER (local: the built-in
# model; scripted: a fixed reply); SKIP_COMPOSE=1; POSTGRES_IMAGE / REDIS_IMAGE for compose.
# Prints figures as `name=value` lines; exits non-zero on the first failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
SMOKE_REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/7}
PORT=${SMOKE_PORT:-18000}
PROVIDER=${SMOKE_LLM_PROVIDER:-local}
SMOKE_DB=coach_container_smoke
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PREFIX=coach-smoke
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}

cd "$ROOT"
podman image exists "$IMAGE" || die "no image $IMAGE: run ops/container/build.sh first"
podman_setup "$IMAGE"
"$PYTHON" -c 'import httpx, websockets' 2>/dev/null ||
    die "$PYTHON lacks httpx/websockets (make install-dev)"

tmp=$(mktemp -d)
cleanup() {
    podman rm -f -t 5 "$PREFIX-web" "$PREFIX-worker" >/dev/null 2>&1 || true
    podman volume rm -f "$PREFIX-var" >/dev/null 2>&1 || true
    if [ -n "${compose_up:-}" ]; then
        (cd "$ROOT" && podman-compose -p "$PREFIX" down -v >"$tmp/compose-down.log" 2>&1) || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

secret_key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')
app_env=(
    -e SECRET_KEY="$secret_key"
    -e ALLOWED_HOSTS=localhost,127.0.0.1
    -e CSRF_TRUSTED_ORIGINS="http://127.0.0.1:$PORT"
    -e SECURE_SSL_REDIRECT=false
    -e LLM_PROVIDER="$PROVIDER"
    -e THROTTLE_SIGN_IN=1000/min
)
if [ "$PROVIDER" = scripted ]; then
    # The containers' user reads it: a directory of its own, readable by everyone.
    mkdir -m 755 "$tmp/script"
    printf '{"default": {"text": "Scripted reply from the container.", "chunk_size": 4, "delay": 0.01}}\n' \
        >"$tmp/script/script.json"
    chmod 644 "$tmp/script/script.json"
    app_env+=(-e LLM_SCRIPT_FILE=/smoke/script.json -v "$tmp/script:/smoke:ro")
fi

wait_health() { # URL SECONDS -> prints seconds until 200, or fails
    local url=$1 limit=$2 started
    started=$(now)
    while :; do
        if curl -fsS -o "$tmp/health.json" -m 5 "$url/health" 2>/dev/null; then
            since "$started"
            return 0
        fi
        if awk -v s="$(since "$started")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
            cat "$tmp/health.json" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.25
    done
}

first_answer() { # URL SECONDS -> seconds until /health answers at all (200 or 503)
    local url=$1 limit=$2 started
    started=$(now)
    until curl -s -o /dev/null -m 2 "$url/health" 2>/dev/null; do
        if awk -v s="$(since "$started")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then return 1; fi
        sleep 0.1
    done
    since "$started"
}

demo_password() { # CONTAINER -> the demo learner's password
    podman exec "$1" /app/ops/container/entrypoint.sh manage demo_learner |
        sed -n 's/.*password: \([^ ]*\).*/\1/p'
}

rss_mb() { # CONTAINER -> resident memory of its processes but PID 1 (tini), in MB
    podman exec "$1" python3 -c '
import os
total = 0
for pid in os.listdir("/proc"):
    if pid.isdigit() and pid not in ("1", str(os.getpid())):
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        total += int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmRSS")))
print(round(total / 1024))'
}

# --- 1. The image against this machine's PostgreSQL and Redis ---------------------------
log "image: scratch database $SMOKE_DB, Redis ${SMOKE_REDIS_URL##*/}"
psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $SMOKE_DB WITH (FORCE)" >/dev/null
psql "$PG_URL/postgres" -qc "CREATE DATABASE $SMOKE_DB" >/dev/null
redis-cli -u "$SMOKE_REDIS_URL" flushdb >/dev/null
host_env=(
    --network host
    -e DATABASE_URL="$PG_URL/$SMOKE_DB"
    -e REDIS_URL="$SMOKE_REDIS_URL"
    -e HOST=127.0.0.1
    -e WEB_PORT="$PORT"
)

started=$(now)
podman run --rm "${host_env[@]}" "${app_env[@]}" "$IMAGE" migrate >"$tmp/migrate.log" 2>&1 ||
    { cat "$tmp/migrate.log" >&2; die "migrate"; }
migrate_s=$(since "$started")
log "migrate: ${migrate_s}s"

started=$(now)
# Read-only root file systems, as the Kubernetes manifests run them: podman mounts /tmp,
# VAR_DIR gets a volume as the pods get an emptyDir (demo_learner keeps its password there).
podman run -d --read-only -v "$PREFIX-var:/var/lib/coach" --name "$PREFIX-web" \
    "${host_env[@]}" "${app_env[@]}" "$IMAGE" web >/dev/null
podman run -d --read-only --name "$PREFIX-worker" \
    "${host_env[@]}" "${app_env[@]}" "$IMAGE" worker >/dev/null
url=http://127.0.0.1:$PORT
answer_s=$(first_answer "$url" "$HEALTH_TIMEOUT") || {
    podman logs "$PREFIX-web" 2>&1 | tail -n 30 >&2
    die "the web container never answered"
}
health_s=$(wait_health "$url" "$HEALTH_TIMEOUT") || {
    podman logs "$PREFIX-worker" 2>&1 | tail -n 30 >&2
    die "/health never answered 200"
}
cold_s=$(since "$started")
log "cold start: web answers after ${answer_s}s, /health 200 after ${cold_s}s"

podman healthcheck run "$PREFIX-web" >/dev/null || die "the web container's HEALTHCHECK"
podman healthcheck run "$PREFIX-worker" >/dev/null || die "the worker container's HEALTHCHECK"
podman exec "$PREFIX-web" python3 /app/ops/container/healthcheck.py --ready >/dev/null ||
    die "healthcheck --ready"
log "HEALTHCHECK: web and worker healthy"

password=$(demo_password "$PREFIX-web")
[ -n "$password" ] || die "manage.py demo_learner printed no password"
turn=$("$PYTHON" ops/container/chat_turn.py --url "$url" --username demo --password "$password") ||
    { echo "$turn" >&2; podman logs "$PREFIX-worker" 2>&1 | tail -n 30 >&2; die "chat turn"; }
log "chat turn (image, $PROVIDER): $turn"
web_rss=$(rss_mb "$PREFIX-web")
worker_rss=$(rss_mb "$PREFIX-worker")
log "memory after one turn: web ${web_rss} MB, worker ${worker_rss} MB"

started=$(now)
podman stop -t 30 "$PREFIX-web" "$PREFIX-worker" >/dev/null
stop_s=$(since "$started")
podman rm "$PREFIX-web" "$PREFIX-worker" >/dev/null
psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $SMOKE_DB WITH (FORCE)" >/dev/null

printf 'image_size_mb=%s\n' "$(image_mb "$IMAGE")"
printf 'migrate_s=%s\ncold_start_first_answer_s=%s\ncold_start_health_ok_s=%s\n' \
    "$migrate_s" "$answer_s" "$cold_s"
printf 'chat_turn=%s\n' "$turn"
printf 'web_rss_mb=%s\nworker_rss_mb=%s\nstop_s=%s\n' "$web_rss" "$worker_rss" "$stop_s"

[ "${SKIP_COMPOSE:-0}" = 1 ] && exit 0

# --- 2. The compose stack -----------------------------------------------------------------
command -v podman-compose >/dev/null || die "podman-compose is not installed (apt-get install podman-compose)"
registry_image() { timeout 60 podman pull -q "$1" >/dev/null 2>&1; }
# Sets the variable named $1 to a service's image unless it is set: the registry's ($2), or
# else $3, built from Debian's packages by ops/container/services/$4.Containerfile.
service_image() {
    local var=$1 upstream=$2 image=$3 name=$4
    [ -z "${!var:-}" ] || return 0
    if registry_image "$upstream"; then
        printf -v "$var" '%s' "$upstream"
        return 0
    fi
    printf -v "$var" '%s' "$image"
    podman image exists "$image" || {
        log "compose: building $image from Debian's packages"
        podman build --format docker --network host --build-arg "BASE_IMAGE=${BASE_IMAGE:-$LOCAL_BASE_IMAGE}" \
            -f "ops/container/services/$name.Containerfile" -t "$image" \
            ops/container/services >"$tmp/$name-build.log" 2>&1 || { tail -n 30 "$tmp/$name-build.log" >&2; die "$name image"; }
    }
}
service_image POSTGRES_IMAGE docker.io/library/postgres:15 localhost/coach-postgres:15 postgres
service_image REDIS_IMAGE docker.io/library/redis:7 localhost/coach-redis:7 redis

compose_port=$((PORT + 1))
export COACH_IMAGE=$IMAGE POSTGRES_IMAGE REDIS_IMAGE SECRET_KEY=$secret_key \
    WEB_PORT=$compose_port WORKERS=2 LLM_PROVIDER=$PROVIDER \
    CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$compose_port
podman-compose -p "$PREFIX" down -v >/dev/null 2>&1 || true
log "compose: up (postgres, redis, migrate, web, 2 workers)"
started=$(now)
compose_up=1
podman-compose -p "$PREFIX" up -d --no-build >"$tmp/compose-up.log" 2>&1 ||
    { tail -n 40 "$tmp/compose-up.log" >&2; die "podman-compose up"; }
compose_created_s=$(since "$started")
log "compose: containers created and started in ${compose_created_s}s"
url=http://127.0.0.1:$compose_port
wait_health "$url" "$HEALTH_TIMEOUT" >/dev/null || {
    podman-compose -p "$PREFIX" logs 2>&1 | tail -n 60 >&2
    die "compose: /health never answered 200"
}
compose_cold_s=$(since "$started")
log "compose: /health 200 after ${compose_cold_s}s"
podman wait "${PREFIX}_migrate_1" >/dev/null 2>&1 || true
migrate_exit=$(podman inspect --format '{{.State.ExitCode}}' "${PREFIX}_migrate_1")
[ "$migrate_exit" = 0 ] || die "compose: migrate exited $migrate_exit"
workers=$(curl -fsS -H 'Host: localhost' "$url/metrics" | grep -c '^coach_worker_heartbeat_age_seconds{' || true)
[ "$workers" -ge 2 ] || die "compose: $workers worker heartbeat(s) in /metrics, expected 2"
password=$(demo_password "${PREFIX}_web_1")
[ -n "$password" ] || die "compose: demo_learner printed no password"
compose_turn=$("$PYTHON" ops/container/chat_turn.py --url "$url" --username demo --password "$password") ||
    { echo "$compose_turn" >&2; die "compose: chat turn"; }
log "compose: chat turn ($PROVIDER): $compose_turn"
printf 'compose_cold_start_health_ok_s=%s\ncompose_workers=%s\ncompose_chat_turn=%s\n' \
    "$compose_cold_s" "$workers" "$compose_turn"
podman-compose -p "$PREFIX" down -v >"$tmp/compose-down.log" 2>&1 || true
compose_up=
log "smoke tests passed"
