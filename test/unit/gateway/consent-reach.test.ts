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
      { chainId: 'chain-b', routeId: 'a-to-chain-b', sequence: 4, packetType: 'consent.revoke', delivery: 'acknowledged', mirror: { status: 'revoked', version: 2 }, effectiveStatus: 'revoked', error: null, asOf: NOW - 10 },
      { chainId: 'chain-c', routeId: 'a-to-chain-c', sequence: 2, packetType: 'consent.grant', delivery: 'sent', mirror: null, effectiveStatus: null, error: null, asOf: null },
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
});
