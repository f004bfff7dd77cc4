# build-aux/common.sh: shared by build-aux/run-main-job and build-aux/run-tests.
# Source it; it defines two functions and changes nothing by itself.
#
#   vt_install_deps   install the Debian 12 packages vtclient needs, only the
#                     missing ones (sudo only when not root; VT_SKIP_DEPS=1
#                     skips the step)
#   vt_setup_build DIR [MESON-OPTIONS...]
#                     configure DIR, or reconfigure it when it already is a
#                     meson build directory, then build it
#   vt_test_totals DIR|LOG...
#                     print the totals of the last `meson test -C DIR` run,
#                     or of the given testlog.json copies, as one line,
#                     "tests: N passed, N failed[, N skipped]"

vt_packages=(
  # toolchain and build system
  meson ninja-build pkg-config gcc clang
  # the library's dependencies
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev
  # vt-server's job store
  libsqlite3-dev
  # introspection, the Python and JavaScript bindings and their tests
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0
  gir1.2-soup-3.0 gir1.2-json-1.0 gjs python3 python3-gi
  # the API reference
  gi-docgen
  # the Vala binding (vapigen) and the Vala example (valac)
  valac
  # TLS and proxy modules for GIO (libsoup warns without them), memory checks
  glib-networking valgrind
  # clang's sanitizer and libFuzzer runtimes (build-aux/run-sanitizers)
  libclang-rt-14-dev
  # vt-bench's PNG plot
  libcairo2-dev
  # the aiohttp rows of tests/bench/run-scale (the anchor script) and
  # tests/bench/vt-hold-many.py (10,000 held requests); run-scale --perf
  python3-aiohttp linux-perf
  # the installed tests' runner (build-aux/run-installed-tests)
  gnome-desktop-testing
  # vt-jobs, the GTK 4 example, and its test on an X server: Xvfb, a font
  # for its text, GdkPixbuf from Python to read its screenshots
  libgtk-4-dev xvfb fonts-dejavu-core gir1.2-gdkpixbuf-2.0
)

vt_install_deps () {
  local missing=() pkg
  local sudo=()

  if [ "${VT_SKIP_DEPS:-0}" = 1 ]; then
    return 0
  fi
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "vtclient: not a Debian system; install by hand: ${vt_packages[*]}" >&2
    return 0
  fi

  for pkg in "${vt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi

  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  echo "vtclient: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

vt_setup_build () {
  local dir=$1
  shift

  if [ -f "$dir/meson-private/coredata.dat" ]; then
    meson setup --reconfigure "$dir" "$@"
  else
    rm -rf "$dir"
    meson setup "$dir" "$@"
  fi
  meson compile -C "$dir"
}

vt_test_totals () {
  local logs=()
  for arg in "$@"; do
    if [ -d "$arg" ]; then
      logs+=("$arg/meson-logs/testlog.json")
    else
      logs+=("$arg")
    fi
  done
  /usr/bin/python3 - "${logs[@]}" <<'PY'
import json, sys
counts = {'passed': 0, 'failed': 0, 'skipped': 0}
failures = []
for name in sys.argv[1:]:
  with open(name, encoding='utf-8') as log:
    for line in log:
        test = json.loads(line)
        result = test['result']
        if result in ('OK', 'EXPECTEDFAIL'):
            counts['passed'] += 1
        elif result == 'SKIP':
            counts['skipped'] += 1
        else:
            counts['failed'] += 1
            failures.append((name, test))
# A CI log is often read from its end: each failure is named there, with
# the last lines it printed, before the totals.
for log, test in failures:
    print('FAILED: %s (%s, %s, %.1f s)' % (test['name'], log, test['result'],
                                          test.get('duration') or 0))
    out = ((test.get('stdout') or '') + (test.get('stderr') or '')).splitlines()
    for text in out[-15:]:
        print('  | ' + text[:300])
line = 'tests: %(passed)d passed, %(failed)d failed' % counts
if counts['skipped']:
    line += ', %(skipped)d skipped' % counts
print(line)
PY
}
