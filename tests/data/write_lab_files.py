#!/usr/bin/python3
"""Writes the files labs have, with the tools labs use (Debian's python3-zarr,
python3-tifffile, python3-nibabel, python3-pil), for the tests of issue 15: float images
with NaN outside a mask, Fiji hyperstacks, RGB images, label images.

usage: write_lab_files.py KIND OUT '{json spec}'"""
import json
import sys

import numpy as np


def ramp(shape):
    """10 + (z + y + x) % 90 over the last three axes, float32."""
    idx = np.indices(shape[-3:]).sum(axis=0)
    return np.broadcast_to((10 + idx % 90).astype(np.float32), shape).copy()


def nan_image(shape):
    """ramp() with NaN in the block z >= nz/4, y < ny/2, x < nx/2 (a brain mask's outside),
    +inf at (nz/2, ny-1, nx-1) and -inf at (nz/2, ny-1, nx-2)."""
    data = ramp(shape)
    nz, ny, nx = shape[-3:]
    data[..., nz // 4:, : ny // 2, : nx // 2] = np.nan
    data[..., nz // 2, ny - 1, nx - 1] = np.inf
    data[..., nz // 2, ny - 1, nx - 2] = -np.inf
    return data


def write_nan_ome_zarr(out, spec):
    """A float32 z,y,x OME-Zarr pyramid (levels by striding 2x in y and x) with NaN and inf."""
    import zarr
    shape = tuple(spec["shape"])
    data = nan_image(shape)
    root = zarr.open_group(out, mode="w")
    datasets = []
    for level in range(spec.get("levels", 3)):
        f = 2 ** level
        root.create_dataset(str(level), data=data[:, ::f, ::f], chunks=(4, 32, 32))
        datasets.append({"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0 * f, 1.0 * f]}]})
    root.attrs["multiscales"] = [{"version": "0.4", "name": "nan", "axes": [
        {"name": "z", "type": "space"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": datasets}]


WRITERS = {"nan-ome-zarr": write_nan_ome_zarr}

if __name__ == "__main__":
    kind, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    WRITERS[kind](out, spec)
