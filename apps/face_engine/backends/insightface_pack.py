"""Installing an InsightFace pack and the liveness addon into ``<home>``, safely.

A pack zip comes from the internet (or from someone's USB stick), so every
member is checked before a byte is written: no absolute paths, no ``..``, no
links, nothing but ``.onnx`` files, at most one folder level, bounded sizes
and compression ratios (a zip bomb declares a huge file that compresses to
nothing), and each file must look like an ONNX model. Files are unpacked into
a temporary directory next to the target and swapped in only once the whole
pack is complete, so a failed install never leaves a half-written pack.

Pure Python: no Django. The management command ``install_insightface_pack``
is a thin wrapper.
"""

from __future__ import annotations

import hashlib
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlparse

import requests

from .insightface import LIVENESS_FILE, PACK_ROLES

PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_MEMBERS = 32
MAX_MEMBER_BYTES = 600 * 1024 * 1024  # the largest known pack file (antelopev2's glintr100) is ~260 MB
MAX_TOTAL_BYTES = 1536 * 1024 * 1024
MAX_ZIP_BYTES = 1024 * 1024 * 1024
MAX_LIVENESS_BYTES = 16 * 1024 * 1024
# Large ONNX weights barely compress; a big member squeezed more than this is a bomb, not a
# model. Small graphs (mostly structure, or zero-filled constants) may compress well, so
# the ratio is checked only from RATIO_CHECKED_FROM bytes up; sizes are capped anyway.
MAX_COMPRESSION_RATIO = 50
RATIO_CHECKED_FROM = 16 * 1024 * 1024
# An ONNX model is a protobuf whose first field is ir_version (field 1, varint): tag byte 0x08.
ONNX_FIRST_BYTE = 0x08
CHUNK = 1 << 20


class PackError(Exception):
    """The pack or addon was refused; the message says why, for an operator."""


@dataclass(frozen=True)
class InstallReport:
    pack_dir: Path | None
    files: tuple[str, ...]
    liveness: Path | None


def _refuse_unsafe_path(info: zipfile.ZipInfo, path: PurePosixPath) -> None:
    name = info.filename
    if "\\" in name or "\x00" in name:
        raise PackError(f"Refused zip member {name!r}: backslashes and NUL bytes are not allowed.")
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise PackError(f"Refused zip member {name!r}: absolute paths are not allowed.")
    if ".." in path.parts:
        raise PackError(f"Refused zip member {name!r}: path traversal is not allowed.")
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        raise PackError(f"Refused zip member {name!r}: links are not allowed.")


def _refuse_unfit_file(info: zipfile.ZipInfo, path: PurePosixPath) -> None:
    name = info.filename
    if len(path.parts) > 2:
        raise PackError(f"Refused zip member {name!r}: at most one folder level is allowed.")
    if path.suffix.lower() != ".onnx":
        raise PackError(f"Refused zip member {name!r}: a pack may contain only .onnx files.")
    if info.file_size > MAX_MEMBER_BYTES:
        raise PackError(f"Refused zip member {name!r}: {info.file_size} bytes is over the {MAX_MEMBER_BYTES} limit.")
    if info.file_size >= RATIO_CHECKED_FROM and info.file_size > info.compress_size * MAX_COMPRESSION_RATIO:
        raise PackError(f"Refused zip member {name!r}: its compression ratio looks like a zip bomb.")


def _member_target(info: zipfile.ZipInfo) -> str | None:
    """The flat file name a member installs as, None for a directory entry; PackError if unsafe."""
    path = PurePosixPath(info.filename)
    _refuse_unsafe_path(info, path)
    if info.is_dir():
        if len(path.parts) > 1:
            raise PackError(f"Refused zip member {info.filename!r}: at most one folder level is allowed.")
        return None
    _refuse_unfit_file(info, path)
    return path.name


def _check_zip(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise PackError(f"Refused zip: {len(infos)} members is over the {MAX_MEMBERS} limit.")
    members: list[tuple[zipfile.ZipInfo, str]] = []
    seen: set[str] = set()
    folders: set[str] = set()
    total = 0
    for info in infos:
        target = _member_target(info)
        parts = PurePosixPath(info.filename).parts
        if len(parts) > 1 or info.is_dir():
            folders.add(parts[0])
        if target is None:
            continue
        if target in seen:
            raise PackError(f"Refused zip: {target} appears twice.")
        seen.add(target)
        total += info.file_size
        members.append((info, target))
    if len(folders) > 1:
        raise PackError(f"Refused zip: files must sit at the top or in one folder, found {sorted(folders)}.")
    if total > MAX_TOTAL_BYTES:
        raise PackError(f"Refused zip: {total} bytes unpacked is over the {MAX_TOTAL_BYTES} limit.")
    if not members:
        raise PackError("Refused zip: it holds no .onnx files.")
    return members


def _copy_capped(source: IO[bytes], destination: Path, limit: int, label: str) -> int:
    written = 0
    with destination.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise PackError(f"Refused {label}: it is larger than it declared.")
            out.write(chunk)
    return written


def _looks_like_onnx(path: Path) -> bool:
    with path.open("rb") as stream:
        first = stream.read(1)
    return first == bytes([ONNX_FIRST_BYTE])


def _missing_roles(directory: Path) -> list[str]:
    return [role.pattern for role in PACK_ROLES if not any(directory.glob(role.pattern))]


def liveness_expected_sha256() -> str:
    """The addon's published SHA-256, from insightface's own addon catalog."""
    from insightface.addons.catalog import ADDON_CATALOG  # importing insightface takes ~3 s: only when asked

    return ADDON_CATALOG["liveness"].sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _install_liveness_file(candidate: Path, home: Path) -> Path:
    """Verify ``candidate`` against the published digest and move it into ``home/addons``."""
    digest = _sha256(candidate)
    expected = liveness_expected_sha256()
    if digest != expected:
        raise PackError(
            f"Refused {LIVENESS_FILE}: its SHA-256 {digest} is not the published {expected}. "
            "Download it again from the insightface-model-addons release."
        )
    addons = home / "addons"
    addons.mkdir(parents=True, exist_ok=True)
    destination = addons / LIVENESS_FILE
    candidate.replace(destination)
    return destination


def _unpack(archive: zipfile.ZipFile, staging: Path, liveness: Path) -> tuple[list[str], Path | None]:
    """Extract every checked member: pack files into ``staging``, a liveness addon to ``liveness``.

    Returns the pack files' names and the addon's path when the zip holds one."""
    installed: list[str] = []
    liveness_candidate: Path | None = None
    for info, target in _check_zip(archive):
        destination = liveness if target == LIVENESS_FILE else staging / target
        try:
            with archive.open(info) as source:
                _copy_capped(source, destination, info.file_size, info.filename)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise PackError(f"Refused zip member {info.filename!r}: {exc}") from exc
        if not _looks_like_onnx(destination):
            raise PackError(f"Refused zip member {info.filename!r}: it is not an ONNX model.")
        if target == LIVENESS_FILE:
            liveness_candidate = destination
        else:
            installed.append(target)
    return installed, liveness_candidate


def pack_install_zip(*, zip_path: Path, home: Path, pack: str) -> InstallReport:
    """Unpack a pack zip into ``home/models/<pack>/`` (replacing any previous one); PackError if refused.

    A ``liveness.onnx`` inside the zip is verified and installed into ``home/addons/``.
    """
    if not PACK_NAME.match(pack) or ".." in pack:
        raise PackError(f"Refused pack name {pack!r}: use letters, digits, '_', '-' or '.'.")
    if not zip_path.is_file():
        raise PackError(f"No such file: {zip_path}")
    if zip_path.stat().st_size > MAX_ZIP_BYTES:
        raise PackError(f"Refused zip: over the {MAX_ZIP_BYTES}-byte limit.")
    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackError(f"Refused {zip_path}: not a readable zip ({exc}).") from exc
    with archive, tempfile.TemporaryDirectory(dir=models, prefix=f".{pack}-") as tmp:
        staging = Path(tmp) / pack
        staging.mkdir()
        installed, liveness_candidate = _unpack(archive, staging, Path(tmp) / LIVENESS_FILE)
        missing = _missing_roles(staging)
        if missing:
            raise PackError(f"Refused pack {pack}: it lacks {', '.join(missing)} (this engine needs all of them).")
        liveness = _install_liveness_file(liveness_candidate, home) if liveness_candidate else None
        target_dir = models / pack
        retired = Path(tmp) / "previous"
        if target_dir.exists():
            target_dir.replace(retired)
        staging.replace(target_dir)
    return InstallReport(pack_dir=target_dir, files=tuple(sorted(installed)), liveness=liveness)


def liveness_install(*, source: Path, home: Path) -> Path:
    """Verify and install ``source`` as ``home/addons/liveness.onnx``; PackError if refused."""
    if not source.is_file():
        raise PackError(f"No such file: {source}")
    if source.stat().st_size > MAX_LIVENESS_BYTES:
        raise PackError(f"Refused {source}: over the {MAX_LIVENESS_BYTES}-byte limit.")
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".liveness-") as tmp:
        candidate = Path(tmp) / LIVENESS_FILE
        with source.open("rb") as stream:
            _copy_capped(stream, candidate, MAX_LIVENESS_BYTES, str(source))
        return _install_liveness_file(candidate, home)


def download(*, url: str, directory: Path, limit: int, timeout: float = 30.0) -> Path:
    """Fetch ``url`` (https only) into ``directory``, refusing more than ``limit`` bytes."""
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise PackError(f"Refused URL {url!r}: only https:// URLs are allowed.")
    name = PurePosixPath(parsed.path).name or "download"
    destination = directory / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            written = 0
            with destination.open("wb") as out:
                for chunk in response.iter_content(chunk_size=CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise PackError(f"Refused download from {url}: over the {limit}-byte limit.")
                    out.write(chunk)
    except requests.RequestException as exc:
        raise PackError(f"Download from {url} failed: {exc}") from exc
    return destination


def pack_install_url(*, url: str, home: Path, pack: str) -> InstallReport:
    """Download a pack zip and install it like ``pack_install_zip``."""
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".download-") as tmp:
        zip_path = download(url=url, directory=Path(tmp), limit=MAX_ZIP_BYTES)
        return pack_install_zip(zip_path=zip_path, home=home, pack=pack)


def liveness_install_url(*, url: str, home: Path) -> Path:
    """Download the liveness addon and install it like ``liveness_install``."""
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".download-") as tmp:
        source = download(url=url, directory=Path(tmp), limit=MAX_LIVENESS_BYTES)
        return liveness_install(source=source, home=home)
