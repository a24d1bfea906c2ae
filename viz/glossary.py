"""The words the app uses, each explained in a sentence a student can read: a glossary page, and hover glosses on
the labels that use a term (``<abbr title=...>``, so the explanation is one mouse-over away wherever the term is).

Node names of the shipped scenarios are short (``bth-aidc``); :func:`node_words` spells them out.
"""

from __future__ import annotations

import html
import re

# term -> what it means; the keys are matched whole-word, case as written (so "P*" and "ZI-C" stay exact)
GLOSSARY: dict[str, str] = {
    "token": "A piece of text (about three-quarters of a word) that an AI model reads or writes; AI is sold by the "
    "token.",
    "Mtok": "A million tokens. Token prices are in CNY per million tokens.",
    "AIDC": "AI data centre: a building full of GPUs that rents out GPU-hours.",
    "AIDCs": "AI data centres: buildings full of GPUs that rent out GPU-hours.",
    "GPU": "Graphics processing unit: the chip that runs AI models.",
    "GPU-hour": "One GPU working for one hour: the unit compute is sold in.",
    "GPU-hours": "GPUs times hours of work: the unit compute is sold in.",
    "compute": "GPU time, bought by the hour from AI data centres.",
    "cloud provider": "A firm that runs AI models on rented GPUs and sells tokens to apps and firms.",
    "training lab": "A lab that rents GPUs to train new models; it buys compute from a budget.",
    "MW": "Megawatt: a rate of using (or making) power. A big AI data centre draws tens to hundreds of MW.",
    "MWh": "Megawatt-hour: one MW for one hour, the unit power is sold in.",
    "CNY": "Chinese yuan, the currency every price is in.",
    "seed": "The number that picks the random draws (weather, outages, demand noise, model launches): the same "
    "seed gives the same run.",
    "agentic multiplier": "How many times more tokens an AI agent's task uses than a chat answer (agents plan, "
    "call tools and check their work).",
    "scarcity markup": "What an AI data centre asks above its running cost, learned from what sold: high when GPUs "
    "are scarce, low in a glut.",
    "markup": "The price above cost, as a share of the cost.",
    "margin": "What is left of the price after the cost.",
    "merit order": "Offers sorted from cheapest to dearest; the market buys from the top until demand is met.",
    "peak-load pricing": "Prices that are high in the busiest hours and low in the quiet ones, because capacity is "
    "scarce only at the peak.",
    "price cap": "The highest price the power market may set; above it demand is cut (load shedding).",
    "curtailment": "Wind and solar power thrown away because the grid cannot use or carry it.",
    "firming": "Batteries that store green power and give it back when the AI data centre needs it.",
    "green certificate": "Proof that a MWh came from wind, solar or hydro; AI data centres must buy them to meet a "
    "green share.",
    "capacity tariff": "A yearly payment per kW to coal plants for being there (China, from 2024), whatever they sell.",
    "switching cost": "What it costs a buyer to move to another provider (new integration, prompts, tests): "
    "buyers won are partly locked in.",
    "flexible connection": "A grid connection granted sooner to an AI data centre that promises to cut its draw in "
    "the grid's tight hours.",
    "tight hours": "Hours when the grid expects to run short: power prices near the cap.",
    "lead time": "How long an order takes to arrive (GPUs, power plants, batteries).",
    "mothballed": "Switched off but kept, to be switched on again when prices pay for it.",
    "P*": "The equilibrium price: where the supply and demand curves cross.",
    "Q*": "The equilibrium quantity: how much is traded where the curves cross.",
    "ZI-C": "Zero-intelligence traders with a budget constraint (Gode and Sunder 1993): they bid at random but "
    "never trade at a loss.",
    "ZI-U": "Zero-intelligence traders without a constraint: they bid at random and may trade at a loss.",
    "cobweb": "A market where sellers decide today's supply from yesterday's price, so prices can swing.",
    "ODD protocol": "Overview, Design concepts, Details: the standard way to describe an agent-based model "
    "(Grimm et al.).",
}

# the short names of the shipped scenarios' regions, as they appear in node names
PLACES: dict[str, str] = {
    "bth": "Beijing-Tianjin-Hebei",
    "cc": "Chengdu-Chongqing",
    "gba": "the Greater Bay Area (Guangdong, Hong Kong, Macao)",
    "im": "Inner Mongolia",
    "yrd": "the Yangtze River Delta",
    "gansu": "Gansu",
    "guizhou": "Guizhou",
    "ningxia": "Ningxia",
}
KIND_WORDS = {"aidc": "AI data centre", "storage": "batteries", "power": "power utility"}


def node_words(name: str) -> str:
    """``bth-aidc`` -> ``AI data centre in Beijing-Tianjin-Hebei``; a name it does not know comes back as it is."""
    head, _, tail = name.rpartition("-")
    if head in PLACES and tail in KIND_WORDS:
        return f"{KIND_WORDS[tail]} in {PLACES[head]}"
    return name


def _pattern(term: str) -> re.Pattern:
    """The term as a whole word, or its plural ("tokens" is glossed as "token"); a lower-case term in any case
    ("Seed" at the start of a label), an acronym only as written (MW is not mW)."""
    plural = "" if term.endswith(("s", "*")) else "s?"
    flags = re.IGNORECASE if term.islower() else 0
    return re.compile(r"(?<![\w-])" + re.escape(term) + plural + r"(?![\w*-])", flags)


_PATTERNS = sorted(((t, _pattern(t)) for t in GLOSSARY), key=lambda tp: -len(tp[0]))  # longest first


def gloss(text: str) -> str:
    """``text`` as HTML (escaped) with each glossary term in it wrapped once in ``<abbr title="...">``: the
    explanation shows on hover.  Longer terms win over the shorter ones inside them ("GPU-hours" before "GPU")."""
    taken: list[tuple[int, int, str]] = []
    for term, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if not any(a < m.end() and m.start() < b for a, b, _ in taken):
                taken.append((m.start(), m.end(), term))
                break
    out, last = [], 0
    for start, end, term in sorted(taken):
        out.append(html.escape(text[last:start]))
        out.append(f'<abbr class="tk-term" title="{html.escape(GLOSSARY[term])}">{html.escape(text[start:end])}</abbr>')
        last = end
    out.append(html.escape(text[last:]))
    return "".join(out)


def glossary_markdown() -> str:
    """The glossary page: every term and what it means, in alphabetical order."""
    rows = sorted(GLOSSARY.items(), key=lambda kv: kv[0].lower())
    return "## Glossary\n\n" + "\n".join(f"- **{term}**: {text}" for term, text in rows)
