#!/bin/sh
# Container entrypoint: writes zoo.cfg and the myid file from ZKGATE_* environment variables, then runs the
# command (by default `zkgate server --config $ZKGATE_CONF_DIR/zoo.cfg --host 0.0.0.0`). With no command it
# only writes the files. Variables (defaults in brackets):
#   ZKGATE_DATA_DIR [/data]  ZKGATE_CONF_DIR [/conf]  ZKGATE_HTTP_PORT [8080]  ZKGATE_TICK_TIME [2000]
#   ZKGATE_INIT_LIMIT [10]  ZKGATE_SYNC_LIMIT [5]  ZKGATE_MIN_SESSION_TIMEOUT, ZKGATE_MAX_SESSION_TIMEOUT
#   ZKGATE_METRICS_PORT  plain-HTTP port for ruok, mntr and /metrics (zoo.cfg metricsPort); the image's health
#                    check uses it when set, which it must be when the HTTP port serves TLS
#   ZKGATE_SERVERS   space/comma-separated server.N=host:peerPort:electionPort[:observer][;httpPort] lines
#   ZKGATE_MYID      this node's id; or ZKGATE_MYID_FROM_HOSTNAME=1 to take <ordinal>+1 from a name-<ordinal> hostname
#   ZKGATE_ENSEMBLE_SECRET or ZKGATE_ENSEMBLE_SECRET_FILE   ZKGATE_SUPER_DIGEST   ZKGATE_EXTRA_CONFIG (raw lines)
#   ZKGATE_KEEP_CONFIG=1 keeps an existing zoo.cfg instead of regenerating it.
set -eu

fail() {
  echo "docker-entrypoint: $*" >&2
  exit 2
}

conf_dir="${ZKGATE_CONF_DIR:-/conf}"
data_dir="${ZKGATE_DATA_DIR:-/data}"
cfg="$conf_dir/zoo.cfg"
servers=$(printf '%s' "${ZKGATE_SERVERS:-}" | tr ',' ' ')

myid="${ZKGATE_MYID:-}"
if [ -z "$myid" ] && [ "${ZKGATE_MYID_FROM_HOSTNAME:-0}" = 1 ]; then
  host="${HOSTNAME:-$(hostname)}"
  ordinal="${host##*-}"
  case "$ordinal" in
    '' | *[!0-9]*) fail "cannot derive myid from hostname '$host' (expected <name>-<ordinal>, as a StatefulSet names pods)" ;;
  esac
  myid=$((ordinal + 1))
fi
case "$myid" in
  *[!0-9]*) fail "ZKGATE_MYID must be a number, got '$myid'" ;;
esac
if [ -n "$servers" ] && [ -z "$myid" ]; then
  fail "ZKGATE_SERVERS is set, so this node needs ZKGATE_MYID (or ZKGATE_MYID_FROM_HOSTNAME=1)"
fi

mkdir -p "$conf_dir" "$data_dir"

if [ "${ZKGATE_KEEP_CONFIG:-0}" != 1 ] || [ ! -f "$cfg" ]; then
  {
    echo "# written by docker-entrypoint.sh from ZKGATE_* environment variables"
    echo "tickTime=${ZKGATE_TICK_TIME:-2000}"
    echo "initLimit=${ZKGATE_INIT_LIMIT:-10}"
    echo "syncLimit=${ZKGATE_SYNC_LIMIT:-5}"
    echo "dataDir=$data_dir"
    echo "httpPort=${ZKGATE_HTTP_PORT:-8080}"
    if [ -n "${ZKGATE_METRICS_PORT:-}" ]; then echo "metricsPort=$ZKGATE_METRICS_PORT"; fi
    if [ -n "${ZKGATE_MIN_SESSION_TIMEOUT:-}" ]; then echo "minSessionTimeout=$ZKGATE_MIN_SESSION_TIMEOUT"; fi
    if [ -n "${ZKGATE_MAX_SESSION_TIMEOUT:-}" ]; then echo "maxSessionTimeout=$ZKGATE_MAX_SESSION_TIMEOUT"; fi
    if [ -n "${ZKGATE_ENSEMBLE_SECRET_FILE:-}" ]; then echo "ensembleSecretFile=$ZKGATE_ENSEMBLE_SECRET_FILE"; fi
    if [ -n "${ZKGATE_ENSEMBLE_SECRET:-}" ]; then echo "ensembleSecret=$ZKGATE_ENSEMBLE_SECRET"; fi
    if [ -n "${ZKGATE_SUPER_DIGEST:-}" ]; then echo "superDigest=$ZKGATE_SUPER_DIGEST"; fi
    for line in $servers; do
      case "$line" in
        server.[0-9]*=*) echo "$line" ;;
        *) fail "ZKGATE_SERVERS entry '$line' is not server.N=host:peerPort:electionPort[;httpPort]" ;;
      esac
    done
    if [ -n "${ZKGATE_EXTRA_CONFIG:-}" ]; then printf '%s\n' "$ZKGATE_EXTRA_CONFIG"; fi
  } >"$cfg.tmp"
  mv "$cfg.tmp" "$cfg"
fi

if [ -n "$myid" ]; then
  printf '%s\n' "$myid" >"$data_dir/myid.tmp"
  mv "$data_dir/myid.tmp" "$data_dir/myid"
fi

if [ "$#" -eq 0 ]; then
  exit 0
fi
exec "$@"
