# shellcheck shell=bash
# Sourced by .ci/run: Debian's Chromium for the dashboard browser test (tests/browser).
#
# Installs the `chromium` package when no Chromium is found (/usr/bin/chromium or `chromium` on PATH).
# The Python side (the `playwright` package) comes from the project's `[test]` extra; Playwright never
# downloads a browser here (no `playwright install`): the test points it at the system Chromium.
# Anything unavailable prints one line and returns 0, so the browser test skips (saying why) instead of
# failing the run. Safe to source again: an installed Chromium is left as it is.

_mockserver_chromium() {
  local found
  found=$(command -v chromium 2>/dev/null || true)
  [[ -z $found && -x /usr/bin/chromium ]] && found=/usr/bin/chromium
  if [[ -n $found ]]; then
    echo "ci: chromium: using $found ($("$found" --version 2>/dev/null | head -n 1 || echo 'version unknown'))"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci: chromium: not installed and cannot apt-get install it here; the dashboard browser test will skip"
    return 0
  fi
  echo "ci: chromium: installing Debian's chromium package"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "ci: chromium: apt-get install chromium failed; the dashboard browser test will skip"
    return 0
  fi
  if [[ -x /usr/bin/chromium ]]; then
    echo "ci: chromium: installed /usr/bin/chromium"
  else
    echo "ci: chromium: package installed but /usr/bin/chromium is missing; the dashboard browser test will skip"
  fi
  return 0
}

_mockserver_chromium || echo "ci: chromium: setup failed unexpectedly; the dashboard browser test will skip"
unset -f _mockserver_chromium
