/**
 * Caliper workload: consent transactions, each a `Consent:GrantConsent` of a consent.grant signed
 * by the patient's own key when the transaction is due (fresh nonce, issued now, a one-day period),
 * as the hospital's user submits it for the patient (CONSENT.md).
 *
 * Before the round (not measured) each worker registers `patients` patients with fresh P-256 keys
 * made here at run time and grants one consent per patient: the round measures the steady state
 * of patients who already gave the grantee a consent. (A patient's first grant to a grantee also
 * writes the pair's scope-index marker, so two first grants of one patient in one block conflict
 * (MVCC_READ_CONFLICT); later grants write only keys of their own consent and nonce.) The round's
 * grants go to the patients in turn; distinct nonces make every consent id distinct.
 *
 * Round arguments: channel, contractId, mspId, identity, chainId (the channel's chain id, which
 * the signed header names), grantee (an MSP id), patients (per worker).
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { buildConsentGrant, canonicalize, exportPublicKey, keyIdOf, patientIdOf, signPatientMessage } from '@medbridge/chaincode';
import { stringArg, submitRequest, targetOf, type Connector, type FabricRequest, type Target, type WorkloadModule } from './caliper-module';

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
    const unregistered = registered.filter((s) => !s.IsCommitted()).length;
    if (unregistered > 0) throw new Error(`caliper workload consent-grant: ${unregistered} of ${count} patients could not be registered on ${target.channel}`);
    const first = await Promise.all(patients.map((p) => sutAdapter.sendRequests(this.grantOf(target, p))));
    const refused = first.filter((s) => !s.IsCommitted()).length;
    if (refused > 0) throw new Error(`caliper workload consent-grant: ${refused} of ${count} first grants were not committed on ${target.channel}`);
    this.patients = patients;
  }

  async submitTransaction(): Promise<void> {
    if (!this.sut || !this.target || this.patients.length === 0) throw new Error('caliper workload consent-grant: not initialised');
    const patient = this.patients[this.next++ % this.patients.length]!;
    await this.sut.sendRequests(this.grantOf(this.target, patient));
  }

  /** A consent.grant the patient signs now (fresh nonce, one-day period), as the submit of it. */
  private grantOf(target: Target, patient: Patient): FabricRequest {
    const now = Date.now();
    const signed = signPatientMessage(
      buildConsentGrant(
        { channel: this.chainId, patientId: patient.patientId, signer: patient.keyId, nonce: randomBytes(18).toString('base64url'), issuedAt: now },
        { grantee: this.grantee, scope: { recordIds: [], categories: ['Observation'] }, actions: ['read'], purposes: ['TREAT'], period: { start: now - 1_000, end: now + DAY_MS } },
      ),
      patient.privateKey,
    );
    return submitRequest(target, 'Consent:GrantConsent', [canonicalize(signed)]);
  }

  cleanupWorkloadModule(): Promise<void> {
    this.patients = [];
    return Promise.resolve();
  }
}

export function createWorkloadModule(): WorkloadModule {
  return new ConsentGrant();
}
