// Retransmission timeout from measured round trips, the way TCP does it (RFC 6298): a smoothed round-trip
// time plus four times its variation, so a slow line (9600 baud, a busy USB hub) gets patient timers and a
// fast one quick recovery. Only frames sent once give samples (Karn's rule: the ack of a resent frame
// could belong to either send). Each timeout doubles the value until a fresh sample arrives.
import { INITIAL_RTO_MS, MAX_RTO_MS, MIN_RTO_MS } from './limits.js';

export class RtoEstimator {
  private srtt: number | undefined;
  private rttvar = 0;
  private backoff = 1;

  constructor(
    private readonly initial = INITIAL_RTO_MS,
    private readonly min = MIN_RTO_MS,
    private readonly max = MAX_RTO_MS,
  ) {}

  /** The smoothed round trip, or the initial guess before any sample. */
  get smoothed(): number {
    return this.srtt ?? this.initial;
  }

  get rto(): number {
    const base = this.srtt === undefined ? this.initial : this.srtt + 4 * this.rttvar;
    return Math.min(this.max, Math.max(this.min, base) * this.backoff);
  }

  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.backoff = 1;
  }

  timedOut(): void {
    if (this.rto < this.max) this.backoff *= 2;
  }
}
