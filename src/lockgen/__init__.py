"""lockgen: resolve requirements into a PEP 751 pylock.toml, fast, and fetch what it names."""

__version__ = "0.1.0"
