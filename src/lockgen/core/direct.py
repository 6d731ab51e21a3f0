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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from packaging.markers import InvalidMarker, Marker
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from lockgen.core.errors import first_line
from lockgen.core.hashing import is_sha256
from lockgen.core.urls import (
    local_path,
    redact_url,
    strip_credentials,
    unencoded_userinfo,
)

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = [
    "DirectError",
    "DirectKind",
    "DirectReference",
    "direct_from_requirement",
    "is_git_revision",
    "parse_direct",
]

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


@dataclass(frozen=True, slots=True)
class _Written:
    """What a line says besides where: the name (if any), extras, marker, text."""

    name: NormalizedName | None
    extras: frozenset[NormalizedName]
    marker: Marker | None
    text: str

    def reference(
        self, kind: DirectKind, url: str, given: str, **where: Any
    ) -> DirectReference:
        """The reference of this line to ``url`` (``where``: the kind's own
        fields: a path, a hash, a revision and subdirectory)."""
        return DirectReference(
            kind=kind,
            name=self.name,
            extras=self.extras,
            url=url,
            given=given,
            marker=self.marker,
            text=self.text,
            **where,
        )


def parse_direct(text: str, *, editable: bool, cwd: Path) -> DirectReference | None:
    """``text`` (one requirement, without options) as a direct reference, or
    ``None`` when it is a plain requirement on an index. ``editable``: it followed
    ``-e`` (only a local directory can be editable, as in PEP 751). A PEP 508
    ``name @ URL`` is left to packaging (then :func:`direct_from_requirement`)."""
    if _NAMED_RE.match(text):
        return None
    location, extras, marker = _split(text)
    written = _Written(None, extras, marker, text)
    if "://" in location or _is_vcs_url(location):
        reference = _from_url(location, written, cwd)
    elif _looks_like_path(location):
        reference = _from_path(location, written, cwd)
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
    written = _Written(
        canonicalize_name(requirement.name), extras, requirement.marker, text
    )
    url = requirement.url
    if "://" in url or _is_vcs_url(url):
        return _from_url(url, written, cwd)
    return _from_path(url, written, cwd)


def _editable(reference: DirectReference) -> DirectReference:
    if reference.kind is not DirectKind.DIRECTORY:
        raise DirectError(
            f"-e {reference.text}: only a local folder can be editable "
            "(drop -e to lock it as it is)"
        )
    return replace(reference, editable=True, text=f"-e {reference.text}")


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


def _from_path(location: str, written: _Written, cwd: Path) -> DirectReference:
    return _local(Path(cwd, Path(location).expanduser()), written)


def _local(path: Path, written: _Written) -> DirectReference:
    """A local archive or folder; one that does not exist is refused now."""
    text = written.text
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
    return written.reference(kind, url, url, path=path)


def _from_url(location: str, written: _Written, cwd: Path) -> DirectReference:
    if unencoded_userinfo(location):
        raise DirectError(
            "a URL's credentials contain '#', '/' or '?': percent-encode them "
            "(%23, %2F, %3F); the line is not shown because it holds a secret"
        )
    try:
        return _url_reference(location, written, cwd)
    except DirectError:
        raise
    except ValueError:  # urlsplit's: "https://[::1/x"
        raise DirectError(f"{redact_url(written.text)}: not a valid URL") from None


def _url_reference(location: str, written: _Written, cwd: Path) -> DirectReference:
    given, _, fragment = location.partition("#")
    shown = redact_url(location)
    fields = _fragment(fragment, shown)
    written = _Written(
        written.name or _egg_name(fields.get("egg"), shown),
        written.extras,
        written.marker,
        redact_url(written.text),
    )
    clean, _ = strip_credentials(given)
    scheme = clean.partition(":")[0].lower()
    if _is_vcs_url(clean):
        return _vcs(clean, given, written, fields)
    if "subdirectory" in fields:
        raise DirectError(f"{shown}: #subdirectory= is for VCS URLs only here")
    if scheme == "file":
        parts = urlsplit(clean)
        if parts.netloc not in ("", "localhost"):
            raise DirectError(f"{shown}: a file: URL must name this machine")
        reference = _local(Path(cwd, local_path(clean)), written)
        return replace(reference, sha256=_sha256(fields, shown))
    if scheme not in ("http", "https"):
        raise DirectError(f"{shown}: URL scheme {scheme!r} is not supported")
    basename = unquote(posixpath.basename(urlsplit(clean).path))
    if not basename.lower().endswith(ARCHIVE_EXTENSIONS):
        raise DirectError(
            f"{shown}: not a wheel or sdist URL (its path must end in the file's name)"
        )
    return written.reference(
        DirectKind.ARCHIVE, clean, given, sha256=_sha256(fields, shown)
    )


def _vcs(
    clean: str, given: str, written: _Written, fields: dict[str, str]
) -> DirectReference:
    """``git+SCHEME://host/path[@rev]``: the repository URL, the revision and the
    subdirectory; other version control systems are refused."""
    text = written.text
    scheme, _, rest = clean.partition("+")
    if scheme.lower() != "git":
        raise DirectError(f"{text}: only git repositories are supported, not {scheme}")
    repository, revision = _revision(rest)
    given_repository, _ = _revision(given.partition("+")[2])
    transport, _, after = repository.partition(":")
    transport = transport.lower()
    if transport not in ("https", "http", "ssh", "file", "git") or not after.startswith(
        "//"
    ):
        raise DirectError(f"{text}: git over {transport!r} is not supported")
    if transport == "ssh":  # a user without a password (git@host) is no secret
        credentials = strip_credentials(given_repository)[1]
        if credentials is not None and not credentials[1]:
            repository = given_repository
    subdirectory = fields.get("subdirectory")
    if subdirectory is not None:
        parts = posixpath.normpath(subdirectory).split("/")
        if subdirectory.startswith("/") or ".." in parts:
            raise DirectError(f"{text}: #subdirectory= must stay inside the repository")
    if revision is not None and not is_git_revision(revision):
        raise DirectError(f"{text}: {revision!r} is not a git revision lockgen accepts")
    return written.reference(
        DirectKind.VCS,
        repository,
        given_repository,
        revision=revision,
        subdirectory=subdirectory,
    )


#: A revision lockgen passes to git: a ref name or a commit; no option, no space, no
#: control character, no ``..``.
_REVISION_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./+-]*")


def is_git_revision(revision: str) -> bool:
    """Whether ``revision`` may be handed to git as a branch, tag or commit."""
    return _REVISION_RE.fullmatch(revision) is not None and ".." not in revision


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
