#!/usr/bin/env bash
# The installer behind `./bazelw run //:install -- --prefix=DIR`: copies
# shmio's headers, static libraries, pkg-config and CMake files and programs
# from its runfiles into DIR, as the manifest written by
# packaging/install.bzl lists them (one "source<TAB>dest<TAB>mode<TAB>how"
# line per file; "subst" files get DIR in place of @PREFIX@).
set -euo pipefail

usage() {
  echo "usage: bazel run //:install -- --prefix=DIR"
  echo "  installs include/, lib/ (static libraries, pkgconfig/, cmake/shmio/),"
  echo "  bin/shmio and libexec/shmio/ under DIR; a relative DIR is taken from"
  echo "  the directory bazel was started in"
}

prefix=""
while (($#)); do
  case "$1" in
    --prefix=*) prefix="${1#--prefix=}" ;;
    --prefix) shift; prefix="${1:-}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$prefix" ]]; then
  echo "install: --prefix=DIR is required" >&2
  usage >&2
  exit 2
fi
if [[ "$prefix" != /* ]]; then
  # `bazel run` starts us inside the runfiles tree; the user meant their own
  # working directory.
  prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix"
fi

# Our runfiles: next to us under `bazel run`, the caller's under `bazel test`.
if [[ -d "$0.runfiles" ]]; then
  runfiles="$0.runfiles"
elif [[ -n "${RUNFILES_DIR:-}" ]]; then
  runfiles="$RUNFILES_DIR"
else
  echo "install: cannot find the runfiles of $0: run it with bazel run //:install" >&2
  exit 1
fi
manifest="$runfiles/@MANIFEST@"

count=0
while IFS=$'\t' read -r source dest mode how; do
  install -D -m "$mode" "$runfiles/$source" "$prefix/$dest"
  if [[ "$how" == subst ]]; then
    # The prefix may hold any character but a newline; escape it for sed.
    escaped="$(printf '%s' "$prefix" | sed -e 's/[\\&|]/\\&/g')"
    sed -i -e "s|@PREFIX@|$escaped|g" "$prefix/$dest"
  fi
  echo "install: $prefix/$dest"
  count=$((count + 1))
done < "$manifest"
echo "install: $count files under $prefix"
