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
Each rule is a function of the model, vectorised over all organisations.
"""

from sim.elements.develop import develop
from sim.elements.envision import envision
from sim.elements.mobilise import mobilise
from sim.elements.spread import abandon, adopt, pilot_end, place_service, scale_up
from sim.elements.transitions import move_between_elements, transition_matrix
from sim.elements.understand import understand
from sim.elements.value import create_value

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

__all__ = [
    "ELEMENT_NAMES_EN", "ELEMENT_NAMES_SV", "abandon", "adopt", "create_value", "develop", "envision",
    "mobilise", "move_between_elements", "pilot_end", "place_service", "scale_up", "transition_matrix",
    "understand",
]
