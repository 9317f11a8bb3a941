#!/bin/sh
# Installs the Debian 12 packages ivl needs to build, run the demo and run the
# whole test suite; generates the zh_CN.UTF-8 locale for the Chinese
# interface test. Used by the README's first command and by .ci/run, so the
# list lives in one place. Runs apt-get through sudo when not root.
set -eu
SUDO=
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: run as root or install sudo" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# build and run
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential clang pkg-config gettext libsodium-dev liblmdb-dev uuid-dev libcmocka-dev \
    libjansson-dev >/dev/null
# tests: LMDB tools, the independent verifier, locales, man page, the report in
# a browser, valgrind (the signer's constant-time check)
$SUDO apt-get install -y -qq --no-install-recommends \
    valgrind lmdb-utils python3 python3-cryptography locales groff-base util-linux \
    chromium fonts-noto-cjk >/dev/null
if ! locale -a 2>/dev/null | grep -qi '^zh_CN.utf8$'; then
    $SUDO sed -i 's/^# *zh_CN.UTF-8 UTF-8/zh_CN.UTF-8 UTF-8/' /etc/locale.gen
    $SUDO locale-gen >/dev/null
fi
echo "deps.sh: done"
