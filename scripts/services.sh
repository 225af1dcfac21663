#!/usr/bin/env bash
# Install and start what the full test suite needs, on a Debian machine where we are root:
#   PostgreSQL (real), a Docker engine, a local Python base image (no image registry is reachable
#   here, so it is made with debootstrap + docker import), an OCI registry on 127.0.0.1:5000 and a
#   Java 17 runtime (tests/spark).
# Source it:  . scripts/services.sh   — it exports the SHIPYARD_TEST_* variables the tests read.
# Idempotent: anything already installed or running is left as it is. The caller's shell options
# are restored at the end.
_services_saved_opts=$(set +o)
set -euo pipefail

_log() { printf '\033[1m[services]\033[0m %s\n' "$*" >&2; }

_need_apt=()
command -v pg_ctlcluster >/dev/null || _need_apt+=(postgresql)
command -v dockerd >/dev/null || _need_apt+=(docker.io)
command -v debootstrap >/dev/null || _need_apt+=(debootstrap)
command -v docker-registry >/dev/null || _need_apt+=(docker-registry)
command -v wrk >/dev/null || _need_apt+=(wrk)
command -v chromium >/dev/null || _need_apt+=(chromium)  # monitor: the report renders in it
command -v kubectl >/dev/null || _need_apt+=(kubernetes-client)  # deploy: kubectl kustomize, apply
command -v java >/dev/null || _need_apt+=(openjdk-17-jre-headless)  # tests/spark: local Spark
if [ ${#_need_apt[@]} -gt 0 ]; then
  _log "installing ${_need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_need_apt[@]}" >/dev/null
fi

# --- PostgreSQL -----------------------------------------------------------------------------
_pg_version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q online; then
  _log "starting PostgreSQL $_pg_version"
  pg_lsclusters -h | grep -q "^$_pg_version main" || pg_createcluster "$_pg_version" main >/dev/null
  pg_ctlcluster "$_pg_version" main start
fi
for _ in $(seq 1 30); do su postgres -c "pg_isready -q -h 127.0.0.1" && break; sleep 1; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='shipyard'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE USER shipyard PASSWORD 'shipyard' SUPERUSER\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='shipyard'\"" | grep -q 1 ||
  su postgres -c "createdb -O shipyard shipyard"
export SHIPYARD_TEST_POSTGRES_URL="postgresql://shipyard:shipyard@127.0.0.1:5432/shipyard"

# --- Docker engine --------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  _log "starting dockerd"
  setsid dockerd >/tmp/shipyard-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { _log "dockerd did not start: see /tmp/shipyard-dockerd.log"; exit 1; }
fi

# --- A Python base image made locally -------------------------------------------------------
export SHIPYARD_TEST_BASE_IMAGE="shipyard-test/python:3.11-bookworm"
if ! docker image inspect "$SHIPYARD_TEST_BASE_IMAGE" >/dev/null 2>&1; then
  _log "building $SHIPYARD_TEST_BASE_IMAGE with debootstrap (about a minute)"
  _rootfs=$(mktemp -d /tmp/shipyard-rootfs.XXXXXX)
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip bookworm "$_rootfs" \
    >/tmp/shipyard-debootstrap.log 2>&1
  tar -C "$_rootfs" -c . | docker import - "$SHIPYARD_TEST_BASE_IMAGE" >/dev/null
  rm -rf "$_rootfs"
fi

# --- An nginx image for deployment load balancers ----------------------------------------------
# Users get the official nginx image; nothing can be pulled here, so tests use Debian's nginx
# package installed on top of the local base image.
export SHIPYARD_TEST_LB_IMAGE="shipyard-test/nginx:bookworm"
if ! docker image inspect "$SHIPYARD_TEST_LB_IMAGE" >/dev/null 2>&1; then
  _log "building $SHIPYARD_TEST_LB_IMAGE from Debian's nginx package"
  _nginx_ctx=$(mktemp -d /tmp/shipyard-nginx.XXXXXX)
  (cd "$_nginx_ctx" && apt-get download -qq nginx nginx-common >/dev/null 2>&1)
  printf '%s\n' "FROM $SHIPYARD_TEST_BASE_IMAGE" "COPY *.deb /tmp/debs/" \
    "RUN dpkg -i --force-depends /tmp/debs/*.deb && rm -rf /tmp/debs && nginx -v" \
    "STOPSIGNAL SIGQUIT" 'CMD ["nginx", "-g", "daemon off;"]' >"$_nginx_ctx/Dockerfile"
  docker build -q -t "$SHIPYARD_TEST_LB_IMAGE" "$_nginx_ctx" >/dev/null
  rm -rf "$_nginx_ctx"
fi

# --- A single-node Swarm on loopback (deploy tests) ------------------------------------------
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  _log "initialising a single-node swarm on 127.0.0.1"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi

# --- An OCI registry on loopback ------------------------------------------------------------
export SHIPYARD_TEST_OCI_REGISTRY="127.0.0.1:5000"
if ! python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/v2/', timeout=2)" \
  >/dev/null 2>&1; then
  _log "starting docker-registry on $SHIPYARD_TEST_OCI_REGISTRY"
  mkdir -p /tmp/shipyard-oci-registry
  cat >/tmp/shipyard-oci-registry/config.yml <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: /tmp/shipyard-oci-registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
EOF
  setsid docker-registry serve /tmp/shipyard-oci-registry/config.yml \
    >/tmp/shipyard-oci-registry/log 2>&1 < /dev/null &
  for _ in $(seq 1 30); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/v2/', timeout=2)" \
      >/dev/null 2>&1 && break
    sleep 1
  done
fi
# --- The Gateway API's HTTPRoute schema (deploy: canary routes are validated offline) --------
# kubernetes-validate has no CRDs; the npm package carries validators compiled from the Gateway
# API's OpenAPI schema, run with the machine's node (tests/deploy/gateway_api.py).
export SHIPYARD_TEST_GATEWAY_API="${SHIPYARD_TEST_GATEWAY_API:-/opt/shipyard-test/gateway-api}"
if command -v npm >/dev/null &&
  [ ! -f "$SHIPYARD_TEST_GATEWAY_API/node_modules/@kubernetes-models/gateway-api/package.json" ]; then
  _log "installing @kubernetes-models/gateway-api into $SHIPYARD_TEST_GATEWAY_API"
  mkdir -p "$SHIPYARD_TEST_GATEWAY_API"
  npm install --prefix "$SHIPYARD_TEST_GATEWAY_API" --no-audit --no-fund --silent \
    @kubernetes-models/gateway-api@2.0.0 >/dev/null 2>&1 ||
    _log "could not install @kubernetes-models/gateway-api: the HTTPRoute schema tests will skip"
fi

_log "ready: PostgreSQL, Docker engine, $SHIPYARD_TEST_BASE_IMAGE, $SHIPYARD_TEST_LB_IMAGE, swarm, registry $SHIPYARD_TEST_OCI_REGISTRY"
eval "$_services_saved_opts"
unset _services_saved_opts
