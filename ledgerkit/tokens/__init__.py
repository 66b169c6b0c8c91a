"""Exact token counts, offline: the shipped encodings (``encodings``), which encoding counts for a name
(``names``) and the counting engine (``engine``)."""
