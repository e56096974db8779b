#!/bin/sh
# The image's entrypoint: one image, several roles.
#
#   web                  Uvicorn on $HOST:$WEB_PORT (HTTP and websockets)
#   worker               manage.py db_worker, all queues, $WORKER_THREADS tasks at once
#   migrate              manage.py migrate (once per release), when the database answers
#   wait-for-migrations  wait until the database answers and has every migration
#   manage ARGS...       any manage.py command (createsuperuser, demo_learner, shell, ...)
#   anything else        run as given (sh, python3, ...)
#
# Settings come from the environment only (docs/deploy.md). Web-only variables:
#   TRUSTED_PROXIES   comma-separated IPs or CIDRs of the reverse proxies whose
#                     X-Forwarded-For / X-Forwarded-Proto are believed (Uvicorn's
#                     --forwarded-allow-ips, and Django's own setting); empty: nobody's
#   WEB_GRACEFUL_SECONDS  how long a stopping web process waits for open connections (20)
# With WAIT_FOR_MIGRATIONS=1, web and worker first wait for migrations (an orchestrator
# that cannot order a one-shot job before them: compose without health gating, or a
# Kubernetes rollout whose migrate Job runs alongside).
# COACH_DRY_RUN=1 prints the command instead of running it (used by the tests).
set -eu

cd /app 2>/dev/null || cd "$(dirname "$0")/../.."

run() {
    if [ "${COACH_DRY_RUN:-0}" = 1 ]; then
        printf '%s\n' "$*"
        exit 0
    fi
    exec "$@"
}

wait_for() { # database | migrations (ops/container/wait.py; MIGRATIONS_WAIT_SECONDS)
    python3 ops/container/wait.py "$1"
}

role=${1:-web}
[ $# -gt 0 ] && shift

if [ "${WAIT_FOR_MIGRATIONS:-0}" = 1 ] && [ "${COACH_DRY_RUN:-0}" != 1 ]; then
    case "$role" in web | worker) wait_for migrations ;; esac
fi

case "$role" in
web)
    set -- --host "${HOST:-0.0.0.0}" --port "${WEB_PORT:-8000}" \
        --lifespan on --no-access-log \
        --ws-per-message-deflate false \
        --ws-max-size "${WEBSOCKET_MAX_MESSAGE_BYTES:-1048576}" \
        --timeout-graceful-shutdown "${WEB_GRACEFUL_SECONDS:-20}" "$@"
    if [ -n "${TRUSTED_PROXIES:-}" ]; then
        # Uvicorn takes the same comma-separated list of addresses and networks.
        set -- "$@" --proxy-headers \
            --forwarded-allow-ips "$(printf '%s' "$TRUSTED_PROXIES" | tr -d ' ')"
    else
        # Uvicorn's default would believe X-Forwarded-For from 127.0.0.1.
        set -- "$@" --no-proxy-headers
    fi
    run uvicorn config.asgi:application "$@"
    ;;
worker)
    run python3 manage.py db_worker --queue-name "*" "$@"
    ;;
migrate)
    # The database may still be starting (compose starts it alongside).
    [ "${COACH_DRY_RUN:-0}" = 1 ] || wait_for database
    run python3 manage.py migrate --noinput "$@"
    ;;
wait-for-migrations)
    run python3 ops/container/wait.py migrations
    ;;
manage)
    run python3 manage.py "$@"
    ;;
*)
    run "$role" "$@"
    ;;
esac
