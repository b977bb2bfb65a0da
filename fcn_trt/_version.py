"""The package version (L0: the sidecar records it, the CLI prints it, the root package exports it)."""

__version__ = "0.1.0"
