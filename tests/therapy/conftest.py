import pytest

from cytonet.scenarios import scenario_model


@pytest.fixture(scope="session")
def scenario():
    """Cached (spec, rest state) per scenario id."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = scenario_model(name)
        return cache[name]

    return get
