"""Building an sdist for its metadata (PEP 517), when its PKG-INFO cannot be trusted.

An sdist's dependencies are only known once its build backend says them, unless its
PKG-INFO is static (PEP 643). This package unpacks the sdist (:mod:`.unpack`), reads
its build system (:mod:`.system`), installs the build requirements into an isolated
environment made from wheels (:mod:`.environment`), and asks the backend for the
metadata in a subprocess, with a timeout and a log (:mod:`.hooks`);
:mod:`.builder` runs these steps, with the resolution and the downloads of the build
requirements injected (lockgen's own resolver, fetcher and cache: no pip).
"""
