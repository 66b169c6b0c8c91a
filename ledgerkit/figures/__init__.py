"""Figures: the arithmetic of a record's figures, its exact token counts, and sessions."""
