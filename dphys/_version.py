"""The package version (one place: dphys.__version__ and the metadata of saved ensembles read it)."""

__version__ = "0.1.0"
