"""Cross-checks of a validated scenario: names that refer to other entries, events, and a user's graph.

The schema checks each value on its own; these checks look across entries (a line's zones exist, a
provider's AIDCs exist, names are unique, bound settings are in order).  Events: :mod:`abm.scenarios.timeline`.
"""

from __future__ import annotations

from tokenomy.abm.scenarios.schema import ScenarioError
from tokenomy.abm.suggest import did_you_mean

NAMED_KINDS = ("zones", "utilities", "storage", "aidcs", "providers", "labs", "apps", "enterprises")
# (entries, setting that must not exceed ..., ... this setting, why)
ORDERED_PAIRS = (("aidcs", "idle_kw_per_gpu", "busy_kw_per_gpu", "an idle GPU draws no more than a busy one"),)


def check_ordered_pairs(data: dict, source: str) -> None:
    """Settings bound to each other (an idle GPU's draw and a busy one's) are in order in every entry (at the
    start: :mod:`abm.scenarios.timeline` checks them after each event)."""
    for kind, low, high, why in ORDERED_PAIRS:
        for item in data[kind]:
            lo, hi = item[low], item[high]
            if lo > hi:
                raise ScenarioError(
                    f"{source}: {kind}.{item['name']}: '{low}' ({lo:g}) is above '{high}' ({hi:g}); {why}"
                )


def _need(source: str, kind: str, name: str, ref: str, known: set[str]) -> None:
    """The entry ``kind`` ``name`` refers to ``ref``, which must be one of the ``known`` names."""
    if ref not in known:
        tip = did_you_mean(ref, sorted(known))
        raise ScenarioError(f"{source}: {kind} '{name}' refers to unknown {ref!r}{tip}")


def _check_zone_references(data: dict, zones: set[str], source: str) -> None:
    """Lines join two different zones that exist; utility units, storage and AIDCs sit in one that does."""
    for line in data["lines"]:
        _need(source, "line", line["name"], line["from"], zones)
        _need(source, "line", line["name"], line["to"], zones)
        if line["from"] == line["to"]:
            raise ScenarioError(f"{source}: line '{line['name']}' connects zone '{line['from']}' to itself")
    for util in data["utilities"]:
        for unit in util["units"]:
            _need(source, "unit", unit["name"], unit["zone"], zones)
    for kind in ("storage", "aidcs"):
        for item in data[kind]:
            _need(source, kind.rstrip("s"), item["name"], item["zone"], zones)


def _check_listed_references(data: dict, kinds: tuple[str, ...], ref_key: str, known: set[str], source: str) -> None:
    """Every entry of the ``kinds`` lists names, under ``ref_key``, only ``known`` entries."""
    for kind in kinds:
        for item in data[kind]:
            for ref in item[ref_key]:
                _need(source, kind.rstrip("s"), item["name"], ref, known)


def _check_unique_names(data: dict, source: str) -> None:
    """No two entries share a name, even entries of different kinds."""
    names: dict[str, str] = {}
    for kind in NAMED_KINDS:
        for item in data[kind]:
            if item["name"] in names:
                raise ScenarioError(f"{source}: name '{item['name']}' is used by both {names[item['name']]} and {kind}")
            names[item["name"]] = kind


def check_references(data: dict, source: str) -> None:
    """Every name a scenario entry refers to exists, and every entry's name is unique."""
    _check_zone_references(data, {z["name"] for z in data["zones"]}, source)
    _check_listed_references(data, ("providers", "labs"), "aidcs", {a["name"] for a in data["aidcs"]}, source)
    _check_listed_references(data, ("apps", "enterprises"), "providers", {p["name"] for p in data["providers"]}, source)
    _check_unique_names(data, source)
    if (data["apps"] or data["enterprises"]) and not data["providers"]:
        raise ScenarioError(f"{source}: token buyers need at least one entry in 'providers'")
    if data["markets"]["power_price_floor_cny_per_mwh"] >= data["markets"]["power_price_cap_cny_per_mwh"]:
        raise ScenarioError(f"{source}: 'markets.power_price_floor_cny_per_mwh' must be below the price cap")
    check_ordered_pairs(data, source)
    check_classroom(data, source)


def check_classroom(data: dict, source: str) -> None:
    """The ``[classroom]`` table names kinds students may play, entries of those kinds, and rounds within the
    horizon (the last round may be cut short by it, never start after it)."""
    from tokenomy.abm.scenarios.spec import PLAYABLE_ROLES

    game = data["classroom"]
    for role in game["roles"]:
        if role not in PLAYABLE_ROLES:
            tip = did_you_mean(role, list(PLAYABLE_ROLES))
            raise ScenarioError(
                f"{source}: 'classroom.roles' = {role!r} is not one of {', '.join(PLAYABLE_ROLES)}{tip}"
            )
    if len(set(game["roles"])) != len(game["roles"]):
        raise ScenarioError(f"{source}: 'classroom.roles' names a kind twice")
    playable = {item["name"] for role in game["roles"] for item in data[role]}
    for name in game["seats"]:
        if name not in playable:
            tip = did_you_mean(name, sorted(playable))
            raise ScenarioError(
                f"{source}: 'classroom.seats' names {name!r}, which is no entry of {', '.join(game['roles'])}{tip}"
            )
    days, per = data["scenario"]["days"], game["days_per_round"]
    if (game["rounds"] - 1) * per >= days:
        raise ScenarioError(
            f"{source}: 'classroom.rounds' = {game['rounds']} of {per} days start past the horizon of {days} days; "
            f"at most {-(-days // per)}"
        )
