#!/usr/bin/python3
"""Writes the fuzz targets' seed corpus (fuzz/corpus/TARGET/*), small valid inputs from
which libFuzzer mutates. Run again only to change the seeds; the files are in the repo."""
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numcodecs
import numpy as np
import tifffile
import nibabel

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def env(t, payload, **extra):
    e = {"type": t, "version": 2, "timestamp": 1.5, "payload": payload}
    e.update(extra)
    return json.dumps(e)


features = {k: True for k in ["notify.scene", "notify.layers", "notify.stream", "notify.dims", "notify.camera",
                              "notify.error", "call.command"]}
hello = env("session.hello", {"protocols": [2], "client": {"name": "c", "version": "1", "platform": "linux"},
                              "features": features,
                              "resume_tokens": {"notify.scene": None, "notify.layers": "abc"},
                              "auth": {"type": "token", "token": "fuzz-token"}}, frame_id="h1")
put("fuzz_control_server", "hello", hello)
put("fuzz_control_server", "state_update",
    env("state.update", {"scope": "dims", "target": "z", "key": "index", "value": 3}, session="s", frame_id="f",
        intent_id="i"))
put("fuzz_control_server", "camera",
    env("state.update", {"scope": "camera", "target": "main", "key": "set",
                         "value": {"center": [1, 2], "zoom": 2.0}}, session="s", frame_id="f", intent_id="i"))
put("fuzz_control_server", "command",
    env("call.command", {"command": "fs.listdir", "args": [], "kwargs": {"path": "a/b", "only": [".zarr"]}},
        session="s", frame_id="c1"))
put("fuzz_control_server", "goodbye", env("session.goodbye", {"code": "x", "message": "m", "reason": "r"},
                                          session="s", frame_id="g"))

welcome = env("session.welcome", {"protocol_version": 2, "session": {"id": "s", "heartbeat_s": 15, "ack_timeout_ms": 250},
                                  "features": {"notify.scene": {"enabled": True, "version": 1, "resume": True},
                                               "call.command": {"enabled": True, "commands": ["fs.listdir"]},
                                               "notify.layers": {"enabled": True, "resume_state": {"seq": 3, "delta_token": "t"}}}},
              session="s", frame_id="w")
scene = env("notify.scene", {"version": 1, "viewer": {"dims": {"axis_labels": ["z", "y", "x"], "current_step": [3, 0, 0],
                                                             "order": [0, 1, 2], "ndisplay": 2, "scale": [1, 0.5, 0.5],
                                                             "level_shapes": [[8, 96, 128]]},
                                                    "camera": {"center": [48, 64], "zoom": 2.5}},
                             "layers": [{"layer_id": "layer-0", "name": "cells", "controls": {"opacity": 1.0},
                                         "metadata": {}, "units": ["um", "um", "um"]}],
                             "metadata": {"status": "ready", "source_path": "cells.zarr"}},
            session="s", frame_id="n", seq=0, delta_token="d0")
layers = env("notify.layers", {"layer_id": "layer-0", "controls": {"colormap": "gray", "contrast_limits": [0, 100]},
                               "metadata": {"x": 1}}, session="s", seq=1, delta_token="d1", frame_id="l")
dims = env("notify.dims", {"current_step": [4, 0, 0], "ndisplay": 2, "axis_labels": ["z", "y", "x"], "order": [0, 1, 2],
                           "level_shapes": [[8, 96, 128]], "mode": "plane"}, session="s", frame_id="d")
camera = env("notify.camera", {"mode": "pose", "origin": "state.update", "state": {"center": [1, 2], "zoom": 1}},
             session="s", frame_id="c")
stream = env("notify.stream", {"codec": "h264", "format": "avcc", "fps": 30, "frame_size": [320, 240],
                               "nal_length_size": 4, "avcc": "AWQACv/hABlnZAAKrNlEJsBEAAADAAQAAAMAyDxIllgBAAZo6+PLIsA=",
                               "latency_policy": {"max_buffer_ms": 66, "grace_keyframe_ms": 1000}},
             session="s", seq=2, delta_token="d2", frame_id="st")
ack = env("ack.state", {"intent_id": "i", "in_reply_to": "f", "status": "accepted", "applied_value": 3, "version": 4},
          session="s", frame_id="a")
put("fuzz_control_client", "welcome", welcome)
put("fuzz_control_client", "session", "\n".join([welcome, scene, layers, dims, camera, stream, ack]))
put("fuzz_control_client", "reject", env("session.reject", {"code": "unauthorized", "message": "no", "details": {}},
                                         frame_id="r"))
put("fuzz_control_client", "error", env("error.command", {"in_reply_to": "c", "code": "fs.not_found", "message": "m",
                                                          "details": {"path": "x"}}, session="s", frame_id="e"))

updates = [
    {"scope": "dims", "target": "z", "key": "index", "value": 3},
    {"scope": "dims", "target": "z", "key": "step", "value": -1},
    {"scope": "view", "target": "main", "key": "ndisplay", "value": 3},
    {"scope": "camera", "target": "main", "key": "orbit", "value": {"d_az_deg": 10, "d_el_deg": 5}},
    {"scope": "camera", "target": "main", "key": "zoom", "value": {"factor": 1.5}},
    {"scope": "camera", "target": "main", "key": "pan", "value": {"dx_px": 3, "dy_px": -2}},
    {"scope": "camera", "target": "main", "key": "set", "value": {"center": [1, 2, 3], "angles": [1, 2, 3],
                                                                  "distance": 100, "fov": 30, "zoom": 1}},
    {"scope": "layer", "target": "layer-0", "key": "contrast_limits", "value": [0, 500]},
    {"scope": "layer", "target": "layer-1", "key": "colormap", "value": "magenta"},
    {"scope": "layer", "target": "layer-0", "key": "gamma", "value": 0.7},
    {"scope": "layer", "target": "layer-0", "key": "opacity", "value": 0.5},
    {"scope": "layer", "target": "layer-0", "key": "rendering", "value": "iso"},
    {"scope": "layer", "target": "layer-0", "key": "visible", "value": False},
    {"scope": "view", "target": "main", "key": "ndisplay", "value": 2},
]
put("fuzz_reducers", "all", "\n".join(json.dumps(u) for u in updates))
for i, u in enumerate(updates):
    put("fuzz_reducers", "u%02d" % i, json.dumps(u))

# Pixel: header (seq, timestamp, w, h, codec, flags, reserved) + AVCC (SPS, PPS, SEI, IDR slice).
# A real 64x48 x264 keyframe, split into its NAL units.
h264 = subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=1", "-frames:v", "1",
                       "-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=1", "-f", "h264", "-"],
                      check=True, capture_output=True).stdout
nals = [n.lstrip(b"\x00") for n in h264.split(b"\x00\x00\x01") if n.strip(b"\x00")]
sps = next(n for n in nals if n[0] & 0x1f == 7)
pps = next(n for n in nals if n[0] & 0x1f == 8)
idr = next(n for n in nals if n[0] & 0x1f == 5)
sei = bytes([6, 5, 20]) + bytes(range(16)) + b"meta" + bytes([0x80])
au = b"".join(struct.pack(">I", len(n)) + n for n in (sps, pps, sei, idr))
put("fuzz_pixel", "keyframe", struct.pack(">IdIIBBH", 7, 1.25, 320, 240, 1, 1, 0) + au)
put("fuzz_pixel", "delta", struct.pack(">IdIIBBH", 8, 1.5, 320, 240, 1, 0, 0) +
    struct.pack(">I", 5) + bytes([0x41, 0x9a, 0x02, 0x03, 0x04]))
put("fuzz_pixel", "avcc_record", bytes([1, 0x64, 0, 0x1f, 0xff, 0xe1]) + struct.pack(">H", len(sps)) + sps +
    bytes([1]) + struct.pack(">H", len(pps)) + pps)
put("fuzz_pixel", "annexb", b"\x00\x00\x00\x01" + sps + b"\x00\x00\x01" + pps + b"\x00\x00\x01" + idr)
# An exact still: header (codec 16, flag 2), 16-byte prefix, an 8x6 RGB PNG.
def png_rgb(w, h):
    import zlib
    rows = b"".join(b"\x00" + bytes((x * 31 + y * 7) & 0xff for x in range(w * 3)) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
put("fuzz_pixel", "still", struct.pack(">IdIIBBH", 9, 2.0, 8, 6, 16, 2, 0) + struct.pack(">QII", 42, 1500, 300) +
    png_rgb(8, 6))

zarray = {"zarr_format": 2, "shape": [4, 64, 64], "chunks": [1, 32, 32], "dtype": "<u2",
          "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
          "fill_value": 0, "order": "C", "filters": None, "dimension_separator": "/"}
zattrs = {"multiscales": [{"version": "0.4", "axes": [{"name": "z", "type": "space", "unit": "micrometer"},
                                                       {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
                           "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5, 0.5]}]},
                                        {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]},
                                                                                     {"type": "translation", "translation": [0, 0.25, 0.25]}]}],
                           "coordinateTransformations": [{"type": "scale", "scale": [2, 1, 1]}]}],
          "omero": {"channels": [{"label": "dapi", "color": "0000FF", "window": {"start": 0, "end": 500}}]}}
put("fuzz_zarr_meta", "group", json.dumps(zarray) + "\0" + json.dumps(zattrs))
z2 = dict(zarray, dtype=">f4", compressor={"id": "zstd", "level": 3}, fill_value="NaN", dimension_separator=".")
put("fuzz_zarr_meta", "zstd", json.dumps(z2))
put("fuzz_zarr_meta", "zlib", json.dumps(dict(zarray, compressor={"id": "zlib", "level": 1}, fill_value=None)))

raw = (np.arange(512, dtype=np.uint16) * 7).tobytes()
n = len(raw) // 4
hdr = lambda k: bytes([k, n >> 8, n & 255])
put("fuzz_codecs", "blosc", hdr(0) + numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1).encode(raw))
put("fuzz_codecs", "blosc_zstd", hdr(0) + numcodecs.Blosc(cname="zstd", clevel=3, shuffle=2).encode(np.frombuffer(raw, dtype=np.uint16)))
put("fuzz_codecs", "zstd", hdr(1) + numcodecs.Zstd(level=3).encode(raw))
put("fuzz_codecs", "zlib", hdr(2) + zlib.compress(raw))
put("fuzz_codecs", "gzip", hdr(3) + gzip.compress(raw))
put("fuzz_codecs", "raw", hdr(4) + raw)

img = nibabel.Nifti1Image(np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6), np.diag([2.0, 2.0, 2.5, 1.0]))
img.header.set_xyzt_units("mm")
buf = io.BytesIO()
file_map = nibabel.Nifti1Image.make_file_map({"image": buf, "header": buf})
img.to_file_map(file_map)
put("fuzz_nifti", "small.nii", buf.getvalue())
put("fuzz_nifti", "small.nii.gz", gzip.compress(buf.getvalue()))

for name, kw in [("stack.tif", {}), ("tiled.tif", {"tile": (16, 16)}), ("deflate.tif", {"compression": "zlib"})]:
    b = io.BytesIO()
    tifffile.imwrite(b, np.arange(2 * 32 * 32, dtype=np.uint16).reshape(2, 32, 32), **kw)
    put("fuzz_tiff", name, b.getvalue())
b = io.BytesIO()
tifffile.imwrite(b, np.zeros((2, 3, 16, 16), dtype=np.uint8), ome=True, metadata={"axes": "CZYX"})
put("fuzz_tiff", "ome.tif", b.getvalue())
put("fuzz_tiff", "ome.xml", '<OME><Image><Pixels DimensionOrder="XYZCT" SizeX="16" SizeY="16" SizeZ="3" SizeC="2" '
    'SizeT="1" PhysicalSizeX="0.5" PhysicalSizeXUnit="µm"><Channel Name="a" Color="-16776961"/></Pixels></Image></OME>')

for i, r in enumerate(["0:2,10:20,5:6,1", ":,:,:,:", "1,0:,:70000,4", "2:3,999,0:1,:5"]):
    put("fuzz_npy_region", "r%d" % i, r)
