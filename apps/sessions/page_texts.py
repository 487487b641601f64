"""Every text the hosted page's script shows, from the gettext catalogues, by code.

The socket and the API speak in codes (feedback codes, challenge names, failure
reasons: docs/websocket.md, docs/sessions.md); the person in front of the camera
reads these texts instead, in their language. Each says what to do next and none
accuses. The table in docs/hosted-texts.md is this module's output
(``manage.py hosted_texts``); a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# Shown while capturing, one per analysed frame (docs/websocket.md "feedback"). slowDown is for the script only.
FEEDBACK: dict[str, Any] = {
    "ok": _("Good, hold it there"),
    "noFace": _("Move your face into the oval"),
    "multipleFaces": _("Only one face, please: make sure no one else is in view"),
    "comeCloser": _("Come a little closer"),
    "moveBack": _("Move back a little"),
    "centerFace": _("Centre your face in the oval"),
    "moreLight": _("Too dark: turn towards a light or a window"),
    "lessLight": _("Too bright: move away from the light"),
    "holdStill": _("Hold still"),
    "tooBlurry": _("Hold still, the picture is blurry"),
}

# One prompt per challenge (docs/websocket.md "challenge"); left and right are the user's own.
CHALLENGES: dict[str, Any] = {
    "blink": _("Blink your eyes"),
    "turn_left": _("Turn your head to the left"),
    "turn_right": _("Turn your head to the right"),
    "nod": _("Nod your head"),
    "smile": _("Smile"),
    "mouth_open": _("Open your mouth"),
}

# Why an attempt did not pass and what to change (docs/sessions.md "Failure reasons").
REASONS: dict[str, Any] = {
    "noFace": _("We couldn't see your face. Keep your whole face inside the oval until the end."),
    "multipleFaces": _("More than one face was in view. Make sure only you are in front of the camera."),
    "faceChanged": _("The face in view changed during the check. Stay in front of the camera from start to end."),
    "presentationAttack": _(
        "We couldn't complete the check. Look straight into your device's camera in even light, "
        "with nothing between you and the lens."
    ),
    "insufficientMotion": _("We need a little more. Look at the camera and blink naturally while you hold still."),
    "timeout": _("Time ran out. Follow each instruction as soon as it appears."),
    "lowQuality": _("The picture wasn't clear enough. Find better light, wipe the camera lens and hold still."),
    "challengeFailed:blink": _("We didn't see you blink. When asked, blink slowly and clearly."),
    "challengeFailed:turn_left": _("We didn't see you turn left. When asked, turn your head slowly to your left."),
    "challengeFailed:turn_right": _("We didn't see you turn right. When asked, turn your head slowly to your right."),
    "challengeFailed:nod": _("We didn't see you nod. When asked, move your chin down and up again."),
    "challengeFailed:smile": _("We didn't see you smile. When asked, give a broad smile."),
    "challengeFailed:mouth_open": _("We didn't see your mouth open. When asked, open your mouth wide."),
    "ageVerificationFailed": _(
        "The age check did not pass. If you think this is wrong, contact the site that sent you here."
    ),
    "attemptsExhausted": _("No attempts are left. Go back to the site that sent you here to start a new verification."),
    "sessionExpired": _("This verification timed out. Go back to the site that sent you here to start again."),
    "cancelled": _("You cancelled the verification. Go back to the site that sent you here to start again."),
    "duplicateFace": _("This face is already registered. Contact the site that sent you here for help."),
    "faceMismatch": _(
        "The face did not match the one on record. Make sure you are the person in front of the camera, "
        "or contact the site that sent you here."
    ),
    "faceRegisteredToOtherExternalId": _(
        "This face is registered to another account. Contact the site that sent you here for help."
    ),
    "ageDocumentRequired": _(
        "We need to confirm your age another way. "
        "Go back to the site that sent you here: it will ask for an ID document."
    ),
    "dateOfBirthMismatch": _(
        "The age check did not fit the date of birth on record. Contact the site that sent you here for help."
    ),
    "userNotFound": _(
        "We couldn't find your account from your face. Go back to the site that sent you here to sign in another way."
    ),
    "ambiguousUser": _("We couldn't tell which account is yours. Contact the site that sent you here for help."),
    "userNotEnrolled": _(
        "Your account has no face on record yet. Go back to the site that sent you here to set it up first."
    ),
    "userFaceMismatch": _(
        "The face did not match the one on record for this account. Make sure you are the account holder, "
        "or contact the site that sent you here."
    ),
    "externalIdRequired": _("We couldn't finish the check on our side. Contact the site that sent you here for help."),
    "externalIdUnknown": _("We couldn't finish the check on our side. Contact the site that sent you here for help."),
    "collectionEngineMismatch": _(
        "We couldn't finish the check on our side. Contact the site that sent you here for help."
    ),
    "faceRecognitionNotExecuted": _(
        "We couldn't finish the check on our side. Contact the site that sent you here for help."
    ),
}
# Any reason not above (a newer server, say): still words, never the code.
REASON_FALLBACK = _("The check could not be completed. Please try again, or go back to the site that sent you here.")


def _attempts_left(count: int) -> str:
    return ngettext("%(count)s attempt left.", "%(count)s attempts left.", count) % {"count": count}


_attempts_left_lazy = lazy(_attempts_left, str)

# The script's own words; %(step)s, %(total)s and %(attempt)s are filled in by the script.
UI: dict[str, Any] = {
    "gettingReady": _("Getting ready…"),
    # The prompt of an active attempt until the engine names its first challenge.
    "positionFace": _("Position your face in the oval"),
    "lookAndHold": _("Look at the camera and hold still"),
    "step": _("Step %(step)s of %(total)s"),
    "attempt": _("Attempt %(attempt)s of %(total)s"),
    "verified": _("Verified"),
    "verifiedText": _("Thank you, you're done."),
    "failed": _("Verification failed"),
    "failedText": _("We could not verify you."),
    "cancelled": _("Verification cancelled"),
    "retryTitle": _("Let's try that again"),
    # Above a fresh challenge that replaces one not answered in time (docs/websocket.md "challenge").
    "reprompt": _("Let's try another one"),
    "retryWhy": _("What to change:"),
    "failedWhy": _("What happened:"),
    # The seconds left for the current challenge.
    "secondsLeft": _("%(seconds)s s"),
    "fallbackReason": REASON_FALLBACK,
}


def page_texts(*, max_attempts: int) -> dict[str, Any]:
    """The hosted page script's texts (the boot data's ``texts``), lazy: they are words in the language active
    when the page is rendered (json_script's encoder turns each into its text then)."""
    return {
        "feedback": FEEDBACK,
        "challenges": CHALLENGES,
        "reasons": REASONS,
        # Plurals differ by language (Arabic has six forms): one text per possible count.
        "attemptsLeft": {str(n): _attempts_left_lazy(n) for n in range(max_attempts + 1)},
        "ui": UI,
    }
