"""node_test: one behaviour area of the Node.js package, run by `node --test`."""

def node_test(name, srcs, data = [], size = "small", **kwargs):
    """A test of the package: `node --test` over `srcs` with the addon built
    by Bazel (SHMIO_ADDON) and the npm test dependencies (NODE_PATH).

    Tagged no-sanitizer: node itself is not instrumented, so an ASan/TSan
    build of the addon cannot be loaded (see .bazelrc)."""
    native.sh_test(
        name = name,
        srcs = ["//node:test/run_node_test.sh"],
        args = ["$(location %s)" % s for s in srcs],
        data = srcs + data + [
            "//node:addon",
            "//node:package_files",
            "@shmio_node_modules//:node_modules",
        ],
        size = size,
        tags = ["no-sanitizer"] + kwargs.pop("tags", []),
        **kwargs
    )
