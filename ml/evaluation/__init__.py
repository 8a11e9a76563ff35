"""Evaluation of trained models against labelled datasets (ml/layout.py)."""
