"""Qt widgets of the napari plugin: thin layers over ``napari_plugins.labelling``."""
