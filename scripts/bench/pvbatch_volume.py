# voxcast-bench vs-paraview: ParaView's volume rendering of the same raw volume that
# voxcast's CPU renderer draws, timed per frame while orbiting. Run by pvbatch:
#   pvbatch pvbatch_volume.py RAW N MODE WIDTH HEIGHT FRAMES LO HI SCALE [PNG]
# RAW: N^3 little-endian uint16, x fastest. MODE: mip or translucent. SCALE: half the view
# height in voxels (voxcast's fitted camera), so both draw the volume the same size.
# Prints one JSON line.
import json
import sys
import time

from paraview.simple import (ColorBy, CreateView, GetColorTransferFunction, GetOpacityTransferFunction,
                             ImageReader, Render, SaveScreenshot, Show)
from vtkmodules.vtkCommonCore import vtkUnsignedCharArray

raw, n, mode, width, height, frames, lo, hi, scale = sys.argv[1:10]
png = sys.argv[10] if len(sys.argv) > 10 else ""
n, width, height, frames = int(n), int(width), int(height), int(frames)
lo, hi, scale = float(lo), float(hi), float(scale)

reader = ImageReader(FileNames=[raw])
reader.DataScalarType = "unsigned short"
reader.DataByteOrder = "LittleEndian"
reader.DataExtent = [0, n - 1, 0, n - 1, 0, n - 1]
reader.UpdatePipeline()

view = CreateView("RenderView")
view.ViewSize = [width, height]
view.OrientationAxesVisibility = 0
view.Background = [0, 0, 0]
try:  # 5.11: the background comes from the palette unless told otherwise
    view.UseColorPaletteForBackground = 0
except AttributeError:
    pass
shown = Show(reader, view)
shown.SetRepresentationType("Volume")
ColorBy(shown, ("POINTS", "ImageFile"))
lut = GetColorTransferFunction("ImageFile")
lut.ApplyPreset("Grayscale", True)
lut.RescaleTransferFunction(lo, hi)
opacity = GetOpacityTransferFunction("ImageFile")
opacity.Points = [lo, 0.0, 0.5, 0.0, hi, 1.0, 0.5, 0.0]
shown.BlendMode = "Composite"
if mode == "mip":
    # ParaView 5.11's proxy offers Composite/Isosurface/Slice only; its representation
    # takes VTK's blend modes (1 = vtkVolumeMapper::MAXIMUM_INTENSITY_BLEND) directly.
    shown.GetClientSideObject().GetActiveRepresentation().SetBlendMode(1)
view.CameraParallelProjection = 1  # voxcast's default 3D view is orthographic too
view.ResetCamera()
camera = view.GetActiveCamera()
camera.SetParallelScale(scale)

window = view.GetRenderWindow()
pixels = vtkUnsignedCharArray()


def frame():
    Render(view)
    # Read the picture back, as voxcast's renderer hands over RGBA in memory.
    window.GetRGBACharPixelData(0, 0, width - 1, height - 1, 1, pixels)


frame()  # first frame: volume upload and shader compilation, not timed
# The first render resets the camera to fit the bounding sphere: the view height again.
camera.SetParallelScale(scale)
frame()
times = []
for i in range(frames):
    camera.Azimuth(360.0 / frames)
    t0 = time.perf_counter()
    frame()
    times.append((time.perf_counter() - t0) * 1000.0)
# The fraction of pixels the volume lights (every 7th pixel), to compare the work with voxcast's.
values, count = pixels.GetNumberOfValues(), 0
sampled = range(0, values, 4 * 7)
for i in sampled:
    count += (pixels.GetValue(i) | pixels.GetValue(i + 1) | pixels.GetValue(i + 2)) != 0
coverage = count / max(1, len(sampled))
if png:
    SaveScreenshot(png, view, ImageResolution=[width, height])
print(json.dumps({"ms": times, "coverage": coverage}))
