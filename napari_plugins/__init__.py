"""napari plugins (npe2 manifest ``napari.yaml``): segmentation and keypoint labelling,
microscope control, live view and supervision.

Logic lives in Qt-free modules (``labelling/``, ``control/``, ``supervision/``) with their
own tests; Qt widgets live in ``_qt/`` folders and are thin. Widgets never touch
hardware: they edit data (labelling) or submit plans to a runner (``control/``).
"""
