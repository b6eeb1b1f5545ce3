"""The package's version: one place that every module and the build read."""

__version__ = "0.1.0"
