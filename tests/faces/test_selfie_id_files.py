"""A check's stored files are served as what their content is, never as the name the client gave them."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .test_selfie_id import submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png_with_script(jpeg: bytes, script_url: str) -> bytes:
    """A PNG of the face whose text chunk holds a script tag: an HTML page once a browser takes it for one."""
    info = PngInfo()
    info.add_text("Comment", f'<html><head><script src="{script_url}"></script></head>')
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def bmp_with_script(jpeg: bytes, script: str) -> bytes:
    """A BMP of the face that is also valid JavaScript: ``BM=1/*<header and pixels>*/;<script>``."""
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, format="BMP")
    bmp = bytearray(out.getvalue())
    bmp[2:6] = b"=1/*"  # the file size field, which readers ignore, opens a JavaScript comment
    bmp[6:] = bmp[6:].replace(b"*/", b"*0")  # nothing closes it early
    return bytes(bmp) + f"*/;{script}".encode()


def served(key: str, video: bytes, photo: bytes, photo_name: str, video_name: str = "selfie.webm") -> dict:
    """Submit, then open the ID photo's and the video's signed links as a browser would."""
    response = submit(key, video, None, name=video_name, id_photo=_upload(photo_name, photo))
    assert response.status_code == 200, response.content
    files = response.json()["result"]["files"]
    return {kind: (files[kind], Client().get(_path(files[kind]["url"]))) for kind in ("idPhoto", "selfieVideo")}


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, "application/octet-stream")


def _path(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[-1]


def _locked_down(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "build", "content_type", "extension"),
    [
        ("id.html", lambda jpeg: png_with_script(jpeg, "/x.js"), "image/png", ".png"),
        ("id.js", lambda jpeg: bmp_with_script(jpeg, "document.title='ran'"), "image/bmp", ".bmp"),
        ("id.svg", lambda jpeg: jpeg, "image/jpeg", ".jpg"),
    ],
)
def test_an_id_photo_is_served_as_the_image_it_is_whatever_its_upload_name(
    publishable, selfie_videos, faces, name, build, content_type, extension
):
    photo = build(faces.astronaut)
    file, response = served(publishable, selfie_videos["webm"], photo, name)["idPhoto"]
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert file["fileName"].endswith(extension)
    assert response["Content-Disposition"].startswith("inline")  # 004's links open in the browser
    _locked_down(response)
    assert b"".join(response.streaming_content) == photo


@pytest.mark.slow
def test_a_selfie_video_is_served_as_the_container_it_is_whatever_its_upload_name(publishable, selfie_videos, faces):
    file, response = served(publishable, selfie_videos["mp4"], faces.astronaut, "id.jpg", video_name="x.html")[
        "selfieVideo"
    ]
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4" and file["fileName"].endswith(".mp4")
    _locked_down(response)


def test_a_stored_file_of_a_type_a_browser_should_not_open_is_a_download(integrator):
    """Checks stored before names came from the content may still carry a client's extension."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from apps.faces.file_links import check_file_link
    from apps.faces.models import SelfieCheck

    path = default_storage.save("verif/x/id.html", ContentFile(b"<script src=/x.js></script>"))
    check = SelfieCheck.objects.create(
        account=integrator.account,
        user_identifier="u",
        status="verified",
        result={"status": "verified"},
        id_photo_path=path,
        id_photo_name="id.html",
    )
    response = Client().get(_path(check_file_link(check=check, kind="idPhoto")))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    _locked_down(response)
