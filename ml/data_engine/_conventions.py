"""How a run's documents say what the data engine needs: the names it looks for.

These are the conventions of the project's devices, kept here as data so that `ml`
never imports the devices (import-linter: ml works on documents and arrays only).

- An image is an external (StreamResource) 2-D data key; one whose name ends with
  ``mask`` or ``labels`` is the model's class-index mask of the image in its event.
- Frame metadata: ``<image key>-frame_metadata`` (JSON: beam, pixel_size_x_m,
  reported.hfw_m); otherwise the image device's configuration keys ending with
  ``-pixel_size_m`` and ``-hfw_m``, the beam from their prefix (``electron_beam-``,
  ``ion_beam-``), then the start document's ``beam``.
- A detection is a processing device's ``<device>-x_px``/``-y_px`` (``-score``) read in
  the image's event; its feature comes from the device's name (``*_needle``:
  NeedleTip) or its configured ``<device>-target`` (TARGET_FEATURES). A device that
  finds several features writes ``<device>-<Feature>_x_px``/``_y_px`` (``_score``),
  optionally ``<device>-<Feature>_<instance>_x_px``, Feature one of ml.layout.FEATURES.
  With several images in one event, a device belongs to the image whose key its name
  starts with (``sem_features`` -> ``sem``).
- The model's identity: a data or configuration key ending with ``-checkpoint_hash``
  (of the detecting device), or the start document's ``checkpoint_hash``.
- A supervisor's answer: a device's ``-asked`` (the question, JSON) and ``-action``,
  ``-dx_m``, ``-dy_m``, ``-note`` read together (stream "supervision").
"""

from __future__ import annotations

MASK_SUFFIXES = ("mask", "labels")
FRAME_METADATA_SUFFIX = "-frame_metadata"
BEAM_PREFIXES = {"electron_beam-": "electron", "ion_beam-": "ion"}
NEEDLE_SUFFIX = "_needle"
TARGET_FEATURES = {
    "grid_square": "LamellaCentre",  # the site (lamella) centre in its grid square
    "landed_lamella": "LamellaCentre",
    "landing_post": "LandingPost",
}
CHECKPOINT_SUFFIX = "-checkpoint_hash"
SITE_KEYS = ("site", "site_name", "lamella", "lamella_name")
STAGE_KEYS = ("workflow_stage", "stage")
EXPERIMENT_KEYS = ("experiment", "experiment_name", "experiment_uid")
SUPERVISION_SUFFIXES = ("-asked", "-action", "-dx_m", "-dy_m", "-note")
