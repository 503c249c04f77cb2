/**
 * Threshold over privileged subgroups lives with the verifier that applies it
 * (protocol/threshold.ts, PROTOCOL.md "Threshold"); rules and contracts read it from here.
 */
export * from '../protocol/threshold';
