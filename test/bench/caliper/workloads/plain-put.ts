/**
 * Caliper workload: plain puts, each a `Consent:RegisterPatient` of a fresh P-256 public key (a
 * distinct key, so no two transactions touch the same state): the same transaction as the plain
 * puts of gateway/src/bench/relay-throughput.ts, the figure relay throughput is compared with.
 * The key is made when the transaction is due; only its public half is sent.
 *
 * Round arguments: channel, contractId, mspId, identity (gateway/src/bench/caliper.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { exportPublicKey } from '@medbridge/chaincode';
import { submitRequest, targetOf, type Connector, type Target, type WorkloadModule } from './caliper-module';

class PlainPut implements WorkloadModule {
  private sut?: Connector;
  private target?: Target;

  async initializeWorkloadModule(_worker: number, _workers: number, _round: number, args: Record<string, unknown>, sutAdapter: Connector): Promise<void> {
    this.target = targetOf(args);
    this.sut = sutAdapter;
    await Promise.resolve();
  }

  async submitTransaction(): Promise<void> {
    if (!this.sut || !this.target) throw new Error('caliper workload plain-put: not initialised');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await this.sut.sendRequests(submitRequest(this.target, 'Consent:RegisterPatient', [exportPublicKey(privateKey)]));
  }

  cleanupWorkloadModule(): Promise<void> {
    return Promise.resolve();
  }
}

export function createWorkloadModule(): WorkloadModule {
  return new PlainPut();
}
