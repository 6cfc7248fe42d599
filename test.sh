#!/usr/bin/env bash
# Runs the whole test suite: the Rust tests of the workspace (cargo-nextest if installed, else
# cargo test), then the grafana-client compatibility smoke test, then the schemathesis fuzz run
# over the OpenAPI document (tests/fuzz/run.sh). Exits non-zero if any fails.
# The Rust database tests use USHER_TEST_POSTGRES_URL / USHER_TEST_MYSQL_URL when set.
set -uo pipefail
cd "$(dirname "$0")" || exit 1

# The browser tests (tests/browser) drive Debian's Chromium through ChromeDriver: installed here
# when missing and this is a Debian machine we may install on; otherwise those tests fail and say
# what to install.
if [[ ! -x /usr/bin/chromedriver || ! -x /usr/bin/chromium ]]; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
        echo "test.sh: installing chromium and chromium-driver for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null ||
            echo "test.sh: could not install chromium (the browser tests will fail)" >&2
    fi
fi

status=0
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast || status=1
else
    cargo test --workspace --no-fail-fast || status=1
fi
rust_status=$status
tests/compat/run.sh || status=1
tests/fuzz/run.sh || { status=1; echo "test.sh: the fuzz run FAILED (see above)" >&2; }
if [[ $rust_status -ne 0 ]]; then
    echo "test.sh: the Rust tests FAILED (see above)" >&2
fi
exit "$status"
