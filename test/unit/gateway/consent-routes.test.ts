/**
 * Which chains a hospital carries consents to, and on which route a consent packet goes
 * (gateway/src/services/crosschain-service.ts): several routes may lead to one chain, each
 * carrying its own packet types.
 */
import type { RemoteChainRecord, RouteRecord } from '@medbridge/chaincode';
import type { Chaincode } from '../../../gateway/src/fabric/contracts';
import { reachableChains, routeFor } from '../../../gateway/src/services/crosschain-service';

const route = (routeId: string, counterparty: string, packetTypes: string[], status: RouteRecord['status'] = 'open') => ({ routeId, counterparty, packetTypes, status }) as unknown as RouteRecord;
const remote = (chainId: string, ...orgs: string[]) => ({ chainId, orgs: orgs.map((mspId) => ({ mspId })) }) as unknown as RemoteChainRecord;

describe('consent routes', () => {
  const routes = [
    route('a-b-old', 'chain-b', ['consent.grant', 'consent.revoke']),
    route('a-b-sealed', 'chain-b', ['consent.grant', 'consent.revoke', 'consent.sealed']),
    route('a-b-frozen', 'chain-b', ['consent.sealed'], 'frozen'),
    route('a-c', 'chain-c', ['ping']),
  ];

  it('sends each packet type on the first open route that carries it', () => {
    expect(routeFor(routes, 'chain-b', 'consent.grant')).toBe('a-b-old');
    expect(routeFor(routes, 'chain-b', 'consent.sealed')).toBe('a-b-sealed');
  });

  it('says what the open routes carry when none carries the type, and when none leads there', () => {
    expect(() => routeFor(routes, 'chain-c', 'consent.sealed')).toThrow(expect.objectContaining({ code: 'ROUTE_NOT_OPEN', message: 'no open route to chain-c carries consent.sealed packets (a-c: ping)' }));
    expect(() => routeFor(routes, 'chain-d', 'consent.grant')).toThrow(expect.objectContaining({ code: 'ROUTE_NOT_OPEN', message: 'no open route leads to chain-d' }));
  });

  it('lists the registered chains with an open route, their orgs and what their open routes carry', async () => {
    const chaincode = {
      crossChain: {
        listRemoteChains: async () => [remote('chain-d', 'HospitalEMSP'), remote('chain-b', 'HospitalDMSP', 'HospitalBMSP'), remote('chain-c', 'HospitalCMSP')],
        listRoutes: async () => routes,
      },
    } as unknown as Chaincode;
    await expect(reachableChains(chaincode)).resolves.toEqual([
      { chainId: 'chain-b', orgs: ['HospitalBMSP', 'HospitalDMSP'], packetTypes: ['consent.grant', 'consent.revoke', 'consent.sealed'] },
      { chainId: 'chain-c', orgs: ['HospitalCMSP'], packetTypes: ['ping'] },
    ]);
  });
});
