"""The /verif/ page script's texts, from the gettext catalogues (rendered into the page as data)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def verif_texts() -> dict[str, object]:
    """Texts in the active language, by the name the script looks them up under.

    ``errors``: what to do about a /verif/submit error code; any other code gets ``failed``.
    """
    errors = {
        "badVideo": _("The selfie video could not be used. Record it again in good light, or upload another video."),
        "noFace": _(
            "We couldn't find a face. Record the video again with your whole face in view, "
            "and use a photo of your ID where your face is visible."
        ),
        "multipleFaces": _(
            "More than one face was found. Make sure only you are in the video and only your ID is in the photo."
        ),
        "badImage": _(
            "The ID photo could not be read. Take a sharp photo of the page with your picture and upload it again."
        ),
        "throttled": _("Too many tries for now. Please wait a while, then try again."),
        "too_large": _("A file is too large. Record a shorter video or upload a smaller photo."),
    }
    return {
        "recording": _("Recording…"),
        "recorded": _("Recorded."),
        "cameraUnavailable": _("Camera unavailable: upload a selfie video instead."),
        "checking": _("Checking…"),
        "verified": _("Verified. You can close this page."),
        "notVerified": _(
            "We couldn't match your selfie to your ID. Check that the ID is yours and readable, then try again."
        ),
        "failed": _("We couldn't finish the check. Please try again."),
        "network": _("Network error: check your connection, then try again."),
        "errors": errors,
    }
