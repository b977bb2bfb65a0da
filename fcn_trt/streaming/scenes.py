"""Procedural robot/vehicle-eye-view scenes with pixel-exact segmentation labels.

Each scene is a small 3D world: a perspective ground plane (a road with kerbs and verges
outdoors, a textured floor between walls indoors), lane or floor markings painted on it, obstacles
(boxes, cones, barrels), people, and background structures (buildings, trees, walls, sky). A
pinhole camera renders it at any resolution. The label map and the image are drawn from the *same*
geometry at the output resolution (per-pixel ray casting for the ground, identical OpenCV polygon
fills for objects); blur, noise and lighting effects are applied to the image only, so the labels
are exact.

Classes (:data:`CLASS_NAMES`): 0 background (sky, walls, buildings, verges), 1 floor (drivable
road or floor), 2 marking (lane/floor markings), 3 obstacle (boxes, cones, barrels), 4 person.
Colours are random per scene, so colour alone never gives the class.

Needs numpy and OpenCV (imported lazily). Example:
    >>> frame = generate_frame(seed=3, size=(240, 320))
    >>> frame.image.shape, frame.labels.shape, frame.image.dtype
    ((240, 320, 3), (240, 320), dtype('uint8'))
    >>> clip = list(generate_clip(seed=7, num_frames=3, size=(120, 160)))
    >>> [f.index for f in clip]
    [0, 1, 2]
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import BackendUnavailableError, ConfigError

__all__ = [
    "CLASS_NAMES",
    "PALETTE",
    "NUM_CLASSES",
    "BACKGROUND",
    "FLOOR",
    "MARKING",
    "OBSTACLE",
    "PERSON",
    "Camera",
    "SceneConfig",
    "SceneFrame",
    "SceneObject",
    "Scene",
    "generate_frame",
    "generate_clip",
    "colorize_labels",
]

CLASS_NAMES: Tuple[str, ...] = ("background", "floor", "marking", "obstacle", "person")
#: RGB colour of each class (for overlays and VOC palette PNGs).
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (0, 0, 0),
    (128, 64, 128),
    (250, 230, 40),
    (0, 150, 255),
    (220, 20, 60),
)
NUM_CLASSES = len(CLASS_NAMES)
BACKGROUND, FLOOR, MARKING, OBSTACLE, PERSON = range(NUM_CLASSES)

_NEAR = 0.25  # metres: objects with any point closer than this to the camera plane are culled
_SHIFT = 4  # sub-pixel bits for OpenCV polygon fills
_ONE = 1 << _SHIFT


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise BackendUnavailableError(
            "fcn_trt.scenes needs OpenCV",
            expected="the cv2 module",
            found="it is not installed",
            hint="pip install 'fcn-trt[cv]' (opencv-python-headless)",
        ) from None
    return cv2


# ------------------------------------------------------------------------------------------------
# configuration and results
# ------------------------------------------------------------------------------------------------
def _check_range(name: str, value: Tuple[float, float], lo: float, hi: float) -> None:
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and lo <= value[0] <= value[1] <= hi
    )
    if not ok:
        raise ConfigError(
            "SceneConfig.%s" % name,
            expected="a (min, max) pair with %g <= min <= max <= %g" % (lo, hi),
            found=repr(value),
        )


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    """Knobs of the random scene distribution (the defaults are what the demo model saw).

    Example:
        >>> SceneConfig(indoor_probability=1.0, people=(0, 0)).people
        (0, 0)
    """

    indoor_probability: float = 0.5
    obstacles: Tuple[int, int] = (2, 9)
    people: Tuple[int, int] = (0, 4)
    camera_height: Tuple[float, float] = (0.4, 1.8)
    pitch_deg: Tuple[float, float] = (-3.0, 18.0)
    roll_deg: Tuple[float, float] = (-4.0, 4.0)
    hfov_deg: Tuple[float, float] = (55.0, 95.0)
    blur_sigma: Tuple[float, float] = (0.0, 1.2)
    noise_sigma: Tuple[float, float] = (0.0, 8.0)
    shadows: bool = True
    textures: bool = True
    effects: bool = True

    def __post_init__(self) -> None:
        p = self.indoor_probability
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ConfigError("SceneConfig.indoor_probability", expected="a number in [0, 1]", found=repr(p))
        _check_range("obstacles", self.obstacles, 0, 100)
        _check_range("people", self.people, 0, 100)
        _check_range("camera_height", self.camera_height, 0.05, 20.0)
        _check_range("pitch_deg", self.pitch_deg, -45.0, 80.0)
        _check_range("roll_deg", self.roll_deg, -45.0, 45.0)
        _check_range("hfov_deg", self.hfov_deg, 10.0, 150.0)
        _check_range("blur_sigma", self.blur_sigma, 0.0, 10.0)
        _check_range("noise_sigma", self.noise_sigma, 0.0, 100.0)


@dataclasses.dataclass(frozen=True)
class Camera:
    """A pinhole camera: position ``(x, height, z)`` in metres (X right, Y up, Z forward), yaw
    (radians, positive turns right), pitch (radians, positive looks down), roll (radians) and
    horizontal field of view (degrees). The principal point is the image centre.

    Example:
        >>> cam = Camera(height=1.0, pitch=0.0, hfov=90.0)
        >>> uv, depth = cam.project(np.array([[0.0, 0.0, 2.0]]), (200, 200))
        >>> uv.round(3).tolist(), depth.tolist()
        ([[100.0, 150.0]], [2.0])
    """

    x: float = 0.0
    z: float = 0.0
    height: float = 1.0
    yaw: float = 0.0
    pitch: float = 0.1
    roll: float = 0.0
    hfov: float = 70.0

    def __post_init__(self) -> None:
        if not 1.0 <= float(self.hfov) <= 170.0:
            raise ConfigError("Camera.hfov", expected="degrees in [1, 170]", found=repr(self.hfov))
        if not float(self.height) > 0.0:
            raise ConfigError("Camera.height", expected="a positive height in metres", found=repr(self.height))

    def focal(self, width: int) -> float:
        """Focal length in pixels for an image ``width`` pixels wide."""
        return 0.5 * width / math.tan(math.radians(self.hfov) * 0.5)

    def rotation(self) -> np.ndarray:
        """3x3 camera-to-world rotation (camera axes x right, y up, z forward)."""
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        cr, sr = math.cos(self.roll), math.sin(self.roll)
        r_yaw = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
        r_pitch = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
        r_roll = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
        return r_yaw @ r_pitch @ r_roll

    @property
    def position(self) -> np.ndarray:
        return np.array([self.x, self.height, self.z])

    def project(self, points: np.ndarray, size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
        """Project world points ``[N,3]`` to pixel coordinates ``[N,2]`` (u right, v down; pixel
        centres at +0.5) and camera depths ``[N]``."""
        h, w = size
        f = self.focal(w)
        pc = (np.asarray(points, dtype=np.float64) - self.position) @ self.rotation()
        depth = pc[:, 2]
        safe = np.where(np.abs(depth) < 1e-9, 1e-9, depth)
        u = 0.5 * w + f * pc[:, 0] / safe
        v = 0.5 * h - f * pc[:, 1] / safe
        return np.stack([u, v], axis=1), depth


@dataclasses.dataclass(frozen=True)
class SceneFrame:
    """One rendered frame: ``image`` BGR uint8 ``[H,W,3]``, ``labels`` uint8 ``[H,W]`` (class ids,
    see :data:`CLASS_NAMES`), the camera it was rendered from, and its index in a clip."""

    image: np.ndarray
    labels: np.ndarray
    camera: Camera
    index: int = 0


@dataclasses.dataclass(frozen=True)
class SceneObject:
    """A solid in the scene.

    ``kind`` is ``"box"`` (``dims`` = width, depth, height), ``"cone"`` (radius, height),
    ``"barrel"`` (radius, height), ``"person"`` (height, build) or ``"tree"`` (trunk radius,
    height); ``label`` is its class id; ``colors`` are BGR triples in 0..255.
    """

    kind: str
    label: int
    x: float
    z: float
    yaw: float = 0.0
    dims: Tuple[float, ...] = (1.0, 1.0, 1.0)
    colors: Tuple[Tuple[float, float, float], ...] = ((128.0, 128.0, 128.0),)
    pose: float = 0.0


# ------------------------------------------------------------------------------------------------
# textures
# ------------------------------------------------------------------------------------------------
def _periodic_noise(rng: np.random.Generator, n: int, beta: float, kmin: float = 1.0) -> np.ndarray:
    """Tileable fractal noise ``[n,n]`` float32 with zero mean and unit std (1/f^beta spectrum)."""
    k = np.fft.fftfreq(n) * n
    kk = np.sqrt(k[:, None] ** 2 + k[None, :] ** 2)
    amp = np.where(kk >= kmin, np.maximum(kk, 1.0) ** (-beta), 0.0)
    phase = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    img = np.fft.ifft2(amp * phase).real
    std = img.std()
    return ((img - img.mean()) / (std if std > 0 else 1.0)).astype(np.float32)


def _ground_texture(rng: np.random.Generator, kind: str, n: int = 128) -> np.ndarray:
    """A tileable luminance-modulation texture ``[n,n]`` (around 1.0) for floors and verges."""
    u = (np.arange(n) + 0.5) / n
    if kind == "asphalt":
        t = 0.10 * _periodic_noise(rng, n, 1.6, 2) + 0.06 * _periodic_noise(rng, n, 0.2, 8)
    elif kind == "tiles":
        m = int(rng.integers(2, 7))
        grout = float(rng.uniform(0.03, 0.08))
        fu = (u * m) % 1.0
        lines = (np.minimum(fu, 1 - fu)[:, None] < grout) | (np.minimum(fu, 1 - fu)[None, :] < grout)
        tile_var = rng.uniform(-0.08, 0.08, (m, m))
        idx = (u * m).astype(int)
        t = tile_var[idx[:, None], idx[None, :]] + 0.04 * _periodic_noise(rng, n, 1.2, 2)
        t = np.where(lines, -float(rng.uniform(0.12, 0.3)), t)
    elif kind == "planks":
        m = int(rng.integers(4, 12))
        idx = (u * m).astype(int)
        plank = rng.uniform(-0.12, 0.12, m)
        t = plank[None, idx] + 0.05 * _periodic_noise(rng, n, 1.0, 3)
        grain = 0.05 * np.sin(2 * np.pi * (u[:, None] * 3 + 0.3 * _periodic_noise(rng, n, 2.0, 1)))
        t = t + grain
        fu = (u * m) % 1.0
        t = np.where(np.minimum(fu, 1 - fu)[None, :] < 0.03, t - 0.2, t)
    elif kind == "grass":
        t = 0.18 * _periodic_noise(rng, n, 0.4, 6) + 0.12 * _periodic_noise(rng, n, 1.5, 1)
    elif kind == "gravel":
        t = 0.22 * _periodic_noise(rng, n, 0.0, 10) + 0.08 * _periodic_noise(rng, n, 1.5, 1)
    else:  # concrete
        t = 0.08 * _periodic_noise(rng, n, 1.8, 1) + 0.03 * _periodic_noise(rng, n, 0.3, 8)
        if rng.random() < 0.6:
            t = np.where((u[:, None] % 1.0) < 0.012, t - 0.15, t)
            t = np.where((u[None, :] % 1.0) < 0.012, t - 0.15, t)
    return np.clip(1.0 + t, 0.3, 1.7).astype(np.float32)


def _random_color(
    rng: np.random.Generator,
    sat: Tuple[float, float] = (0.0, 0.8),
    val: Tuple[float, float] = (0.15, 0.95),
) -> np.ndarray:
    """A random BGR colour (float 0..255) from HSV ranges."""
    h = rng.uniform(0.0, 6.0)
    s = rng.uniform(*sat)
    v = rng.uniform(*val) * 255.0
    i = int(h) % 6
    f = h - int(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb[::-1], dtype=np.float32)


def _luma(c: np.ndarray) -> float:
    return float(0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2])


def _contrasting_color(rng: np.random.Generator, ref: np.ndarray, min_diff: float = 60.0) -> np.ndarray:
    """A random colour whose luminance differs from ``ref`` by at least ``min_diff``."""
    for _ in range(20):
        c = _random_color(rng, (0.0, 0.9), (0.1, 1.0))
        if abs(_luma(c) - _luma(ref)) >= min_diff:
            return c
    return np.full(3, 255.0 if _luma(ref) < 128 else 20.0, dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# the scene
# ------------------------------------------------------------------------------------------------
class Scene:
    """A random 3D scene that renders from any :class:`Camera` at any resolution.

    Build one with :meth:`Scene.random`; render with :meth:`render`; walk through it with
    :meth:`camera_at` (smooth camera path used by :func:`generate_clip`).

    Example:
        >>> scene = Scene.random(seed=1, path_length=10.0)
        >>> a = scene.render(scene.camera_at(0.0), (60, 80))
        >>> b = scene.render(scene.camera_at(0.0), (60, 80))
        >>> bool((a.labels == b.labels).all() and (a.image == b.image).all())
        True
    """

    def __init__(
        self,
        indoor: bool,
        ground: Dict[str, Any],
        objects: Sequence[SceneObject],
        camera: Camera,
        path: Dict[str, float],
        looks: Dict[str, Any],
        effects: Dict[str, Any],
    ) -> None:
        self.indoor = bool(indoor)
        self.ground = ground
        self.objects = list(objects)
        self.camera = camera
        self.path = path
        self.looks = looks
        self.effects = effects
        self._cache: Dict[int, Dict[str, Any]] = {}

    # --------------------------------------------------------------------------------------------
    @classmethod
    def random(cls, seed: int, config: Optional[SceneConfig] = None, path_length: float = 0.0) -> "Scene":
        """A random scene; ``path_length`` metres of camera travel are kept free of objects."""
        cfg = config or SceneConfig()
        rng = np.random.default_rng(int(seed))
        indoor = bool(rng.random() < cfg.indoor_probability)
        cam = Camera(
            x=0.0,
            z=0.0,
            height=float(rng.uniform(*cfg.camera_height)),
            yaw=float(rng.uniform(-0.12, 0.12)),
            pitch=math.radians(float(rng.uniform(*cfg.pitch_deg))),
            roll=math.radians(float(rng.uniform(*cfg.roll_deg))),
            hfov=float(rng.uniform(*cfg.hfov_deg)),
        )
        g: Dict[str, Any] = {}
        if indoor:
            width = float(rng.uniform(3.0, 24.0))
            xl = -width * float(rng.uniform(0.25, 0.75))
            g.update(
                xl=xl, xr=xl + width, z_begin=-6.0,
                z_end=path_length + float(rng.uniform(6.0, 60.0)),
                ceiling=max(float(rng.uniform(2.5, 7.0)), cam.height + 0.5),
                curve_amp=0.0, curve_len=1.0, curve_phase=0.0,
                road_half=width,  # whole floor is drivable
            )
            floor_kind = str(rng.choice(["tiles", "planks", "concrete", "asphalt"]))
        else:
            half = float(rng.uniform(2.5, 7.0))
            g.update(
                curve_amp=float(rng.uniform(0.0, 5.0)) if rng.random() < 0.6 else 0.0,
                curve_len=float(rng.uniform(15.0, 60.0)),
                curve_phase=float(rng.uniform(0, 2 * math.pi)),
                road_half=half,
                kerb=float(rng.uniform(0.1, 0.3)) if rng.random() < 0.7 else 0.0,
            )
            floor_kind = str(rng.choice(["asphalt", "asphalt", "concrete", "gravel", "tiles"]))
            cam = dataclasses.replace(cam, x=float(rng.uniform(-0.7, 0.7)) * half)
        g["floor_kind"] = floor_kind
        textures = cfg.textures
        g["floor_tex"] = _ground_texture(rng, floor_kind) if textures else None
        g["floor_tex_scale"] = float(rng.uniform(1.0, 6.0))
        g["floor_color"] = _random_color(rng, (0.0, 0.6), (0.15, 0.85))
        off_kind = str(rng.choice(["grass", "gravel", "tiles", "concrete"]))
        g["off_tex"] = _ground_texture(rng, off_kind) if textures else None
        g["off_tex_scale"] = float(rng.uniform(1.0, 5.0))
        g["off_color"] = _random_color(rng, (0.0, 0.8), (0.15, 0.85))
        if abs(_luma(g["off_color"]) - _luma(g["floor_color"])) < 25:
            g["off_color"] = _contrasting_color(rng, g["floor_color"], 25.0)
        g["kerb_color"] = _random_color(rng, (0.0, 0.3), (0.4, 1.0))
        g["markings"] = cls._random_markings(rng, indoor, g, path_length)
        g["mark_color"] = _contrasting_color(rng, g["floor_color"], 55.0)
        g["mark_wear"] = float(rng.uniform(0.0, 0.25))
        g["mark_tex"] = _periodic_noise(rng, 64, 0.8, 2) if textures else None

        looks: Dict[str, Any] = {
            "wall_color": _random_color(rng, (0.0, 0.7), (0.25, 0.95)),
            "wall_color2": _random_color(rng, (0.0, 0.7), (0.1, 0.9)),
            "ceiling_color": _random_color(rng, (0.0, 0.2), (0.5, 1.0)),
            "panel": float(rng.uniform(1.0, 4.0)),
            "baseboard": float(rng.uniform(0.0, 0.25)),
            "sky_zenith": _random_color(rng, (0.2, 0.8), (0.4, 1.0)),
            "sky_horizon": _random_color(rng, (0.0, 0.4), (0.6, 1.0)),
            "haze": float(rng.uniform(25.0, 150.0)),
            "clouds": _periodic_noise(rng, 64, 1.8, 1) if textures else None,
            "cloud_amount": float(rng.uniform(0.0, 0.35)),
            "wall_tex": _periodic_noise(rng, 64, 1.2, 1) if textures else None,
        }
        az = rng.uniform(0, 2 * math.pi)
        el = math.radians(float(rng.uniform(25.0, 70.0)))
        light = np.array([math.cos(el) * math.sin(az), -math.sin(el), math.cos(el) * math.cos(az)])
        looks["light"] = light
        looks["ambient"] = float(rng.uniform(0.45, 0.7))
        looks["shadow"] = float(rng.uniform(0.25, 0.6)) if cfg.shadows else 0.0
        looks["shadow_blur"] = float(rng.uniform(0.5, 2.5)) if indoor else float(rng.uniform(0.0, 1.0))

        path = {"length": float(path_length), "offset": cam.x, "sway": float(rng.uniform(0.0, 0.4)),
                "sway_period": float(rng.uniform(8.0, 20.0)), "yaw_wobble": float(rng.uniform(0.0, 0.05)),
                "bob": float(rng.uniform(0.0, 0.02))}
        scene = cls(indoor, g, [], cam, path, looks, {})
        scene.objects = scene._random_objects(rng, cfg, path_length)
        scene.effects = cls._random_effects(rng, cfg)
        return scene

    @classmethod
    def simple(
        cls,
        objects: Sequence[SceneObject] = (),
        camera: Optional[Camera] = None,
        markings: Sequence[Dict[str, Any]] = (),
        road_half: float = 1e6,
        floor_color: Tuple[float, float, float] = (90.0, 90.0, 90.0),
        off_color: Tuple[float, float, float] = (40.0, 120.0, 40.0),
        mark_color: Tuple[float, float, float] = (255.0, 255.0, 255.0),
        sky_color: Tuple[float, float, float] = (230.0, 180.0, 120.0),
    ) -> "Scene":
        """A flat-shaded outdoor scene without textures, shadows, haze or camera effects, for tests
        and documentation: every pixel of a class has one exact colour.

        ``markings`` are dicts in road coordinates, e.g. ``{"type": "line", "s": 0.0, "w": 0.2,
        "period": 0.0, "duty": 1.0, "z0": 0.0, "z1": 100.0}`` (types: line, zebra, line_x, hatch,
        frame).

        Example:
            >>> box = SceneObject("box", OBSTACLE, x=0.0, z=5.0, dims=(1.0, 1.0, 1.0))
            >>> f = Scene.simple([box], Camera(height=1.0, pitch=0.0, hfov=90.0)).render(
            ...     Camera(height=1.0, pitch=0.0, hfov=90.0), (100, 100))
            >>> int((f.labels == OBSTACLE).sum()) > 0
            True
        """
        cam = camera or Camera()
        g: Dict[str, Any] = {
            "curve_amp": 0.0, "curve_len": 1.0, "curve_phase": 0.0, "road_half": float(road_half), "kerb": 0.0,
            "floor_kind": "flat", "floor_tex": None, "floor_tex_scale": 1.0,
            "floor_color": np.asarray(floor_color, np.float32), "off_tex": None, "off_tex_scale": 1.0,
            "off_color": np.asarray(off_color, np.float32), "kerb_color": np.asarray(off_color, np.float32),
            "markings": [dict(m) for m in markings], "mark_color": np.asarray(mark_color, np.float32),
            "mark_wear": 0.0, "mark_tex": None,
        }
        sky = np.asarray(sky_color, np.float32)
        looks: Dict[str, Any] = {
            "sky_zenith": sky, "sky_horizon": sky, "haze": 1e30, "clouds": None, "cloud_amount": 0.0,
            "light": np.array([0.0, -1.0, 0.0]), "ambient": 1.0, "shadow": 0.0, "shadow_blur": 0.0,
            "wall_color": sky, "wall_color2": sky, "ceiling_color": sky, "panel": 1.0, "baseboard": 0.0,
            "wall_tex": None,
        }
        path = {"length": 0.0, "offset": cam.x, "sway": 0.0, "sway_period": 10.0, "yaw_wobble": 0.0, "bob": 0.0}
        return cls(False, g, list(objects), cam, path, looks, {"enabled": False})

    # --------------------------------------------------------------------------------------------
    @staticmethod
    def _random_markings(rng: np.random.Generator, indoor: bool, g: Dict[str, Any], length: float) -> List[Dict[str, Any]]:
        """Markings in road coordinates (s = lateral offset from the road centre line, z)."""
        marks: List[Dict[str, Any]] = []
        z0, z1 = -5.0, length + 80.0
        if indoor:
            xl, xr = g["xl"], g["xr"]
            n_lines = int(rng.integers(0, 4))
            for _ in range(n_lines):
                s = float(rng.uniform(xl + 0.3, xr - 0.3))
                marks.append({"type": "line", "s": s, "w": float(rng.uniform(0.06, 0.2)),
                              "period": float(rng.uniform(1.0, 4.0)) if rng.random() < 0.35 else 0.0,
                              "duty": float(rng.uniform(0.4, 0.8)), "z0": z0, "z1": z1})
            for _ in range(int(rng.integers(0, 5))):
                w = float(rng.uniform(0.6, 3.0))
                d = float(rng.uniform(0.6, 4.0))
                s = float(rng.uniform(xl, xr - w))
                z = float(rng.uniform(1.0, length + 25.0))
                marks.append({"type": "hatch" if rng.random() < 0.5 else "frame", "s0": s, "s1": s + w,
                              "z0": z, "z1": z + d, "w": float(rng.uniform(0.08, 0.2)),
                              "period": float(rng.uniform(0.3, 0.8))})
        else:
            half = g["road_half"]
            if rng.random() < 0.75:
                inset = float(rng.uniform(0.1, 0.5))
                w = float(rng.uniform(0.1, 0.3))
                for side in (-1.0, 1.0):
                    marks.append({"type": "line", "s": side * (half - inset - w / 2), "w": w,
                                  "period": 0.0, "duty": 1.0, "z0": z0, "z1": z1})
            n_lanes = int(rng.integers(1, 4)) if half > 3.5 else 1
            if rng.random() < 0.85:
                lane = 2 * half / max(n_lanes, 2)
                centres = [-half + lane * i for i in range(1, max(n_lanes, 2))]
                for c in centres:
                    dashed = rng.random() < 0.7
                    marks.append({"type": "line", "s": c, "w": float(rng.uniform(0.12, 0.3)),
                                  "period": float(rng.uniform(3.0, 12.0)) if dashed else 0.0,
                                  "duty": float(rng.uniform(0.3, 0.6)), "z0": z0, "z1": z1})
            for _ in range(int(rng.integers(0, 3))):
                z = float(rng.uniform(3.0, length + 40.0))
                if rng.random() < 0.6:
                    marks.append({"type": "zebra", "s0": -half, "s1": half, "z0": z,
                                  "z1": z + float(rng.uniform(2.5, 5.0)), "period": float(rng.uniform(0.8, 1.4))})
                else:
                    marks.append({"type": "line_x", "s0": -half, "s1": half, "z0": z,
                                  "z1": z + float(rng.uniform(0.3, 0.6))})
        return marks

    def _road_centre(self, z: np.ndarray) -> np.ndarray:
        g = self.ground
        a, L, ph = g["curve_amp"], g["curve_len"], g["curve_phase"]
        if a == 0.0:
            return np.zeros_like(z)
        return a * (np.sin(z / L + ph) - math.sin(ph))

    def _road_heading(self, z: float) -> float:
        g = self.ground
        a, L, ph = g["curve_amp"], g["curve_len"], g["curve_phase"]
        return math.atan(a / L * math.cos(z / L + ph)) if a else 0.0

    def _random_objects(self, rng: np.random.Generator, cfg: SceneConfig, length: float) -> List[SceneObject]:
        g = self.ground
        cam = self.camera
        objs: List[SceneObject] = []
        tan_half = math.tan(math.radians(cam.hfov) * 0.5)

        def free_of_path(s: float, z: float, r: float) -> bool:
            if length <= 0.0 or z > length + 3.0:
                return True
            return abs(s - self.path["offset"]) > r + 0.9

        def place(r: float, on_floor: bool) -> Optional[Tuple[float, float]]:
            for _ in range(30):
                z = cam.z + 1.2 + float(rng.random() ** 1.6) * (length + 28.0)
                spread = (z - cam.z) * tan_half * 1.15 + 1.0
                if self.indoor:
                    s = float(rng.uniform(max(g["xl"] + r, -spread + cam.x), min(g["xr"] - r, spread + cam.x))) \
                        if max(g["xl"] + r, -spread + cam.x) < min(g["xr"] - r, spread + cam.x) else None
                    if s is None:
                        continue
                else:
                    half = g["road_half"]
                    if on_floor:
                        s = float(rng.uniform(-half + r, half - r))
                    else:
                        s = float(rng.uniform(-half - 6.0, half + 6.0))
                    if length <= 0.0 and abs(s - cam.x) > spread:
                        continue
                if not free_of_path(s, z, r):
                    continue
                x = s + float(self._road_centre(np.array([z]))[0])
                if any((o.x - x) ** 2 + (o.z - z) ** 2 < (r + 0.4) ** 2 for o in objs if o.kind != "tree"):
                    continue
                return x, z
            return None

        scale = 1.0 + length / 25.0
        n_obst = int(round(rng.integers(cfg.obstacles[0], cfg.obstacles[1] + 1) * scale))
        for _ in range(n_obst):
            kind = str(rng.choice(["box", "box", "cone", "barrel"]))
            col = _random_color(rng, (0.0, 1.0), (0.15, 1.0))
            if kind == "box":
                w, d, h = (float(rng.uniform(0.3, 1.4)) for _ in range(3))
                dims: Tuple[float, ...] = (w, d, h)
                r = 0.5 * math.hypot(w, d)
                cols = (tuple(col), tuple(_random_color(rng)))
            elif kind == "cone":
                dims = (float(rng.uniform(0.12, 0.3)), float(rng.uniform(0.35, 1.0)))
                r = dims[0]
                cols = (tuple(col), tuple(_contrasting_color(rng, col, 50.0)))
            else:
                dims = (float(rng.uniform(0.2, 0.45)), float(rng.uniform(0.5, 1.3)))
                r = dims[0]
                cols = (tuple(col), tuple(_contrasting_color(rng, col, 40.0)))
            pos = place(r, on_floor=rng.random() < 0.8)
            if pos is not None:
                objs.append(SceneObject(kind, OBSTACLE, pos[0], pos[1], float(rng.uniform(0, math.pi)),
                                        dims, cols))  # type: ignore[arg-type]
        n_people = int(round(rng.integers(cfg.people[0], cfg.people[1] + 1) * scale))
        for _ in range(n_people):
            height = float(rng.uniform(1.45, 1.95))
            build = float(rng.uniform(0.85, 1.2))
            skin = _random_color(rng, (0.2, 0.6), (0.25, 0.95))
            cols = (tuple(_random_color(rng)), tuple(_random_color(rng)), tuple(skin),  # type: ignore[assignment]
                    tuple(_random_color(rng, (0.0, 0.5), (0.05, 0.6))))
            pos = place(0.35, on_floor=rng.random() < 0.6)
            if pos is not None:
                objs.append(SceneObject("person", PERSON, pos[0], pos[1], float(rng.uniform(0, 2 * math.pi)),
                                        (height, build), cols, float(rng.uniform(-1.0, 1.0))))  # type: ignore[arg-type]
        if not self.indoor:
            half = g["road_half"]
            z = -10.0
            for side in (-1.0, 1.0):
                z = float(rng.uniform(-10.0, 5.0))
                setback = half + float(rng.uniform(3.0, 12.0))
                while z < length + 120.0:
                    w, d, h = float(rng.uniform(4, 12)), float(rng.uniform(5, 20)), float(rng.uniform(3, 25))
                    if rng.random() < 0.75:
                        x = side * (setback + w / 2) + float(self._road_centre(np.array([z + d / 2]))[0])
                        objs.append(SceneObject("box", BACKGROUND, x, z + d / 2, 0.0, (w, d, h),
                                                (tuple(_random_color(rng, (0.0, 0.5), (0.2, 0.9))),
                                                 tuple(_random_color(rng)))))  # type: ignore[arg-type]
                    z += d + float(rng.uniform(0.0, 8.0))
            for _ in range(int(rng.integers(0, 8) * scale)):
                s = float(rng.choice([-1.0, 1.0])) * (half + float(rng.uniform(1.0, 8.0)))
                z = float(rng.uniform(0.0, length + 60.0))
                x = s + float(self._road_centre(np.array([z]))[0])
                objs.append(SceneObject("tree", BACKGROUND, x, z, 0.0,
                                        (float(rng.uniform(0.08, 0.25)), float(rng.uniform(3.0, 9.0))),
                                        (tuple(_random_color(rng, (0.2, 0.6), (0.1, 0.4))),
                                         tuple(_random_color(rng, (0.3, 0.9), (0.15, 0.7))))))  # type: ignore[arg-type]
        return objs

    @staticmethod
    def _random_effects(rng: np.random.Generator, cfg: SceneConfig) -> Dict[str, Any]:
        if not cfg.effects:
            return {"enabled": False}
        return {
            "enabled": True,
            "gain": float(rng.uniform(0.7, 1.25)),
            "cast": rng.uniform(0.9, 1.1, 3).astype(np.float32),
            "grad": (float(rng.uniform(-0.35, 0.35)), float(rng.uniform(-0.35, 0.35))),
            "vignette": float(rng.uniform(0.0, 0.35)),
            "blur": float(rng.uniform(*cfg.blur_sigma)) if rng.random() < 0.7 else 0.0,
            "noise": float(rng.uniform(*cfg.noise_sigma)),
        }

    # --------------------------------------------------------------------------------------------
    def camera_at(self, distance: float) -> Camera:
        """The camera after travelling ``distance`` metres along the scene's smooth path."""
        p = self.path
        z = self.camera.z + float(distance)
        sway = p["sway"] * math.sin(2 * math.pi * distance / p["sway_period"])
        x = float(self._road_centre(np.array([z]))[0]) + p["offset"] + sway
        dsway = p["sway"] * 2 * math.pi / p["sway_period"] * math.cos(2 * math.pi * distance / p["sway_period"])
        yaw = self.camera.yaw * 0.3 + self._road_heading(z) + math.atan(dsway) * 0.5 \
            + p["yaw_wobble"] * math.sin(distance * 0.9)
        return dataclasses.replace(
            self.camera, x=x, z=z, yaw=yaw,
            pitch=self.camera.pitch + p["bob"] * math.sin(distance * 4.0),
            height=self.camera.height * (1.0 + p["bob"] * math.sin(distance * 4.0 + 1.0)),
        )

    # --------------------------------------------------------------------------------------------
    def render(self, camera: Camera, size: Tuple[int, int], noise_seed: int = 0, index: int = 0) -> SceneFrame:
        """Render the scene from ``camera`` at ``size`` = (H, W); ``noise_seed`` seeds sensor noise."""
        h, w = _check_size(size)
        cv2 = _cv2()
        img, labels = self._render_ground_and_background(camera, h, w)
        if self.looks["shadow"] > 0.0:
            self._apply_shadows(cv2, img, camera, h, w)
        self._render_objects(cv2, img, labels, camera, h, w)
        out = self._apply_effects(cv2, img, h, w, noise_seed)
        return SceneFrame(image=out, labels=labels, camera=camera, index=index)

    # --------------------------------------------------------------------------------------------
    def _render_ground_and_background(self, cam: Camera, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
        f = cam.focal(w)
        R = cam.rotation().astype(np.float32)
        xc = ((np.arange(w, dtype=np.float32) + 0.5) - 0.5 * w) / f
        yc = (0.5 * h - (np.arange(h, dtype=np.float32) + 0.5)) / f
        # world ray directions (camera z component = 1)
        dx = R[0, 0] * xc[None, :] + R[0, 1] * yc[:, None] + R[0, 2]
        dy = R[1, 0] * xc[None, :] + R[1, 1] * yc[:, None] + R[1, 2]
        dz = R[2, 0] * xc[None, :] + R[2, 1] * yc[:, None] + R[2, 2]
        inf = np.float32(np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_floor = np.where(dy < -1e-6, cam.height / -dy, inf).astype(np.float32)
        img = np.empty((h, w, 3), np.float32)
        labels = np.zeros((h, w), np.uint8)
        g = self.ground
        lk = self.looks
        if self.indoor:
            with np.errstate(divide="ignore", invalid="ignore"):
                t_l = np.where(dx < -1e-6, (g["xl"] - cam.x) / dx, inf)
                t_r = np.where(dx > 1e-6, (g["xr"] - cam.x) / dx, inf)
                t_e = np.where(dz > 1e-6, (g["z_end"] - cam.z) / dz, inf)
                t_b = np.where(dz < -1e-6, (g["z_begin"] - cam.z) / dz, inf)
                t_c = np.where(dy > 1e-6, (g["ceiling"] - cam.height) / dy, inf)
            stack = np.stack([t_floor, t_l, t_r, t_e, t_b, t_c])
            which = np.argmin(stack, axis=0)
            t_hit = np.take_along_axis(stack, which[None], 0)[0]
            t_hit = np.where(np.isfinite(t_hit), t_hit, 1e3).astype(np.float32)
            is_floor = which == 0
            # walls / ceiling (only where no floor is seen): plane coordinates for the texture
            wy, wx = np.nonzero(~is_floor)
            wh = which[wy, wx]
            th = t_hit[wy, wx]
            X = cam.x + th * dx[wy, wx]
            Y = cam.height + th * dy[wy, wx]
            Z = cam.z + th * dz[wy, wx]
            along = np.where((wh == 1) | (wh == 2), Z, X)
            base = lk["wall_color"]
            shade = np.select([wh == 1, wh == 2, wh == 3, wh == 4], [0.85, 0.95, 1.0, 0.9], 1.0)
            mod = shade.astype(np.float32)
            if lk["wall_tex"] is not None:
                tex = lk["wall_tex"]
                n = tex.shape[0]
                iu = (np.floor(along / 2.0 * n).astype(np.int64)) % n
                iv = (np.floor(Y / 2.0 * n).astype(np.int64)) % n
                mod = mod * (1.0 + 0.06 * tex[iv, iu])
            panel = (along / lk["panel"]) % 1.0
            mod = np.where(panel < 0.015, mod * 0.8, mod)
            wall = base[None, :] * mod[:, None]
            low = Y < lk["baseboard"]
            wall[low] = lk["wall_color2"]
            ceil = wh == 5
            Xc, Zc = X[ceil], Z[ceil]
            cmod = np.where(((Xc % 1.2) < 0.03) | ((Zc % 1.2) < 0.03), 0.8, 1.0).astype(np.float32)
            light = (((Xc % 4.8) < 1.2) & ((Zc % 4.8) < 0.6))
            cmod = np.where(light, 1.35, cmod)
            wall[ceil] = (lk["ceiling_color"][None, :] * cmod[:, None])
            img[wy, wx] = wall
            haze_t = t_hit
        else:
            # sky (only where no ground is seen)
            is_floor = np.isfinite(t_floor)
            sy, sx = np.nonzero(~is_floor)
            sdx, sdy, sdz = dx[sy, sx], dy[sy, sx], dz[sy, sx]
            norm = np.sqrt(sdx * sdx + sdy * sdy + sdz * sdz)
            elev = sdy / norm
            a = np.clip(elev * 2.5, 0.0, 1.0)[:, None]
            sky = lk["sky_horizon"][None, :] * (1 - a) + lk["sky_zenith"][None, :] * a
            if lk["clouds"] is not None and lk["cloud_amount"] > 0:
                n = lk["clouds"].shape[0]
                az = np.arctan2(sdx, sdz)
                iu = (np.floor(az / (2 * np.pi) * n * 4).astype(np.int64)) % n
                iv = (np.floor(np.clip(elev, 0, 1) * n * 1.5).astype(np.int64)) % n
                c = np.clip(lk["clouds"][iv, iu] * lk["cloud_amount"], 0, 1)[:, None]
                sky = sky * (1 - c) + 235.0 * c
            img[sy, sx] = sky
            haze_t = np.where(is_floor, t_floor, 1e3).astype(np.float32)
        # ground plane
        fy, fx = np.nonzero(is_floor)
        t = t_floor[fy, fx]
        X = cam.x + t * dx[fy, fx]
        Z = cam.z + t * dz[fy, fx]
        s = X - self._road_centre(Z).astype(np.float32)
        if self.indoor:
            road = np.ones_like(s, dtype=bool)
        else:
            road = np.abs(s) < g["road_half"]
        gl = np.where(road, FLOOR, BACKGROUND).astype(np.uint8)
        mark = np.zeros_like(road)
        for m in g["markings"]:
            mark |= _marking_mask(m, s, Z)
        mark &= road
        gl[mark] = MARKING
        gcol = np.empty((len(t), 3), np.float32)
        fm = g["floor_color"]
        om = g["off_color"]
        off = ~road
        ftex = _sample_tex(g["floor_tex"], s[road], Z[road], g["floor_tex_scale"])
        gcol[road] = fm[None, :] * ftex[:, None]
        if off.any():
            otex = _sample_tex(g["off_tex"], s[off], Z[off], g["off_tex_scale"])
            gcol[off] = om[None, :] * otex[:, None]
        if not self.indoor and g.get("kerb", 0.0) > 0.0:
            kerb = (~road) & (np.abs(s) < g["road_half"] + g["kerb"])
            gcol[kerb] = g["kerb_color"]
        if mark.any():
            sm, zm = s[mark], Z[mark]
            mt = _sample_tex(g["mark_tex"], sm, zm, 1.5)
            wear = 1.0 - g["mark_wear"] * np.clip(mt, 0.0, 2.0) * 0.5 if g["mark_tex"] is not None \
                else np.ones_like(sm)
            gcol[mark] = g["mark_color"][None, :] * wear[:, None] + fm[None, :] * (1.0 - wear[:, None])
        img[fy, fx] = gcol
        labels[fy, fx] = gl
        # distance haze (image only)
        hz = lk["haze"] * (4.0 if self.indoor else 1.0)
        alpha = (1.0 - np.exp(-haze_t / hz))[..., None] * 0.85
        haze_col = lk["sky_horizon"] if not self.indoor else lk["wall_color"] * 0.9
        img *= (1.0 - alpha)
        img += alpha * haze_col[None, None, :]
        return img, labels

    # --------------------------------------------------------------------------------------------
    def _object_parts(self, o: SceneObject) -> List[Tuple[str, np.ndarray, np.ndarray, float]]:
        """World-space primitives of one object: (kind, points or centre, colour BGR, radius).

        kinds: "face" (convex planar polygon, culled when facing away), "hull" (convex hull of the
        points), "sphere" (centre, radius)."""
        cy, sy = math.cos(o.yaw), math.sin(o.yaw)
        amb = self.looks["ambient"]
        L = self.looks["light"]

        def shade(color: Sequence[float], normal: np.ndarray) -> np.ndarray:
            d = max(0.0, float(-np.dot(normal, L)))
            return np.asarray(color, np.float32) * (amb + (1.0 - amb) * d)

        def to_world(local: np.ndarray) -> np.ndarray:
            x = o.x + local[:, 0] * cy + local[:, 2] * sy
            z = o.z - local[:, 0] * sy + local[:, 2] * cy
            return np.stack([x, local[:, 1], z], axis=1)

        def ring(r_side: float, r_front: float, y: float, cx: float = 0.0, cz: float = 0.0, n: int = 12) -> np.ndarray:
            a = np.linspace(0, 2 * np.pi, n, endpoint=False)
            return np.stack([cx + r_side * np.cos(a), np.full(n, y), cz + r_front * np.sin(a)], axis=1)

        side_shade = amb + (1.0 - amb) * 0.55
        parts: List[Tuple[str, np.ndarray, np.ndarray, float]] = []
        if o.kind == "box":
            bw, bd, bh = o.dims[:3]
            xs, zs = bw / 2, bd / 2
            c = np.array([[-xs, 0, -zs], [xs, 0, -zs], [xs, 0, zs], [-xs, 0, zs]], float)
            bottom = to_world(c)
            top = bottom.copy()
            top[:, 1] = bh
            faces = [top[::-1]]  # top face, normal +y
            for i in range(4):
                j = (i + 1) % 4
                faces.append(np.stack([bottom[i], bottom[j], top[j], top[i]]))
            col = o.colors[0]
            for fpts in faces:
                n = _cross3(fpts[1] - fpts[0], fpts[2] - fpts[0])
                n = n / (np.linalg.norm(n) + 1e-12)
                if float(np.dot(n, fpts.mean(axis=0) - np.array([o.x, bh / 2, o.z]))) < 0.0:
                    n = -n  # orient outward
                parts.append(("face", fpts, shade(col, n), 0.0))
            if o.label == OBSTACLE and len(o.colors) > 1:
                # a tape strip across the top (image detail only; inside the top face)
                tw = min(bw, bd) * 0.12
                strip = to_world(np.array([[-tw, bh, -zs], [tw, bh, -zs], [tw, bh, zs], [-tw, bh, zs]], float))
                parts.append(("detail", strip, shade(o.colors[1], np.array([0, 1.0, 0])), 0.0))
            if o.label == BACKGROUND:
                parts.extend(self._windows(o, to_world, shade))
        elif o.kind in ("cone", "barrel"):
            r, hgt = o.dims[:2]
            top_r = r * 0.12 if o.kind == "cone" else r
            pts = np.concatenate([ring(r, r, 0.0), ring(top_r, top_r, hgt)])
            parts.append(("hull", to_world(pts), np.asarray(o.colors[0], np.float32) * side_shade, 0.0))
            if o.kind == "cone":
                for a0, a1 in ((0.35, 0.5), (0.62, 0.74)):
                    r0, r1 = r + (top_r - r) * a0, r + (top_r - r) * a1
                    band = np.concatenate([ring(r0, r0, hgt * a0), ring(r1, r1, hgt * a1)])
                    parts.append(("detail", to_world(band), np.asarray(o.colors[1], np.float32) * side_shade, 0.0))
            else:
                for a0 in (0.25, 0.7):
                    band = np.concatenate([ring(r, r, hgt * a0), ring(r, r, hgt * (a0 + 0.06))])
                    parts.append(("detail", to_world(band), np.asarray(o.colors[1], np.float32) * side_shade, 0.0))
                parts.append(("cap", to_world(ring(r, r, hgt)), shade(o.colors[0], np.array([0, 1.0, 0])), 0.0))
        elif o.kind == "person":
            H, b = o.dims[:2]
            shirt, pants, skin, hair = (np.asarray(c, np.float32) * side_shade for c in o.colors[:4])
            swing = 0.18 * H * o.pose
            hip = 0.48 * H
            sh = 0.80 * H
            for side, sgn in ((-1.0, 1.0), (1.0, -1.0)):
                foot = ring(0.055 * b, 0.07 * b, 0.0, side * 0.09 * b, sgn * swing * 0.5)
                knee = ring(0.065 * b, 0.065 * b, hip, side * 0.09 * b, 0.0)
                parts.append(("hull", to_world(np.concatenate([foot, knee])), pants, 0.0))
                hand = ring(0.04 * b, 0.04 * b, 0.45 * H, side * 0.24 * b, -sgn * swing * 0.4)
                shoulder = ring(0.05 * b, 0.05 * b, sh - 0.02 * H, side * 0.2 * b, 0.0)
                parts.append(("hull", to_world(np.concatenate([hand, shoulder])), shirt * 0.92, 0.0))
            torso = np.concatenate([ring(0.17 * b, 0.1 * b, hip - 0.03 * H), ring(0.2 * b, 0.11 * b, sh)])
            parts.append(("hull", to_world(torso), shirt, 0.0))
            neck = np.concatenate([ring(0.05, 0.05, sh), ring(0.05, 0.05, 0.87 * H)])
            parts.append(("hull", to_world(neck), skin, 0.0))
            head_c = to_world(np.array([[0.0, 0.93 * H, 0.0]]))[0]
            parts.append(("sphere", head_c, skin, 0.065 * H))
            hair_c = to_world(np.array([[0.0, 0.955 * H, -0.01]]))[0]
            parts.append(("sphere_detail", hair_c, hair, 0.052 * H))
        elif o.kind == "tree":
            r, hgt = o.dims[:2]
            trunk = np.concatenate([ring(r, r, 0.0), ring(r * 0.7, r * 0.7, hgt * 0.6)])
            parts.append(("hull", to_world(trunk), np.asarray(o.colors[0], np.float32) * side_shade, 0.0))
            crown = to_world(np.array([[0.0, hgt * 0.7, 0.0]]))[0]
            parts.append(("sphere", crown, np.asarray(o.colors[1], np.float32) * side_shade, hgt * 0.3))
        return parts

    def _windows(self, o: SceneObject, to_world: Any, shade: Any) -> List[Tuple[str, np.ndarray, np.ndarray, float]]:
        """Window rectangles on the two long faces of a building (image detail only)."""
        bw, bd, bh = o.dims[:3]
        out: List[Tuple[str, np.ndarray, np.ndarray, float]] = []
        col = np.asarray(o.colors[1], np.float32)
        zc, yc = np.meshgrid(np.arange(-bd / 2 + 1.5, bd / 2 - 1.0, 3.0), np.arange(1.5, bh - 1.0, 3.0))
        zc, yc = zc.ravel(), yc.ravel()
        if zc.size == 0:
            return out
        dz = np.array([0.0, 1.2, 1.2, 0.0])
        dy = np.array([0.0, 0.0, 1.5, 1.5])
        for side in (-1.0, 1.0):
            x = side * (bw / 2 + 0.01)
            quads = np.stack([np.full((zc.size, 4), x), yc[:, None] + dy, zc[:, None] + dz], axis=2)
            # all windows of one wall in one item: one projection, one back-face test, one fillPoly
            out.append(("windows", to_world(quads.reshape(-1, 3)).reshape(-1, 4, 3),
                        shade(col, np.array([side, 0.0, 0.0])), 0.0))
        return out

    def _prepared(self, index: int) -> Dict[str, Any]:
        """Camera-independent data of one object, computed once: its parts' points concatenated
        (one projection per object and frame), face normals, and its shadow outline points."""
        prep = self._cache.get(index)
        if prep is not None:
            return prep
        o = self.objects[index]
        parts = self._object_parts(o)
        body = [p for p in parts if p[0] in ("face", "hull", "sphere")]
        extras = [p for p in parts if p[0] not in ("face", "hull", "sphere")]
        items: List[Tuple[Any, ...]] = []
        pts_list = []
        start = 0
        normal: Optional[np.ndarray]
        for kind, pts, col, rad in body + extras:
            if kind == "windows":
                P = pts.reshape(-1, 3)
                normal = _cross3(pts[0, 1] - pts[0, 0], pts[0, 2] - pts[0, 0])
                if float(np.dot(normal, pts[0].mean(axis=0) - np.array([o.x, pts[0, :, 1].mean(), o.z]))) < 0.0:
                    normal = -normal
                items.append((kind, start, start + len(P), tuple(float(c) for c in col), 0.0, normal, pts[0, 0]))
                pts_list.append(P)
                start += len(P)
                continue
            P = pts[None, :] if kind in ("sphere", "sphere_detail") else pts
            normal = None
            if kind in ("face", "window"):
                normal = _cross3(pts[1] - pts[0], pts[2] - pts[0])
                outward = pts.mean(axis=0) - np.array([o.x, pts[:, 1].mean() if kind == "window" else 0.5 * o.dims[-1], o.z])
                if float(np.dot(normal, outward)) < 0.0:
                    normal = -normal
            items.append((kind, start, start + len(P), tuple(float(c) for c in col), float(rad), normal,
                          pts.mean(axis=0) if P is pts else pts))
            pts_list.append(P)
            start += len(P)
        allpts = np.concatenate(pts_list).astype(np.float64)
        radius = np.zeros(len(allpts))
        for kind, a, b, _, rad, _, _ in items:
            radius[a:b] = rad
        # shadow outlines on the ground (light direction is fixed per scene)
        L = self.looks["light"]
        shadows = []
        if not (o.label == BACKGROUND and o.kind == "box"):
            for kind, pts, _, rad in body:
                if kind == "sphere":
                    ang = np.linspace(0, 2 * np.pi, 10, endpoint=False)
                    ring = np.stack([np.cos(ang), np.zeros(10), np.sin(ang)], 1)
                    pts = np.concatenate([pts[None, :] + rad * ring,
                                          pts[None, :] + rad * (ring * 0.7 + [0, 0.7, 0]),
                                          pts[None, :] + rad * (ring * 0.7 - [0, 0.7, 0])])
                gp = pts - (pts[:, 1:2] / L[1]) * L[None, :]
                gp[:, 1] = 0.0
                shadows.append(gp)
        prep = {"items": items, "points": allpts, "radius": radius, "n_body": len(body),
                "shadows": shadows, "label": int(o.label)}
        self._cache[index] = prep
        return prep

    def _render_objects(self, cv2: Any, img: np.ndarray, labels: np.ndarray, cam: Camera, h: int, w: int) -> None:
        pos = cam.position
        R = cam.rotation()
        f = cam.focal(w)
        fwd = R[:, 2]
        order = []
        for i, o in enumerate(self.objects):
            dist = (o.x - pos[0]) * fwd[0] + (o.z - pos[2]) * fwd[2]
            if dist < -(max(o.dims) * 1.5 + 1.0):
                continue
            order.append(((o.x - pos[0]) ** 2 + (o.z - pos[2]) ** 2, i))
        order.sort(reverse=True)  # painter's algorithm: far objects first
        for _, i in order:
            prep = self._prepared(i)
            pc = (prep["points"] - pos) @ R
            depth = pc[:, 2]
            if (depth - prep["radius"]).min() < _NEAR:
                continue  # crosses the near plane: culled whole (image and label alike)
            # OpenCV fills put pixel centres at integer coordinates, the ray caster at +0.5
            u = (0.5 * w - 0.5 + f * pc[:, 0] / depth) * _ONE
            v = (0.5 * h - 0.5 - f * pc[:, 1] / depth) * _ONE
            if u.max() < -_ONE * w or u.min() > 2 * _ONE * w or v.max() < -_ONE * h or v.min() > 2 * _ONE * h:
                continue
            if max(abs(u).max(), abs(v).max()) > 1 << 26:
                continue
            # draw into the object's bounding box: body parts make its mask (the label), details
            # (stripes, windows, hair) only change image pixels inside that mask
            rpx = f * prep["radius"] / depth * _ONE
            x0 = max(0, int(np.floor((u - rpx).min() / _ONE)) - 2)
            x1 = min(w, int(np.ceil((u + rpx).max() / _ONE)) + 3)
            y0 = max(0, int(np.floor((v - rpx).min() / _ONE)) - 2)
            y1 = min(h, int(np.ceil((v + rpx).max() / _ONE)) + 3)
            if x1 <= x0 or y1 <= y0:
                continue
            uv = np.stack([np.round(u) - x0 * _ONE, np.round(v) - y0 * _ONE], axis=1).astype(np.int32)
            canvas = img[y0:y1, x0:x1].copy()
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            items = prep["items"]
            nb = prep["n_body"]
            body = sorted(items[:nb], key=lambda it: -float(depth[it[1]:it[2]].mean()))
            for kind, a, b, color, rad, normal, centre in body + items[nb:]:
                in_body = kind in ("face", "hull", "sphere")
                if kind in ("sphere", "sphere_detail"):
                    c = (int(uv[a, 0]), int(uv[a, 1]))
                    r = max(1, int(round(rpx[a])))
                    cv2.circle(canvas, c, r, color, -1, cv2.LINE_8, _SHIFT)
                    if in_body:
                        cv2.circle(mask, c, r, 1, -1, cv2.LINE_8, _SHIFT)
                    continue
                if kind in ("face", "window", "windows") and float(np.dot(normal, centre - pos)) >= 0.0:
                    continue  # back face
                if kind == "windows":
                    cv2.fillPoly(canvas, list(uv[a:b].reshape(-1, 4, 1, 2)), color, cv2.LINE_8, _SHIFT)
                    continue
                if kind == "cap" and cam.height <= float(centre[1]):
                    continue
                poly = uv[a:b].reshape(-1, 1, 2)
                if kind not in ("face", "window"):
                    poly = cv2.convexHull(poly)
                cv2.fillConvexPoly(canvas, poly, color, cv2.LINE_8, _SHIFT)
                if in_body:
                    cv2.fillConvexPoly(mask, poly, 1, cv2.LINE_8, _SHIFT)
            sel = mask.view(bool)
            img[y0:y1, x0:x1][sel] = canvas[sel]
            labels[y0:y1, x0:x1][sel] = prep["label"]

    def _apply_shadows(self, cv2: Any, img: np.ndarray, cam: Camera, h: int, w: int) -> None:
        mask = None
        pos = cam.position
        R = cam.rotation()
        f = cam.focal(w)
        for i, o in enumerate(self.objects):
            if (o.x - pos[0]) ** 2 + (o.z - pos[2]) ** 2 > 3600.0:
                continue
            for gp in self._prepared(i)["shadows"]:
                pc = (gp - pos) @ R
                depth = pc[:, 2]
                if depth.min() < _NEAR:
                    continue
                u = (0.5 * w - 0.5 + f * pc[:, 0] / depth) * _ONE
                v = (0.5 * h - 0.5 - f * pc[:, 1] / depth) * _ONE
                if max(abs(u).max(), abs(v).max()) > 1 << 26:
                    continue
                if mask is None:
                    mask = np.zeros((h, w), np.float32)
                poly = cv2.convexHull(np.stack([np.round(u), np.round(v)], 1).astype(np.int32).reshape(-1, 1, 2))
                cv2.fillConvexPoly(mask, poly, 1.0, cv2.LINE_8, _SHIFT)
        if mask is None:
            return
        sb = self.looks["shadow_blur"] * w / 320.0
        if sb > 0.3:
            mask = cv2.GaussianBlur(mask, (0, 0), sb)
        img *= (1.0 - self.looks["shadow"] * mask)[..., None]

    def _apply_effects(self, cv2: Any, img: np.ndarray, h: int, w: int, noise_seed: int) -> np.ndarray:
        e = self.effects
        if not e.get("enabled", False):
            return np.clip(img + 0.5, 0, 255).astype(np.uint8)
        ys = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
        xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
        light = e["gain"] * (1.0 + e["grad"][0] * xs + e["grad"][1] * ys) * (1.0 - e["vignette"] * 0.5 * (xs * xs + ys * ys))
        img *= light[..., None]
        img *= e["cast"][None, None, :]
        if e["blur"] > 0.25:
            img = cv2.GaussianBlur(img, (0, 0), e["blur"] * w / 320.0)
        if e["noise"] > 0.0:
            rng = np.random.default_rng(int(noise_seed) & 0xFFFFFFFF)
            img += rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(e["noise"])
        return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (np.cross has a large per-call overhead)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _sample_tex(tex: Optional[np.ndarray], s: np.ndarray, z: np.ndarray, scale: float) -> np.ndarray:
    """Bilinear sample of a tileable texture at ground coordinates (metres)."""
    if tex is None:
        return np.ones_like(s, dtype=np.float32)
    cv2 = _cv2()
    n = tex.shape[0]
    k = np.float32(n / scale)
    m = len(s)
    cols = 1024
    rows = -(-m // cols)
    mx = np.zeros(rows * cols, np.float32)
    my = np.zeros(rows * cols, np.float32)
    mx[:m] = np.mod(s * k, n)
    my[:m] = np.mod(z * k, n)
    out = cv2.remap(tex, mx.reshape(rows, cols), my.reshape(rows, cols), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_WRAP)
    return out.reshape(-1)[:m]


def _marking_mask(m: Dict[str, Any], s: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Pixels (given by road coordinates s, z) covered by one marking."""
    t = m["type"]
    inz = (z >= m["z0"]) & (z < m["z1"])
    if t == "line":
        mk = (np.abs(s - m["s"]) < m["w"] / 2) & inz
        if m["period"] > 0.0:
            mk &= ((z / m["period"]) % 1.0) < m["duty"]
        return mk
    ins = (s >= m["s0"]) & (s < m["s1"]) & inz
    if t == "zebra":
        return ins & (((s / m["period"]) % 1.0) < 0.5)
    if t == "line_x":
        return ins
    if t == "hatch":
        border = ins & ~((s >= m["s0"] + m["w"]) & (s < m["s1"] - m["w"]) & (z >= m["z0"] + m["w"]) & (z < m["z1"] - m["w"]))
        return border | (ins & ((((s + z) / m["period"]) % 1.0) < 0.35))
    if t == "frame":
        return ins & ~((s >= m["s0"] + m["w"]) & (s < m["s1"] - m["w"]) & (z >= m["z0"] + m["w"]) & (z < m["z1"] - m["w"]))
    raise ConfigError("marking type", expected="line, zebra, line_x, hatch or frame", found=repr(t))


# ------------------------------------------------------------------------------------------------
# public helpers
# ------------------------------------------------------------------------------------------------
def _check_size(size: Any) -> Tuple[int, int]:
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 8 <= v <= 8192 for v in size)):
        raise ConfigError("scene size", expected="(H, W) integers in [8, 8192]", found=repr(size),
                          hint="pass size=(240, 320)")
    return int(size[0]), int(size[1])


def generate_frame(seed: int, size: Tuple[int, int] = (240, 320), config: Optional[SceneConfig] = None) -> SceneFrame:
    """One random frame of a random scene (deterministic per ``seed``).

    Example:
        >>> f = generate_frame(0, (48, 64))
        >>> int(f.labels.max()) < NUM_CLASSES
        True
    """
    hw = _check_size(size)
    scene = Scene.random(seed, config)
    return scene.render(scene.camera_at(0.0), hw, noise_seed=int(seed) * 7919 + 1)


def generate_clip(
    seed: int,
    num_frames: int,
    size: Tuple[int, int] = (240, 320),
    config: Optional[SceneConfig] = None,
    speed: float = 1.5,
    fps: float = 15.0,
) -> Iterator[SceneFrame]:
    """Yield ``num_frames`` frames of a camera moving smoothly (``speed`` m/s at ``fps``) through
    one random scene (video mode). Deterministic per ``seed``.

    Example:
        >>> frames = list(generate_clip(2, 2, (48, 64)))
        >>> frames[1].camera.z > frames[0].camera.z
        True
    """
    hw = _check_size(size)
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ConfigError("num_frames", expected="a positive integer", found=repr(num_frames))
    if not (speed >= 0.0 and fps > 0.0):
        raise ConfigError("clip motion", expected="speed >= 0 and fps > 0", found="speed=%r fps=%r" % (speed, fps))
    step = float(speed) / float(fps)
    scene = Scene.random(seed, config, path_length=step * num_frames)
    for i in range(num_frames):
        yield scene.render(scene.camera_at(i * step), hw, noise_seed=int(seed) * 100003 + i, index=i)


def colorize_labels(labels: np.ndarray, palette: Sequence[Tuple[int, int, int]] = PALETTE) -> np.ndarray:
    """Map a label image ``[H,W]`` to a BGR uint8 image with ``palette`` (RGB triples);
    ids outside the palette (e.g. 255 = ignore) become white.

    Example:
        >>> colorize_labels(np.array([[0, 4]], np.uint8))[0, 1].tolist()
        [60, 20, 220]
    """
    lut = np.full((256, 3), 255, np.uint8)
    for i, c in enumerate(palette):
        lut[i] = (c[2], c[1], c[0])
    return lut[np.asarray(labels, dtype=np.uint8)]
