"""How a session's challenges are drawn: distinct, varied, never both turns in a row."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from apps.face_engine.challenges import challenges_draw, challenges_reserve_draw, reprompt_pick
from apps.face_engine.types import CHALLENGES
from apps.sessions.services import capture_plan_for
from apps.verifications.enums import ChallengeType, LivenessType
from apps.verifications.session_config import LivenessConfig


@pytest.mark.parametrize("count", [0, 1, 2, 4, 6])
def test_a_draw_is_distinct_known_challenges_without_adjacent_turns(count):
    for _ in range(300):
        drawn = challenges_draw(count=count)
        assert len(drawn) == count and len(set(drawn)) == count and set(drawn) <= set(CHALLENGES)
        assert not any({a, b} == {"turn_left", "turn_right"} for a, b in itertools.pairwise(drawn))


def test_draws_vary_so_the_next_prompt_cannot_be_guessed():
    draws = Counter(challenges_draw(count=2) for _ in range(600))
    # 6 * 5 = 30 ordered pairs, 2 of them (left/right adjacent) never drawn: all 28 others show up.
    assert len(draws) == 28
    firsts = Counter(draw[0] for draw in draws.elements())
    assert set(firsts) == set(CHALLENGES) and min(firsts.values()) > 40


@pytest.mark.parametrize(("challenge_type", "count"), [("Passive", 0), ("Balanced", 2), ("Advanced", 4)])
def test_sessions_draw_their_challenges_with_the_same_rules(challenge_type, count):
    liveness = LivenessConfig(type=LivenessType.VERIFICATION, challenge_type=ChallengeType(challenge_type))
    for _ in range(200):
        mode, challenges = capture_plan_for(liveness)
        assert mode == ("passive" if count == 0 else "active") and len(set(challenges)) == len(challenges) == count
        assert not any({a, b} == {"turn_left", "turn_right"} for a, b in itertools.pairwise(challenges))


def test_the_reserve_is_every_challenge_not_in_the_plan_in_varying_order():
    draws = Counter(challenges_reserve_draw(plan=("blink", "nod")) for _ in range(400))
    assert all(sorted(d) == sorted(("turn_left", "turn_right", "smile", "mouth_open")) for d in draws)
    assert len(draws) == 24  # every order of the four shows up: a re-prompt cannot be guessed either
    assert challenges_reserve_draw(plan=CHALLENGES) == ()


@pytest.mark.parametrize(
    ("plan", "index", "reserve", "used", "expected"),
    [
        (("smile", "blink"), 0, ("nod", "mouth_open"), {"smile"}, "nod"),  # the reserve's order
        (("smile", "blink"), 0, ("nod", "mouth_open"), {"smile", "nod"}, "mouth_open"),  # never asked twice
        (("smile", "blink"), 0, (), {"smile"}, "turn_left"),  # no reserve: CHALLENGES' order
        (("turn_left", "smile"), 1, ("turn_right", "nod"), {"smile"}, "nod"),  # never a turn next to the other
        (("smile", "turn_left"), 0, ("turn_right", "nod"), {"smile"}, "nod"),
        (CHALLENGES, 3, (), {"blink", "turn_left", "turn_right", "nod"}, "nod"),  # all asked: the missed one again
    ],
)
def test_a_reprompt_is_a_fresh_challenge_picked_without_randomness(plan, index, reserve, used, expected):
    assert reprompt_pick(plan, index, reserve, used) == expected
    assert reprompt_pick(plan, index, reserve, used) == expected  # the same frames: the same re-prompt
