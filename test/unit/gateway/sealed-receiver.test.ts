/**
 * The grantee's receiver of sealed consents (gateway/src/records/sealed-receiver.ts), with a
 * stand-in ledger and exchange: what it asks for, what it skips, and how each failure is
 * reported without stopping the walk.
 */
import type { SealedArrival } from '@medbridge/chaincode';
import { ClientError } from '../../../gateway/src/errors';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { SealedConsentReceiver, watchSealedConsents } from '../../../gateway/src/records/sealed-receiver';

const arrival = (digest: string, custodian = 'HospitalAMSP'): SealedArrival & { delivered: boolean } => ({
  sourceChain: 'chain-a',
  custodian,
  ref: digest.replace(/./g, 'r'),
  digest,
  routeId: 'r1',
  sequence: 1,
  receivedAt: 1,
  txId: 't',
  delivered: false,
});

function setup(arrivals: Array<SealedArrival & { delivered: boolean }>, fetchSealed: (from: string, digest: string) => Promise<string>, deliver: (sealed: string) => Promise<unknown> = async () => ({})) {
  const asked: string[] = [];
  const delivered: string[] = [];
  const chaincode = {
    consent: {
      listSealedArrivals: async () => ({ items: arrivals, bookmark: '' }),
      deliverSealedConsent: async (sealed: string) => {
        delivered.push(sealed);
        return { txId: `tx-${sealed}`, blockNumber: 1n, result: await deliver(sealed) };
      },
    },
  } as unknown as Chaincode;
  const receiver = new SealedConsentReceiver(chaincode, {
    fetchSealed: async (from, ask) => {
      asked.push(ask.digest);
      return fetchSealed(from, ask.digest);
    },
  });
  return { receiver, asked, delivered };
}

describe('SealedConsentReceiver', () => {
  it('asks only for arrivals this org has not delivered, and delivers the bytes it is given', async () => {
    const done = { ...arrival('a'.repeat(64)), delivered: true };
    const { receiver, asked, delivered } = setup([done, arrival('b'.repeat(64))], async (_from, digest) => `sealed-${digest}`);
    const out = await receiver.receivePending('chain-a');
    expect(asked).toEqual(['b'.repeat(64)]);
    expect(delivered).toEqual([`sealed-${'b'.repeat(64)}`]);
    expect(out).toEqual([expect.objectContaining({ digest: 'b'.repeat(64), outcome: 'delivered', txId: `tx-sealed-${'b'.repeat(64)}` })]);
  });

  it('remembers a custodian\'s refusal (the consent is for another org) and does not ask again', async () => {
    const { receiver, asked } = setup([arrival('c'.repeat(64))], async () => {
      throw new ClientError('ACCESS_DENIED', 'rejected', 'not for this org');
    });
    expect(await receiver.receivePending('chain-a')).toEqual([expect.objectContaining({ outcome: 'not-for-this-org' })]);
    expect(await receiver.receivePending('chain-a')).toEqual([]);
    expect(asked).toHaveLength(1);
  });

  it('reports an unreachable custodian and a refused delivery as outcomes, and goes on with the next arrival', async () => {
    const { receiver, asked } = setup(
      [arrival('d'.repeat(64), 'HospitalXMSP'), arrival('e'.repeat(64)), arrival('f'.repeat(64))],
      async (from, digest) => {
        if (from === 'HospitalXMSP') throw new ClientError('UNAVAILABLE', 'unavailable', 'exchange down');
        return digest;
      },
      async (sealed) => {
        if (sealed === 'e'.repeat(64)) throw new ClientError('STALE_VERSION', 'rejected', 'already at version 2');
        return { consentId: 'cs_1' };
      },
    );
    const out = await receiver.receivePending('chain-a');
    expect(out.map((o) => o.outcome)).toEqual(['unavailable', 'refused', 'delivered']);
    expect(out[1]).toMatchObject({ code: 'STALE_VERSION' });
    // Unreachable is asked again on the next walk; a refused delivery too (the ledger decides).
    await receiver.receivePending('chain-a');
    expect(asked.filter((d) => d === 'd'.repeat(64))).toHaveLength(2);
  });
});

describe('the sealed consent watch', () => {
  it('walks every registered chain in order on its timer, reports each outcome, survives a failing chain, and stops', async () => {
    jest.useFakeTimers();
    try {
      const walked: string[] = [];
      const chaincode = { crossChain: { listRemoteChains: async () => [{ chainId: 'chain-c' }, { chainId: 'chain-b' }] } } as unknown as Chaincode;
      const receiver = {
        receivePending: async (sourceChain: string) => {
          walked.push(sourceChain);
          if (sourceChain === 'chain-b') throw new ClientError('UNAVAILABLE', 'unavailable', 'peer down');
          return [{ digest: 'd1', custodian: 'HospitalAMSP', outcome: 'not-for-this-org' as const }];
        },
      };
      const reported: string[] = [];
      const failures: string[] = [];
      const watch = watchSealedConsents(chaincode, receiver, 1_000, (o) => reported.push(`${o.sourceChain}:${o.digest}:${o.outcome}`), (chain, err) => failures.push(`${chain}:${err.message}`));
      expect(walked).toEqual([]);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(walked).toEqual(['chain-b', 'chain-c']);
      expect(reported).toEqual(['chain-c:d1:not-for-this-org']);
      expect(failures).toEqual(['chain-b:peer down']);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(walked).toEqual(['chain-b', 'chain-c', 'chain-b', 'chain-c']);
      await watch.stop();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(walked).toHaveLength(4);
    } finally {
      jest.useRealTimers();
    }
  });
});
