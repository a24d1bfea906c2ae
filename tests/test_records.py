"""The day's records (:mod:`abm.results`) fill their slots through the slots' descriptors instead of the dataclass's
``object.__setattr__``; they must stay the frozen dataclasses they were."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from tokenomy.abm import results
from tokenomy.abm.results import AidcCosts, PowerBook, record

RECORDS = [results.DayAhead, results.ComputeBook, PowerBook, results.ComputeDay, results.TokenDay]
RECORDS += [results.PowerDay, AidcCosts, results.Day]


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_a_record_holds_what_it_was_given_and_stays_frozen(cls):
    names = [f.name for f in dataclasses.fields(cls)]
    values = [np.full(2, float(i)) for i in range(len(names))]  # each field its own value
    by_position, by_name = cls(*values), cls(**dict(zip(names, values, strict=True)))
    for name, value in zip(names, values, strict=True):
        assert getattr(by_position, name) is value and getattr(by_name, name) is value
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(by_position, names[0], 1.0)
    assert not hasattr(by_position, "__dict__")  # slots only
    required = sum(f.default is dataclasses.MISSING for f in dataclasses.fields(cls))
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        cls(*values[: required - 1])


def test_defaults_replace_equality_and_pickling_are_the_dataclasses():
    book = PowerBook(*range(14))
    assert book.line_limit_mw is None  # the one default
    assert dataclasses.replace(book, price=7).price == 7 and dataclasses.replace(book, price=7).offer_mw == 1
    costs = AidcCosts(1.0, 2.0, 3.0, 4.0, 5.0)
    assert costs == AidcCosts(1.0, 2.0, 3.0, 4.0, 5.0) != AidcCosts(1.0, 2.0, 3.0, 4.0, 6.0)
    assert pickle.loads(pickle.dumps(costs)) == costs
    assert repr(costs) == "AidcCosts(operations=1.0, fixed=2.0, certificates=3.0, firming=4.0, batteries=5.0)"
    with pytest.raises(TypeError, match="unexpected keyword"):
        AidcCosts(1.0, 2.0, 3.0, 4.0, 5.0, extra=1.0)


def test_a_field_made_by_a_factory_keeps_the_dataclass_init():
    @record
    class WithFactory:
        values: list = dataclasses.field(default_factory=list)

    assert WithFactory().values == [] and WithFactory().values is not WithFactory().values
