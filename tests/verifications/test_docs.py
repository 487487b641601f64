from __future__ import annotations

from pathlib import Path

import pytest

from apps.verifications import enums

# The verification configuration reference (enums and result flags) is docs/api.md.
DOCS = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()


@pytest.mark.parametrize("enum", list(enums.ALL_ENUMS.values()), ids=list(enums.ALL_ENUMS))
def test_the_docs_explain_every_enum_value(enum):
    for value in enum.values:
        assert f"| `{value}` |" in DOCS, value


def test_the_docs_list_all_14_result_flags():
    for flag in enums.RESULT_PARAMETER_FLAGS:
        assert f"`{flag}`" in DOCS, flag
