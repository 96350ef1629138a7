#!/usr/bin/env bash
# Writes the images' local base: a Debian bookworm root filesystem as a tarball ($1),
# made from Debian packages only (no registry holds a python image for us). It stands in
# for the official python:3.11 slim image the Dockerfiles default to, so it has what
# they rely on: `python` on PATH (python-is-python3), `python -m venv` with pip
# (python3-venv), and CA certificates for pip's downloads.
set -euo pipefail
out=$1
# Like the slim images: no documentation, manual pages or translations.
mmdebstrap --variant=minbase --mode=root --quiet \
  --include=python3,python3-venv,python-is-python3,ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
  bookworm "$out" ${KUBEDRIFT_DEBIAN_MIRROR:-}
