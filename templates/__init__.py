"""The default Jinja templates. Installed as the package ledgerkit.templates (see pyproject.toml)
so that importlib.resources finds them from a wheel and from an editable install alike."""
