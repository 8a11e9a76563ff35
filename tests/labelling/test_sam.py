"""SAM on a tiny randomly initialised model: the real code path, small images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_plugins.labelling.sam.build import SamUnavailable
from napari_plugins.labelling.sam.cache import image_sha256
from napari_plugins.labelling.sam.config import VitEncoderSpec, read_sam_config
from napari_plugins.labelling.sam.engine import SamEngine
from napari_plugins.labelling.sam.prefetch import EmbeddingPrefetcher
from napari_plugins.labelling.sam.prompts import BoxPrompt, PointPrompt, SamPrompts
from napari_plugins.labelling.sam.transforms import logits_to_image, to_input_coords

from .conftest import scene, tiny_sam_config

POINT = SamPrompts(
    points=(PointPrompt(x_px=20, y_px=15), PointPrompt(x_px=50, y_px=30, positive=False))
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> SamEngine:
    torch.set_num_threads(2)
    return SamEngine(tiny_sam_config(tmp_path_factory.mktemp("sam-cache")))


def test_embedding_is_computed_once_and_cached_on_disk_by_content(engine, tmp_path):
    image = scene(40, 60, 7)
    before = engine.encodings
    embedding = engine.embed(image)
    assert engine.cache.path(image_sha256(image), engine.model_id).is_file()
    assert embedding.features.shape == (1, 256, 6, 8)  # 85x128 padded to 96x128, /16
    assert embedding.input_hw == (85, 128) and embedding.original_hw == (40, 60)
    # a second engine (a new session) finds it on disk; the same pixels hit, others miss
    again = SamEngine(engine.config)
    np.testing.assert_array_equal(again.embed(image.copy()).features, embedding.features)
    assert engine.encodings == before + 1 and again.encodings == 0
    assert again.cached(image + 1) is None


def test_prompts_give_multimask_candidates_and_single_masks(engine):
    image = scene(40, 60, 3)
    embedding = engine.embed(image)
    three = engine.predict(embedding, POINT)
    assert len(three) == 3 and three.scores.shape == (3,)
    assert three.mask(three.best).shape == (40, 60) and three.mask(0).dtype == bool
    box = SamPrompts(box=BoxPrompt(x0_px=5, y0_px=5, x1_px=40, y1_px=30))
    assert len(engine.predict(embedding, box, multimask=False)) == 1
    # a mask prompt (e.g. a model's prediction of one class) changes the result
    mask = np.zeros((40, 60), bool)
    mask[10:20, 15:45] = True
    with_mask = engine.predict(
        embedding, POINT.model_copy(update={"mask_source": "labels:lamella"}), mask
    )
    assert not np.array_equal(with_mask.low_res_logits, three.low_res_logits)


def test_previous_mask_refines_and_is_checked(engine):
    embedding = engine.embed(scene(40, 60, 3))
    first = engine.predict(embedding, POINT)
    previous = first.low_res_logits[first.best]
    refined = engine.predict(
        embedding,
        POINT.model_copy(update={"refines_previous": True}),
        multimask=False,
        previous_logits=previous,
    )
    plain = engine.predict(embedding, POINT, multimask=False)
    assert len(refined) == 1
    assert not np.array_equal(refined.low_res_logits, plain.low_res_logits)
    with pytest.raises(ValueError, match=r"exactly when prompts\.refines_previous"):
        engine.predict(embedding, POINT, previous_logits=previous)
    with pytest.raises(ValueError, match=r"previous logits of shape \(3, 3\)"):
        engine.predict(
            embedding,
            POINT.model_copy(update={"refines_previous": True}),
            previous_logits=torch.zeros(3, 3),
        )


def test_bad_prompts_are_refused(engine):
    embedding = engine.embed(scene(40, 60, 3))
    with pytest.raises(ValueError, match=r"point 0 at \(60\.0, 5\.0\) px is outside the image"):
        engine.predict(embedding, SamPrompts(points=(PointPrompt(x_px=60, y_px=5),)))
    with pytest.raises(ValueError, match="no prompt"):
        engine.predict(embedding, SamPrompts())
    with pytest.raises(ValueError, match="box needs x0 < x1"):
        BoxPrompt(x0_px=5, y0_px=5, x1_px=5, y1_px=9)


def test_vit_backend_runs_the_same_path(tmp_path):
    vit = VitEncoderSpec(
        embed_dim=32, depth=2, num_heads=2, global_attn_indexes=(1,), window_size=4
    )
    engine = SamEngine(tiny_sam_config(tmp_path, backend="vit_b", encoder=vit))
    embedding = engine.embed(scene(40, 60, 1))
    assert embedding.features.shape == (1, 256, 8, 8)  # square input
    assert engine.predict(embedding, POINT).mask(0).shape == (40, 60)


def test_weights_come_only_from_the_configured_file(tmp_path, engine):
    config_path = tmp_path / "sam.yaml"
    config_path.write_text("backend: vit_b\n")
    with pytest.raises(
        SamUnavailable, match=rf"sam_vit_b_01ec64\.pth.*checkpoint: .*{config_path.name}"
    ):
        SamEngine(read_sam_config(config_path), str(config_path))
    weights = tmp_path / "tiny.pt"
    torch.save(engine.model.state_dict(), weights)
    config_path.write_text(
        "backend: mobile_sam\ncheckpoint: tiny.pt\nimage_size_px: 128\n"
        f"cache_dir: {tmp_path / 'cache'}\nencoder: {engine.config.encoder.model_dump_json()}\n"
    )
    loaded = SamEngine(read_sam_config(config_path))
    assert loaded.weights_sha256 is not None and loaded.model_id != engine.model_id
    image = scene(40, 60, 5)
    np.testing.assert_allclose(
        loaded.embed(image).features, engine.embed(image).features, rtol=1e-4, atol=1e-5
    )
    config_path.write_text("backend: mobile_sam\ncheckpoint: nowhere.pt\n")
    with pytest.raises(SamUnavailable, match=r"SAM weights not found at .*nowhere\.pt"):
        SamEngine(read_sam_config(config_path))
    config_path.write_text("backend: vit_q\n")
    with pytest.raises(ValueError, match=r"(?s)sam\.yaml: .*backend"):
        read_sam_config(config_path)


def test_next_images_are_embedded_in_the_background(engine):
    prefetcher = EmbeddingPrefetcher(lambda load: engine.embed(load()))
    try:
        images = [scene(30, 50, 20 + i) for i in range(2)]
        jobs = [prefetcher.submit(f"img{i}", lambda i=i: images[i]) for i in range(2)]
        assert prefetcher.submit("img0", lambda: images[0]) is jobs[0]  # once per key
        for job, image in zip(jobs, images, strict=True):
            assert job.result(timeout=60).image_sha256 == image_sha256(image)
            assert engine.cached(image) is not None
    finally:
        prefetcher.shutdown()


def test_coordinate_and_mask_transforms_line_up():
    # pixel centres: the image's first and last pixel map to the input's
    coords = to_input_coords(np.array([[-0.5, -0.5], [59.5, 39.5]]), (40, 60), (80, 120))
    np.testing.assert_allclose(coords, [[-0.5, -0.5], [119.5, 79.5]])
    # low-res logits positive over input rows 0..39 (cells 0..9) -> image rows 0..19
    low = -torch.ones(1, 32, 32)
    low[:, :10, :] = 1.0
    image = logits_to_image(low, (80, 120), (40, 60))[0] > 0
    assert image.shape == (40, 60)
    assert image[:19].all() and not image[21:].any()


def test_vit_b_takes_segment_anythings_own_checkpoint_layout():
    # the official sam_vit_b_01ec64.pth is a state dict of segment_anything's vit_b:
    # same keys and shapes here (built on the meta device: no memory, no time)
    from segment_anything import sam_model_registry

    from napari_plugins.labelling.sam.build import build_sam_model
    from napari_plugins.labelling.sam.config import SamConfig

    with torch.device("meta"):
        ours = build_sam_model(SamConfig(backend="vit_b", random_weights=True)).state_dict()
        theirs = sam_model_registry["vit_b"]().state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_without_the_package_sam_says_what_to_install(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "segment_anything", None)  # as if not installed
    with pytest.raises(SamUnavailable, match=r"pip install 'fibsem-ophyd\[sam\]'"):
        SamEngine(tiny_sam_config(tmp_path))


def test_mobile_sam_checkpoint_keys_map_onto_this_encoder():
    # key names and shapes of MobileSAM's own image encoder (its mobile_sam.pt layout,
    # recorded in data/); renamed, they are exactly this encoder's. Once checked by hand:
    # with the same random weights both encoders agree to 4e-6 on a 1024x1024 input.
    import json
    from pathlib import Path

    from napari_plugins.labelling.sam.build import build_sam_model
    from napari_plugins.labelling.sam.config import SamConfig
    from napari_plugins.labelling.sam.mobile_sam_keys import from_mobile_sam, is_mobile_sam_layout

    recorded = json.loads(
        (Path(__file__).parent / "data" / "mobile_sam_image_encoder_keys.json").read_text()
    )
    theirs = {key: torch.empty(shape, device="meta") for key, shape in recorded.items()}
    assert is_mobile_sam_layout(theirs)
    with torch.device("meta"):
        ours = build_sam_model(SamConfig(backend="mobile_sam", random_weights=True)).state_dict()
    encoder = {k: v.shape for k, v in ours.items() if k.startswith("image_encoder.")}
    assert {k: v.shape for k, v in from_mobile_sam(theirs).items()} == encoder


def test_bfloat16_and_float32_give_nearly_the_same_masks(tmp_path):
    image = scene(40, 60, 9)
    masks = []
    for bfloat16 in (False, True):
        engine = SamEngine(tiny_sam_config(tmp_path / str(bfloat16), bfloat16=bfloat16))
        result = engine.predict(engine.embed(image), POINT)
        masks.append(np.stack([result.mask(k) for k in range(len(result))]))
    assert (masks[0] == masks[1]).mean() > 0.95
