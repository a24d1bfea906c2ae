"""Every decision rule the model knows, by decision kind.

Importing this module imports the modules that define rules, so the registry (:data:`REGISTRY`,
``{kind: {name: class}}``) is complete: a new rule is one class in one file, decorated with
``@register(kind, name)``, and one import line here.  A scenario names the rule each agent follows
(``providers.*.strategy``, ``providers.*.bidding``, ``labs.*.strategy``, ``aidcs.*.strategy``,
``aidcs.*.investing``, ``utilities.*.strategy``, ``utilities.*.investing``, ``storage.*.strategy``,
``storage.*.investing``).
"""

from __future__ import annotations

from tokenomy.agents import (  # noqa: F401
    aidc,
    cloud_provider,
    human,
    q_learning,
    storage_operator,
    training_lab,
    utility,
)
from tokenomy.agents.strategies import (
    COMPUTE_ASKING,
    COMPUTE_BIDDING,
    GENERATION_INVESTING,
    GPU_INVESTING,
    LAB_BIDDING,
    POWER_OFFERS,
    REGISTRY,
    STORAGE_DISPATCH,
    STORAGE_INVESTING,
    TOKEN_PRICING,
    strategy_names,
)

__all__ = [
    "REGISTRY",
    "strategy_names",
    "TOKEN_PRICING",
    "COMPUTE_BIDDING",
    "LAB_BIDDING",
    "COMPUTE_ASKING",
    "GPU_INVESTING",
    "POWER_OFFERS",
    "GENERATION_INVESTING",
    "STORAGE_DISPATCH",
    "STORAGE_INVESTING",
]
