#!/usr/bin/env bash
# Install what `make site` and `make test` need, and nothing twice:
#   - Debian packages (the sandbox engine, static busybox/bash for fixture images, chromium and a
#     CJK font for browser tests), installed with apt-get when running as root;
#   - a virtualenv at .venv, made from Debian's own /usr/bin/python3 (3.11.2 on Debian 12, what a
#     stock machine and the debian:12 CI container have, whatever other python3 comes first on
#     PATH), with this package in editable mode plus its dev and ko (Korean search) extras;
#   - a wheelhouse, .venv/wheelhouse, of the package's runtime dependencies (not the extras),
#     so that tests/test_packaging.py can install the built wheel into a fresh venv offline.
# Re-running is cheap: dpkg-query and a stamp file decide what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(docker.io tini busybox-static bash-static iproute2 util-linux curl
                 uidmap skopeo docker-registry apache2-utils
                 chromium fonts-noto-cjk nodejs
                 python3-venv)  # `python3 -m venv` below; not in a minimal Debian 12
VENV=.venv
STAMP=$VENV/.installed-from

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "snippet-runner needs these Debian packages, which are not installed: ${missing[*]} — install them as root with 'apt-get install -y ${missing[*]}' (or run this command as root) and try again." >&2
        exit 1
    fi
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${SNIPPET_RUNNER_PYTHON:-/usr/bin/python3}
if [[ ! -x $PYTHON ]]; then
    echo "snippet-runner's tests and site build use Debian's own Python ($PYTHON), which is not installed: run 'apt-get install -y python3 python3-venv' as root and try again." >&2
    exit 1
fi
want="$(sha256sum pyproject.toml | cut -c1-64) $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
if [[ ! -x $VENV/bin/python ]] || [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
    echo "bootstrap: preparing $VENV with $PYTHON"
    rm -rf "$VENV"  # another interpreter's venv can't be upgraded in place
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e '.[dev,ko]'
    "$VENV/bin/python" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > "$VENV/runtime-requirements.txt"
    "$VENV/bin/pip" download -q --only-binary=:all: -d "$VENV/wheelhouse" -r "$VENV/runtime-requirements.txt"
    echo "$want" > "$STAMP"
fi
