// The decode side: WebCodecs VideoDecoder behind a small interface (tests inject a fake).
// Hardware decoding is preferred; when the configuration is not supported or the
// decoder fails, software takes over for good. Every output VideoFrame is wrapped in a
// FrameLease in the output callback, before anything else can see it. The decoder is
// configured from the avcC (notify.stream) and re-configured when a keyframe brings a
// different SPS/PPS than the configured one (SPS/PPS travel in every keyframe).
import { base64ToBytes, codecFromAvcc, NAL_SPS, nalType, splitAvcc } from "../protocol/pixel.js";
import { FrameLease, pageLeases, type Closeable, type LeaseAccounting } from "./frame_lease.js";

export type Acceleration = "prefer-hardware" | "prefer-software" | "no-preference";

export interface DecoderConfigLike {
  codec: string;
  description: Uint8Array;
  hardwareAcceleration: Acceleration;
  optimizeForLatency: boolean;
}

export interface ChunkLike {
  type: "key" | "delta";
  timestamp: number; // µs; we use it as the decode id
  data: Uint8Array;
}

export interface DecoderLike {
  readonly state: string; // "unconfigured" | "configured" | "closed"
  readonly decodeQueueSize: number;
  configure(c: DecoderConfigLike): void;
  decode(c: ChunkLike): void;
  close(): void;
}

export interface DecoderBackend {
  // Whether the configuration can be decoded here.
  isConfigSupported(c: DecoderConfigLike): Promise<boolean>;
  create(output: (frame: Closeable & { timestamp: number }) => void, error: (e: Error) => void): DecoderLike;
}

export function webCodecsBackend(): DecoderBackend | null {
  const VD = (globalThis as { VideoDecoder?: typeof VideoDecoder }).VideoDecoder;
  const EVC = (globalThis as { EncodedVideoChunk?: typeof EncodedVideoChunk }).EncodedVideoChunk;
  if (!VD || !EVC) return null;
  return {
    async isConfigSupported(c) {
      try {
        return (await VD.isConfigSupported(c as VideoDecoderConfig)).supported === true;
      } catch {
        return false;
      }
    },
    create(output, error) {
      const d = new VD({ output: (f) => output(f), error: (e) => error(e instanceof Error ? e : new Error(String(e))) });
      return {
        get state() { return d.state; },
        get decodeQueueSize() { return d.decodeQueueSize; },
        configure: (c) => d.configure(c as VideoDecoderConfig),
        decode: (c) => d.decode(new EVC(c)),
        close: () => { if (d.state !== "closed") d.close(); },
      };
    },
  };
}

// SPS and PPS of an AVCC access unit (a keyframe carries them).
export function parameterSets(au: Uint8Array, lengthSize = 4): { sps: Uint8Array; pps: Uint8Array } | null {
  const nals = splitAvcc(au, lengthSize);
  if (!nals) return null;
  const sps = nals.find((n) => nalType(n[0]!) === NAL_SPS);
  const pps = nals.find((n) => nalType(n[0]!) === 8);
  return sps && pps ? { sps, pps } : null;
}

// An avcC record for one SPS and one PPS (4-byte NAL lengths).
export function avccFromParameterSets(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  const out = new Uint8Array(11 + sps.length + pps.length);
  out.set([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]);
  out.set(sps, 8);
  const at = 8 + sps.length;
  out.set([1, pps.length >> 8, pps.length & 0xff], at);
  out.set(pps, at + 3);
  return out;
}

// The first SPS and PPS of an avcC record.
export function avccParameterSets(avcc: Uint8Array): { sps: Uint8Array; pps: Uint8Array } | null {
  if (avcc.length < 8 || avcc[0] !== 1 || (avcc[5]! & 0x1f) < 1) return null;
  const spsLen = (avcc[6]! << 8) | avcc[7]!;
  const spsEnd = 8 + spsLen;
  if (spsEnd + 3 > avcc.length || avcc[spsEnd]! < 1) return null;
  const ppsLen = (avcc[spsEnd + 1]! << 8) | avcc[spsEnd + 2]!;
  if (spsEnd + 3 + ppsLen > avcc.length) return null;
  return { sps: avcc.subarray(8, spsEnd), pps: avcc.subarray(spsEnd + 3, spsEnd + 3 + ppsLen) };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
// Two avcC records describe the same stream when their SPS and PPS match (the extension
// bytes an encoder adds for High profiles do not matter to the decoder).
function sameParameters(a: Uint8Array, b: Uint8Array): boolean {
  if (sameBytes(a, b)) return true;
  const pa = avccParameterSets(a), pb = avccParameterSets(b);
  return pa !== null && pb !== null && sameBytes(pa.sps, pb.sps) && sameBytes(pa.pps, pb.pps);
}

export interface Decoded {
  lease: FrameLease;
  decodeId: number;
}

// One decoder and its configuration. Owned by the stream loop.
export class MediaPipeline {
  #backend: DecoderBackend;
  #decoder: DecoderLike | null = null;
  #avcc: Uint8Array | null = null;
  #acceleration: Acceleration = "prefer-hardware";
  #configuring: Promise<void> | null = null;
  #generation = 0; // outputs of a replaced decoder are closed, not shown
  #nextId = 1;
  #seqOf = new Map<number, number>(); // decode id -> seq
  readonly acct: LeaseAccounting;
  failed = false; // a decoder error since the last keyframe: wait for an IDR
  needsKeyframe = true; // a new configuration decodes from a keyframe on
  errors = 0;
  configs = 0;
  lastError = "";
  name = "none";

  constructor(backend: DecoderBackend, private readonly onFrame: (d: Decoded) => void,
              private readonly onError: (message: string) => void, acct: LeaseAccounting = pageLeases) {
    this.#backend = backend;
    this.acct = acct;
  }

  get configured(): boolean {
    return this.#decoder !== null && this.#decoder.state === "configured" && this.#configuring === null;
  }

  get queueSize(): number {
    return this.#decoder?.decodeQueueSize ?? 0;
  }

  // Configures for `avcc` unless that is what runs; resolves when ready (or failed).
  configure(avcc: Uint8Array): Promise<void> {
    if (this.#avcc && this.#decoder && !this.failed && sameParameters(this.#avcc, avcc)) return this.#configuring ?? Promise.resolve();
    this.#avcc = avcc;
    const job = this.#open(avcc).finally(() => {
      if (this.#configuring === job) this.#configuring = null;
    });
    this.#configuring = job;
    return job;
  }

  configureFromBase64(avcc: string): Promise<void> {
    const bytes = base64ToBytes(avcc);
    if (!bytes) {
      this.onError("notify.stream: avcC is not base64");
      return Promise.resolve();
    }
    return this.configure(bytes);
  }

  // A keyframe whose SPS/PPS differ from the configured avcC re-configures first.
  needsReconfigure(au: Uint8Array): Uint8Array | null {
    const ps = parameterSets(au);
    if (!ps) return null;
    const cur = this.#avcc ? avccParameterSets(this.#avcc) : null;
    if (cur && sameBytes(cur.sps, ps.sps) && sameBytes(cur.pps, ps.pps)) return null;
    return avccFromParameterSets(ps.sps, ps.pps);
  }

  async #open(avcc: Uint8Array): Promise<void> {
    this.#closeDecoder();
    const codec = codecFromAvcc(avcc);
    if (!codec.ok) {
      this.onError(codec.error.message);
      return;
    }
    const base = { codec: codec.value, description: avcc, optimizeForLatency: true };
    let config: DecoderConfigLike = { ...base, hardwareAcceleration: this.#acceleration };
    if (!(await this.#backend.isConfigSupported(config))) {
      // No hardware decoder for this stream here: software, for good.
      this.#acceleration = "no-preference";
      config = { ...base, hardwareAcceleration: "no-preference" };
      if (!(await this.#backend.isConfigSupported(config))) {
        this.onError(`this browser cannot decode ${codec.value} (WebCodecs)`);
        return;
      }
    }
    if (this.#avcc !== avcc) return; // a newer configuration overtook this one
    const generation = ++this.#generation;
    const d = this.#backend.create(
      (frame) => {
        const seq = this.#seqOf.get(frame.timestamp) ?? -1;
        this.#seqOf.delete(frame.timestamp);
        // Owned from here on; a frame of a replaced decoder is closed at once.
        const lease = new FrameLease(frame, "presenter", seq, this.acct);
        if (generation !== this.#generation) lease.release("presenter");
        else this.onFrame({ lease, decodeId: frame.timestamp });
      },
      (e) => {
        if (generation !== this.#generation) return;
        this.errors += 1;
        this.lastError = e.message;
        this.failed = true;
        if (this.#acceleration === "prefer-hardware") this.#acceleration = "prefer-software";
        this.#avcc = null; // the next configure() builds a new decoder
        this.#closeDecoder();
        this.onError(`decoder: ${e.message}`);
      },
    );
    d.configure(config);
    this.#decoder = d;
    this.needsKeyframe = true;
    this.configs += 1;
    this.failed = false;
    this.name = config.hardwareAcceleration === "prefer-hardware" ? "webcodecs (hardware preferred)" : "webcodecs (software)";
  }

  // Decodes one access unit; returns its decode id, 0 when the decoder is not ready, -1
  // when a delta frame comes before the first keyframe of this configuration.
  decode(au: Uint8Array, key: boolean, seq: number): number {
    if (!this.configured || this.failed) return 0;
    if (this.needsKeyframe && !key) return -1;
    this.needsKeyframe = false;
    const id = this.#nextId++;
    this.#seqOf.set(id, seq);
    if (this.#seqOf.size > 256) this.#seqOf.delete(this.#seqOf.keys().next().value!);
    try {
      this.#decoder!.decode({ type: key ? "key" : "delta", timestamp: id, data: au });
    } catch (e) {
      this.errors += 1;
      this.failed = true;
      this.lastError = e instanceof Error ? e.message : String(e);
      this.#avcc = null;
      this.#closeDecoder();
      this.onError(`decoder: ${this.lastError}`);
      return 0;
    }
    return id;
  }

  #closeDecoder(): void {
    this.#generation += 1;
    this.#decoder?.close();
    this.#decoder = null;
    this.#seqOf.clear();
  }

  // Deterministic stop: pending outputs are dropped by the closed decoder.
  close(): void {
    this.#avcc = null;
    this.#closeDecoder();
  }
}
