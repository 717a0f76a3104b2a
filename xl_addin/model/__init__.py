"""The imgout engine: pure model of the medical imaging outsourcing market.

No Excel, no templates, no email: adapters call this; nothing here calls them. Start with
:func:`market_for` (an assumption file, or None for the embedded default) and ask the
:class:`Market` questions::

    >>> from xl_addin.model import default_market
    >>> round(default_market().forecast(2030), 2)
    27.88
"""

from ..errors import AssumptionError, CalibrationError, ImgoutError, InvalidArgument
from .assumptions import (
    AssumptionSet,
    Entry,
    MarketDefinition,
    PublishedCagr,
    PublisherEstimate,
    Source,
    assumptions_from_text,
    default_assumptions,
    load_assumptions,
    parse_overrides,
    with_overrides,
)
from .estimates import Consensus, Estimate
from .headline import HeadlineLine, headline_line, headline_with_consensus
from .market import (
    MODEL_VERSION,
    UNITS,
    BreakdownRow,
    BridgeFactor,
    Market,
    NullMeaning,
    Point,
    TornadoBar,
    default_market,
    market_for,
)
from .uncertainty import Fan

__all__ = [
    "MODEL_VERSION",
    "UNITS",
    "AssumptionError",
    "AssumptionSet",
    "BreakdownRow",
    "BridgeFactor",
    "CalibrationError",
    "Consensus",
    "Entry",
    "Estimate",
    "Fan",
    "HeadlineLine",
    "ImgoutError",
    "InvalidArgument",
    "Market",
    "MarketDefinition",
    "NullMeaning",
    "Point",
    "PublishedCagr",
    "PublisherEstimate",
    "Source",
    "TornadoBar",
    "assumptions_from_text",
    "default_assumptions",
    "default_market",
    "headline_line",
    "headline_with_consensus",
    "load_assumptions",
    "market_for",
    "parse_overrides",
    "with_overrides",
]
