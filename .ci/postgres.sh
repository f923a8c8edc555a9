# shellcheck shell=bash
# Sourced by .ci/run: a throwaway PostgreSQL cluster on 127.0.0.1 for the PostgreSQL tests.
#
# Installs PostgreSQL from Debian's packages when it is missing, starts a private cluster (its own data
# dir under /tmp and its own port, so a system cluster is left alone), creates a role and a database, and
# exports MOCKSERVER_TEST_POSTGRES_URL. Safe to source again: a running cluster is reused, the role's
# password is reset, nothing is created twice. Anything unavailable prints one line and returns 0, so
# the PostgreSQL tests skip (naming the variable) instead of failing the run.

_mockserver_pg() {
  local port=${MOCKSERVER_PG_PORT:-54329}
  local dir=${MOCKSERVER_PG_DIR:-/tmp/mockserver-ci-pg}
  local user=mockserver pass=mockserver-ci db=mockserver_test
  local bin as_pg=() pgbin

  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z $pgbin || ! -x $pgbin/pg_ctl ]]; then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
      echo "ci: postgres: not installed and cannot apt-get install it here; PostgreSQL tests will skip"
      return 0
    fi
    echo "ci: postgres: installing PostgreSQL from Debian packages"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      echo "ci: postgres: apt-get install postgresql failed; PostgreSQL tests will skip"
      return 0
    fi
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z $pgbin || ! -x $pgbin/pg_ctl ]]; then
      echo "ci: postgres: installed, but no pg_ctl under /usr/lib/postgresql; PostgreSQL tests will skip"
      return 0
    fi
  fi
  bin=$pgbin

  # The server refuses to run as root: run the cluster as the `postgres` user when we are root.
  if [[ $(id -u) -eq 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "ci: postgres: running as root but there is no 'postgres' user; PostgreSQL tests will skip"
      return 0
    fi
    as_pg=(runuser -u postgres --)
  fi

  if [[ ! -s $dir/PG_VERSION ]]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [[ ${#as_pg[@]} -gt 0 ]] && chown postgres: "$dir"
    chmod 700 "$dir"
    if ! "${as_pg[@]}" "$bin/initdb" -D "$dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1; then
      echo "ci: postgres: initdb failed (see $dir.initdb.log); PostgreSQL tests will skip"
      return 0
    fi
  fi

  if ! "${as_pg[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    # A test cluster: durability is not what is tested against it, speed is.
    if ! "${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off" >/dev/null 2>&1; then
      echo "ci: postgres: could not start the cluster on 127.0.0.1:$port (see $dir/server.log);" \
           "PostgreSQL tests will skip"
      return 0
    fi
  fi

  local psql=("${as_pg[@]}" "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if ! "${psql[@]}" -c "SELECT 1" >/dev/null 2>&1; then
    echo "ci: postgres: the cluster in $dir does not answer on port $port; PostgreSQL tests will skip"
    return 0
  fi
  if [[ $("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'") != 1 ]]; then
    "${psql[@]}" -c "CREATE ROLE $user LOGIN" >/dev/null || { echo "ci: postgres: CREATE ROLE failed"; return 0; }
  fi
  "${psql[@]}" -c "ALTER ROLE $user WITH LOGIN PASSWORD '$pass' CREATEDB" >/dev/null \
    || { echo "ci: postgres: ALTER ROLE failed; PostgreSQL tests will skip"; return 0; }
  # The tests make a scratch database per test and drop it WITH (FORCE) if a connection lingers.
  "${psql[@]}" -c "GRANT pg_signal_backend TO $user" >/dev/null 2>&1 || true
  if [[ $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
    "${psql[@]}" -c "CREATE DATABASE $db OWNER $user" >/dev/null \
      || { echo "ci: postgres: CREATE DATABASE failed; PostgreSQL tests will skip"; return 0; }
  fi

  # The tests import psycopg from the project's virtualenv (it is in the `test` extra; a .venv made
  # before it was added gets it here). A missing .venv is made by `make test` with the extra.
  if [[ -x .venv/bin/python ]] && ! .venv/bin/python -c "import psycopg" >/dev/null 2>&1; then
    .venv/bin/python -m pip install --quiet "psycopg[binary]>=3.1" >/dev/null 2>&1 \
      || echo "ci: postgres: could not install psycopg into .venv; PostgreSQL tests will skip"
  fi

  export MOCKSERVER_TEST_POSTGRES_URL="postgresql+psycopg://$user:$pass@127.0.0.1:$port/$db"
  echo "ci: postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port," \
       "MOCKSERVER_TEST_POSTGRES_URL exported"
}

_mockserver_pg || echo "ci: postgres: setup failed; PostgreSQL tests will skip"
unset -f _mockserver_pg
return 0 2>/dev/null || true
