/**
 * Every proof scheme this gateway builds, under the names the chaincode verifies them by
 * (chaincode/src/protocol/schemes.ts). Adding a scheme is one line here plus its builder module
 * (scheme-builder.ts for the interface). The order is the preference: a route that accepts
 * several schemes gets the first one listed here, and the first is the default.
 */
import type { Proof } from '@medbridge/chaincode';
import type { VerificationNodeList } from '@medbridge/chaincode';
import { blsBuilder } from './bls-builder';
import { endorsementBuilder } from './endorsement-builder';
import type { ProofOptions, SchemeBuilder, SchemeName } from './scheme-builder';

const registry = new Map<string, SchemeBuilder>();

function registerBuilder(b: SchemeBuilder): void {
  registry.set(b.scheme, b);
}

registerBuilder(endorsementBuilder);
registerBuilder(blsBuilder);

/** The scheme built when nothing asks for another: scheme 1, signed by the chain's own peers. */
export const DEFAULT_BUILDER: SchemeBuilder = endorsementBuilder;

/** The builder of `scheme` (undefined: the default); throws UNSUPPORTED_SCHEME for a scheme this gateway does not build. */
export function builderFor(scheme: string | undefined): SchemeBuilder {
  if (scheme === undefined) return DEFAULT_BUILDER;
  const b = registry.get(scheme);
  if (!b) throw new Error(`UNSUPPORTED_SCHEME: this gateway builds no ${scheme} proofs (it builds ${knownBuilders().join(', ')})`);
  return b;
}

/** The schemes this gateway builds, in order of preference. */
export function knownBuilders(): SchemeName[] {
  return [...registry.values()].map((b) => b.scheme);
}

/**
 * The builder for a route whose registered schemes are `routeSchemes` (undefined: the route
 * names none): the first builder, in order of preference, of a scheme the route accepts; the
 * default when it accepts none of them (the verifier's UNSUPPORTED_SCHEME then says why).
 */
export function builderForRoute(routeSchemes: readonly string[] | undefined): SchemeBuilder {
  if (routeSchemes === undefined) return DEFAULT_BUILDER;
  return [...registry.values()].find((b) => routeSchemes.includes(b.scheme)) ?? DEFAULT_BUILDER;
}

/**
 * The builder of the epoch link that `signingList` signs: the one `options.linkScheme` names,
 * or with 'auto' (default) the proof's own scheme when every node of the list can sign in it,
 * else the default.
 */
export function linkBuilderFor(signingList: VerificationNodeList, options: ProofOptions): SchemeBuilder {
  const wanted = options.linkScheme ?? 'auto';
  if (wanted !== 'auto') return builderFor(wanted);
  const own = builderFor(options.scheme);
  return own.canSign(signingList) ? own : DEFAULT_BUILDER;
}

/** The scheme of the link signed by `signingList`. */
export function linkSchemeFor(signingList: VerificationNodeList, options: ProofOptions): SchemeName {
  return linkBuilderFor(signingList, options).scheme;
}

/** How many nodes a proof's signature part names, in its own scheme (an unknown scheme: its array's length, if it is one). */
export function signerCount(proof: Pick<Proof, 'scheme' | 'signatures'>): number {
  return (registry.get(proof.scheme) ?? DEFAULT_BUILDER).countSigners(proof.signatures);
}
