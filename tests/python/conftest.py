import os
import pathlib

import pytest

SHARED = pathlib.Path(os.environ.get("CASELOOP_SHARED_DIR", pathlib.Path(__file__).resolve().parents[3] / "shared"))


@pytest.fixture
def shared() -> pathlib.Path:
    return SHARED
