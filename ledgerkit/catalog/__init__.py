"""The catalog of models: their limits, tokenizers and prices."""
