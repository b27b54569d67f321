"""npm_modules: the npm packages node/'s tests and benchmark need, for Bazel.

The repository rule runs `npm ci --ignore-scripts` against the committed
node/package.json and node/package-lock.json (bendec, rxjs, typescript and
@types/node, at the versions the lock pins), in Bazel's external
directory, once per change of either file. It needs the npm registry (these
machines reach it); nothing else does. `npm` comes with Node.js.
"""

def _npm_modules_impl(ctx):
    npm = ctx.which("npm")
    if npm == None:
        fail("npm is missing: install Node.js (the nodejs package) to build //node")
    for label in [ctx.attr.package_json, ctx.attr.package_lock]:
        ctx.symlink(ctx.path(label), label.name)
    result = ctx.execute(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        timeout = 900,
        quiet = True,
    )
    if result.return_code != 0:
        fail("npm ci for //node's test dependencies failed (exit %d):\n%s\n%s" %
             (result.return_code, result.stdout, result.stderr))
    ctx.file("BUILD.bazel", """filegroup(
    name = "node_modules",
    srcs = glob(["node_modules/**"]),
    visibility = ["//visibility:public"],
)
""")

npm_modules = repository_rule(
    implementation = _npm_modules_impl,
    attrs = {
        "package_json": attr.label(mandatory = True, allow_single_file = True),
        "package_lock": attr.label(mandatory = True, allow_single_file = True),
    },
)
