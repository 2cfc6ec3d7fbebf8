#!/usr/bin/python3
"""Writes test datasets with independent writers (Debian's python3-zarr, python3-tifffile,
python3-nibabel) so voxcast's readers are checked against other tools.

Every array holds value(idx) = (sum_i idx_i * (i + 3) * 7) % modulus, cast to the dtype;
the C++ tests compute the same formula."""
import json
import sys

import numpy as np


def values(shape, dtype, modulus=251):
    grids = np.indices(shape, dtype=np.int64)
    v = np.zeros(shape, dtype=np.int64)
    for i, g in enumerate(grids):
        v += g * (i + 3) * 7
    v %= modulus
    if np.dtype(dtype).kind == "f":
        return (v.astype(np.float64) * 0.5 - 3.25).astype(dtype)
    if np.dtype(dtype).kind == "i":
        return (v - modulus // 2).astype(dtype)
    return v.astype(dtype)


def write_zarr(out, spec):
    import zarr
    from numcodecs import Blosc, Zstd, Zlib, GZip
    codecs = {
        "none": None,
        "blosc-lz4": Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE),
        "blosc-zstd-bit": Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE),
        "blosc-zlib-noshuffle": Blosc(cname="zlib", clevel=4, shuffle=Blosc.NOSHUFFLE),
        "blosc-lz4hc": Blosc(cname="lz4hc", clevel=5, shuffle=Blosc.SHUFFLE),
        "blosc-blosclz": Blosc(cname="blosclz", clevel=5, shuffle=Blosc.SHUFFLE),
        "zstd": Zstd(level=3),
        "zlib": Zlib(level=5),
        "gzip": GZip(level=5),
    }
    shape = tuple(spec["shape"])
    data = values(shape, spec["dtype"])
    store = zarr.DirectoryStore(out, dimension_separator=spec.get("separator", "."))
    arr = zarr.create(shape=shape, chunks=tuple(spec["chunks"]), dtype=spec["dtype"], store=store,
                      compressor=codecs[spec["codec"]], fill_value=spec.get("fill", 0), overwrite=True)
    arr[...] = data


def write_ome_zarr(out, spec):
    """A 3-level c,z,y,x pyramid (2x in y and x per level) with omero metadata."""
    import zarr
    from numcodecs import Blosc
    root = zarr.open_group(out, mode="w")
    shape = tuple(spec["shape"])
    data = values(shape, "uint16", 4000)
    datasets = []
    for level in range(3):
        f = 2 ** level
        lev = data[:, :, ::f, ::f]
        root.create_dataset(str(level), data=lev, chunks=(1, 2, 16, 16),
                            compressor=Blosc(cname="zstd", shuffle=Blosc.SHUFFLE))
        datasets.append({"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 2.0, 0.5 * f, 0.5 * f]},
            {"type": "translation", "translation": [0.0, 10.0, 0.0, 0.0]}]})
    root.attrs["multiscales"] = [{"version": "0.4", "name": "pyramid", "axes": [
        {"name": "c", "type": "channel"}, {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": datasets}]
    root.attrs["omero"] = {"channels": [
        {"label": "DAPI", "color": "0000FF", "window": {"start": 100, "end": 3000, "min": 0, "max": 65535}},
        {"label": "GFP", "color": "00FF00", "window": {"start": 50, "end": 2000, "min": 0, "max": 65535}}]}


def write_tiff(out, spec):
    import tifffile
    shape = tuple(spec["shape"])
    data = values(shape, spec["dtype"])
    kw = {}
    if spec.get("tile"):
        kw["tile"] = tuple(spec["tile"])
    if spec.get("rowsperstrip"):
        kw["rowsperstrip"] = spec["rowsperstrip"]
    if spec.get("compression"):
        kw["compression"] = spec["compression"]
    if spec.get("ome"):
        axes = spec["axes"]
        meta = {"axes": axes, "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 1.5,
                "Channel": {"Name": spec.get("channels", [])}} if "C" in axes else {
                "axes": axes, "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 1.5}
        levels = spec.get("levels", 1)
        with tifffile.TiffWriter(out, bigtiff=spec.get("bigtiff", False), ome=True) as tw:
            tw.write(data, subifds=levels - 1, metadata=meta, **kw)
            for level in range(1, levels):
                f = 2 ** level
                tw.write(data[..., ::f, ::f], subfiletype=1, **kw)
        return
    tifffile.imwrite(out, data, bigtiff=spec.get("bigtiff", False), photometric="minisblack", **kw)


def write_nifti(out, spec):
    import nibabel as nib
    shape = tuple(spec["shape"])  # i, j, k (file order)
    data = values(shape[::-1], spec["dtype"]).transpose()  # value(k, j, i) stored at [i, j, k]
    affine = np.array(spec["affine"], dtype=np.float64)
    img = nib.Nifti1Image(np.asfortranarray(data), affine)
    img.header.set_data_dtype(spec["dtype"])
    if "slope" in spec:
        img.header.set_slope_inter(spec["slope"], spec.get("inter", 0.0))
    if spec.get("qform_only"):
        img.set_qform(affine, code=1)
        img.set_sform(None, code=0)
    nib.save(img, out)


if __name__ == "__main__":
    kind, out, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    {"zarr": write_zarr, "ome-zarr": write_ome_zarr, "tiff": write_tiff, "nifti": write_nifti}[kind](out, spec)
