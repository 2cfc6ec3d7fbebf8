// Frame leases: in a browser every VideoFrame must be closed exactly once, or the decoder
// runs out of frames and stalls. A FrameLease owns its frame from the decoder's output
// callback on; roles (decoder, presenter, renderer) acquire and release it, the frame is
// closed when the last role lets go, and the frame itself is reachable only inside
// use() — nobody else can keep, close or forget it. A double release is refused and
// counted; the accounting proves that nothing stays open.

export type LeaseRole = "decoder" | "presenter" | "renderer";

export interface Closeable {
  close(): void;
}

export interface LeaseAccounting {
  created: number;
  closed: number;
  doubleReleases: number; // a role released that it did not hold
  useAfterClose: number;
}

export const makeAccounting = (): LeaseAccounting => ({ created: 0, closed: 0, doubleReleases: 0, useAfterClose: 0 });
export const liveLeases = (a: LeaseAccounting): number => a.created - a.closed;

// The page's accounting (tests read it through window.__voxcast).
export const pageLeases: LeaseAccounting = makeAccounting();

export class FrameLease<F extends Closeable = Closeable> {
  #frame: F | null;
  readonly #roles = new Set<LeaseRole>();
  readonly #acct: LeaseAccounting;
  readonly seq: number;

  // Takes ownership of `frame` for `role`.
  constructor(frame: F, role: LeaseRole, seq: number, acct: LeaseAccounting = pageLeases) {
    this.#frame = frame;
    this.#roles.add(role);
    this.#acct = acct;
    this.seq = seq;
    acct.created += 1;
  }

  get closed(): boolean {
    return this.#frame === null;
  }

  holds(role: LeaseRole): boolean {
    return this.#roles.has(role);
  }

  // False when the frame is gone or the role already holds it.
  acquire(role: LeaseRole): boolean {
    if (this.#frame === null || this.#roles.has(role)) return false;
    this.#roles.add(role);
    return true;
  }

  // False (and counted) when `role` did not hold the lease.
  release(role: LeaseRole): boolean {
    if (!this.#roles.delete(role)) {
      this.#acct.doubleReleases += 1;
      return false;
    }
    if (this.#roles.size === 0 && this.#frame !== null) {
      const f = this.#frame;
      this.#frame = null;
      this.#acct.closed += 1;
      f.close();
    }
    return true;
  }

  // Runs `fn` on the frame under the renderer role (released afterwards, whatever fn does).
  use<T>(fn: (frame: F) => T): T | undefined {
    if (this.#frame === null) {
      this.#acct.useAfterClose += 1;
      return undefined;
    }
    const f = this.#frame;
    const mine = this.acquire("renderer");
    try {
      return fn(f);
    } finally {
      if (mine) this.release("renderer");
    }
  }
}
