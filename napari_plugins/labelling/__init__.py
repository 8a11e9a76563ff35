"""Qt-free logic of the labelling widgets: image folders, label files, provenance, class
colours, keypoint tables, model-assisted and SAM-assisted labelling. Nothing here imports
Qt or napari, so all of it is tested without a display."""
