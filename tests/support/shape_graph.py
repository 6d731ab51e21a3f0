"""One small but real dependency graph, served in every shape by the shape tests.

``a.in`` (``shape-app``) pins shape-app, shape-lib and shape-util; ``b.in``
(``shape-tool``) shares shape-util and adds an sdist-only project. There are big wheels
(their metadata is read by ranges), wheels smaller than one suffix range, wheels for
several platforms and sdists, and a Windows-only dependency that must stay out.
"""

from __future__ import annotations

import functools

from tests.support.wheels import Dist, make_sdist, make_wheel

__all__ = ["PINS_A", "PINS_B", "TARGET", "expected_files", "shape_dists"]

TARGET = ("--python-version", "3.11", "--platform", "linux_x86_64")
LINUX = "cp311-cp311-manylinux_2_17_x86_64"
WINDOWS = "cp311-cp311-win_amd64"
#: What each requirement set must pin, whatever the shape.
PINS_A = {"shape-app": "1.0", "shape-lib": "2.0", "shape-util": "1.0"}
PINS_B = {"shape-src": "1.0", "shape-tool": "1.0", "shape-util": "1.0"}


@functools.cache
def shape_dists() -> tuple[Dist, ...]:
    """Big wheels (read by ranges), small ones (smaller than one suffix range), sdists."""
    app_deps = ["shape-lib>=1", "shape-util"]
    lib_deps = ["shape-util>=1", "shape-win ; sys_platform == 'win32'"]
    return (
        make_wheel("shape-app", "1.0", requires_dist=app_deps),
        make_wheel("shape-app", "1.0", requires_dist=app_deps, tag=LINUX, padding=60_000),
        make_wheel("shape-app", "1.0", requires_dist=app_deps, tag=WINDOWS),
        make_sdist("shape-app", "1.0", requires_dist=app_deps),
        make_wheel("shape-lib", "1.0"),
        make_wheel("shape-lib", "2.0", requires_dist=lib_deps, padding=40_000),
        make_sdist("shape-lib", "2.0", requires_dist=lib_deps),
        make_wheel("shape-util", "1.0"),
        make_sdist("shape-util", "1.0"),
        make_wheel("shape-tool", "1.0", requires_dist=["shape-util", "shape-src"]),
        make_wheel(
            "shape-tool", "1.0", requires_dist=["shape-util", "shape-src"], tag=LINUX
        ),
        make_sdist("shape-src", "1.0"),
        make_wheel("shape-win", "1.0"),
    )  # fmt: skip


def expected_files(
    pins: dict[str, str],
) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """name -> (version, sorted [(file name, sha256)]): every wheel of the pinned
    version, for any platform (the lock is portable), and its sdist."""
    by_pin: dict[str, list[tuple[str, str]]] = {name: [] for name in pins}
    for dist in shape_dists():
        if pins.get(dist.project) == dist.version:
            by_pin[dist.project].append((dist.filename, dist.sha256))
    return {name: (pins[name], sorted(files)) for name, files in by_pin.items()}
