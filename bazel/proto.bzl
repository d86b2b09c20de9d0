"""C++ code generation from .proto files with Debian's protoc and grpc_cpp_plugin.

proto_cc_library(name, srcs, grpc_srcs, deps) generates .pb.{h,cc} for every file in srcs
(and .grpc.pb.{h,cc} for those also in grpc_srcs) and wraps them in one cc_library. Imports
are resolved relative to the package directory and /usr/include (google/protobuf/*)."""

def proto_cc_library(name, srcs, grpc_srcs = [], deps = [], visibility = None):
    pkg = native.package_name()
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
    for src in grpc_srcs:
        base = src[:-len(".proto")]
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    grpc_cmd = ""
    if grpc_srcs:
        grpc_cmd = (" && protoc -I{pkg} -I/usr/include --grpc_out=$(GENDIR)/{pkg}" +
                    " --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) {files}").format(
            pkg = pkg,
            files = " ".join([pkg + "/" + s for s in grpc_srcs]),
        )
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = outs,
        cmd = ("protoc -I{pkg} -I/usr/include --cpp_out=$(GENDIR)/{pkg} {files}" + grpc_cmd).format(
            pkg = pkg,
            files = " ".join([pkg + "/" + s for s in srcs]),
        ),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        copts = ["-w"],
        deps = deps + ["@system//:grpc"],
        visibility = visibility,
    )
