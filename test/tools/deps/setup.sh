# Sourced by test/run-all.sh before any stage: installs what the tests need on Debian 12, as root, and does
# nothing but check when all is there (a second run takes about a second). What the README asks for first
# (Node.js with npm, python3) it only checks.
#   - the Debian packages listed in test/tools/deps/debian.txt (apt-get, only the missing ones);
#   - node_modules, with npm ci, when it is missing or older than package-lock.json;
#   - a Go >= 1.26 on PATH for the Go app (test/tools/deps/go-toolchain.sh, sourced: it changes PATH).

clm_setup() (
  set -euo pipefail
  local missing=() package
  for tool in node npm python3; do
    command -v "$tool" >/dev/null || { echo "== setup: $tool is missing; docs/testing.md's 'Running the tests' says what to install first" >&2; return 1; }
  done
  # dpkg-query lists only the packages it knows; of those, the ones not fully installed are missing too.
  mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' test/tools/deps/debian.txt)
  for package in "${wanted[@]}"; do
    [ "$(dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null)" = installed ] || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "== setup: missing Debian packages, and not root to install them: ${missing[*]}" >&2; return 1; }
    echo "== setup: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt-get (a stage's own install on a shared machine) may hold the lock for a while.
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  echo "== setup: the ${#wanted[@]} Debian packages of test/tools/deps/debian.txt are installed"
  # npm writes node_modules/.package-lock.json on every install; a package-lock.json newer than it (a pull,
  # a checkout, a dependency change) means node_modules may not match it.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "== setup: npm ci (node_modules $([ -d node_modules ] && echo 'is older than package-lock.json' || echo 'is missing'))"
    npm ci --no-audit --no-fund
  else
    echo "== setup: node_modules matches package-lock.json"
  fi
)

clm_setup_started=$SECONDS
clm_setup || { echo "== setup: FAILED" >&2; exit 1; }
source test/tools/deps/go-toolchain.sh
# Not installable from here (pyenv builds them from python.org's sources): said now, not after the other stages.
if ! clm_pythons=$(python3 test/integration/invoker.py pythons 2>&1); then
  echo "== setup: ${clm_pythons#invoker: }. The stages integ-local and integ-lifecycle need it." >&2
fi
unset clm_pythons
echo "== setup: done in $((SECONDS - clm_setup_started)) s"
unset -f clm_setup
unset clm_setup_started
