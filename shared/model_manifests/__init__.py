"""Manifests of model packages' files (sha256 each), read by :mod:`shared.model_provenance`."""
