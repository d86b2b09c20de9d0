"""Repository rule: a cc_library per Debian library, with flags read from pkg-config.

Keeps the link lines in one place and correct for whatever the installed package needs
(gRPC alone pulls in dozens of abseil libraries)."""

def _pkg_config(ctx, args):
    res = ctx.execute(["pkg-config"] + args)
    if res.return_code != 0:
        fail("pkg-config %s failed: %s (install the Debian -dev package; scripts/setup does)" % (" ".join(args), res.stderr))
    return [f for f in res.stdout.strip().split(" ") if f]

def _system_libs_impl(ctx):
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, modules in ctx.attr.libs.items():
        mods = modules.split(" ")
        cflags = _pkg_config(ctx, ["--cflags"] + mods)
        libs = _pkg_config(ctx, ["--libs"] + mods)
        # System include dirs are already on the compiler's path; other -I flags and
        # defines are kept as copts of dependents.
        defines = [f[2:] for f in cflags if f.startswith("-D")]
        build.append("cc_library(")
        build.append('    name = "%s",' % name)
        build.append("    defines = %s," % repr(defines))
        build.append("    linkopts = %s," % repr(libs))
        build.append(")")
        build.append("")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "\n".join(build))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    attrs = {"libs": attr.string_dict(doc = "target name -> space-separated pkg-config modules")},
    environ = ["PKG_CONFIG_PATH"],
    local = True,
)
