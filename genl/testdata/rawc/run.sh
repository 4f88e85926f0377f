#!/bin/sh
# Builds and runs the raw C GETFAMILY loop: ./run.sh [iterations]
set -e
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -O2 -Wall -o "$out/getfamily" getfamily.c
"$out/getfamily" "${1:-1000000}"
