/**
 * Every proof scheme this chaincode verifies. Adding a scheme is one line here plus its
 * module (see scheme.ts for the interface).
 */
import { registerScheme } from './scheme';
import { endorsementScheme } from './scheme-endorsement';

registerScheme(endorsementScheme);

export { getScheme, knownSchemes } from './scheme';
