"""The catalog of models: their limits, tokenizers and prices, from genai-prices and a small dated supplement.

Importing this package loads nothing heavy: genai_prices (and pydantic) are imported by the first call that
needs the data, which is then kept for the process.
"""

from .listing import UnknownProvider, age_line, models, table_json, table_text
from .maintained import CatalogUnavailable, DataAge, data_age
from .model import DataSource, Model, OverrideSpec, Price, PriceRule, Tier, Tokenizer
from .prices import cost, input_cost, price_at, written_cost
from .resolve import AmbiguousModel, UnknownModel, resolve_model

__all__ = [
    "AmbiguousModel",
    "CatalogUnavailable",
    "DataAge",
    "Model",
    "OverrideSpec",
    "Price",
    "PriceRule",
    "DataSource",
    "Tier",
    "Tokenizer",
    "UnknownModel",
    "UnknownProvider",
    "age_line",
    "cost",
    "data_age",
    "table_json",
    "table_text",
    "input_cost",
    "models",
    "price_at",
    "resolve_model",
    "written_cost",
]
