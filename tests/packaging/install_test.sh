#!/usr/bin/env bash
# //tests/packaging:install_test: installs shmio with //:install into a
# temporary prefix, then uses the install the way a project without Bazel
# does, printing each check:
#   1. the tree holds the public headers (and no private one), the static
#      libraries with shmio's code in them, the .pc files with this prefix,
#      the CMake package, bin/shmio and libexec/shmio/shmio-bench;
#   2. every installed header compiles on its own with only the install's
#      flags and -Wall -Wextra -Werror (no header needs one that was not
#      installed); in the plain config only;
#   3. `c++ $(pkg-config --cflags --libs shmio)` builds log_roundtrip and
#      `... uvwatch` builds follow_log (examples/consumer), both with
#      -Wall -Wextra -Werror; both run and really write, read and follow a
#      log;
#   4. the CMake project examples/consumer/CMakeLists.txt
#      (find_package(shmio), shmio::shmio, shmio::uvwatch) builds both, as
#      strictly, and they run;
#   5. the installed CLI works, and `shmio bench --help` finds its
#      benchmark in libexec/shmio.
# Under --config=asan/tsan the archives are instrumented: SANITIZER_FLAGS
# (set by the BUILD file) adds the same -fsanitize to the programs.
set -euo pipefail

fail() {
  echo "install_test: FAIL: $*" >&2
  exit 1
}
step() {
  echo
  echo "install_test: [${SECONDS}s] $*"
}
# What the output shows for a path or command line: $TEST_TMPDIR abbreviated.
show() {
  local text="$*"
  echo "${text//$TEST_TMPDIR/\$TEST_TMPDIR}"
}
# Runs a program that must succeed and print `want`; shows its output.
run_expect() {
  local want="$1"
  shift
  local out
  out="$("$@" 2>&1)" || fail "$* exited $?: $out"
  echo "  $ $(show "$*")"
  echo "$out" | sed 's/^/    /'
  [[ "$out" == *"$want"* ]] || fail "$* did not print '$want'"
}

root="$TEST_SRCDIR/$TEST_WORKSPACE"
src="$root/examples/consumer"
prefix="$TEST_TMPDIR/prefix"
work="$TEST_TMPDIR/work"
mkdir -p "$work"
# shellcheck disable=SC2206  # the flags are words
sanitizer=(${SANITIZER_FLAGS:-})
# The programs build as strictly as a careful user builds: shmio's inline
# code (Pool::Commit, ...) compiles into them, also under the sanitizer.
strict=(-Wall -Wextra -Werror)

step "1. //:install --prefix=$(show "$prefix")"
"$root/packaging/install" --prefix="$prefix" > "$work/install.log" ||
  fail "the installer failed: $(cat "$work/install.log")"
show "$(tail -1 "$work/install.log")"
for file in include/shmio/pool.h include/shmio/consumer.h include/shmio/format.h \
  include/uvwatch/subscription.h include/bridge/publisher.h \
  lib/libshmio.a lib/libuvwatch.a lib/libbridge.a \
  lib/pkgconfig/shmio.pc lib/pkgconfig/uvwatch.pc lib/pkgconfig/bridge.pc \
  lib/cmake/shmio/shmioConfig.cmake lib/cmake/shmio/shmioConfigVersion.cmake; do
  [[ -f "$prefix/$file" ]] || fail "$prefix/$file is missing"
done
for program in bin/shmio libexec/shmio/shmio-bench; do
  [[ -x "$prefix/$program" ]] || fail "$prefix/$program is missing or not executable"
done
# writer_lock.h is in //shmio's srcs, not its hdrs: not part of the API.
[[ ! -e "$prefix/include/shmio/writer_lock.h" ]] || fail "a private header was installed"
others="$(cd "$prefix/include" && find . -type f ! -path './shmio/*.h' ! -path './uvwatch/*.h' \
  ! -path './bridge/*.h')"
[[ -z "$others" ]] || fail "unexpected files under include/: $others"
echo "  headers: $(cd "$prefix/include" && find . -name '*.h' | sort | tr '\n' ' ')"
for archive_symbol in libshmio.a:shmio::SharedMemory::Open \
  libuvwatch.a:uvwatch::Subscription::Open libbridge.a:bridge::Publisher; do
  archive="${archive_symbol%%:*}"
  symbol="${archive_symbol#*:}"
  nm -C --defined-only "$prefix/lib/$archive" > "$work/symbols.txt"
  grep -q "$symbol" "$work/symbols.txt" || fail "lib/$archive does not define $symbol"
done
echo "  lib/libshmio.a defines shmio::SharedMemory::Open, lib/libuvwatch.a uvwatch::Subscription::Open," \
  "lib/libbridge.a bridge::Publisher"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[[ "$(pkg-config --variable=prefix shmio)" == "$prefix" ]] ||
  fail "shmio.pc has prefix '$(pkg-config --variable=prefix shmio)', not $prefix"
show "  pkg-config --libs uvwatch: $(pkg-config --libs uvwatch)"

step "2. every installed header compiles alone"
if [[ -n "${SANITIZER_FLAGS:-}" ]]; then
  # What a header needs does not depend on the sanitizer, and the plain
  # config's run of this test (.ci/run's first stage) checks it.
  echo "  skipped under ${SANITIZER_FLAGS}: the plain config checks the headers"
else
  # With the warnings a strict user turns on: installed headers are not system
  # headers, so their warnings would be the user's.
  (cd "$prefix/include" && find . -name '*.h' | sed 's|^\./||' | sort) > "$work/headers.txt"
  # shellcheck disable=SC2016  # $0 and the flags expand in the inner bash
  SHMIO_CFLAGS="$(pkg-config --cflags bridge)" xargs -P 2 -n 1 bash -c '
    # shellcheck disable=SC2086  # the flags are words
    echo "#include \"$0\"" | c++ $SHMIO_CFLAGS -fsyntax-only -Wall -Wextra -Werror -x c++ - ||
      { echo "install_test: FAIL: $0 does not compile on its own" >&2; exit 255; }' \
    < "$work/headers.txt" || fail "a header does not compile on its own (above)"
  echo "  $(wc -l < "$work/headers.txt") headers, each as the first line of its own translation unit"
fi

step "3. pkg-config programs"
log_dir="$TEST_TMPDIR/logs"
mkdir -p "$log_dir"
# shellcheck disable=SC2046
c++ "${strict[@]}" "${sanitizer[@]}" -o "$work/roundtrip_pc" "$src/log_roundtrip.cc" \
  $(pkg-config --cflags --libs shmio) || fail "c++ \$(pkg-config --cflags --libs shmio) failed"
echo "  c++ ${strict[*]} ${sanitizer[*]:-} -o roundtrip_pc log_roundtrip.cc \$(pkg-config --cflags --libs shmio)"
run_expect "wrote 1000 frames, read back 1000, all intact" \
  "$work/roundtrip_pc" "$log_dir/roundtrip_pc.shm"
# shellcheck disable=SC2046
c++ "${strict[@]}" "${sanitizer[@]}" -o "$work/follow_pc" "$src/follow_log.cc" \
  $(pkg-config --cflags --libs uvwatch) || fail "c++ \$(pkg-config --cflags --libs uvwatch) failed"
echo "  c++ ${strict[*]} ${sanitizer[*]:-} -o follow_pc follow_log.cc \$(pkg-config --cflags --libs uvwatch)"
run_expect "followed 50 of 50 frames in inotify mode" "$work/follow_pc" "$log_dir/follow_pc.shm"

step "4. the CMake project examples/consumer"
cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="${strict[*]} ${SANITIZER_FLAGS:-}" -DCMAKE_EXE_LINKER_FLAGS="${SANITIZER_FLAGS:-}" \
  > "$work/cmake.log" 2>&1 || fail "cmake configure failed: $(cat "$work/cmake.log")"
cmake --build "$work/cmake" -j 2 >> "$work/cmake.log" 2>&1 ||
  fail "cmake --build failed: $(cat "$work/cmake.log")"
show "  cmake -S examples/consumer -DCMAKE_PREFIX_PATH=$prefix && cmake --build: ok"
run_expect "wrote 1000 frames, read back 1000, all intact" \
  "$work/cmake/log_roundtrip" "$log_dir/roundtrip_cmake.shm"
run_expect "followed 50 of 50 frames in inotify mode" \
  "$work/cmake/follow_log" "$log_dir/follow_cmake.shm"

step "5. the installed CLI"
log="$log_dir/cli.shm"
printf 'hello\nworld\n' |
  "$prefix/bin/shmio" append "$log" --create --capacity=65536 --format=text > /dev/null ||
  fail "shmio append failed"
run_expect $'hello\nworld' "$prefix/bin/shmio" dump "$log" --format=text
out="$("$prefix/bin/shmio" bench --help)" || fail "shmio bench --help exited $?"
[[ "$out" == *"--transports (default: )"* ]] ||
  fail "shmio bench --help did not list the benchmark's flags: $out"
echo "  shmio bench --help lists the benchmark's flags (libexec/shmio/shmio-bench)"

echo
echo "install_test: [${SECONDS}s] all checks passed"
