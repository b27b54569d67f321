"""The external repositories shmio needs, declared once for shmio itself and
for every workspace that depends on it:

    local_repository(name = "shmio", path = "/path/to/shmio")  # or http_archive
    load("@shmio//:deps.bzl", "shmio_dependencies")
    shmio_dependencies()

Everything comes from Debian packages (./bazelw installs them in shmio's tree;
a consumer installs bazel-rules-cc, bazel-rules-java, libabsl-dev and
libuv1-dev itself) or from shmio's own tree; nothing is downloaded. The C and
C++ libraries (Abseil, libuv, ...) need no repository: //third_party wraps
the system's copies as cc_library targets with link flags.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load("//third_party:repositories.bzl", "debian_rules_cc", "empty_coverage_tools")

def shmio_dependencies():
    """Declares @rules_cc, @rules_java and @remote_coverage_tools.

    A repository the calling workspace declared before the call is kept, so
    a consumer may bring its own rules_cc or rules_java.
    """

    # Debian's rules_cc 0.0.4, patched for Bazel 4.2.3 (see repositories.bzl).
    maybe(
        debian_rules_cc,
        name = "rules_cc",
        path = "/usr/share/bazel/rules/cc",
    )

    # Bazel's own Java toolchains refer to @rules_java even in a C++-only build.
    maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )

    # cc_test depends on this implicitly; `bazel coverage` is not supported.
    maybe(
        empty_coverage_tools,
        name = "remote_coverage_tools",
    )
