"""Machine learning on FIB-SEM images: segmentation models, keypoint detection, the
data engine. Works on numpy arrays, pixel sizes and documents — never on devices.
(Models and tools arrive with the ML issues.)"""
