"""Compiler flags for Trellis's own code (not for generated or third-party code)."""

TRELLIS_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]
