"""The install step: `bazel run //:install -- --prefix=DIR`.

shmio_install() turns a list of cc_library targets into an install tree:

    DIR/include/<package>/<header>     each library's `hdrs`, exactly
    DIR/lib/lib<name>.a                each library's own objects
    DIR/lib/pkgconfig/<name>.pc        one pkg-config module per library
    DIR/lib/cmake/shmio/shmioConfig.cmake (+ shmioConfigVersion.cmake)
                                       imported targets shmio::<name>
    DIR/<dir>/<program>                each program, where `programs` says

What a library needs is read from its `deps`: another installed library
becomes a pkg-config `Requires` and a CMake link to shmio::<name>; a
//third_party wrapper becomes the pkg-config modules (and, for Abseil, the
CMake targets) that `system_libraries` names for it. Any other dependency is
an error: its objects would be missing from the installed archives.

The .pc files carry the prefix (written at install time); the CMake files
find it from their own location, so the tree may be moved.
"""

_LibraryInfo = provider(
    doc = "What the install needs to know about one cc_library.",
    fields = {
        "hdrs": "list of File: the library's `hdrs`",
        "deps": "list of Label: the library's direct `deps`",
        "archive": "File: the static library of the library's own objects",
    },
)

def _library_aspect_impl(target, ctx):
    archives = []
    for linker_input in target[CcInfo].linking_context.linker_inputs.to_list():
        if linker_input.owner != target.label:
            continue
        for library in linker_input.libraries:
            archive = library.pic_static_library or library.static_library
            if archive:
                archives.append(archive)
    if len(archives) != 1:
        fail("%s: expected one static library of its own, found %s" % (target.label, archives))
    return [_LibraryInfo(
        hdrs = ctx.rule.files.hdrs,
        deps = [dep.label for dep in ctx.rule.attr.deps],
        archive = archives[0],
    )]

_library_aspect = aspect(implementation = _library_aspect_impl)

def _runfiles_path(ctx, file):
    # short_path is "pkg/file" in this repository, "../repo/pkg/file" in another.
    if file.short_path.startswith("../"):
        return file.short_path[len("../"):]
    return ctx.workspace_name + "/" + file.short_path

def _header_install_path(file):
    # Headers keep their path from the repository root, so that
    # #include "shmio/pool.h" works against DIR/include.
    path = file.short_path
    if path.startswith("../"):
        path = path.split("/", 2)[2]
    return "include/" + path

def _pkg_config_file(name, summary, version, requires):
    return "\n".join([
        "# pkg-config module for shmio's %s library, written by //packaging:install." % name,
        "# Static library; Requires lists what it links against.",
        "prefix=@PREFIX@",
        "includedir=${prefix}/include",
        "libdir=${prefix}/lib",
        "",
        "Name: %s" % name,
        "Description: %s" % summary,
        "Version: %s" % version,
        "Requires: %s" % " ".join(requires),
        "Libs: -L${libdir} -l%s" % name,
        # The headers use std::atomic_ref (C++20).
        "Cflags: -I${includedir} -std=c++20",
        "",
    ])

def _cmake_config_file(libraries, pkg_config_only, debian_package_of):
    uses_absl = [True for library in libraries for link in library.cmake_links if link.startswith("absl::")]
    lines = [
        "# shmio's libraries as CMake imported targets, written by //packaging:install:",
        "#",
        "#   find_package(shmio REQUIRED)",
        "#   target_link_libraries(app PRIVATE shmio::uvwatch)  # or shmio::shmio",
        "#",
        "# Static libraries. Their Debian dependencies come from Abseil's own CMake",
        "# package and, for the others, from pkg-config.",
        "include(CMakeFindDependencyMacro)",
    ]
    if uses_absl:
        lines.append("find_dependency(absl CONFIG)")
    if pkg_config_only:
        lines.append("find_dependency(PkgConfig)")
    for module in pkg_config_only:
        lines += [
            "if(NOT TARGET PkgConfig::shmio_dep_%s)" % module,
            "  pkg_check_modules(shmio_dep_%s QUIET IMPORTED_TARGET %s)" % (module, module),
            "  if(NOT shmio_dep_%s_FOUND)" % module,
            "    set(shmio_FOUND FALSE)",
            ('    set(shmio_NOT_FOUND_MESSAGE "shmio needs the pkg-config module %s: ' +
             'install the Debian package %s")') % (module, debian_package_of[module]),
            "    return()",
            "  endif()",
            "endif()",
        ]
    lines += [
        "",
        "# This file is DIR/lib/cmake/shmio/shmioConfig.cmake.",
        'get_filename_component(_shmio_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)',
    ]
    for library in libraries:
        lines += [
            "",
            "# %s" % library.summary,
            "if(NOT TARGET shmio::%s)" % library.name,
            "  add_library(shmio::%s STATIC IMPORTED)" % library.name,
            "  set_target_properties(shmio::%s PROPERTIES" % library.name,
            '    IMPORTED_LOCATION "${_shmio_prefix}/lib/lib%s.a"' % library.name,
            '    INTERFACE_INCLUDE_DIRECTORIES "${_shmio_prefix}/include"',
            "    INTERFACE_COMPILE_FEATURES cxx_std_20",
            '    INTERFACE_LINK_LIBRARIES "%s")' % ";".join(library.cmake_links),
            "endif()",
        ]
    lines += ["", "unset(_shmio_prefix)", ""]
    return "\n".join(lines)

def _cmake_version_file(version):
    # The usual "same major version" rule, with 0.x minors counting as majors.
    return """# shmio's version for find_package(shmio VERSION), written by //packaging:install.
set(PACKAGE_VERSION "{version}")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR EQUAL "{major}")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif("{major}" EQUAL 0 AND NOT PACKAGE_FIND_VERSION_MINOR EQUAL "{minor}")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION VERSION_EQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
# The libraries are built for x86_64 (8-byte pointers).
if(CMAKE_SIZEOF_VOID_P AND NOT CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(PACKAGE_VERSION "${{PACKAGE_VERSION}} (64-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
""".format(
        version = version,
        major = version.split(".")[0],
        minor = version.split(".")[1],
    )

def _words(text):
    return [word for word in text.split(" ") if word]

def _shmio_install_impl(ctx):
    installed = {target.label: target for target in ctx.attr.libraries}
    modules_of = {}  # wrapper label -> its pkg-config modules
    debian_package_of = {}  # pkg-config module -> Debian package
    for wrapper, spec in ctx.attr.system_libraries.items():
        package, modules = spec.split(":")
        modules_of[wrapper.label] = _words(modules)
        for module in _words(modules):
            debian_package_of[module] = package.strip()

    manifest = []  # (runfiles path, install path, mode, substitute @PREFIX@)
    files = []
    libraries = []
    pkg_config_only = []
    for target, summary in ctx.attr.libraries.items():
        info = target[_LibraryInfo]
        name = target.label.name
        requires = []
        cmake_links = []
        for dep in info.deps:
            if dep in installed:
                requires.append(dep.name)
                cmake_links.append("shmio::" + dep.name)
            elif dep in modules_of:
                for module in modules_of[dep]:
                    requires.append(module)
                    if module.startswith("absl_"):
                        # Abseil's CMake targets are named after its
                        # pkg-config modules: absl_statusor <-> absl::statusor.
                        cmake_links.append("absl::" + module[len("absl_"):])
                    else:
                        cmake_links.append("PkgConfig::shmio_dep_" + module)
                        if module not in pkg_config_only:
                            pkg_config_only.append(module)
            else:
                fail(("%s depends on %s, which the install does not ship: add it to " +
                      "INSTALLED_LIBRARIES or, for a wrapper of a Debian library, to " +
                      "SYSTEM_LIBRARIES (packaging/BUILD.bazel)") % (target.label, dep))
        libraries.append(struct(name = name, summary = summary, cmake_links = cmake_links))

        for header in info.hdrs:
            files.append(header)
            manifest.append((_runfiles_path(ctx, header), _header_install_path(header), "0644", False))
        files.append(info.archive)
        manifest.append((_runfiles_path(ctx, info.archive), "lib/lib%s.a" % name, "0644", False))

        pc = ctx.actions.declare_file("%s.tree/lib/pkgconfig/%s.pc" % (ctx.label.name, name))
        ctx.actions.write(pc, _pkg_config_file(name, summary, ctx.attr.version, requires))
        files.append(pc)
        manifest.append((_runfiles_path(ctx, pc), "lib/pkgconfig/%s.pc" % name, "0644", True))

    config = ctx.actions.declare_file(ctx.label.name + ".tree/lib/cmake/shmio/shmioConfig.cmake")
    ctx.actions.write(config, _cmake_config_file(libraries, pkg_config_only, debian_package_of))
    version = ctx.actions.declare_file(ctx.label.name + ".tree/lib/cmake/shmio/shmioConfigVersion.cmake")
    ctx.actions.write(version, _cmake_version_file(ctx.attr.version))
    for f in [config, version]:
        files.append(f)
        manifest.append((_runfiles_path(ctx, f), "lib/cmake/shmio/" + f.basename, "0644", False))

    runfiles = ctx.runfiles(files = files)
    for program, directory in ctx.attr.programs.items():
        executable = program[DefaultInfo].files_to_run.executable
        runfiles = runfiles.merge(ctx.runfiles(files = [executable]))
        manifest.append((_runfiles_path(ctx, executable), directory + "/" + executable.basename, "0755", False))

    manifest_file = ctx.actions.declare_file(ctx.label.name + ".manifest")
    ctx.actions.write(manifest_file, "".join([
        "%s\t%s\t%s\t%s\n" % (src, dest, mode, "subst" if subst else "copy")
        for src, dest, mode, subst in manifest
    ]))
    script = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.expand_template(
        template = ctx.file._installer,
        output = script,
        substitutions = {"@MANIFEST@": _runfiles_path(ctx, manifest_file)},
        is_executable = True,
    )
    return [DefaultInfo(
        executable = script,
        runfiles = runfiles.merge(ctx.runfiles(files = [manifest_file])),
    )]

shmio_install = rule(
    implementation = _shmio_install_impl,
    executable = True,
    attrs = {
        "libraries": attr.label_keyed_string_dict(
            doc = "cc_library -> one-line summary (the .pc Description)",
            providers = [CcInfo],
            aspects = [_library_aspect],
        ),
        "system_libraries": attr.label_keyed_string_dict(
            doc = "//third_party wrapper -> 'DEBIAN-PACKAGE: pkg-config modules...'",
        ),
        "programs": attr.label_keyed_string_dict(
            doc = "cc_binary -> directory under the prefix",
            cfg = "target",
        ),
        "version": attr.string(mandatory = True),
        "_installer": attr.label(
            default = ":install.sh.tpl",
            allow_single_file = True,
        ),
    },
)
