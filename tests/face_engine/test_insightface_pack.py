"""``python manage.py install_insightface_pack``: what it installs and what it refuses."""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.face_engine.backends import insightface_pack
from apps.face_engine.backends.insightface import build_insightface_backend, insightface_available
from tests.face_engine import insightface_standins as standins


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The bytes of each stand-in model file, by the name it has in a real buffalo_l pack."""
    root = tmp_path_factory.mktemp("standin-files")
    standins.write_pack(root)
    files = {path.name: path.read_bytes() for path in (root / "models" / "buffalo_l").iterdir()}
    files["liveness.onnx"] = (root / "addons" / "liveness.onnx").read_bytes()
    return files


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def pack_members(model_files: dict[str, bytes], folder: str = "") -> dict[str, bytes]:
    return {f"{folder}{name}": data for name, data in model_files.items() if name != "liveness.onnx"}


def install(home: Path, *args: str) -> io.StringIO:
    out = io.StringIO()
    call_command("install_insightface_pack", *args, "--home", str(home), stdout=out)
    return out


def test_it_installs_a_valid_pack_zip_that_the_backend_then_loads(
    tmp_path: Path, model_files: dict[str, bytes]
) -> None:
    home = tmp_path / "home"
    archive = make_zip(tmp_path / "buffalo_l.zip", pack_members(model_files))
    out = install(home, "--zip", str(archive), "--pack", "buffalo_l")
    assert sorted(p.name for p in (home / "models" / "buffalo_l").iterdir()) == sorted(pack_members(model_files))
    assert "non-commercial" in out.getvalue()
    # The pack alone is not enough: the addon is part of the engine.
    assert not insightface_available(home, "buffalo_l")
    (home / "addons").mkdir()
    (home / "addons" / "liveness.onnx").write_bytes(model_files["liveness.onnx"])
    assert insightface_available(home, "buffalo_l")
    assert build_insightface_backend(home=home, pack="buffalo_l").versions["pack"] == "buffalo_l"


def test_it_flattens_a_zip_whose_files_sit_in_one_folder(tmp_path: Path, model_files: dict[str, bytes]) -> None:
    home = tmp_path / "home"
    archive = make_zip(tmp_path / "pack.zip", {"buffalo_s/": b"", **pack_members(model_files, "buffalo_s/")})
    install(home, "--zip", str(archive), "--pack", "buffalo_s")
    assert (home / "models" / "buffalo_s" / "det_10g.onnx").read_bytes() == model_files["det_10g.onnx"]


def test_reinstalling_replaces_the_previous_pack_whole(tmp_path: Path, model_files: dict[str, bytes]) -> None:
    home = tmp_path / "home"
    (home / "models" / "buffalo_l").mkdir(parents=True)
    (home / "models" / "buffalo_l" / "w600k_old.onnx").write_bytes(b"\x08old")
    install(home, "--zip", str(make_zip(tmp_path / "p.zip", pack_members(model_files))))
    assert not (home / "models" / "buffalo_l" / "w600k_old.onnx").exists()
    assert [p.name for p in (home / "models").iterdir()] == ["buffalo_l"]  # no staging left behind


@pytest.mark.parametrize(
    ("evil_name", "reason"),
    [
        ("../evil.onnx", "path traversal"),
        ("buffalo_l/../../evil.onnx", "path traversal"),
        ("/tmp/evil.onnx", "absolute paths"),
        ("C:/evil.onnx", "absolute paths"),
        ("..\\evil.onnx", "backslashes"),
        ("a/b/evil.onnx", "one folder level"),
        ("README.txt", "only .onnx files"),
        ("run.sh", "only .onnx files"),
    ],
)
def test_it_refuses_unsafe_members_and_writes_nothing(
    tmp_path: Path, model_files: dict[str, bytes], evil_name: str, reason: str
) -> None:
    home = tmp_path / "home"
    archive = make_zip(tmp_path / "evil.zip", {**pack_members(model_files), evil_name: b"\x08payload"})
    with pytest.raises(CommandError, match=reason):
        install(home, "--zip", str(archive))
    assert not (tmp_path / "evil.onnx").exists()
    assert not (home / "models" / "buffalo_l").exists()
    assert list((home / "models").iterdir()) == []


def test_it_refuses_a_symlink_member(tmp_path: Path, model_files: dict[str, bytes]) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for name, data in pack_members(model_files).items():
            out.writestr(name, data)
        link = zipfile.ZipInfo("extra.onnx")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
    with pytest.raises(CommandError, match="links are not allowed"):
        install(tmp_path / "home", "--zip", str(archive))


def test_it_refuses_a_zip_bomb_member(tmp_path: Path, model_files: dict[str, bytes]) -> None:
    bomb = b"\x08" + b"\0" * (24 * 1024 * 1024)  # 24 MB of zeros deflates to a few KB
    archive = make_zip(tmp_path / "bomb.zip", {**pack_members(model_files), "w600k_bomb.onnx": bomb})
    with pytest.raises(CommandError, match="zip bomb"):
        install(tmp_path / "home", "--zip", str(archive))


def test_it_refuses_too_many_members(tmp_path: Path, model_files: dict[str, bytes]) -> None:
    extra = {f"extra_{i}.onnx": model_files["genderage.onnx"] for i in range(40)}
    archive = make_zip(tmp_path / "many.zip", {**pack_members(model_files), **extra})
    with pytest.raises(CommandError, match="members is over"):
        install(tmp_path / "home", "--zip", str(archive))


def test_it_refuses_a_file_that_is_not_an_onnx_model(tmp_path: Path, model_files: dict[str, bytes]) -> None:
    members = pack_members(model_files)
    members["det_10g.onnx"] = b"<html>404 Not Found</html>" * 20
    with pytest.raises(CommandError, match="not an ONNX model"):
        install(tmp_path / "home", "--zip", str(make_zip(tmp_path / "p.zip", members)))


def test_it_refuses_a_pack_without_every_model_the_engine_needs_and_keeps_the_old_one(
    tmp_path: Path, model_files: dict[str, bytes]
) -> None:
    home = tmp_path / "home"
    install(home, "--zip", str(make_zip(tmp_path / "good.zip", pack_members(model_files))))
    members = pack_members(model_files)
    del members["genderage.onnx"]  # like buffalo_sc, which has no landmark or attribute models
    with pytest.raises(CommandError, match=r"lacks genderage\.onnx"):
        install(home, "--zip", str(make_zip(tmp_path / "partial.zip", members)))
    assert (home / "models" / "buffalo_l" / "genderage.onnx").exists()


@pytest.mark.parametrize("pack", ["../escape", "a/b", ".hidden", ""])
def test_it_refuses_a_pack_name_that_is_not_a_plain_name(
    tmp_path: Path, model_files: dict[str, bytes], pack: str
) -> None:
    archive = make_zip(tmp_path / "p.zip", pack_members(model_files))
    with pytest.raises(CommandError, match="pack name"):
        install(tmp_path / "home", "--zip", str(archive), "--pack", pack)


def test_it_refuses_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "p.zip").write_bytes(b"not a zip at all")
    with pytest.raises(CommandError, match="not a readable zip"):
        install(tmp_path / "home", "--zip", str(tmp_path / "p.zip"))


def test_it_needs_something_to_install(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--zip PATH or --url URL"):
        install(tmp_path / "home")


class FakeResponse:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def raise_for_status(self) -> None:
        return None

    def iter_content(self, chunk_size: int) -> list[bytes]:
        return [self.body[i : i + chunk_size] for i in range(0, len(self.body), chunk_size)]


def test_it_installs_a_pack_from_an_https_url(
    tmp_path: Path, model_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = make_zip(tmp_path / "buffalo_l.zip", pack_members(model_files)).read_bytes()
    requested: list[str] = []

    def fake_get(url: str, **kwargs: object) -> FakeResponse:
        requested.append(url)
        assert kwargs["stream"] is True and kwargs["timeout"]
        return FakeResponse(body)

    monkeypatch.setattr("requests.get", fake_get)
    home = tmp_path / "home"
    install(home, "--url", "https://example.org/buffalo_l.zip")
    assert requested == ["https://example.org/buffalo_l.zip"]
    assert (home / "models" / "buffalo_l" / "w600k_r50.onnx").read_bytes() == model_files["w600k_r50.onnx"]
    assert [p.name for p in home.iterdir()] == ["models"]  # the download was cleaned up


@pytest.mark.parametrize("url", ["http://example.org/buffalo_l.zip", "file:///etc/passwd", "ftp://x/y.zip"])
def test_it_downloads_only_over_https(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("requests.get", lambda *a, **k: pytest.fail("no request may be made"))
    with pytest.raises(CommandError, match="only https"):
        install(tmp_path / "home", "--url", url)


def test_it_refuses_a_liveness_addon_that_is_not_the_published_file(
    tmp_path: Path, model_files: dict[str, bytes]
) -> None:
    source = tmp_path / "liveness.onnx"
    source.write_bytes(model_files["liveness.onnx"])
    with pytest.raises(CommandError, match="is not the published"):
        install(tmp_path / "home", "--liveness", str(source))
    assert not (tmp_path / "home" / "addons" / "liveness.onnx").exists()


def test_it_installs_the_liveness_addon_whose_digest_matches(
    tmp_path: Path, model_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real addon cannot be had here; pretend the stand-in is the published file.
    digest = hashlib.sha256(model_files["liveness.onnx"]).hexdigest()
    monkeypatch.setattr(insightface_pack, "liveness_expected_sha256", lambda: digest)
    source = tmp_path / "liveness.onnx"
    source.write_bytes(model_files["liveness.onnx"])
    home = tmp_path / "home"
    install(home, "--liveness", str(source))
    assert (home / "addons" / "liveness.onnx").read_bytes() == model_files["liveness.onnx"]
    # ...and a liveness.onnx inside a pack zip goes to the same place.
    shutil.rmtree(home / "addons")
    install(home, "--zip", str(make_zip(tmp_path / "all.zip", model_files)))
    assert insightface_available(home, "buffalo_l")
    assert not (home / "models" / "buffalo_l" / "liveness.onnx").exists()


def test_the_published_liveness_digest_is_insightfaces_own() -> None:
    from insightface.addons.catalog import ADDON_CATALOG

    assert insightface_pack.liveness_expected_sha256() == ADDON_CATALOG["liveness"].sha256
    assert len(insightface_pack.liveness_expected_sha256()) == 64


def test_it_warns_when_the_zip_name_is_not_the_pack_it_installs_as(
    tmp_path: Path, model_files: dict[str, bytes]
) -> None:
    archive = make_zip(tmp_path / "buffalo_s.zip", pack_members(model_files))
    err = io.StringIO()
    call_command("install_insightface_pack", "--zip", str(archive), "--home", str(tmp_path / "h"), stderr=err)
    assert "installing buffalo_s.zip as pack 'buffalo_l'" in err.getvalue()
    assert (tmp_path / "h" / "models" / "buffalo_l").is_dir()


def test_a_download_over_its_size_limit_is_refused_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endless = FakeResponse(b"\x08" * (insightface_pack.MAX_LIVENESS_BYTES + 1))
    monkeypatch.setattr("requests.get", lambda *a, **k: endless)
    home = tmp_path / "home"
    with pytest.raises(CommandError, match=r"over the \d+-byte limit"):
        install(home, "--liveness-url", "https://example.org/liveness.onnx")
    assert list(home.iterdir()) == []


def test_a_failed_download_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def unreachable(*args: object, **kwargs: object) -> FakeResponse:
        raise requests.ConnectionError("no route to host")

    monkeypatch.setattr("requests.get", unreachable)
    with pytest.raises(CommandError, match="failed: no route to host"):
        install(tmp_path / "home", "--url", "https://example.org/buffalo_l.zip")
