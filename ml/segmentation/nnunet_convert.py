"""Convert our dataset layout (``ml/layout.py``) to nnU-Net v2's raw format, without nnunetv2.

    python -m ml.segmentation.nnunet_convert --data_path data/images --label_path data/labels \\
        --nnunet_data_path $nnUNet_raw/Dataset501_Lamella [--label_map ml/classes.yaml] \\
        [--filetype tif|png]

writes ``imagesTr/<case>_0000.<ext>``, ``labelsTr/<case>.<ext>`` and ``dataset.json``
(channel_names, labels, numTraining, file_ending). Every pair is checked before anything
is written: the label map's indices must be 0..N-1 with background at 0 (nnU-Net needs
consecutive labels), each label file must be 2-D, the image's shape, and hold only indices
of the map. A problem is one error naming the file.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
import yaml

from ml.classes import CLASSES_YAML
from ml.segmentation.dataset import find_pairs

FILETYPES = ("tif", "png")
DATASET_NAME = re.compile(r"^Dataset\d{3}_[A-Za-z0-9_\-]+$")
#: nnU-Net's reader for 2-D natural images (handles .tif and .png)
IMAGE_READER = "NaturalImage2DIO"


class ConversionError(ValueError):
    """Input that cannot become an nnU-Net dataset; the message names the file or option."""


@dataclass(frozen=True)
class ConversionResult:
    dataset_json: Path
    cases: tuple[str, ...]


def read_label_map(path: str | Path) -> dict[str, int]:
    """name -> index from a classes YAML (``classes: [{index, name, ...}]``) or a plain
    mapping (YAML/JSON) of name to index or index to name; checked consecutive from 0."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConversionError(f"label_map: cannot read {path}: {error}") from error
    if isinstance(data, dict) and isinstance(data.get("classes"), list):
        try:
            pairs = [(str(c["name"]), int(c["index"])) for c in data["classes"]]
        except (KeyError, TypeError, ValueError) as error:
            raise ConversionError(f"label_map: {path}: a class without name/index") from error
    elif isinstance(data, dict) and data:
        items = list(data.items())
        try:
            if all(isinstance(k, int) for k, _ in items):
                pairs = [(str(v), int(k)) for k, v in items]
            else:
                pairs = [(str(k), int(v)) for k, v in items]
        except (TypeError, ValueError) as error:
            raise ConversionError(f"label_map: {path}: indices must be integers") from error
    else:
        raise ConversionError(f"label_map: {path}: expected a mapping of class name to index")
    label_map = dict(sorted(pairs, key=lambda p: p[1]))
    indices = sorted(index for _, index in pairs)
    if len(label_map) != len(pairs):
        raise ConversionError(f"label_map: {path}: a class name appears twice")
    if indices != list(range(len(indices))):
        raise ConversionError(
            f"label_map: {path}: nnU-Net needs consecutive labels 0..{len(indices) - 1}, "
            f"got {indices}"
        )
    if label_map.get("background") != 0:
        raise ConversionError(f"label_map: {path}: index 0 must be named 'background'")
    return label_map


def _check_pair(image_path: Path, label_path: Path, n_classes: int) -> None:
    image = tifffile.imread(image_path)
    label = tifffile.imread(label_path)
    if image.ndim != 2:
        raise ConversionError(f"{image_path}: expected a 2-D greyscale image, shape {image.shape}")
    if label.shape != image.shape:
        raise ConversionError(
            f"{label_path}: shape {label.shape} differs from its image {image_path.name} "
            f"{image.shape}"
        )
    if not np.issubdtype(label.dtype, np.integer):
        raise ConversionError(f"{label_path}: labels must be integers, got {label.dtype}")
    present = np.unique(label)
    unknown = [int(v) for v in present if not 0 <= v < n_classes]
    if unknown:
        raise ConversionError(
            f"{label_path}: label values {unknown} are not classes of the label map "
            f"(allowed 0..{n_classes - 1})"
        )


def _write(array: np.ndarray, path: Path, filetype: str) -> None:
    if filetype == "tif":
        tifffile.imwrite(path, array)
    else:
        from skimage import io

        io.imsave(path, array, check_contrast=False)


def convert(
    data_path: str | Path,
    label_path: str | Path,
    nnunet_data_path: str | Path,
    label_map: str | Path = CLASSES_YAML,
    filetype: str = "tif",
    channel_name: str = "EM",
    overwrite: bool = False,
) -> ConversionResult:
    """Check every pair, then write the nnU-Net raw dataset; returns its dataset.json."""
    if filetype not in FILETYPES:
        raise ConversionError(f"filetype: {filetype!r} not one of {FILETYPES}")
    target = Path(nnunet_data_path)
    if not DATASET_NAME.match(target.name):
        raise ConversionError(
            f"nnunet_data_path: the folder must be named DatasetNNN_Name (nnU-Net finds "
            f"datasets by it), got {target.name!r}"
        )
    labels = read_label_map(label_map)
    try:
        pairs = find_pairs([Path(data_path)], [Path(label_path)])
    except FileNotFoundError as error:
        raise ConversionError(str(error)) from error
    for image_path, mask_path in pairs:
        _check_pair(image_path, mask_path, len(labels))
    images_tr, labels_tr = target / "imagesTr", target / "labelsTr"
    if not overwrite and any(p.exists() and any(p.iterdir()) for p in (images_tr, labels_tr)):
        raise ConversionError(f"nnunet_data_path: {target} already holds a dataset (overwrite)")
    for folder in (images_tr, labels_tr):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    cases = []
    for image_path, mask_path in pairs:
        case = image_path.stem
        _write(tifffile.imread(image_path), images_tr / f"{case}_0000.{filetype}", filetype)
        mask = tifffile.imread(mask_path).astype(np.uint8 if len(labels) <= 256 else np.uint16)
        _write(mask, labels_tr / f"{case}.{filetype}", filetype)
        cases.append(case)
    dataset = {
        "channel_names": {"0": channel_name},
        "labels": labels,
        "numTraining": len(cases),
        "file_ending": f".{filetype}",
        "overwrite_image_reader_writer": IMAGE_READER,
        "name": target.name.split("_", 1)[1],
        "description": f"converted by fibsem-ophyd from {Path(data_path)}",
    }
    dataset_json = target / "dataset.json"
    dataset_json.write_text(json.dumps(dataset, indent=2))
    return ConversionResult(dataset_json, tuple(cases))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_path", required=True, type=Path, help="folder of image TIFFs")
    parser.add_argument("--label_path", required=True, type=Path, help="folder of label TIFFs")
    parser.add_argument(
        "--nnunet_data_path", required=True, type=Path, help="…/nnUNet_raw/DatasetNNN_Name"
    )
    parser.add_argument("--label_map", type=Path, default=CLASSES_YAML)
    parser.add_argument("--filetype", choices=FILETYPES, default="tif")
    parser.add_argument(
        "--channel_name", default="EM", help="nnU-Net normalises by it (default: z-score)"
    )
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = convert(
            args.data_path, args.label_path, args.nnunet_data_path, args.label_map,
            args.filetype, args.channel_name, args.overwrite,
        )  # fmt: skip
    except ConversionError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"{len(result.cases)} cases -> {result.dataset_json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
