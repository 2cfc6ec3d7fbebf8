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


def write_omero_zarr(out, spec):
    """c, z, y, x uint16 OME-Zarr, one level: channel 0 (orange FF8000, window 100..3000
    of min 0 max 4095) holds 200 + x; channel 1 (no window, colour 00FF00) holds 7 + 3 * y."""
    import zarr
    c, z, y, x = spec.get("shape", [2, 4, 32, 48])
    data = np.zeros((c, z, y, x), dtype=np.uint16)
    data[0] = 200 + np.arange(x, dtype=np.uint16)[None, None, :]
    data[1] = 7 + 3 * np.arange(y, dtype=np.uint16)[None, :, None]
    root = zarr.open_group(out, mode="w")
    root.create_dataset("0", data=data, chunks=(1, 2, 16, 16))
    root.attrs["multiscales"] = [{"version": "0.4", "axes": [
        {"name": "c", "type": "channel"}, {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 2, 0.5, 0.5]}]}]}]
    root.attrs["omero"] = {"channels": [
        {"label": "orange", "color": "FF8000", "window": {"start": 100, "end": 3000, "min": 0, "max": 4095}},
        {"label": "green", "color": "00FF00"}]}


def write_plain_tiff(out, spec):
    """A tifffile stack of spec["dtype"] holding spec["offset"] + (z + y + x) % 50; with
    "spike", plane 1 holds 1000 more (napari's sampling of large data reads planes 0, n/2, n-1)."""
    import tifffile
    shape = tuple(spec["shape"])
    data = (spec.get("offset", 0) + np.indices(shape).sum(axis=0) % 50).astype(spec["dtype"])
    if spec.get("spike"):
        data[1] += 1000
    tifffile.imwrite(out, data, photometric="minisblack")


def hyperstack_values(t, z, c, y, x):
    """t * 1000 + z * 100 + c * 10 + (y + x) % 10 over TZCYX, uint16."""
    g = np.indices((t, z, c, y, x))
    return (g[0] * 1000 + g[1] * 100 + g[2] * 10 + (g[3] + g[4]) % 10).astype(np.uint16)


def write_imagej(out, spec):
    """A Fiji hyperstack (tifffile's imagej=True): TZCYX, spacing, unit, frame interval."""
    import tifffile
    t, z, c, y, x = spec.get("shape", [3, 4, 2, 20, 24])
    data = hyperstack_values(t, z, c, y, x)
    tifffile.imwrite(out, data, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"axes": "TZCYX", "spacing": 1.5, "unit": "um", "finterval": 2.5})


def write_ome_time(out, spec):
    """An OME-TIFF t, z, y, x with TimeIncrement 0.5 s and physical sizes."""
    import tifffile
    t, z, y, x = spec.get("shape", [3, 2, 16, 16])
    data = hyperstack_values(t, z, 1, y, x)[:, :, 0]
    tifffile.imwrite(out, data, ome=True, metadata={
        "axes": "TZYX", "TimeIncrement": 0.5, "TimeIncrementUnit": "s",
        "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2, "PhysicalSizeZ": 2.0})


def rgb_values(y, x, samples, dtype="uint8"):
    """Red = 10 * x, green = 10 * y, blue = 200 (alpha 128), wrapped to 8 bits (or times 256)."""
    g = np.indices((y, x))
    out = np.zeros((y, x, samples), dtype=np.int64)
    out[..., 0] = (10 * g[1]) % 256
    out[..., 1] = (10 * g[0]) % 256
    out[..., 2] = 200
    if samples == 4:
        out[..., 3] = 128
    if dtype == "uint16":
        out *= 256
    return out.astype(dtype)


def write_rgb(out, spec):
    """An RGB(A) picture: TIFF (tifffile, photometric rgb), PNG or JPEG (Pillow)."""
    y, x = spec.get("size", [12, 20])
    samples = spec.get("samples", 3)
    data = rgb_values(y, x, samples, spec.get("dtype", "uint8"))
    fmt = spec["format"]
    if fmt == "tiff":
        import tifffile
        tifffile.imwrite(out, data, photometric="rgb", **({"extrasamples": ["unassalpha"]} if samples == 4 else {}))
        return
    from PIL import Image
    if spec.get("grey"):
        img = Image.fromarray(data[..., 0])
    else:
        img = Image.fromarray(data, mode="RGBA" if samples == 4 else "RGB")
    if fmt == "png":
        img.save(out, format="PNG")
    else:
        img.save(out, format="JPEG", quality=100, subsampling=0)


def write_rgb_zarr(out, spec):
    """RGB in zarr: a plain (y, x, 3) uint8 array, or ("ome": true) an OME-Zarr c, y, x
    with omero channels red, green, blue; the rgb_values pattern."""
    import zarr
    data = rgb_values(12, 20, 3)
    if not spec.get("ome"):
        zarr.save_array(out, data, chunks=(8, 8, 3))
        return
    root = zarr.open_group(out, mode="w")
    root.create_dataset("0", data=np.moveaxis(data, -1, 0).copy(), chunks=(1, 8, 8))
    root.attrs["multiscales"] = [{"version": "0.4", "axes": [
        {"name": "c", "type": "channel"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}]}]
    root.attrs["omero"] = {"channels": [
        {"label": "R", "color": "FF0000", "window": {"start": 0, "end": 255}},
        {"label": "G", "color": "00FF00", "window": {"start": 0, "end": 255}},
        {"label": "B", "color": "0000FF", "window": {"start": 0, "end": 255}}]}


def write_grey16_png(out, spec):
    """A 16-bit grey PNG (Pillow mode I;16) holding 1000 + 37 * (y + x)."""
    from PIL import Image
    y, x = spec.get("size", [10, 14])
    g = np.indices((y, x)).sum(axis=0)
    Image.fromarray((1000 + 37 * g).astype(np.uint16), mode="I;16").save(out, format="PNG")


WRITERS = {"rgb-zarr": write_rgb_zarr, "imagej": write_imagej, "ome-time": write_ome_time, "rgb": write_rgb, "grey16-png": write_grey16_png,
           "nan-ome-zarr": write_nan_ome_zarr, "omero-zarr": write_omero_zarr, "plain-tiff": write_plain_tiff}

if __name__ == "__main__":
    kind, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    WRITERS[kind](out, spec)
