/**
 * Scheme `bls12381-aggregate` v1: accountable aggregated signatures over the same packet
 * commitments as scheme 1. Pure (no Fabric imports): the chaincode verifies with it, the
 * gateway's signer and relay sign and aggregate with it. Design: chaincode/BLS.md.
 */
export * from './suite';
export * from './encoding';
export * from './keys';
export * from './bitmap';
export * from './signer-table';
export * from './proof';
export * from './aggregate';
export * from './binding';
export * from './scheme';
export * from './backend';
