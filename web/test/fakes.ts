// Test doubles: a WebSocket pair the test drives by hand, a WebCodecs-like decoder whose
// frames count their close() calls, and a PNG decoder for exact stills likewise.
import type { SocketLike } from "../src/client/stream_loop.js";
import type { ChunkLike, DecoderBackend, DecoderConfigLike, DecoderLike } from "../src/client/media.js";
import type { StillDecoder } from "../src/client/still.js";
import { buildFrameMetaSei, CODEC_STILL_PNG, FLAG_STILL, joinAvcc, PNG_SIGNATURE, writePixelHeader, writeStill } from "../src/protocol/pixel.js";
import { serialize, type Envelope, type JsonObject } from "../src/protocol/envelope.js";

export class FakeSocket implements SocketLike {
  binaryType = "blob";
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  // Test side:
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(data: unknown): void {
    this.onmessage?.({ data });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
  sentFrames(): Envelope[] {
    return this.sent.map((s) => JSON.parse(s) as Envelope);
  }
}

export class FakeNetwork {
  sockets: FakeSocket[] = [];
  factory = (url: string): SocketLike => {
    const s = new FakeSocket(url);
    this.sockets.push(s);
    return s;
  };
  last(kind: "control" | "pixel"): FakeSocket {
    const list = this.sockets.filter((s) => (kind === "pixel") === s.url.includes("/pixel"));
    return list[list.length - 1]!;
  }
}

export const envelope = (type: string, payload: JsonObject, extra: Partial<Envelope> = {}): string =>
  serialize({ type, version: 2, timestamp: Date.now() / 1000, payload, ...extra } as Envelope);

export const welcome = (session = "sess-0001-aaaa", heartbeat_s = 15, features: JsonObject = {}): string =>
  envelope("session.welcome", {
    protocol_version: 2,
    session: { id: session, heartbeat_s, ack_timeout_ms: 250 },
    features: { "notify.scene": { enabled: true }, "call.command": { enabled: true, commands: ["napari.screenshot"] }, ...features },
  }, { session, frame_id: "welcome-1" });

export class FakeFrame {
  closes = 0;
  constructor(readonly timestamp: number) {}
  close(): void {
    this.closes += 1;
  }
}

export interface FakeBackendOptions {
  hardware?: boolean; // whether prefer-hardware is "supported"
  failOnDecode?: number; // the Nth decode raises the error callback
}

export class FakeBackend implements DecoderBackend {
  frames: FakeFrame[] = [];
  configs: DecoderConfigLike[] = [];
  decodes = 0;
  constructor(readonly opts: FakeBackendOptions = {}) {}
  async isConfigSupported(c: DecoderConfigLike): Promise<boolean> {
    return c.hardwareAcceleration !== "prefer-hardware" || this.opts.hardware === true;
  }
  create(output: (f: FakeFrame) => void, error: (e: Error) => void): DecoderLike {
    const self = this;
    let state = "unconfigured";
    return {
      get state() { return state; },
      get decodeQueueSize() { return 0; },
      configure(c) { self.configs.push(c); state = "configured"; },
      decode(c: ChunkLike) {
        self.decodes += 1;
        if (self.opts.failOnDecode === self.decodes) {
          queueMicrotask(() => error(new Error("injected decode failure")));
          return;
        }
        queueMicrotask(() => {
          if (state === "closed") return; // a closed decoder drops its pending outputs
          const f = new FakeFrame(c.timestamp);
          self.frames.push(f);
          output(f);
        });
      },
      close() { state = "closed"; },
    };
  }
}

// A fake SPS/PPS pair and avcC (enough for the parameter-set logic; nothing decodes them).
export const SPS = Uint8Array.from([0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9]);
export const PPS = Uint8Array.from([0x68, 0xeb, 0xe3, 0xcb]);
export const AVCC_B64 = Buffer.from([1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, SPS.length, ...SPS, 1, 0, PPS.length, ...PPS]).toString("base64");

// One pixel message: header + AVCC access unit (keyframes carry SPS/PPS), with the SEI
// (its brick residency: levels_drawn, bricks_loading).
export function pixelMessage(seq: number, key: boolean, sceneVersion = 0, sps: Uint8Array = SPS, quality = 0, levels_drawn = 0, bricks_loading = 0): ArrayBuffer {
  const slice = Uint8Array.from([key ? 0x65 : 0x41, 0x88, 0x84, 0x00, 0x10]);
  const sei = buildFrameMetaSei({ scene_version: sceneVersion, capture_time: Date.now() / 1000, render_us: 1000, encode_us: 2000, quality, levels_drawn, bricks_loading });
  const au = joinAvcc(key ? [sps, PPS, sei, slice] : [sei, slice]);
  const header = writePixelHeader({ seq, timestamp: Date.now() / 1000, width: 64, height: 48, codec: 1, flags: key ? 1 : 0 });
  const out = new Uint8Array(header.length + au.length);
  out.set(header);
  out.set(au, header.length);
  return out.buffer;
}

export const settle = () => new Promise((r) => setTimeout(r, 0));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// An exact still: header (codec 16, the still flag), prefix, a PNG (here its signature
// and a marker byte the fake decoder reads: 0xee makes it fail).
export function stillMessage(seq: number, sceneVersion: number, marker = 0): ArrayBuffer {
  const png = Uint8Array.from([...PNG_SIGNATURE, marker]);
  const payload = writeStill({ sceneVersion, renderUs: 4000, pngUs: 3000, png });
  const header = writePixelHeader({ seq, timestamp: Date.now() / 1000, width: 64, height: 48, codec: CODEC_STILL_PNG, flags: FLAG_STILL });
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out.buffer;
}

export class FakePicture {
  closes = 0;
  readonly width = 64;
  readonly height = 48;
  close(): void {
    this.closes += 1;
  }
}

// Decodes on a later turn, as createImageBitmap does.
export class FakeStillDecoder {
  pictures: FakePicture[] = [];
  delayMs = 0;
  decode: StillDecoder = (png) =>
    new Promise((resolve, reject) => setTimeout(() => {
      if (png[8] === 0xee) return reject(new Error("not a PNG the fake can read"));
      const p = new FakePicture();
      this.pictures.push(p);
      resolve(p);
    }, this.delayMs));
}
