"""The six elements of social innovation (Mötesplats Social Innovation), one module each.

| # | module        | element (sv)                  | element (en)                    |
|---|---------------|-------------------------------|---------------------------------|
| 1 | ``understand``| Förstå samhällsutmaning       | Understand the societal challenge |
| 2 | ``envision``  | Visionera samhällsförändring  | Envision societal change        |
| 3 | ``mobilise``  | Mobilisera                    | Mobilise                        |
| 4 | ``develop``   | Utveckla och testa            | Develop and test                |
| 5 | ``spread``    | Förverkliga och sprida        | Realise and spread              |
| 6 | ``value``     | Skapa värde                   | Create value                    |

``transitions`` holds the non-linear process between them as data.
Each rule is a plain function of ``(state, params[, rng])`` (a :class:`sim.state.SimState`, the
validated :class:`sim.scenario.Scenario` and the rule's own random stream), vectorised over
all organisations; import it from its module, e.g. ``from sim.elements.spread import adopt``.
"""

ELEMENT_NAMES_SV = {
    "understand": "Förstå samhällsutmaning",
    "envision": "Visionera samhällsförändring",
    "mobilise": "Mobilisera",
    "develop": "Utveckla och testa",
    "spread": "Förverkliga och sprida",
    "value": "Skapa värde",
}
ELEMENT_NAMES_EN = {
    "understand": "Understand the societal challenge",
    "envision": "Envision societal change",
    "mobilise": "Mobilise",
    "develop": "Develop and test",
    "spread": "Realise and spread",
    "value": "Create value",
}

__all__ = ["ELEMENT_NAMES_EN", "ELEMENT_NAMES_SV"]
