/**
 * The pairings a dealer holds: for each engine pairing key K, the weight masks U derived from K
 * and the engine's public weight specs (protocol/session/pairing.ts), ready for sessions. Held
 * in memory only: an engine re-sends its pairing when the dealer no longer has it. At most
 * `maxPairings` are kept (each is as large as the model); the least recently used goes first.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { SharedKey } from '../../crypto/key-agreement.js';
import { MASK_PROFILES } from '../../protocol/masks/mask-profile.js';
import { dealerRoleWeights } from '../../protocol/session/pairing.js';
import type { RoleWeight } from '../../protocol/subprotocols/mul-w.js';
import { roleModel, type RoleModel } from '../../protocol/session/role-model.js';
import { pairingIdOf, type PairingRequest } from '../../protocol/transport/pairing-request.js';

export interface Pairing {
  id: string;
  modelHash: string;
  model: RoleModel;
}

export type PutResult = { status: 200 | 201; pairing: Pairing } | { status: 400 | 409; message: string };

export class PairingRegistry {
  private readonly pairings = new Map<string, Pairing>();
  private readonly pending = new Map<string, Promise<PutResult>>();

  constructor(
    private readonly maxPairings: number,
    private readonly backend: ComputeBackend,
  ) {}

  get size(): number {
    return this.pairings.size;
  }

  /** The pairing, marked as recently used. */
  get(id: string): Pairing | undefined {
    const pairing = this.pairings.get(id);
    if (pairing) {
      this.pairings.delete(id);
      this.pairings.set(id, pairing);
    }
    return pairing;
  }

  has(id: string): boolean {
    return this.pairings.has(id);
  }

  /**
   * Holds a pairing (idempotent for the same key and model). Deriving U takes a while for a big
   * model, so it is done one weight at a time, yielding to the event loop in between: running
   * sessions keep their heartbeats. Concurrent requests for the same id share the work.
   */
  put(id: string, request: PairingRequest): Promise<PutResult> {
    const key = new SharedKey(new Uint8Array(Buffer.from(request.pairingKey, 'base64')));
    if (pairingIdOf(key) !== id) return Promise.resolve({ status: 400, message: 'the pairing id does not belong to this pairing key' });
    const profile = MASK_PROFILES[request.profile];
    if (!profile) return Promise.resolve({ status: 400, message: `unknown mask profile ${request.profile}` });
    const existing = this.get(id);
    if (existing) {
      if (existing.modelHash !== request.modelHash) return Promise.resolve({ status: 409, message: 'this pairing is already held for another model' });
      return Promise.resolve({ status: 200, pairing: existing });
    }
    const names = new Set(request.weights.map((w) => w.name));
    if (names.size !== request.weights.length) return Promise.resolve({ status: 400, message: 'weight names repeat' });
    let pending = this.pending.get(id);
    if (!pending) {
      pending = (async (): Promise<PutResult> => {
        const masks = new Map<string, RoleWeight>();
        for (const spec of request.weights) {
          for (const [name, weight] of dealerRoleWeights(key, profile, [spec])) masks.set(name, weight);
          await yieldToEventLoop();
        }
        const pairing: Pairing = { id, modelHash: request.modelHash, model: roleModel(request.config, masks, profile, this.backend) };
        this.pairings.set(id, pairing);
        while (this.pairings.size > this.maxPairings) {
          const oldest = this.pairings.keys().next().value;
          if (oldest === undefined) break;
          this.pairings.delete(oldest);
        }
        return { status: 201, pairing };
      })().finally(() => this.pending.delete(id));
      this.pending.set(id, pending);
    }
    return pending;
  }
}
