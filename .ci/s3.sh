# shellcheck shell=bash
# Sourced by .ci/run: a local S3-compatible server for the --blob-url tests (moto in server mode, from
# moto[server] in the test extra), on a free loopback port, for the whole run. Exports
# MOCKSERVER_TEST_S3_ENDPOINT, which tests/s3.py uses; without it each test process starts its own moto
# server the same way. Safe to source again (a server still answering is reused). Anything unavailable
# prints one line and returns 0: the tests then start their own.
#
# By hand:  make install && .venv/bin/moto_server -H 127.0.0.1 -p 5055
#           export MOCKSERVER_TEST_S3_ENDPOINT=http://127.0.0.1:5055

_mockserver_s3() {
  local log=/tmp/mockserver-ci-s3.log port
  if [[ -n ${MOCKSERVER_TEST_S3_ENDPOINT:-} ]] && curl -s -o /dev/null "$MOCKSERVER_TEST_S3_ENDPOINT"; then
    echo "ci: s3: reusing $MOCKSERVER_TEST_S3_ENDPOINT"
    return 0
  fi
  if ! make install >/dev/null; then
    echo "ci: s3: make install failed; the S3 tests start their own server (or skip)"
    return 0
  fi
  port=$(.venv/bin/python -c 'from mockserver.testing import free_port; print(free_port())') || return 0
  setsid .venv/bin/moto_server -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
  MOCKSERVER_CI_S3_PID=$!   # its own process group (setsid): .ci/run stops the group when the run ends
  for _ in $(seq 1 100); do
    if .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
      export MOCKSERVER_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
      echo "ci: s3: moto server on $MOCKSERVER_TEST_S3_ENDPOINT (log: $log)"
      return 0
    fi
    sleep 0.2
  done
  echo "ci: s3: moto server did not start (see $log); the S3 tests start their own"
  return 0
}
_mockserver_s3
