"""A numpy raymarcher for the gpu pack's scene format, written apart from the pack, to check its renders."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

F = np.float32


def _rotation(degrees: list[float]) -> np.ndarray:
    ax, ay, az = (math.radians(v) for v in degrees)
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _evaluate(node: dict[str, Any], p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance [N], colour [N, 3]) of ``node`` at points ``p`` [N, 3]."""
    t = np.array(node.get("position", [0, 0, 0]), dtype=F)
    inverse = _rotation(node.get("rotation", [0, 0, 0])).T.astype(F)
    s = F(node.get("scale", 1.0))
    q = ((p - t) @ inverse.T) / s
    kind = node["type"]
    if kind in ("sphere", "box", "torus", "plane"):
        if kind == "sphere":
            d = np.linalg.norm(q, axis=1) - F(node.get("radius", 1.0))
        elif kind == "box":
            half = np.array(node.get("size", [1, 1, 1]), dtype=F) / F(2)
            e = np.abs(q) - half
            d = np.linalg.norm(np.maximum(e, 0), axis=1) + np.minimum(e.max(axis=1), 0)
        elif kind == "torus":
            ring = np.stack([np.linalg.norm(q[:, [0, 2]], axis=1) - F(node.get("radius", 1.0)), q[:, 1]], axis=1)
            d = np.linalg.norm(ring, axis=1) - F(node.get("thickness", 0.25))
        else:
            d = q[:, 1].copy()
        colour = np.broadcast_to(np.array(node.get("color", [0.8, 0.8, 0.8]), dtype=F), (len(p), 3))
        return (d * s).astype(F), colour
    children = [_evaluate(child, q) for child in node["children"]]
    d, c = children[0]
    for d2, c2 in children[1:]:
        if kind == "union":
            closer = d2 < d
            d, c = np.where(closer, d2, d), np.where(closer[:, None], c2, c)
        elif kind == "smooth_union":
            k = F(node.get("k", 0.25))
            h = np.clip(F(0.5) + F(0.5) * (d2 - d) / k, 0, 1)
            d = d2 + (d - d2) * h - k * h * (1 - h)
            c = c2 + (c - c2) * h[:, None]
        elif kind == "subtract":
            d = np.maximum(d, -d2)
        else:
            d = np.maximum(d, d2)
    return (d * s).astype(F), c.astype(F)


def _scene_map(scene: dict[str, Any], p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _evaluate({"type": "union", "children": scene["objects"]}, p)


def render(scene: dict[str, Any], width: int, height: int, max_steps: int = 128, max_distance: float = 100.0,
           epsilon: float = 0.001) -> np.ndarray:
    """uint8 [H, W, 4] of the scene, as the gpu pack's raymarcher renders it."""
    camera, light = scene.get("camera", {}), scene.get("light", {})
    origin = np.array(camera.get("position", [0, 1, -5]), dtype=np.float64)
    forward = np.array(camera.get("target", [0, 0, 0]), dtype=np.float64) - origin
    forward /= np.linalg.norm(forward)
    right = np.cross([0, 1, 0], forward)  # x right, y up, z into the picture
    right /= np.linalg.norm(right)
    up = np.cross(forward, right)
    tan_half = math.tan(math.radians(camera.get("fov", 45)) / 2)
    ys, xs = np.mgrid[0:height, 0:width]
    sx = (2 * (xs + 0.5) / width - 1) * (width / height) * tan_half
    sy = (1 - 2 * (ys + 0.5) / height) * tan_half
    rays = forward + sx.reshape(-1, 1) * right + sy.reshape(-1, 1) * up
    rays = (rays / np.linalg.norm(rays, axis=1, keepdims=True)).astype(F)
    origin = origin.astype(F)
    count = width * height
    t = np.zeros(count, dtype=F)
    hit = np.zeros(count, dtype=bool)
    done = np.zeros(count, dtype=bool)
    colour_at = np.zeros((count, 3), dtype=F)
    for _ in range(max_steps):
        active = np.flatnonzero(~done)
        if not active.size:
            break
        d, c = _scene_map(scene, origin + rays[active] * t[active, None])
        now_hit = d < epsilon
        hit[active[now_hit]] = True
        colour_at[active[now_hit]] = c[now_hit]
        done[active[now_hit]] = True
        moving = active[~now_hit]
        t[moving] += d[~now_hit]
        done[moving[t[moving] > max_distance]] = True
    background = np.array(scene.get("background", [0.05, 0.05, 0.08]), dtype=F)
    out = np.broadcast_to(background, (count, 3)).copy()
    if hit.any():
        points = origin + rays[hit] * t[hit, None]
        e = F(0.001)
        grads = []
        for axis in range(3):
            step = np.zeros(3, dtype=F)
            step[axis] = e
            grads.append(_scene_map(scene, points + step)[0] - _scene_map(scene, points - step)[0])
        normals = np.stack(grads, axis=1)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        direction = np.array(light.get("direction", [-0.5, 1.0, -0.6]), dtype=np.float64)
        direction = (direction / np.linalg.norm(direction)).astype(F)
        ambient = F(light.get("ambient", 0.15))
        diffuse = np.maximum(normals @ direction, 0)
        out[hit] = colour_at[hit] * (ambient + (1 - ambient) * diffuse)[:, None]
    rgb = np.floor(0.5 + 255 * np.clip(out, 0, 1)).astype(np.uint8).reshape(height, width, 3)
    return np.concatenate([rgb, np.full((height, width, 1), 255, dtype=np.uint8)], axis=2)
