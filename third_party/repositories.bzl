"""Repository rules that let Bazel 4.2.3 work offline from Debian packages."""

def _debian_rules_cc_impl(ctx):
    # Debian ships rules_cc 0.0.4, two of whose files call use_cpp_toolchain(),
    # a helper Bazel 4.2.3's @bazel_tools lacks. Copy the tree and replace
    # those call sites with the toolchain type they would have returned.
    src = ctx.path(ctx.attr.path)
    if not src.exists:
        fail("%s is missing: install the Debian package bazel-rules-cc (./bazelw does)" % ctx.attr.path)
    ctx.execute(["cp", "-r", str(src) + "/.", "."])
    for f in [
        "cc/private/rules_impl/compiler_flag.bzl",
        "cc/private/rules_impl/cc_flags_supplier.bzl",
    ]:
        text = ctx.read(f)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        ctx.file(f, text)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(mandatory = True)},
    local = True,
)

def _empty_coverage_tools_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "remote_coverage_tools")\n')
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator")
filegroup(name = "lcov_merger")
""")

empty_coverage_tools = repository_rule(implementation = _empty_coverage_tools_impl)
