"""A tiny CMake project with a target named llama-server, packed like a source archive (MODELDECK_LLAMA_SOURCE).

The real llama.cpp takes 13 minutes to build here; this one goes through the same cmake and ninja
(or make) steps in seconds, prints the same kind of step lines, and can be told to:
- wait at a gate in the middle of the build until the test creates a file (a build caught in progress),
- fail to compile with a real compiler error (a broken source),
- exec a real llama-server, so a model started during the build really runs once it is done.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

PARTS = 12

MAIN_C = r"""
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int parts_sum(void);

int main(int argc, char **argv) {
    const char *real = REAL_SERVER;
    if (real[0] != '\0') {
        execv(real, argv);  /* the real llama-server under this name: models really run */
        perror("execv");
        return 127;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("version: %d (tiny)\nbuilt with a test for ModelDeck\n", parts_sum());
            return 0;
        }
        if (strcmp(argv[i], "--list-devices") == 0) {
            printf("Available devices:\n  (none)\n");
            return 0;
        }
    }
    fprintf(stderr, "error: this tiny llama-server serves no model\n");
    return 1;
}
"""


def _cmake_lists(parts: int, gate: Path | None, real_server: Path | None) -> str:
    sources = " ".join([*(f"part{n}.c" for n in range(parts)), "parts_sum.c"])
    lines = [
        "cmake_minimum_required(VERSION 3.16)",
        "project(tiny_llama_server C)",
        "set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)",
        f"add_library(parts STATIC {sources})",
        "add_executable(llama-server main.c)",
        "target_link_libraries(llama-server parts)",
        f'target_compile_definitions(llama-server PRIVATE REAL_SERVER="{real_server or ""}")',
    ]
    if gate is not None:  # after the parts, before main.c: the build waits there, mid-way
        lines += [
            "add_custom_command(OUTPUT gate.stamp COMMAND sh ${CMAKE_SOURCE_DIR}/wait_for_gate.sh "
            f'"{gate}" COMMAND ${{CMAKE_COMMAND}} -E touch gate.stamp DEPENDS parts COMMENT "Waiting for the test")',
            "add_custom_target(gate DEPENDS gate.stamp)",
            "add_dependencies(llama-server gate)",
        ]
    return "\n".join(lines) + "\n"


def write_tiny_source(archive: Path, *, parts: int = PARTS, gate: Path | None = None,
                      real_server: Path | None = None, broken: bool = False) -> Path:
    """Write the project under `archive`'s folder and pack it as `archive` (a .tar.gz with one top folder)."""
    root = archive.parent / (archive.name.removesuffix(".tar.gz") + "-src")
    root.mkdir(parents=True, exist_ok=True)
    (root / "CMakeLists.txt").write_text(_cmake_lists(parts, gate, real_server))
    for n in range(parts):
        body = f"int part{n}(void) {{ return {n}; }}\n"
        if broken and n == parts // 2:
            body = f"int part{n}(void) {{ return {n} }}\n"  # a missing ';': a real compiler error
        (root / f"part{n}.c").write_text(body)
    calls = " + ".join(f"part{n}()" for n in range(parts))
    declarations = "".join(f"int part{n}(void);\n" for n in range(parts))
    (root / "parts_sum.c").write_text(f"{declarations}int parts_sum(void) {{ return {calls}; }}\n")
    (root / "main.c").write_text(MAIN_C)
    # The gate is polled: the build's own shell waits for a file, the test decides when it appears.
    (root / "wait_for_gate.sh").write_text('while [ ! -e "$1" ]; do sleep 0.05; done\n')
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="tiny-llama-server")
    return archive
