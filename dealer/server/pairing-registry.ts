/**
 * The pairings a dealer holds: for each engine pairing key K, the weight masks U derived from K
 * and the engine's public weight specs (protocol/session/pairing.ts; under ring64 the ring
 * masks of protocol/session/ring-pairing.ts from the ring specs, with the public fixed-point
 * plan), ready for sessions. Held
 * in memory only: an engine re-sends its pairing when the dealer no longer has it. At most
 * `maxPairings` are kept (each is as large as the model); the least recently used goes first.
 *
 * Each pairing remembers the identity of the engine that made it (the dealer's pin admits only
 * one engine identity, so nobody else can add or evict pairings), and a request is checked
 * against its own model's shapes before any mask is drawn: every weight's widths must be widths
 * of the declared model, their count must fit its layer count, and the masks' total size must
 * stay below `maxPairingBytes`.
 */
import type { PeerKey } from '../../crypto/identity.js';
import { yieldToEventLoop } from '../../compute/event-loop-slices.js';
import type { ComputeBackend } from '../../compute/compute-backend.js';
import { SharedKey } from '../../crypto/key-agreement.js';
import { MASK_PROFILES } from '../../protocol/masks/mask-profile.js';
import { dealerRoleWeights } from '../../protocol/session/pairing.js';
import { dealerRingWeights } from '../../protocol/session/ring-pairing.js';
import type { RoleWeight } from '../../protocol/subprotocols/mul-w.js';
import type { RingRoleWeight } from '../../protocol/subprotocols/ring/ring-mul-w.js';
import { roleModel, type RoleModel } from '../../protocol/session/role-model.js';
import { pairingIdOf, type PairingRequest } from '../../protocol/transport/pairing-request.js';

export interface Pairing {
  id: string;
  modelHash: string;
  model: RoleModel;
  /** The engine identity that signed this pairing; the engine side of its sessions must verify under it. */
  engine: PeerKey;
}

export type PutResult = { status: 200 | 201; pairing: Pairing } | { status: 400 | 409 | 413; message: string };

/** Why a pairing request's weights do not fit its own model, or undefined. */
export function shapeProblem(request: PairingRequest, maxPairingBytes: number): { status: 400 | 413; message: string } | undefined {
  const c = request.config;
  // The folded weights of protocol/model/private-weights.ts: embedding, fused q|k|v, output, fused gate|up, down, head.
  const q = c.nHeads * c.headDim;
  const widths = new Set([c.dim, c.hiddenDim, 2 * c.hiddenDim, c.vocabSize, q, q + 2 * c.nKvHeads * c.headDim]);
  // ring64's diagonal γ maps: the q/k norm [2·headDim, headDim], post-norms [dim, 1].
  if (c.variant?.qkNorm) for (const w of [c.headDim, 2 * c.headDim]) widths.add(w);
  if (c.variant?.postNorms) widths.add(1);
  let maxWeights = 8 * c.nLayers + 4;
  const moe = c.variant?.moe;
  if (moe) {
    // Mixture of experts (model/fixed-point/folded-weights.ts): the router [nExperts, dim], every expert's gate|up stacked, one down per expert.
    widths.add(moe.nExperts).add(2 * moe.nExperts * c.hiddenDim);
    maxWeights += (moe.nExperts + 1) * c.nLayers;
  }
  const all = [...request.weights, ...(request.fixedPoint?.weights ?? [])];
  if (all.length > maxWeights) return { status: 400, message: `${all.length} weights for a ${c.nLayers}-layer model (at most ${maxWeights})` };
  if (request.fixedPoint && request.fixedPoint.plan.layers.length !== c.nLayers) return { status: 400, message: `the fixed-point plan has ${request.fixedPoint.plan.layers.length} layers, the model ${c.nLayers}` };
  let bytes = 0;
  for (const w of all) {
    if (!widths.has(w.outDim) || !widths.has(w.inDim)) return { status: 400, message: `weight ${w.name} is ${w.outDim}×${w.inDim}, not made of the model's widths (${[...widths].join(', ')})` };
    bytes += 8 * w.outDim * w.inDim;
  }
  if (bytes > maxPairingBytes) return { status: 413, message: `the weight masks would take ${bytes} bytes, above this dealer's limit of ${maxPairingBytes} (--max-pairing-bytes)` };
  return undefined;
}

export class PairingRegistry {
  private readonly pairings = new Map<string, Pairing>();
  private readonly pending = new Map<string, Promise<PutResult>>();

  constructor(
    private readonly maxPairings: number,
    private readonly backend: ComputeBackend,
    private readonly maxPairingBytes: number = 8 * 2 ** 30,
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
  put(id: string, request: PairingRequest, engine: PeerKey): Promise<PutResult> {
    const key = new SharedKey(new Uint8Array(Buffer.from(request.pairingKey, 'base64')));
    if (pairingIdOf(key) !== id) return Promise.resolve({ status: 400, message: 'the pairing id does not belong to this pairing key' });
    const profile = MASK_PROFILES[request.profile];
    if (!profile) return Promise.resolve({ status: 400, message: `unknown mask profile ${request.profile}` });
    if ((profile.dtype === 'ring64') !== (request.fixedPoint !== undefined)) return Promise.resolve({ status: 400, message: `mask profile ${profile.name} ${request.fixedPoint ? 'takes no' : 'needs a'} fixed-point plan and ring weight specs` });
    if (profile.dtype === 'ring64' && request.weights.length > 0) return Promise.resolve({ status: 400, message: 'ring64 pairings carry only ring weight specs' });
    const shapes = shapeProblem(request, this.maxPairingBytes);
    if (shapes) return Promise.resolve(shapes);
    const existing = this.get(id);
    if (existing) {
      if (existing.modelHash !== request.modelHash) return Promise.resolve({ status: 409, message: 'this pairing is already held for another model' });
      if (existing.engine.fingerprint !== engine.fingerprint) return Promise.resolve({ status: 409, message: 'this pairing is held for another engine identity' });
      return Promise.resolve({ status: 200, pairing: existing });
    }
    const allNames = [...request.weights, ...(request.fixedPoint?.weights ?? [])].map((w) => w.name);
    const names = new Set(allNames);
    if (names.size !== allNames.length) return Promise.resolve({ status: 400, message: 'weight names repeat' });
    let pending = this.pending.get(id);
    if (!pending) {
      pending = (async (): Promise<PutResult> => {
        const masks = new Map<string, RoleWeight>();
        for (const spec of request.weights) {
          for (const [name, weight] of dealerRoleWeights(key, profile, [spec])) masks.set(name, weight);
          await yieldToEventLoop();
        }
        let ring: { plan: NonNullable<PairingRequest['fixedPoint']>['plan']; weights: Map<string, RingRoleWeight> } | undefined;
        if (request.fixedPoint) {
          const ringMasks = new Map<string, RingRoleWeight>();
          for (const spec of request.fixedPoint.weights) {
            for (const [name, weight] of dealerRingWeights(key, [spec])) ringMasks.set(name, weight);
            await yieldToEventLoop();
          }
          ring = { plan: request.fixedPoint.plan, weights: ringMasks };
        }
        const pairing: Pairing = { id, modelHash: request.modelHash, model: roleModel(request.config, masks, profile, this.backend, ring), engine };
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
