/**
 * The patient's consents on every chain (gateway/src/services/consent-reach.ts): what the home
 * chain's packet records and their acknowledgements say about each consent's mirrors.
 */
import type { ConsentWithStatus, SentPacketRecord } from '@medbridge/chaincode';
import { consentsAcrossChains } from '../../../gateway/src/services/consent-reach';

const NOW = 1_770_000_000_000;
const DAY = 86_400_000;
const C1 = `cs_${'1'.repeat(64)}`;
const C2 = `cs_${'2'.repeat(64)}`;

function consent(consentId: string, end = NOW + 30 * DAY): ConsentWithStatus {
  return {
    consentId,
    chainId: 'chain-a',
    patientId: `pt_${'a'.repeat(64)}`,
    grantee: 'HospitalBMSP',
    terms: { grantee: 'HospitalBMSP', scope: { recordIds: [], categories: ['Observation'] }, actions: ['read'], purposes: ['TREAT'], period: { start: NOW - DAY, end } },
    status: 'active',
    version: 1,
    effectiveStatus: 'active',
  } as unknown as ConsentWithStatus;
}

function sent(o: {
  consentId: string;
  dest?: string;
  sequence: number;
  type?: string;
  status?: SentPacketRecord['status'];
  result?: unknown;
  error?: string;
}): SentPacketRecord {
  const outcome = o.error ? 'error' : o.status === 'timed-out' ? 'timeout' : 'success';
  return {
    packet: {
      sourceChain: 'chain-a',
      destChain: o.dest ?? 'chain-b',
      routeId: `a-to-${o.dest ?? 'chain-b'}`,
      sequence: o.sequence,
      type: o.type ?? 'consent.grant',
      payload: { consentId: o.consentId },
      timeoutMs: NOW + DAY,
      sentAtMs: NOW - DAY + o.sequence,
      sender: 'HospitalAMSP',
    },
    packetHash: 'h',
    status: o.status ?? 'acknowledged',
    txId: `tx-${o.sequence}`,
    ...(o.status === 'sent' ? {} : { ack: { outcome, ...(o.result ? { result: o.result } : {}), ...(o.error ? { error: o.error } : {}) }, settledAtMs: NOW - 10 }),
  } as unknown as SentPacketRecord;
}

describe('consents across chains', () => {
  it('gives a consent never carried anywhere no chains', () => {
    expect(consentsAcrossChains([consent(C1)], [], NOW)[0]?.chains).toEqual([]);
  });

  it("reports the mirror's state from the latest acknowledgement per destination chain", () => {
    const records = [
      sent({ consentId: C1, sequence: 1, result: { status: 'active', version: 1 } }),
      sent({ consentId: C1, sequence: 4, type: 'consent.revoke', result: { status: 'revoked', version: 2 } }),
      sent({ consentId: C1, dest: 'chain-c', sequence: 2, status: 'sent' }),
      sent({ consentId: C2, sequence: 3, result: { status: 'active', version: 1 } }),
    ];
    const [c1] = consentsAcrossChains([consent(C1)], records, NOW);
    expect(c1?.chains).toEqual([
      { chainId: 'chain-b', routeId: 'a-to-chain-b', sequence: 4, packetType: 'consent.revoke', delivery: 'acknowledged', mirror: { status: 'revoked', version: 2 }, effectiveStatus: 'revoked', error: null, asOf: NOW - 10, sealed: null },
      { chainId: 'chain-c', routeId: 'a-to-chain-c', sequence: 2, packetType: 'consent.grant', delivery: 'sent', mirror: null, effectiveStatus: null, error: null, asOf: null, sealed: null },
    ]);
  });

  it("computes the mirror's expiry from the signed period, and carries a destination's refusal", () => {
    const records = [
      sent({ consentId: C1, sequence: 1, result: { status: 'active', version: 1 } }),
      sent({ consentId: C2, sequence: 2, status: 'failed', error: 'WRONG_DESTINATION: grantee HospitalBMSP is not a member of this chain' }),
    ];
    const [c1, c2] = consentsAcrossChains([consent(C1, NOW - 1), consent(C2)], records, NOW);
    expect(c1?.chains[0]).toMatchObject({ mirror: { status: 'active', version: 1 }, effectiveStatus: 'expired' });
    expect(c2?.chains[0]).toMatchObject({ delivery: 'failed', mirror: null, error: expect.stringMatching(/^WRONG_DESTINATION: /) });
  });

  it('ignores packets of other types and payloads without a consent id', () => {
    const records = [sent({ consentId: C1, sequence: 1, type: 'ping' }), { ...sent({ consentId: C1, sequence: 2 }), packet: { ...sent({ consentId: C1, sequence: 2 }).packet, payload: null } } as SentPacketRecord];
    expect(consentsAcrossChains([consent(C1)], records, NOW)[0]?.chains).toEqual([]);
  });

  it("ties a sealed packet to its consent by the keeper's seal index, and says what arrived, not a mirror", () => {
    const REF_GRANT = 'a'.repeat(64);
    const REF_REVOKE = 'b'.repeat(64);
    const REF_OTHER = 'c'.repeat(64);
    const sealedPacket = (ref: string, o: Parameters<typeof sent>[0]) => {
      const r = sent({ ...o, type: 'consent.sealed' });
      return { ...r, packet: { ...r.packet, payload: { format: 'medbridge/sealed-consent-ref/v1', custodian: 'HospitalAMSP', ref, digest: 'd'.repeat(64) } } } as SentPacketRecord;
    };
    const seals = new Map([
      [REF_GRANT, { consentId: C1, type: 'consent.grant' as const }],
      [REF_REVOKE, { consentId: C1, type: 'consent.revoke' as const }],
    ]);
    const granted = sealedPacket(REF_GRANT, { consentId: C1, sequence: 1, result: { digest: 'd'.repeat(64), status: 'arrived' } });
    const [arrived] = consentsAcrossChains([consent(C1)], [granted, sealedPacket(REF_OTHER, { consentId: C2, sequence: 2, result: { status: 'arrived' } })], NOW, seals);
    expect(arrived?.chains).toEqual([
      { chainId: 'chain-b', routeId: 'a-to-chain-b', sequence: 1, packetType: 'consent.sealed', delivery: 'acknowledged', mirror: null, effectiveStatus: 'active', error: null, asOf: NOW - 10, sealed: { carries: 'grant', arrived: true } },
    ]);
    // The revocation sealed later is the latest word; until its arrival is acknowledged nothing is claimed about the copy there.
    const inFlight = sealedPacket(REF_REVOKE, { consentId: C1, sequence: 3, status: 'sent' });
    expect(consentsAcrossChains([consent(C1)], [granted, inFlight], NOW, seals)[0]?.chains[0]).toMatchObject({ sequence: 3, effectiveStatus: null, sealed: { carries: 'revocation', arrived: false } });
    const revoked = sealedPacket(REF_REVOKE, { consentId: C1, sequence: 3, result: { status: 'arrived' } });
    expect(consentsAcrossChains([consent(C1)], [granted, revoked], NOW, seals)[0]?.chains[0]).toMatchObject({ effectiveStatus: 'revoked', sealed: { carries: 'revocation', arrived: true } });
    // Without the keeper's index a sealed packet names no consent.
    expect(consentsAcrossChains([consent(C1)], [granted], NOW)[0]?.chains).toEqual([]);
  });
});
