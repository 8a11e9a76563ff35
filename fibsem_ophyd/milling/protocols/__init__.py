"""Shipped lamella protocols (YAML); a package so that the files are installed."""
