#!/usr/bin/env bash
# Load a generated kiln docs page in headless Chromium and check it works.
#
#   tests/docs/browser_test.sh [PAGE.html] [SCREENSHOT.png]
#
# PAGE.html defaults to the sample page (render_sample.sh fills the template
# with sample_data.json into /tmp/kiln_docs_sample.html); the screenshot
# defaults to /tmp/kiln_docs.png. Installs Debian's chromium if
# /usr/bin/chromium is missing, and playwright-core into tests/docs/node_modules.
# Exits non-zero, saying which check failed, when anything is wrong.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
page="${1:-}"
shot="${2:-/tmp/kiln_docs.png}"

die() { echo "browser_test: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to run: $*"
    fi
}

if [ -z "$page" ]; then
    "$here/render_sample.sh" "$here/sample_data.json" /tmp/kiln_docs_sample.html >/dev/null \
        || die "could not render the sample page"
    page=/tmp/kiln_docs_sample.html
fi
[ -f "$page" ] || die "no such page: $page"

if [ ! -x /usr/bin/chromium ]; then
    echo "browser_test: installing Debian's chromium" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || die "apt-get install chromium failed"
fi
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is still missing"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "browser_test: installing node and npm" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
        || die "apt-get install nodejs npm failed"
fi

if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    echo "browser_test: installing playwright-core into $here/node_modules" >&2
    (cd "$here" && npm install --no-package-lock --no-audit --no-fund --silent) \
        || die "npm install playwright-core failed"
fi

# The page before `kiln docs generate` fills it: its data is null.
raw_template=()
if "$here/render_sample.sh" - /tmp/kiln_docs_template.html >/dev/null; then
    raw_template=(/tmp/kiln_docs_template.html)
fi
exec node "$here/browser_test.js" "$page" "$shot" "${raw_template[@]}"
