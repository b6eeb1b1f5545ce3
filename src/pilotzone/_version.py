"""The package's version, in the ground layer so that any module can name it without importing
the package itself."""

__version__ = "0.1.0"
