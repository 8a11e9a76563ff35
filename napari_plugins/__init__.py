"""napari plugins (npe2 manifest ``napari.yaml``): segmentation and keypoint labelling.

Logic lives in Qt-free modules (``labelling/``) with their own tests; Qt widgets live in
``_qt/`` and are thin. Widgets never touch hardware: they edit data (labelling) or, for
the microscope-control, live-view and supervision widgets still to come, submit plans.
"""
