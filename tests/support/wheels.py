"""Byte-exact wheels and sdists, so tests can pin hashes and the wire cost of reading them."""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import io
import random
import re
import struct
import tarfile
import urllib.parse
import zipfile
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from lockgen.core.models import Artifact

__all__ = [
    "DEFAULT_UPLOAD_TIME",
    "Dist",
    "escape_name",
    "file_href",
    "make_sdist",
    "make_wheel",
    "normalize",
    "render_index_html",
    "render_links_html",
    "render_project_html",
    "write_static_index",
]

DEFAULT_UPLOAD_TIME = "2025-01-02T03:04:05.000000Z"
_ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)
_TAR_MTIME = 1577836800  # 2020-01-01T00:00:00Z, the same instant as the zip members
_FILE_MODE = 0o644
_DIR_MODE = 0o755
_NO_FILES: Mapping[str, bytes] = MappingProxyType({})
_NO_EXTRAS: Mapping[str, Sequence[str]] = MappingProxyType({})
_METHODS = {"deflate": zipfile.ZIP_DEFLATED, "stored": zipfile.ZIP_STORED}

_EOCD = struct.Struct("<4s4H2LH")
_CD_HEADER = struct.Struct("<4s6H3L5H2L")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_U32_MAX = 0xFFFFFFFF
_U16_MAX = 0xFFFF


@dataclass(frozen=True)
class Dist:
    """One distribution file as an index serves it, with what its listing advertises."""

    filename: str
    data: bytes
    project: str
    version: str
    metadata: bytes
    requires_python: str | None = None
    yanked: bool | str = False
    upload_time: str | None = DEFAULT_UPLOAD_TIME

    @property
    def sha256(self) -> str:
        """Hex digest of the whole file, as listings and pylock hashes carry it."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def metadata_sha256(self) -> str:
        """Hex digest of the PEP 658 ``.metadata`` file."""
        return hashlib.sha256(self.metadata).hexdigest()

    @property
    def size(self) -> int:
        """Length of the file in bytes (PEP 700 ``size``)."""
        return len(self.data)

    @property
    def is_wheel(self) -> bool:
        """Only wheels get a PEP 658 ``.metadata`` file, as on the public index."""
        return self.filename.endswith(".whl")


def normalize(name: str) -> str:
    """PEP 503 name, the key of every index URL."""
    return re.sub(r"[-_.]+", "-", name).lower()


def escape_name(name: str) -> str:
    """Wheel/sdist file-name form of a project name (runs of ``-_.`` become ``_``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _core_metadata(fields: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{key}: {value}\n" for key, value in fields).encode()


def _extra_requirement(requirement: str, extra: str) -> str:
    """Guard a requirement by its extra, keeping its own marker in parentheses."""
    base, sep, marker = requirement.partition(";")
    condition = f'extra == "{extra}"'
    if sep and marker.strip():
        return f"{base.strip()} ; ({marker.strip()}) and {condition}"
    return f"{base.strip()} ; {condition}"


def _requirement_fields(
    requires_dist: Sequence[str],
    requires_python: str | None,
    extras: Mapping[str, Sequence[str]],
) -> list[tuple[str, str]]:
    fields = [] if requires_python is None else [("Requires-Python", requires_python)]
    fields += [("Provides-Extra", extra) for extra in extras]
    fields += [("Requires-Dist", req) for req in requires_dist]
    for extra, reqs in extras.items():
        fields += [("Requires-Dist", _extra_requirement(r, extra)) for r in reqs]
    return fields


def _expand_tag(tag: str) -> list[str]:
    """Expand a compressed tag set (``py2.py3-none-any``) as the WHEEL file lists it."""
    python, abi, platform = tag.split("-")
    return [
        f"{p}-{a}-{pl}"
        for p in python.split(".")
        for a in abi.split(".")
        for pl in platform.split(".")
    ]


def _wheel_file(tag: str, build: str | None = None) -> bytes:
    purelib = "true" if tag.endswith("-any") else "false"
    fields = [
        ("Wheel-Version", "1.0"),
        ("Generator", "lockgen-tests (1.0)"),
        ("Root-Is-Purelib", purelib),
    ]
    if build is not None:
        fields.append(("Build", build))
    return _core_metadata(fields + [("Tag", t) for t in _expand_tag(tag)])


def _record_hash(content: bytes) -> str:
    digest = hashlib.sha256(content).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _record(members: Sequence[tuple[str, bytes, int]], record_path: str) -> bytes:
    lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data, _ in members]
    return ("\n".join([*lines, f"{record_path},,"]) + "\n").encode()


def _zip(members: Sequence[tuple[str, bytes, int]]) -> bytes:
    """Write members in the given order with fixed dates and modes, so bytes repeat."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path, content, method in members:
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE_TIME)
            info.create_system = 3
            info.external_attr = (0o100000 | _FILE_MODE) << 16
            info.compress_type = method
            archive.writestr(info, content)
    return buf.getvalue()


def _cd_entries_to_zip64(data: bytes, cd_offset: int, count: int) -> bytes:
    """Move every local-header offset into a ZIP64 extra field (id 0x0001)."""
    out = bytearray()
    pos = cd_offset
    for _ in range(count):
        fields = list(_CD_HEADER.unpack_from(data, pos))
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        start = pos + _CD_HEADER.size
        name = data[start : start + name_len]
        extra = data[start + name_len : start + name_len + extra_len]
        comment = data[
            start + name_len + extra_len : start + name_len + extra_len + comment_len
        ]
        new_extra = struct.pack("<HHQ", 0x0001, 8, fields[16]) + extra
        fields[2] = max(fields[2], 45)
        fields[11] = len(new_extra)
        fields[16] = _U32_MAX
        out += _CD_HEADER.pack(*fields) + name + new_extra + comment
        pos = start + name_len + extra_len + comment_len
    return bytes(out)


def _to_zip64(data: bytes) -> bytes:
    """Rewrite the tail so readers must follow the ZIP64 records (formats.md section 7)."""
    eocd = _EOCD.unpack_from(data, len(data) - _EOCD.size)
    count, cd_offset = eocd[4], eocd[6]
    directory = _cd_entries_to_zip64(data, cd_offset, count)
    zip64_offset = cd_offset + len(directory)
    record = _ZIP64_EOCD.pack(
        b"PK\x06\x06", _ZIP64_EOCD.size - 12, 45, 45, 0, 0, count, count,
        len(directory), cd_offset,
    )  # fmt: skip
    locator = _ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, zip64_offset, 1)
    end = _EOCD.pack(b"PK\x05\x06", 0, 0, _U16_MAX, _U16_MAX, _U32_MAX, _U32_MAX, 0)
    return data[:cd_offset] + directory + record + locator + end


def _package_members(
    import_name: str,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    padding: int,
    method: int,
) -> list[tuple[str, bytes, int]]:
    init = f'"""{name} {version}, built for lockgen tests."""\n\n__version__ = "{version}"\n'
    members = [(f"{import_name}/__init__.py", init.encode(), method)]
    members += [(path, files[path], method) for path in sorted(files)]
    if padding:
        noise = random.Random(name + version).randbytes(padding)
        members.append((f"{import_name}/_padding.bin", noise, zipfile.ZIP_STORED))
    return members


def make_wheel(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    extras: Mapping[str, Sequence[str]] = _NO_EXTRAS,
    tag: str = "py3-none-any",
    build: str | None = None,
    padding: int = 0,
    metadata_first: bool = False,
    compression: Literal["deflate", "stored"] = "deflate",
    zip64: bool = False,
    metadata_name: str | None = None,
    metadata_version: str | None = None,
    files: Mapping[str, bytes] = _NO_FILES,
    yanked: bool | str = False,
    upload_time: str | None = DEFAULT_UPLOAD_TIME,
) -> Dist:
    """Build a valid, installable wheel whose bytes depend only on the arguments.

    ``files`` maps archive paths to contents (sorted into the archive after
    ``<import name>/__init__.py``); ``build`` is the wheel's build tag. ``metadata_name``/``metadata_version`` change only
    what METADATA says, to fake a wheel whose file name lies.
    """
    escaped = escape_name(name)
    method = _METHODS[compression]
    dist_info = f"{escaped}-{version}.dist-info"
    fields = [
        ("Metadata-Version", "2.1"),
        ("Name", metadata_name or name),
        ("Version", metadata_version or version),
    ]
    metadata = _core_metadata(
        fields + _requirement_fields(requires_dist, requires_python, extras)
    )
    meta_member = (f"{dist_info}/METADATA", metadata, method)
    package = _package_members(escaped, name, version, files, padding, method)
    members = [meta_member, *package] if metadata_first else [*package, meta_member]
    members.append((f"{dist_info}/WHEEL", _wheel_file(tag, build), method))
    record_path = f"{dist_info}/RECORD"
    members.append((record_path, _record(members, record_path), method))
    data = _zip(members)
    return Dist(
        filename=f"{escaped}-{version}-{build + '-' if build else ''}{tag}.whl",
        data=_to_zip64(data) if zip64 else data,
        project=normalize(name),
        version=version,
        metadata=metadata,
        requires_python=requires_python,
        yanked=yanked,
        upload_time=upload_time,
    )


def _tar_info(path: str, size: int, *, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.size = size
    info.mtime = _TAR_MTIME
    info.mode = _DIR_MODE if directory else _FILE_MODE
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _tar_gz(top: str, members: Sequence[tuple[str, bytes]]) -> bytes:
    """A pax tar inside a gzip stream with mtime 0, so bytes repeat."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(_tar_info(top, 0, directory=True))
        for path, content in members:
            archive.addfile(_tar_info(path, len(content)), io.BytesIO(content))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as stream:
        stream.write(raw.getvalue())
    return out.getvalue()


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pyproject(name: str, version: str, requires_dist: Sequence[str]) -> bytes:
    text = (
        "[build-system]\n"
        'requires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        f"name = {_toml_str(name)}\n"
        f"version = {_toml_str(version)}\n"
        f"dependencies = {_toml_list(requires_dist)}\n"
    )
    return text.encode()


def make_sdist(
    name: str,
    version: str,
    *,
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    metadata_version: str = "2.2",
    dynamic: Sequence[str] = (),
    fmt: Literal["tar.gz", "zip"] = "tar.gz",
    yanked: bool | str = False,
    upload_time: str | None = DEFAULT_UPLOAD_TIME,
) -> Dist:
    """Build a PEP 625 sdist whose PKG-INFO says what PEP 643 lets a locker trust."""
    top = f"{escape_name(name)}-{version}"
    fields = [
        ("Metadata-Version", metadata_version),
        ("Name", name),
        ("Version", version),
    ]
    fields += [("Dynamic", field) for field in dynamic]
    pkg_info = _core_metadata(
        fields + _requirement_fields(requires_dist, requires_python, _NO_EXTRAS)
    )
    members = [
        (f"{top}/PKG-INFO", pkg_info),
        (f"{top}/pyproject.toml", _pyproject(name, version, requires_dist)),
        (f"{top}/setup.py", b"from setuptools import setup\n\nsetup()\n"),
    ]
    if fmt == "zip":
        data = _zip([(p, c, zipfile.ZIP_DEFLATED) for p, c in members])
    else:
        data = _tar_gz(top, members)
    return Dist(
        filename=f"{top}.{fmt}",
        data=data,
        project=normalize(name),
        version=version,
        metadata=pkg_info,
        requires_python=requires_python,
        yanked=yanked,
        upload_time=upload_time,
    )


def file_href(dist: Dist) -> str:
    """Link from ``/simple/<name>/`` to the file, relative as a static mirror has it."""
    return "../../files/" + urllib.parse.quote(dist.filename)


def _anchor(dist: Dist, *, pep658: bool, hashes: bool) -> str:
    href = file_href(dist) + (f"#sha256={dist.sha256}" if hashes else "")
    attrs = [("href", href)]
    if dist.requires_python is not None:
        attrs.append(("data-requires-python", dist.requires_python))
    if dist.yanked is not False:
        attrs.append(("data-yanked", "" if dist.yanked is True else str(dist.yanked)))
    if pep658 and dist.is_wheel:
        value = f"sha256={dist.metadata_sha256}" if hashes else "true"
        attrs += [("data-core-metadata", value), ("data-dist-info-metadata", value)]
    rendered = " ".join(f'{key}="{html.escape(val)}"' for key, val in attrs)
    return f"<a {rendered}>{html.escape(dist.filename)}</a><br>"


def _page(title: str, lines: Iterable[str]) -> str:
    head = (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" '
        f'content="1.1">\n<title>{html.escape(title)}</title>\n</head>\n<body>\n'
    )
    return head + "".join(line + "\n" for line in lines) + "</body>\n</html>\n"


def render_index_html(projects: Iterable[str]) -> str:
    """PEP 503 root page: one anchor per normalized project name."""
    links = [
        f'<a href="{urllib.parse.quote(p)}/">{html.escape(p)}</a><br>'
        for p in sorted(projects)
    ]
    return _page("Simple index", links)


def render_project_html(
    project: str, dists: Iterable[Dist], *, pep658: bool = True, hashes: bool = True
) -> str:
    """PEP 503 project page with the PEP 592/658/714 data attributes."""
    anchors = [_anchor(d, pep658=pep658, hashes=hashes) for d in dists]
    return _page(f"Links for {project}", [f"<h1>Links for {project}</h1>", *anchors])


def render_links_html(
    dists: Iterable[Dist], base: str = "", *, hashes: bool = True
) -> str:
    """A find-links page: one plain anchor per file, any project, with its sha256
    unless ``hashes`` is false (an nginx autoindex page has none)."""
    anchors = [
        f'<a href="{html.escape(base + urllib.parse.quote(d.filename))}'
        f'{f"#sha256={d.sha256}" if hashes else ""}">{html.escape(d.filename)}</a><br>'
        for d in dists
    ]
    return _page("Links", anchors)


def write_static_index(
    dists: Iterable[Dist], root: Path, *, pep658: bool = True, hashes: bool = True
) -> None:
    """Lay out a static PEP 503 tree under ``root`` for ``file://`` index tests.

    ``root/simple/index.html``, ``root/simple/<name>/index.html`` and ``root/files/``;
    with ``pep658`` each wheel also gets its ``<file>.metadata`` next to it; without
    ``hashes`` the links carry no ``#sha256=``.
    """
    projects: dict[str, list[Dist]] = {}
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    for dist in dists:
        projects.setdefault(dist.project, []).append(dist)
        (files / dist.filename).write_bytes(dist.data)
        if pep658 and dist.is_wheel:
            (files / f"{dist.filename}.metadata").write_bytes(dist.metadata)
    simple = root / "simple"
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_text(render_index_html(projects), encoding="utf-8")
    for project, group in projects.items():
        (simple / project).mkdir(exist_ok=True)
        page = render_project_html(project, group, pep658=pep658, hashes=hashes)
        (simple / project / "index.html").write_text(page, encoding="utf-8")


def artifact_of(dist: Dist, url: str) -> Artifact:
    """What a lock selecting ``dist`` hands hydrate's fetch, served from ``url``."""
    from packaging.utils import canonicalize_name

    from lockgen.core.models import Artifact, DistKind

    return Artifact(
        package=canonicalize_name(dist.project),
        filename=dist.filename,
        kind=DistKind.WHEEL if dist.is_wheel else DistKind.SDIST,
        url=url,
        path=None,
        size=dist.size,
        sha256=dist.sha256,
        metadata=None,
    )
