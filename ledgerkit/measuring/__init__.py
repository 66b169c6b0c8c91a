"""Measuring: a record's SOURCE_FILES resolved under the source root and their characters counted."""
