"""napari plugins: segmentation and keypoint labelling, live view, supervision.
Thin Qt widgets over Qt-free logic; they submit plans or edit data, never touch
hardware. (Widgets arrive with the napari issues.)"""
