/**
 * One private embedding session across the three in-process parties (tests, benchmarks): the
 * same engine and dealer session functions as the networked servers run, over in-process links.
 */
import { runDealerSession, type DealerSessionSummary } from '../dealer/dealer-session.js';
import { runEngineSession, type EngineSessionSummary } from '../engine/private/engine-session.js';
import { privateEmbed, type PrivateEmbeddingRequest, type PrivateEmbeddingResult } from '../gateway/private/private-embedding.js';
import { inProcessLinkPair } from '../protocol/transport/in-process-link.js';
import type { InProcessParties } from './in-process-parties.js';

const DEALER_LINK_CAPACITY = 256;

export async function embedInProcess(parties: InProcessParties, request: PrivateEmbeddingRequest): Promise<{ result: PrivateEmbeddingResult; engine: EngineSessionSummary; dealer: DealerSessionSummary }> {
  const [gatewayToEngine, engineToGateway] = inProcessLinkPair();
  const [gatewayToDealer, dealerToGateway] = inProcessLinkPair(DEALER_LINK_CAPACITY);
  const [engineToDealer, dealerToEngine] = inProcessLinkPair(DEALER_LINK_CAPACITY);
  const engine = runEngineSession({ gateway: engineToGateway, dealer: engineToDealer }, parties.engine, parties.trust.engine);
  const dealer = runDealerSession({ gateway: dealerToGateway, engine: dealerToEngine }, parties.dealer, parties.trust.dealer);
  const [result, e, d] = await Promise.all([privateEmbed({ engine: gatewayToEngine, dealer: gatewayToDealer }, parties.gateway, request, parties.trust.gateway), engine, dealer]);
  return { result, engine: e, dealer: d };
}
