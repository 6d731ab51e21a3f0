"""Direct references: a requirement that names where a project is, not a version of
it on an index (PEP 508 ``name @ URL``, pip's bare URLs and paths, ``-e PATH``).

Three kinds, as PEP 751 records them: an *archive* (a wheel or sdist at a URL or
path), a *directory* (a local source tree, maybe editable) and a *vcs* checkout
(git only). A line may leave the project's name out (``./libs/foo``,
``https://host/foo-1.0-py3-none-any.whl``): it is then learnt from the metadata.
Local paths are relative to the current directory, as pip reads them. The parsing
here is pure; fetching and reading metadata is :mod:`lockgen.app.direct`'s.
"""

from __future__ import annotations

import enum
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from packaging.markers import InvalidMarker, Marker
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from lockgen.core.errors import first_line
from lockgen.core.hashing import is_sha256
from lockgen.core.urls import local_path, redact_url, strip_credentials

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = ["DirectKind", "DirectReference", "direct_from_requirement", "parse_direct"]

#: pip.utils.filetypes.ARCHIVE_EXTENSIONS: a path or URL ending so is an archive.
ARCHIVE_EXTENSIONS = (
    ".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar",
    ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
)  # fmt: skip
_EXTRAS_RE = re.compile(r"^(.+?)\s*\[([^\]]*)\]$")
#: ``name @`` or ``name[extras] @``: a PEP 508 URL requirement.
_NAMED_RE = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*(\[[^\]]*\])?\s*@"
)


class DirectError(ValueError):
    """A direct reference that cannot be used (the message says why, in one line)."""


class DirectKind(enum.Enum):
    """What a direct reference points at (PEP 751's three direct tables)."""

    ARCHIVE = "archive"
    DIRECTORY = "directory"
    VCS = "vcs"


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectReference:
    """One direct reference, normalised. ``url`` is credential-free: an archive's
    ``http(s)``/``file`` URL or a repository's URL (without ``git+``, revision or
    fragment); ``given`` is the same with the credentials the user wrote, for the
    fetch only (never written nor shown). ``path`` is the absolute path of a local
    archive or directory."""

    kind: DirectKind
    name: NormalizedName | None
    extras: frozenset[NormalizedName]
    url: str
    given: str
    path: Path | None = None
    sha256: str | None = None
    revision: str | None = None
    subdirectory: str | None = None
    editable: bool = False
    marker: Marker | None = None
    #: How it was written (credentials removed), for messages and the inputs digest.
    text: str
    #: Where it was written (``file:line``).
    source: str = field(default="", compare=False)

    def applies(self, environment: dict[str, str]) -> bool:
        """Whether its marker (if any) holds for the target."""
        return self.marker is None or self.marker.evaluate({**environment, "extra": ""})

    @property
    def label(self) -> str:
        """How messages name it: its name, else what was written."""
        return self.name or self.text


def parse_direct(text: str, *, editable: bool, cwd: Path) -> DirectReference | None:
    """``text`` (one requirement, without options) as a direct reference, or
    ``None`` when it is a plain requirement on an index. ``editable``: it followed
    ``-e`` (only a local directory can be editable, as in PEP 751). A PEP 508
    ``name @ URL`` is left to packaging (then :func:`direct_from_requirement`)."""
    if _NAMED_RE.match(text):
        return None
    location, extras, marker = _split(text)
    if "://" in location or _is_vcs_url(location):
        reference = _from_url(location, None, extras, marker, cwd, text)
    elif _looks_like_path(location):
        reference = _from_path(location, None, extras, marker, cwd, text)
    elif editable:
        raise DirectError(f"-e needs a local folder, not {text!r}")
    else:
        return None
    return _editable(reference) if editable else reference


def direct_from_requirement(
    requirement: Requirement, *, cwd: Path, text: str
) -> DirectReference:
    """PEP 508's ``name[extras] @ URL ; marker`` (packaging parsed it)."""
    assert requirement.url is not None
    extras = frozenset(canonicalize_name(e) for e in requirement.extras)
    name = canonicalize_name(requirement.name)
    url = requirement.url
    if "://" in url or _is_vcs_url(url):
        return _from_url(url, name, extras, requirement.marker, cwd, text)
    return _from_path(url, name, extras, requirement.marker, cwd, text)


def _editable(reference: DirectReference) -> DirectReference:
    if reference.kind is not DirectKind.DIRECTORY:
        raise DirectError(
            f"-e {reference.text}: only a local folder can be editable "
            "(drop -e to lock it as it is)"
        )
    return _replace(reference, editable=True, text=f"-e {reference.text}")


def _replace(reference: DirectReference, **changes: object) -> DirectReference:
    from dataclasses import replace

    return replace(reference, **changes)  # type: ignore[arg-type]


def _split(text: str) -> tuple[str, frozenset[NormalizedName], Marker | None]:
    """pip's split of a bare URL or path line: ``LOCATION[extras] ; marker`` (a URL's
    marker needs ``"; "``, since ``;`` may be part of a URL)."""
    separator = "; " if "://" in text else ";"
    location, _, marker_text = text.partition(separator)
    marker = None
    if marker_text.strip():
        try:
            marker = Marker(marker_text.strip())
        except InvalidMarker as exc:
            raise DirectError(
                f"invalid marker in {text!r}: {first_line(exc)}"
            ) from None
    location = location.strip()
    extras: frozenset[NormalizedName] = frozenset()
    match = _EXTRAS_RE.match(location)
    if match is not None:
        location = match[1]
        extras = _extras(match[2], text)
    return location, extras, marker


def _extras(names: str, text: str) -> frozenset[NormalizedName]:
    try:
        return frozenset(
            canonicalize_name(n.strip(), validate=True)
            for n in names.split(",")
            if n.strip()
        )
    except InvalidName:
        raise DirectError(f"invalid extras in {text!r}") from None


def _is_vcs_url(location: str) -> bool:
    scheme = location.partition(":")[0].lower()
    return scheme.partition("+")[0] in ("git", "hg", "svn", "bzr") and (
        "+" in scheme or location[len(scheme) :].startswith("://")
    )


def _looks_like_path(location: str) -> bool:
    """pip's test: a separator, a leading dot, or an archive's name."""
    return (
        "/" in location
        or "\\" in location
        or location.startswith(".")
        or location.lower().endswith(ARCHIVE_EXTENSIONS)
    )


def _from_path(
    location: str,
    name: NormalizedName | None,
    extras: frozenset[NormalizedName],
    marker: Marker | None,
    cwd: Path,
    text: str,
) -> DirectReference:
    path = Path(cwd, Path(location).expanduser())
    return _local(path, name, extras, marker, text)


def _local(
    path: Path,
    name: NormalizedName | None,
    extras: frozenset[NormalizedName],
    marker: Marker | None,
    text: str,
) -> DirectReference:
    """A local archive or folder; one that does not exist is refused now."""
    try:
        path = path.resolve()
    except (OSError, ValueError):
        raise DirectError(f"{text!r} names no possible file") from None
    if path.is_dir():
        kind = DirectKind.DIRECTORY
    elif path.is_file() and path.name.lower().endswith(ARCHIVE_EXTENSIONS):
        kind = DirectKind.ARCHIVE
    elif path.exists():
        raise DirectError(f"{text}: neither a folder nor a wheel or sdist")
    else:
        raise DirectError(f"{text}: no such file or folder")
    url = path.as_uri()
    return DirectReference(
        kind=kind,
        name=name,
        extras=extras,
        url=url,
        given=url,
        path=path,
        marker=marker,
        text=text,
    )


def _from_url(
    location: str,
    name: NormalizedName | None,
    extras: frozenset[NormalizedName],
    marker: Marker | None,
    cwd: Path,
    text: str,
) -> DirectReference:
    given, _, fragment = location.partition("#")
    fields = _fragment(fragment, text)
    name = name or _egg_name(fields.get("egg"), text)
    clean, _ = strip_credentials(given)
    shown, shown_text = redact_url(location), redact_url(text)
    scheme = clean.partition(":")[0].lower()
    if _is_vcs_url(clean):
        return _vcs(clean, given, name, extras, marker, fields, shown_text)
    if "subdirectory" in fields:
        raise DirectError(f"{shown}: #subdirectory= is for VCS URLs only here")
    if scheme == "file":
        parts = urlsplit(clean)
        if parts.netloc not in ("", "localhost"):
            raise DirectError(f"{shown}: a file: URL must name this machine")
        path = local_path(clean)
        reference = _local(Path(cwd, path), name, extras, marker, shown_text)
        return _replace(reference, sha256=_sha256(fields, shown))
    if scheme not in ("http", "https"):
        raise DirectError(f"{shown}: URL scheme {scheme!r} is not supported")
    basename = unquote(posixpath.basename(urlsplit(clean).path))
    if not basename.lower().endswith(ARCHIVE_EXTENSIONS):
        raise DirectError(
            f"{shown}: not a wheel or sdist URL (its path must end in the file's name)"
        )
    return DirectReference(
        kind=DirectKind.ARCHIVE,
        name=name,
        extras=extras,
        url=clean,
        given=given,
        sha256=_sha256(fields, shown),
        marker=marker,
        text=shown_text,
    )


def _vcs(
    clean: str,
    given: str,
    name: NormalizedName | None,
    extras: frozenset[NormalizedName],
    marker: Marker | None,
    fields: dict[str, str],
    text: str,
) -> DirectReference:
    """``git+SCHEME://host/path[@rev]``: the repository URL, the revision and the
    subdirectory; other version control systems are refused."""
    scheme, _, rest = clean.partition("+")
    if scheme.lower() != "git":
        raise DirectError(f"{text}: only git repositories are supported, not {scheme}")
    repository, revision = _revision(rest)
    given_repository, _ = _revision(given.partition("+")[2])
    transport = repository.partition(":")[0].lower()
    if transport not in ("https", "http", "ssh", "file", "git"):
        raise DirectError(f"{text}: git over {transport!r} is not supported")
    if transport == "ssh":  # a user without a password (git@host) is no secret
        with_user, _ = _revision(given.partition("+")[2])
        credentials = strip_credentials(with_user)[1]
        if credentials is not None and not credentials[1]:
            repository = with_user
    subdirectory = fields.get("subdirectory")
    if subdirectory is not None:
        parts = posixpath.normpath(subdirectory).split("/")
        if subdirectory.startswith("/") or ".." in parts:
            raise DirectError(f"{text}: #subdirectory= must stay inside the repository")
    return DirectReference(
        kind=DirectKind.VCS,
        name=name,
        extras=extras,
        url=repository,
        given=given_repository,
        revision=revision,
        subdirectory=subdirectory,
        marker=marker,
        text=text,
    )


def _revision(url: str) -> tuple[str, str | None]:
    """``https://host/repo.git@v1`` -> (``https://host/repo.git``, ``v1``): the
    revision follows the path's last ``@`` (one in the host part is a user)."""
    parts = urlsplit(url)
    path, at, revision = parts.path.rpartition("@")
    if not at or not path:
        return url, None
    if not revision:
        raise DirectError(f"{url}: empty revision after '@'")
    return urlunsplit(parts._replace(path=path)), revision


def _fragment(fragment: str, text: str) -> dict[str, str]:
    """``#sha256=...&subdirectory=...&egg=...``: one value each."""
    if not fragment:
        return {}
    fields = {k: v[-1] for k, v in parse_qs(fragment, keep_blank_values=True).items()}
    hashes = {"md5", "sha1", "sha224", "sha384", "sha512"} & set(fields)
    if hashes:
        raise DirectError(f"{text}: only a #sha256= hash is supported")
    return fields


def _sha256(fields: dict[str, str], text: str) -> str | None:
    value = fields.get("sha256")
    if value is None:
        return None
    if not is_sha256(value.lower()):
        raise DirectError(f"{text}: #sha256= is not a sha256 hex digest")
    return value.lower()


def _egg_name(egg: str | None, text: str) -> NormalizedName | None:
    """pip's ``#egg=name`` (what older lines name the project with)."""
    if not egg:
        return None
    try:
        return canonicalize_name(egg.partition("[")[0], validate=True)
    except InvalidName:
        raise DirectError(f"{text}: #egg= is not a project name") from None
