/**
 * Every proof scheme this chaincode verifies. Adding a scheme is one line here plus its
 * module (see scheme.ts for the interface).
 */
import { registerScheme } from './scheme';
import { endorsementScheme } from './scheme-endorsement';
import { blsAggregateScheme, blsAggregateSchemeV2 } from './bls/scheme';

registerScheme(endorsementScheme);
registerScheme(blsAggregateScheme);
registerScheme(blsAggregateSchemeV2);

export { getScheme, knownSchemes } from './scheme';
