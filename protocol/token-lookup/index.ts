export {
  MAX_LOOKUPS_PER_MESSAGE,
  PARAMETER_SET_ID,
  PLAIN_MODULUS,
  floodBits,
  POLY_MODULUS_DEGREE,
  SLOTS,
  ciphertextsPerLookup,
} from './bfv-parameters.js';
export { type AheadQuery, TokenLookupClient } from './token-lookup-client.js';
export { TokenLookupError, type TokenLookupErrorCode } from './token-lookup-error.js';
export { TokenLookupServer } from './token-lookup-server.js';
