"""The glossary: every term the app's labels use is explained, and the hover glosses wrap the terms themselves."""

from __future__ import annotations

from tokenomy.viz.glossary import GLOSSARY, gloss, glossary_markdown, node_words
from tokenomy.viz.teaching import double_auction_view


def test_a_term_is_wrapped_once_with_its_explanation_and_the_rest_is_escaped():
    out = gloss("AIDCs sell GPU-hours <fast>")
    assert out.count("<abbr") == 2
    assert f'title="{GLOSSARY["AIDCs"]}">AIDCs</abbr>' in out and ">GPU-hours</abbr>" in out
    assert "&lt;fast&gt;" in out and ">GPU</abbr>" not in out  # the longer term wins over the one inside it


def test_terms_are_matched_whole():
    assert "<abbr" not in gloss("GPUs-per-hour tokens_x")  # no part of a longer word
    assert ">P*</abbr>" in gloss("price P* / quantity Q*") and ">Q*</abbr>" in gloss("price P* / quantity Q*")


def test_the_jargon_the_app_shows_is_all_explained():
    seen = ["AIDCs", "Seed", "agentic multiplier", "P*", "ZI-C", "ZI-U", "ODD protocol", "scarcity markup"]
    known = {t.lower() for t in GLOSSARY}
    assert all(term.lower() in known for term in seen)
    page = glossary_markdown()
    assert all(f"**{term}**" in page for term in GLOSSARY)


def test_short_node_names_are_spelled_out():
    assert node_words("bth-aidc") == "AI data centre in Beijing-Tianjin-Hebei"
    assert node_words("gba-storage") == "batteries in the Greater Bay Area (Guangdong, Hong Kong, Macao)"
    assert node_words("deepseek") == "deepseek"


def test_a_plural_is_glossed_as_its_term():
    out = gloss("buyers want tokens")
    assert f'title="{GLOSSARY["token"]}">tokens</abbr>' in out


def test_the_classic_markets_rows_explain_their_terms():
    rows, _, _ = double_auction_view(1)
    glossed = [gloss(name) for name, _, _ in rows]
    assert any('title="' + GLOSSARY["ZI-C"] in g for g in glossed)
    assert any('title="' + GLOSSARY["ZI-U"] in g for g in glossed)
