/**
 * Caliper workload: consent transactions, each a `Consent:GrantConsent` of a consent.grant signed
 * by the patient's own key when the transaction is due (fresh nonce, issued now, a one-day period),
 * as the hospital's user submits it for the patient (CONSENT.md).
 *
 * Before the round (not measured) each worker registers `patients` patients with fresh P-256 keys
 * made here at run time; the round's grants go to them in turn. Distinct nonces and issue times
 * make every consent id distinct, and no two grants write the same key.
 *
 * Round arguments: channel, contractId, mspId, identity, chainId (the channel's chain id, which
 * the signed header names), grantee (an MSP id), patients (per worker).
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { buildConsentGrant, canonicalize, exportPublicKey, keyIdOf, patientIdOf, signPatientMessage } from '@medbridge/chaincode';
import { stringArg, submitRequest, targetOf, type Connector, type Target, type WorkloadModule } from './caliper-module';

const DAY_MS = 86_400_000;

interface Patient {
  privateKey: KeyObject;
  keyId: string;
  patientId: string;
}

function newPatient(): Patient {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKey = exportPublicKey(privateKey);
  return { privateKey, keyId: keyIdOf(publicKey), patientId: patientIdOf(publicKey) };
}

class ConsentGrant implements WorkloadModule {
  private sut?: Connector;
  private target?: Target;
  private chainId = '';
  private grantee = '';
  private patients: Patient[] = [];
  private next = 0;

  async initializeWorkloadModule(_worker: number, _workers: number, _round: number, args: Record<string, unknown>, sutAdapter: Connector): Promise<void> {
    this.sut = sutAdapter;
    const target = targetOf(args);
    this.target = target;
    this.chainId = stringArg(args, 'chainId');
    this.grantee = stringArg(args, 'grantee');
    const count = Number(args.patients ?? 8);
    if (!Number.isInteger(count) || count < 1) throw new Error('caliper workload consent-grant: patients must be a positive integer');
    const patients = Array.from({ length: count }, newPatient);
    const registered = await Promise.all(patients.map((p) => sutAdapter.sendRequests(submitRequest(target, 'Consent:RegisterPatient', [exportPublicKey(p.privateKey)]))));
    const failed = registered.filter((s) => !s.IsCommitted()).length;
    if (failed > 0) throw new Error(`caliper workload consent-grant: ${failed} of ${count} patients could not be registered on ${target.channel}`);
    this.patients = patients;
  }

  async submitTransaction(): Promise<void> {
    if (!this.sut || !this.target || this.patients.length === 0) throw new Error('caliper workload consent-grant: not initialised');
    const patient = this.patients[this.next++ % this.patients.length]!;
    const now = Date.now();
    const signed = signPatientMessage(
      buildConsentGrant(
        { channel: this.chainId, patientId: patient.patientId, signer: patient.keyId, nonce: randomBytes(18).toString('base64url'), issuedAt: now },
        { grantee: this.grantee, scope: { recordIds: [], categories: ['Observation'] }, actions: ['read'], purposes: ['TREAT'], period: { start: now - 1_000, end: now + DAY_MS } },
      ),
      patient.privateKey,
    );
    await this.sut.sendRequests(submitRequest(this.target, 'Consent:GrantConsent', [canonicalize(signed)]));
  }

  cleanupWorkloadModule(): Promise<void> {
    this.patients = [];
    return Promise.resolve();
  }
}

export function createWorkloadModule(): WorkloadModule {
  return new ConsentGrant();
}
