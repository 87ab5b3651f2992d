from pathlib import Path

import pytest

from cytonet.knowledge.base import KnowledgeBase

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def small_kb() -> KnowledgeBase:
    return KnowledgeBase.from_directory(FIXTURES / "good")
