// A PNG decoder for the e2e tests (8-bit RGB or RGBA, not interlaced: what the server
// writes), so the tests read the server's bytes without the browser's decoder.
import zlib from "node:zlib";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// { width, height, rgb: Buffer (3 bytes a pixel) }; throws on anything else.
export function decodePng(bytes) {
  const b = Buffer.from(bytes);
  if (!SIGNATURE.every((x, i) => b[i] === x)) throw new Error("not a PNG");
  let at = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (at + 8 <= b.length) {
    const n = b.readUInt32BE(at), type = b.toString("latin1", at + 4, at + 8), data = b.subarray(at + 8, at + 8 + n);
    at += 12 + n;
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}: not handled`);
      channels = colour === 2 ? 3 : 4;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`PNG: ${raw.length} bytes of image data for ${width}x${height}x${channels}`);
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride, up = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[row + i - channels] : 0, c = y > 0 && i >= channels ? px[up + i - channels] : 0;
      const u = y > 0 ? px[up + i] : 0;
      let p;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = u; break;
        case 3: p = (a + u) >> 1; break;
        case 4: {
          const e = a + u - c, pa = Math.abs(e - a), pb = Math.abs(e - u), pc = Math.abs(e - c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
          break;
        }
        default: throw new Error(`PNG: filter ${filter}`);
      }
      px[row + i] = (src[i] + p) & 0xff;
    }
  }
  if (channels === 3) return { width, height, rgb: px };
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0, j = 0; i < px.length; i += 4, j += 3) px.copy(rgb, j, i, i + 3);
  return { width, height, rgb };
}
