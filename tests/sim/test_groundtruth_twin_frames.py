"""Class masks of the twin's own workflow frames: needle and carried lamella."""

from liftout_helpers import pick_up
from twin_helpers import make_world

from fibsem_ophyd.sim.groundtruth import CLASS_INDEX
from fibsem_ophyd.sim.groundtruth.twin_frames import frame_class_mask


def test_needle_and_carried_lamella_are_labelled_where_they_are_drawn() -> None:
    world = make_world()
    name = world.specimen.sites[0].name
    pick_up(world, name)
    m = world.manipulator
    m.x_m, m.y_m, m.z_m = 0.0, 0.0, 20e-6  # into the (shuttle-centre) view
    world.electron.hfw_m = 100e-6
    mask = frame_class_mask(world, "electron")
    image = world.render("electron").astype(float)
    needle = mask == CLASS_INDEX["manipulator"]
    lamella = mask == CLASS_INDEX["lamella"]
    assert needle.sum() > 500 and lamella.sum() > 50
    background = mask == CLASS_INDEX["background"]
    # both are drawn bright (tungsten, the lifted slab) over the darker specimen
    assert image[needle].mean() > image[background].mean() + 40
    assert image[lamella].mean() > image[background].mean() + 40
