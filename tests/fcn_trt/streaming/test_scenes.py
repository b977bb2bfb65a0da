"""Procedural scenes: exact labels on simple geometry, determinism, video continuity."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("cv2")

from fcn_trt.errors import ConfigError  # noqa: E402
from fcn_trt.streaming import scenes  # noqa: E402
from fcn_trt.streaming.scenes import (  # noqa: E402
    BACKGROUND,
    FLOOR,
    MARKING,
    OBSTACLE,
    PERSON,
    Camera,
    Scene,
    SceneConfig,
    SceneObject,
)

FLOOR_BGR = (90, 90, 90)
BOX_BGR = (10, 200, 30)
SKY_BGR = (230, 180, 120)


def _pixel_rays(cam: Camera, h: int, w: int):
    """Independent float64 pinhole model (pixel centres at +0.5), pitch/yaw/roll = 0."""
    f = 0.5 * w / math.tan(math.radians(cam.hfov) / 2)
    u = np.arange(w) + 0.5
    v = np.arange(h) + 0.5
    x = (u - w / 2) / f
    y = (h / 2 - v) / f
    return f, x[None, :].repeat(h, 0), y[:, None].repeat(w, 1)


def test_ground_floor_marking_and_verge_match_analytic_geometry():
    cam = Camera(height=1.2, pitch=0.0, yaw=0.0, roll=0.0, hfov=90.0)
    line = {"type": "line", "s": 0.4, "w": 0.3, "period": 0.0, "duty": 1.0, "z0": 2.0, "z1": 30.0}
    scene = Scene.simple(camera=cam, markings=[line], road_half=2.0, floor_color=FLOOR_BGR)
    h, w = 96, 128
    frame = scene.render(cam, (h, w))
    _, x, y = _pixel_rays(cam, h, w)
    below = y < 0
    t = np.where(below, cam.height / np.where(below, -y, 1.0), np.inf)
    X, Z = t * x, t * 1.0
    expected = np.full((h, w), BACKGROUND, np.uint8)
    road = below & (np.abs(X) < 2.0)
    expected[road] = FLOOR
    mark = road & (np.abs(X - 0.4) < 0.15) & (Z >= 2.0) & (Z < 30.0)
    expected[mark] = MARKING
    # float32 rounding may flip pixels whose centre is within 1e-4 m of an edge: exclude only those
    edge = (np.abs(np.abs(X) - 2.0) < 1e-4) | (np.abs(np.abs(X - 0.4) - 0.15) < 1e-4) \
        | (np.abs(Z - 2.0) < 1e-4) | (np.abs(Z - 30.0) < 1e-4)
    assert (~edge).sum() > 0.99 * h * w
    np.testing.assert_array_equal(frame.labels[~edge], expected[~edge])
    assert {BACKGROUND, FLOOR, MARKING} <= set(np.unique(frame.labels).tolist())
    # image and labels come from the same geometry: each class has its flat colour, exactly
    np.testing.assert_array_equal(frame.image[frame.labels == FLOOR], np.broadcast_to(FLOOR_BGR, (int((frame.labels == FLOOR).sum()), 3)))
    np.testing.assert_array_equal(frame.image[frame.labels == MARKING][:, 0], 255)


def test_one_box_at_known_position_labels_its_projected_front_face():
    cam = Camera(height=1.0, pitch=0.0, yaw=0.0, roll=0.0, hfov=90.0)
    box = SceneObject("box", OBSTACLE, x=0.3, z=5.0, yaw=0.0, dims=(1.0, 1.0, 0.8), colors=(BOX_BGR,))
    scene = Scene.simple([box], cam, floor_color=FLOOR_BGR, sky_color=SKY_BGR)
    h, w = 120, 160
    frame = scene.render(cam, (h, w))
    f, x, y = _pixel_rays(cam, h, w)
    # front face: plane z = 4.5, x in [-0.2, 0.8], y in [0, 0.8] (camera at y = 1.0)
    d = 4.5
    u0, u1 = w / 2 + f * (-0.2) / d, w / 2 + f * 0.8 / d
    v0, v1 = h / 2 - f * (0.8 - 1.0) / d, h / 2 - f * (0.0 - 1.0) / d
    uc = np.arange(w) + 0.5
    vc = np.arange(h) + 0.5
    inside = ((vc[:, None] > v0 + 1) & (vc[:, None] < v1 - 1)) & ((uc[None, :] > u0 + 1) & (uc[None, :] < u1 - 1))
    # the top face (y = 0.8, below the camera) is visible too: it ends at z = 5.5, above the front face
    v_far = h / 2 - f * (0.8 - 1.0) / 5.5
    near = ((vc[:, None] > v_far - 1) & (vc[:, None] < v1 + 1)) & ((uc[None, :] > u0 - 1) & (uc[None, :] < u1 + 1))
    label_box = frame.labels == OBSTACLE
    assert label_box[inside].all(), "pixels well inside the projected box must be labelled obstacle"
    assert not label_box[~near].any(), "no obstacle label farther than one pixel from the projected box"
    # side faces point away from the camera (it stands between them); the label mask is exactly
    # where the image shows the box's colour
    np.testing.assert_array_equal(label_box, (frame.image == BOX_BGR).all(axis=2))
    # the box covers the floor behind it: no floor pixels inside the face
    assert not (frame.labels[inside] == FLOOR).any()


def test_person_and_cone_labels_equal_their_drawn_pixels():
    cam = Camera(height=1.5, pitch=0.1, hfov=70.0)
    colors = ((0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 0, 255))
    person = SceneObject("person", PERSON, x=-0.5, z=6.0, yaw=0.3, dims=(1.8, 1.0), colors=colors, pose=0.5)
    cone = SceneObject("cone", OBSTACLE, x=1.0, z=4.0, dims=(0.25, 0.7), colors=((0, 128, 255), (0, 128, 255)))
    scene = Scene.simple([person, cone], cam, floor_color=FLOOR_BGR, sky_color=SKY_BGR)
    frame = scene.render(cam, (120, 160))
    person_px = (frame.labels == PERSON)
    assert person_px.sum() > 100 and (frame.labels == OBSTACLE).sum() > 50
    drawn_person = np.zeros_like(person_px)
    for c in colors + ((0, 0, 235),):  # (sleeves are the shirt colour x 0.92)
        drawn_person |= (frame.image == np.array(c)).all(axis=2)
    np.testing.assert_array_equal(person_px, drawn_person)
    np.testing.assert_array_equal(frame.labels == OBSTACLE, (frame.image == (0, 128, 255)).all(axis=2))


def test_objects_behind_camera_are_culled_consistently():
    cam = Camera(height=1.0, pitch=0.0, hfov=90.0)
    behind = SceneObject("box", OBSTACLE, x=0.0, z=-3.0, dims=(1.0, 1.0, 1.0), colors=(BOX_BGR,))
    straddling = SceneObject("box", OBSTACLE, x=0.0, z=0.1, dims=(1.0, 1.0, 1.0), colors=(BOX_BGR,))
    frame = Scene.simple([behind, straddling], cam).render(cam, (60, 80))
    assert not (frame.labels == OBSTACLE).any()
    assert not (frame.image == BOX_BGR).all(axis=2).any()


def test_generate_frame_is_deterministic_per_seed():
    a = scenes.generate_frame(11, (60, 80))
    b = scenes.generate_frame(11, (60, 80))
    c = scenes.generate_frame(12, (60, 80))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.image, c.image)


def test_random_frames_cover_every_class_with_valid_ids():
    seen = set()
    for seed in range(8):
        f = scenes.generate_frame(seed, (120, 160))
        assert f.image.dtype == np.uint8 and f.image.shape == (120, 160, 3)
        assert f.labels.dtype == np.uint8 and f.labels.shape == (120, 160)
        assert int(f.labels.max()) < scenes.NUM_CLASSES
        seen |= set(np.unique(f.labels).tolist())
    assert seen == set(range(scenes.NUM_CLASSES))


def test_any_resolution_renders_the_same_scene():
    scene = Scene.random(5)
    cam = scene.camera_at(0.0)
    small = scene.render(cam, (60, 80)).labels
    large = scene.render(cam, (240, 320)).labels
    down = large[1::4, 1::4]  # pixel centres of the small grid lie near these
    assert (down == small).mean() > 0.9


def test_clip_moves_smoothly_and_matches_scene_renders():
    frames = list(scenes.generate_clip(21, 6, (72, 96), speed=1.5, fps=15.0))
    assert [f.index for f in frames] == list(range(6))
    zs = [f.camera.z for f in frames]
    np.testing.assert_allclose(np.diff(zs), 0.1, atol=1e-9)
    for a, b in zip(frames, frames[1:]):
        changed = (a.labels != b.labels).mean()
        assert changed < 0.1, "consecutive frames should differ only a little (%.3f)" % changed
        assert abs(a.camera.yaw - b.camera.yaw) < 0.02
    far = list(scenes.generate_clip(21, 60, (72, 96), speed=1.5, fps=15.0))
    assert (far[0].labels != far[-1].labels).mean() > (frames[0].labels != frames[1].labels).mean()
    again = list(scenes.generate_clip(21, 6, (72, 96), speed=1.5, fps=15.0))
    np.testing.assert_array_equal(again[4].labels, frames[4].labels)
    np.testing.assert_array_equal(again[4].image, frames[4].image)


def test_scene_config_and_sizes_are_validated():
    with pytest.raises(ConfigError):
        SceneConfig(people=(3, 1))
    with pytest.raises(ConfigError):
        SceneConfig(indoor_probability=2.0)
    with pytest.raises(ConfigError):
        scenes.generate_frame(0, (4, 4))
    with pytest.raises(ConfigError):
        next(scenes.generate_clip(0, 0))


def test_config_switches_remove_people_and_effects():
    cfg = SceneConfig(people=(0, 0), obstacles=(0, 0), effects=False, textures=False, shadows=False)
    f = scenes.generate_frame(3, (60, 80), cfg)
    assert not np.isin(f.labels, [OBSTACLE, PERSON]).any()


def test_colorize_labels_uses_palette_rgb_as_bgr():
    img = scenes.colorize_labels(np.array([[FLOOR, 255]], np.uint8))
    assert img[0, 0].tolist() == list(scenes.PALETTE[FLOOR][::-1])
    assert img[0, 1].tolist() == [255, 255, 255]
