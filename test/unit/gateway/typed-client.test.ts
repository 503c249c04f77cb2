/**
 * The typed chaincode client (gateway/src/fabric/contracts) over a fake fabric-gateway
 * connection. Every method names the chaincode's own transaction, in the mode the chaincode
 * declares (evaluate for @Transaction(false)), with its arguments encoded as the chaincode
 * reads them; results decode; Fabric's errors come back as the chaincode's own codes; events
 * are typed. The last part runs the real contracts on the fake ledger behind the fake
 * connection.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import 'reflect-metadata';
import { EndorseError, GatewayError, type ChaincodeEvent as FabricEvent } from '@hyperledger/fabric-gateway';
import {
  buildAccessLogRead,
  buildRecordsRead,
  buildConsentGrant,
  buildConsentRevocation,
  buildGuardianDelegation,
  buildGuardianRevocation,
  buildRecordErasure,
  buildKeyRotation,
  canonicalize,
  exportPublicKey,
  keyIdOf,
  patientIdOf,
  sealResult,
  signKeyRotation,
  signPatientMessage,
  type Acknowledgement,
  type HeaderInput,
  type IncentiveParams,
  type Packet,
  type Proof,
  type SlashingEvidence,
} from '@medbridge/chaincode';
import type { Context } from 'fabric-contract-api';
import { ConsentContract } from '../../../chaincode/src/contracts/consent-contract';
import { CrossChainContract } from '../../../chaincode/src/contracts/crosschain-contract';
import { GovernanceContract } from '../../../chaincode/src/contracts/governance-contract';
import { IncentiveContract } from '../../../chaincode/src/contracts/incentive-contract';
import { SystemContract } from '../../../chaincode/src/contracts/system-contract';
import { MedbridgeError } from '../../../chaincode/src/errors';
import { ClientError } from '../../../gateway/src/errors';
import { FabricClient } from '../../../gateway/src/fabric/client';
import type { OrgConnection } from '../../../gateway/src/fabric/connection';
import {
  allPages,
  Chaincode,
  ConsentTransactions,
  CrossChainTransactions,
  GovernanceTransactions,
  IncentiveTransactions,
  orAbsent,
  SystemTransactions,
  type ChaincodeEvent,
  type TransactionTable,
} from '../../../gateway/src/fabric/contracts';
import type { Profile } from '../../../gateway/src/fabric/profile';
import { RecordAnchors } from '../../../gateway/src/records/anchors';
import { ConsentService } from '../../../gateway/src/services/consent-service';
import { CrossChainService } from '../../../gateway/src/services/crosschain-service';
import { IncentiveService } from '../../../gateway/src/services/incentive-service';
import { FakeLedger, type FakeIdentity } from '../support/fake-ledger';
import { createOrg } from '../../fixtures/pki';

// ------------------------------------------------------------------ a fake fabric-gateway connection

interface Call {
  contract: string;
  fn: string;
  args: string[];
  mode: 'evaluate' | 'submit';
  endorsingOrganizations?: string[];
  /** A private transaction's request from the transient map, without its random salt. */
  privateRequest?: Record<string, unknown>;
}

/** What the fake peer answers: result bytes, or a thrown error; and a commit status code (0 = VALID). */
interface Answer {
  result?: string | Uint8Array;
  error?: unknown;
  status?: number;
}

type Responder = (call: Call) => Answer | Promise<Answer>;

const PROFILE: Profile = {
  network: 'net1',
  org: 'HospitalA',
  mspId: 'HospitalAMSP',
  channels: ['chain-a', 'chain-x'],
  chaincode: 'medbridge',
  peers: [{ name: 'peer0.hospitala', endpoint: '127.0.0.1:7051', tlsRootCert: '/dev/null' }],
  identities: { user: { certificate: '/dev/null', privateKey: '/dev/null' } },
};

class FakeConnection {
  readonly calls: Call[] = [];
  readonly eventRequests: Array<{ channel: string; chaincode: string; options: unknown }> = [];
  closed = false;
  txCounter = 0;

  constructor(
    private readonly respond: Responder,
    private readonly events: FabricEvent[] = [],
  ) {}

  contract(channel: string, contractName = '') {
    const bytes = (r: Answer): Uint8Array => (typeof r.result === 'string' ? Buffer.from(r.result) : (r.result ?? new Uint8Array()));
    return {
      evaluateTransaction: async (fn: string, ...args: string[]): Promise<Uint8Array> => {
        const call: Call = { contract: contractName, fn, args, mode: 'evaluate' };
        this.calls.push(call);
        const r = await this.respond(call);
        if (r.error) throw r.error;
        return bytes(r);
      },
      // An evaluate a peer of another org answers (the one holding that org's private data).
      evaluate: async (fn: string, opts: { arguments?: string[]; endorsingOrganizations?: string[] } = {}): Promise<Uint8Array> => {
        const call: Call = { contract: contractName, fn, args: opts.arguments ?? [], mode: 'evaluate', ...(opts.endorsingOrganizations ? { endorsingOrganizations: opts.endorsingOrganizations } : {}) };
        this.calls.push(call);
        const r = await this.respond(call);
        if (r.error) throw r.error;
        return bytes(r);
      },
      newProposal: (fn: string, opts: { arguments?: string[]; endorsingOrganizations?: string[]; transientData?: Record<string, Uint8Array> } = {}) => {
        const txId = `tx-${channel}-${++this.txCounter}`;
        const call: Call = { contract: contractName, fn, args: opts.arguments ?? [], mode: 'submit', ...(opts.endorsingOrganizations ? { endorsingOrganizations: opts.endorsingOrganizations } : {}) };
        // A private request: the fake peer seals its answer with the request's salt, as the chaincode does.
        let salt: Buffer | undefined;
        const request = opts.transientData?.request;
        if (request !== undefined) {
          const { salt: hex, ...rest } = JSON.parse(Buffer.from(request).toString('utf8')) as Record<string, unknown>;
          salt = Buffer.from(String(hex), 'hex');
          call.privateRequest = rest;
        }
        return {
          getTransactionId: () => txId,
          endorse: async () => {
            this.calls.push(call);
            const r = await this.respond(call);
            if (r.error) throw r.error;
            const answer = salt === undefined ? bytes(r) : Buffer.from(canonicalize(sealResult(salt, txId, Buffer.from(bytes(r)).toString('utf8'))));
            return {
              getResult: () => answer,
              submit: async () => ({
                getStatus: async () => ({ successful: (r.status ?? 0) === 0, code: r.status ?? 0, blockNumber: 42n, transactionId: txId }),
              }),
            };
          },
        };
      },
    };
  }

  network(channel: string) {
    return {
      getChaincodeEvents: async (chaincode: string, options: unknown) => {
        this.eventRequests.push({ channel, chaincode, options });
        const events = this.events;
        let closed = false;
        return {
          close: () => {
            closed = true;
          },
          async *[Symbol.asyncIterator]() {
            for (const e of events) {
              if (closed) return;
              yield e;
            }
          },
        };
      },
    };
  }

  close(): void {
    this.closed = true;
  }
}

function fake(respond: Responder = () => ({ result: '{}' }), events: FabricEvent[] = []): { conn: FakeConnection; cc: Chaincode } {
  const conn = new FakeConnection(respond, events);
  const connection = {
    profile: PROFILE,
    contract: (channel: string, name?: string) => conn.contract(channel, name),
    network: (channel: string) => conn.network(channel),
    close: () => conn.close(),
  };
  const client = FabricClient.over(connection as unknown as OrgConnection);
  return { conn, cc: new Chaincode(client, 'chain-a') };
}

/** The raw gRPC error fabric-gateway keeps as the cause. */
function grpcError(code: number): ServiceError {
  return Object.assign(new Error(`${code} grpc`), { code, details: '', metadata: new Metadata() });
}

/** The error a peer's gateway reports when the chaincode rejects the proposal (per-peer details). */
function endorseRejection(chaincodeMessage: string): EndorseError {
  return new EndorseError({
    code: 10,
    message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
    details: [{ address: 'peer0.hospitala:7051', mspId: 'HospitalAMSP', message: `chaincode response 500, ${chaincodeMessage}` }],
    cause: grpcError(10),
    transactionId: 'tx-rejected',
  });
}

// ------------------------------------------------------------------ sample arguments

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKey = exportPublicKey(privateKey);
const patientId = patientIdOf(publicKey);
const header = (): HeaderInput => ({ channel: 'chain-a', patientId, signer: keyIdOf(publicKey), nonce: 'nonce-000000000001', issuedAt: 1_700_000_000_000 });
const REMOTE_RECORD = { recordId: 'rec-1', resourceType: 'Observation', securityLabels: ['PSY'], dataDate: 1_700_000_000_000, authorOrg: 'HospitalAMSP', custodian: 'HospitalAMSP', documentClasses: [] };
const TERMS = {
  grantee: 'HospitalBMSP',
  scope: { recordIds: [], categories: ['Observation'] },
  actions: ['read' as const],
  purposes: ['TREAT'],
  period: { start: 1_700_000_000_000, end: 1_700_086_400_000 },
};
const grant = signPatientMessage(buildConsentGrant(header(), TERMS), privateKey);
const CONSENT_ID = `cs_${'a'.repeat(64)}`;
const LABELS = { securityLabels: ['PSY'], dataDate: 1_700_000_000_000, authorOrg: 'HospitalAMSP', documentClasses: [] };
const revocation = signPatientMessage(buildConsentRevocation(header(), CONSENT_ID), privateKey);
const keptGrant = signPatientMessage(buildConsentGrant(header(), TERMS, 'HospitalCMSP'), privateKey);
const delegation = signPatientMessage(buildGuardianDelegation(header(), { publicKey, notAfter: 1_800_000_000_000 }), privateKey);
const guardianRevocation = signPatientMessage(buildGuardianRevocation(header(), keyIdOf(publicKey)), privateKey);
const erasure = signPatientMessage(buildRecordErasure(header(), 'rec-1'), privateKey);
const read = signPatientMessage(buildAccessLogRead(header()), privateKey);
const recordsRead = signPatientMessage(buildRecordsRead(header()), privateKey);
const nextKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const rotation = signKeyRotation(buildKeyRotation(header(), exportPublicKey(nextKey)), privateKey, nextKey);
const packet: Packet = {
  sourceChain: 'chain-a',
  destChain: 'chain-b',
  routeId: 'r1',
  sequence: 3,
  type: 'ping',
  payload: { hello: 1 },
  timeoutMs: 1_700_003_600_000,
  sentAtMs: 1_700_000_000_000,
  sender: 'HospitalAMSP',
};
const ack = { sourceChain: 'chain-a', destChain: 'chain-b', routeId: 'r1', sequence: 3, packetHash: 'ab'.repeat(32), outcome: 'success', result: { pong: 1 } } as Acknowledgement;
const proof = { scheme: 'fabric-endorsement', version: 2, epoch: 1, links: [], signatures: [] } as unknown as Proof;
const evidence = { kind: 'uncommitted', nodeId: 'peer0.hospitala', signed: { packet, epoch: 1, proof: { scheme: 'fabric-endorsement', version: 2, signatures: [] } } } as SlashingEvidence;
const params = { minFee: 10 } as unknown as IncentiveParams;

type Case = [label: string, call: (cc: Chaincode) => Promise<unknown>, expected: Omit<Call, 'mode'>];

/** One call of every method of every client, with the transaction it must send. */
const CASES: Case[] = [
  // System
  ['system.ping', (cc) => cc.system.ping(), { contract: 'System', fn: 'Ping', args: [] }],
  ['system.heartbeat', (cc) => cc.system.heartbeat('hello'), { contract: 'System', fn: 'Heartbeat', args: ['hello'] }],
  ['system.lastHeartbeat', (cc) => cc.system.lastHeartbeat('HospitalCMSP'), { contract: 'System', fn: 'LastHeartbeat', args: ['HospitalCMSP'] }],
  ['system.version', (cc) => cc.system.version(), { contract: 'System', fn: 'Version', args: [] }],
  // Governance
  ['governance.bootstrap', (cc) => cc.governance.bootstrap('', ['HospitalAMSP', 'HospitalCMSP']), { contract: 'Governance', fn: 'Bootstrap', args: ['', '["HospitalAMSP","HospitalCMSP"]'] }],
  ['governance.getMembers', (cc) => cc.governance.getMembers(), { contract: 'Governance', fn: 'GetMembers', args: [] }],
  ['governance.propose', (cc) => cc.governance.propose({ kind: 'pause-route', routeId: 'r1' }), { contract: 'Governance', fn: 'Propose', args: ['{"kind":"pause-route","routeId":"r1"}'] }],
  ['governance.approve', (cc) => cc.governance.approve('p-1'), { contract: 'Governance', fn: 'Approve', args: ['p-1'] }],
  ['governance.getProposal', (cc) => cc.governance.getProposal('p-1'), { contract: 'Governance', fn: 'GetProposal', args: ['p-1'] }],
  // Consent
  ['consent.registerPatient', (cc) => cc.consent.registerPatient(publicKey), { contract: 'Consent', fn: 'RegisterPatient', args: [publicKey] }],
  ['consent.rotatePatientKey', (cc) => cc.consent.rotatePatientKey(rotation), { contract: 'Consent', fn: 'RotatePatientKey', args: [canonicalize(rotation)] }],
  ['consent.getPatient', (cc) => cc.consent.getPatient(patientId), { contract: 'Consent', fn: 'GetPatient', args: [patientId] }],
  ['consent.anchorRecord', (cc) => cc.consent.anchorRecord({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32) }), { contract: 'Consent', fn: 'AnchorRecord', args: ['rec-1', patientId, 'Observation', 'ab'.repeat(32)] }],
  ['consent.amendRecord', (cc) => cc.consent.amendRecord('rec-1', 'cd'.repeat(32), 1), { contract: 'Consent', fn: 'AmendRecord', args: ['rec-1', 'cd'.repeat(32), '1'] }],
  [
    'consent.anchorRecordWithPublicMetadata',
    (cc) => cc.consent.anchorRecordWithPublicMetadata({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32), metadata: LABELS }),
    { contract: 'Consent', fn: 'AnchorRecordWithMetadata', args: ['rec-1', patientId, 'Observation', 'ab'.repeat(32), canonicalize(LABELS)] },
  ],
  [
    'consent.amendRecordWithPublicMetadata',
    (cc) => cc.consent.amendRecordWithPublicMetadata('rec-1', 'cd'.repeat(32), 1, LABELS),
    { contract: 'Consent', fn: 'AmendRecordWithMetadata', args: ['rec-1', 'cd'.repeat(32), '1', canonicalize(LABELS)] },
  ],
  [
    'consent.labelRecord (private: this org endorsing alone)',
    (cc) => cc.consent.labelRecord('rec-1', 2, LABELS),
    { contract: 'Consent', fn: 'LabelRecord', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { recordId: 'rec-1', version: 2, metadata: LABELS } },
  ],
  [
    'consent.anchorRecordLabelled',
    (cc) => cc.consent.anchorRecordLabelled({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32) }),
    { contract: 'Consent', fn: 'AnchorRecordLabelled', args: ['rec-1', patientId, 'Observation', 'ab'.repeat(32)] },
  ],
  ['consent.amendRecordLabelled', (cc) => cc.consent.amendRecordLabelled('rec-1', 'cd'.repeat(32), 1), { contract: 'Consent', fn: 'AmendRecordLabelled', args: ['rec-1', 'cd'.repeat(32), '1'] }],
  ['consent.getRecordLabels', (cc) => cc.consent.getRecordLabels('rec-1'), { contract: 'Consent', fn: 'GetRecordLabels', args: ['rec-1'] }],
  [
    'consent.purgeRecordLabels (private: this org endorsing alone)',
    (cc) => cc.consent.purgeRecordLabels('rec-1'),
    { contract: 'Consent', fn: 'PurgeRecordLabels', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { recordId: 'rec-1' } },
  ],
  ['consent.getRecord', (cc) => cc.consent.getRecord('rec-1'), { contract: 'Consent', fn: 'GetRecord', args: ['rec-1'] }],
  ['consent.getRecordHistory', (cc) => cc.consent.getRecordHistory('rec-1', { pageSize: 100 }), { contract: 'Consent', fn: 'GetRecordHistory', args: ['rec-1', '100', ''] }],
  ['consent.verifyRecordHash (head)', (cc) => cc.consent.verifyRecordHash('rec-1', 'ab'.repeat(32)), { contract: 'Consent', fn: 'VerifyRecordHash', args: ['rec-1', 'ab'.repeat(32), ''] }],
  ['consent.verifyRecordHash (version)', (cc) => cc.consent.verifyRecordHash('rec-1', 'ab'.repeat(32), 2), { contract: 'Consent', fn: 'VerifyRecordHash', args: ['rec-1', 'ab'.repeat(32), '2'] }],
  ['consent.eraseRecord', (cc) => cc.consent.eraseRecord(erasure), { contract: 'Consent', fn: 'EraseRecord', args: [canonicalize(erasure)] }],
  [
    'consent.eraseRecordOnVerifiedRequest',
    (cc) => cc.consent.eraseRecordOnVerifiedRequest('rec-1', 'patient-in-person'),
    { contract: 'Consent', fn: 'EraseRecordOnVerifiedRequest', args: ['rec-1', 'patient-in-person'] },
  ],
  ['consent.getRecordErasure', (cc) => cc.consent.getRecordErasure('rec-1'), { contract: 'Consent', fn: 'GetRecordErasure', args: ['rec-1'] }],
  ['consent.authoriseGuardian', (cc) => cc.consent.authoriseGuardian(delegation), { contract: 'Consent', fn: 'AuthoriseGuardian', args: [canonicalize(delegation)] }],
  ['consent.revokeGuardian', (cc) => cc.consent.revokeGuardian(guardianRevocation), { contract: 'Consent', fn: 'RevokeGuardian', args: [canonicalize(guardianRevocation)] }],
  ['consent.getGuardian', (cc) => cc.consent.getGuardian(patientId, 'guardian-1'), { contract: 'Consent', fn: 'GetGuardian', args: [patientId, 'guardian-1'] }],
  ['consent.grantConsent', (cc) => cc.consent.grantConsent(grant), { contract: 'Consent', fn: 'GrantConsent', args: [canonicalize(grant)] }],
  ['consent.revokeConsent', (cc) => cc.consent.revokeConsent(revocation), { contract: 'Consent', fn: 'RevokeConsent', args: [canonicalize(revocation)] }],
  [
    'consent.grantConsent of a grant naming its keeper (private: the keeper endorsing alone)',
    (cc) => cc.consent.grantConsent(keptGrant),
    { contract: 'Consent', fn: 'GrantConsentPrivately', args: [], endorsingOrganizations: ['HospitalCMSP'], privateRequest: { signedGrant: keptGrant } },
  ],
  [
    'consent.revokeConsentPrivately (private: the keeper endorsing alone)',
    (cc) => cc.consent.revokeConsentPrivately(revocation, 'HospitalCMSP'),
    { contract: 'Consent', fn: 'RevokeConsentPrivately', args: [], endorsingOrganizations: ['HospitalCMSP'], privateRequest: { signedRevocation: revocation, keeper: 'HospitalCMSP' } },
  ],
  ['consent.getPrivateConsent', (cc) => cc.consent.getPrivateConsent('cs_1'), { contract: 'Consent', fn: 'GetPrivateConsent', args: ['cs_1'] }],
  ['consent.listPrivateConsents', (cc) => cc.consent.listPrivateConsents(patientId), { contract: 'Consent', fn: 'ListPrivateConsents', args: [patientId] }],
  ['consent.getConsent', (cc) => cc.consent.getConsent('cs_1'), { contract: 'Consent', fn: 'GetConsent', args: ['cs_1'] }],
  ['consent.listRecordsByPatient', (cc) => cc.consent.listRecordsByPatient(patientId, { pageSize: 20 }), { contract: 'Consent', fn: 'ListRecordsByPatient', args: [patientId, '20', ''] }],
  ['consent.listConsentsByPatient', (cc) => cc.consent.listConsentsByPatient(patientId, { pageSize: 50, bookmark: 'b1' }), { contract: 'Consent', fn: 'ListConsentsByPatient', args: [patientId, '50', 'b1'] }],
  ['consent.checkAccess', (cc) => cc.consent.checkAccess('HospitalBMSP', 'rec-1', 'TREAT'), { contract: 'Consent', fn: 'CheckAccess', args: ['HospitalBMSP', 'rec-1', 'TREAT'] }],
  [
    'consent.logAccess (private: the request in the transient map, the custodian endorsing alone)',
    (cc) => cc.consent.logAccess('HospitalBMSP', 'rec-1', 'TREAT', 'rq-1'),
    { contract: 'Consent', fn: 'LogAccess', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { purpose: 'TREAT', recordId: 'rec-1', requestId: 'rq-1', requesterOrg: 'HospitalBMSP' } },
  ],
  [
    'consent.checkAccessAs',
    (cc) => cc.consent.checkAccessAs({ org: 'HospitalBMSP', role: null, practitioner: null, careTeam: 'ct-1', policy: null }, 'rec-1', 'TREAT'),
    { contract: 'Consent', fn: 'CheckAccessAs', args: ['{"careTeam":"ct-1","org":"HospitalBMSP"}', 'rec-1', 'TREAT'] },
  ],
  [
    'consent.logAccessAs',
    (cc) => cc.consent.logAccessAs({ org: 'HospitalBMSP', role: 'clinician', practitioner: null, careTeam: null, policy: null }, 'rec-1', 'TREAT', 'rq-1'),
    {
      contract: 'Consent',
      fn: 'LogAccessAs',
      args: [],
      endorsingOrganizations: ['HospitalAMSP'],
      privateRequest: { purpose: 'TREAT', recordId: 'rec-1', requestId: 'rq-1', requester: { org: 'HospitalBMSP', role: 'clinician' } },
    },
  ],
  ['consent.listAccessLog', (cc) => cc.consent.listAccessLog(patientId), { contract: 'Consent', fn: 'ListAccessLog', args: [patientId, '', ''] }],
  ['consent.listRecordLabelsSigned', (cc) => cc.consent.listRecordLabelsSigned(recordsRead), { contract: 'Consent', fn: 'ListRecordLabelsSigned', args: [canonicalize(recordsRead)] }],
  ['consent.listAccessLogSigned', (cc) => cc.consent.listAccessLogSigned(read, { pageSize: 100, bookmark: 'b2' }), { contract: 'Consent', fn: 'ListAccessLogSigned', args: [canonicalize(read), '100', 'b2'] }],
  [
    'consent.breakGlass (one record of another custodian: private, that custodian endorsing alone)',
    (cc) => cc.consent.breakGlass({ patientId, recordId: 'rec-1', custodian: 'HospitalBMSP', reason: 'ED-TRIAGE-CODE-9', durationMinutes: 30 }),
    {
      contract: 'Consent',
      fn: 'BreakGlass',
      args: [],
      endorsingOrganizations: ['HospitalBMSP'],
      privateRequest: { patientId, recordId: 'rec-1', custodian: 'HospitalBMSP', reason: 'ED-TRIAGE-CODE-9', durationMinutes: '30' },
    },
  ],
  [
    'consent.breakGlass (every record this org holds)',
    (cc) => cc.consent.breakGlass({ patientId, reason: 'ED-TRIAGE-CODE-9' }),
    {
      contract: 'Consent',
      fn: 'BreakGlass',
      args: [],
      endorsingOrganizations: ['HospitalAMSP'],
      privateRequest: { patientId, recordId: '', custodian: 'HospitalAMSP', reason: 'ED-TRIAGE-CODE-9', durationMinutes: '' },
    },
  ],
  [
    'consent.reviewEmergency',
    (cc) => cc.consent.reviewEmergency('em-1', 'justified', 'HospitalBMSP'),
    { contract: 'Consent', fn: 'ReviewEmergency', args: [], endorsingOrganizations: ['HospitalBMSP'], privateRequest: { emergencyId: 'em-1', custodian: 'HospitalBMSP', outcome: 'justified' } },
  ],
  ['consent.reviewPublicEmergency', (cc) => cc.consent.reviewPublicEmergency('em-1', 'justified'), { contract: 'Consent', fn: 'ReviewPublicEmergency', args: ['em-1', 'justified'] }],
  ['consent.getEmergency', (cc) => cc.consent.getEmergency('em-1'), { contract: 'Consent', fn: 'GetEmergency', args: ['em-1', 'HospitalAMSP'] }],
  [
    'consent.getEmergency (at another custodian: its peer answers)',
    (cc) => cc.consent.getEmergency('em-1', 'HospitalBMSP'),
    { contract: 'Consent', fn: 'GetEmergency', args: ['em-1', 'HospitalBMSP'], endorsingOrganizations: ['HospitalBMSP'] },
  ],
  ['consent.listEmergencies', (cc) => cc.consent.listEmergencies({ pageSize: 20 }), { contract: 'Consent', fn: 'ListEmergencies', args: ['HospitalAMSP', '20', ''] }],
  ['consent.listRemoteConsents', (cc) => cc.consent.listRemoteConsents('HospitalBMSP'), { contract: 'Consent', fn: 'ListRemoteConsents', args: ['HospitalBMSP', '', ''] }],
  ['consent.checkRemoteConsent', (cc) => cc.consent.checkRemoteConsent('chain-a', 'cs_1', 'TREAT'), { contract: 'Consent', fn: 'CheckRemoteConsent', args: ['chain-a', 'cs_1', 'TREAT'] }],
  [
    'consent.checkRemoteAccess',
    (cc) => cc.consent.checkRemoteAccess('chain-a', 'cs_1', { requester: { org: 'HospitalBMSP', role: null, practitioner: null, careTeam: 'ct-1', policy: null }, purpose: 'TREAT', record: REMOTE_RECORD }),
    {
      contract: 'Consent',
      fn: 'CheckRemoteAccess',
      args: ['chain-a', 'cs_1', canonicalize({ purpose: 'TREAT', record: REMOTE_RECORD, requester: { careTeam: 'ct-1', org: 'HospitalBMSP' } })],
    },
  ],
  [
    'consent.registerPatientPrivately (private: this org endorsing alone)',
    (cc) => cc.consent.registerPatientPrivately('MFkw'),
    { contract: 'Consent', fn: 'RegisterPatientPrivately', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { publicKey: 'MFkw' } },
  ],
  [
    'consent.anchorRecordPrivately (private: this org endorsing alone)',
    (cc) => cc.consent.anchorRecordPrivately({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32) }),
    {
      contract: 'Consent',
      fn: 'AnchorRecordPrivately',
      args: [],
      endorsingOrganizations: ['HospitalAMSP'],
      privateRequest: { recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32), metadata: null },
    },
  ],
  [
    'consent.eraseRecordPrivately (private)',
    (cc) => cc.consent.eraseRecordPrivately(erasure),
    { contract: 'Consent', fn: 'EraseRecordPrivately', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { signedErasure: erasure } },
  ],
  [
    'consent.eraseRecordPrivatelyOnVerifiedRequest (private)',
    (cc) => cc.consent.eraseRecordPrivatelyOnVerifiedRequest('rec-1', 'patient-written'),
    { contract: 'Consent', fn: 'EraseRecordPrivatelyOnVerifiedRequest', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { recordId: 'rec-1', reasonCode: 'patient-written' } },
  ],
  ['consent.isRecordHeldPrivately', (cc) => cc.consent.isRecordHeldPrivately('rec-1'), { contract: 'Consent', fn: 'IsRecordHeldPrivately', args: ['rec-1'] }],
  [
    'consent.authoriseGuardianPrivately (private)',
    (cc) => cc.consent.authoriseGuardianPrivately(delegation),
    { contract: 'Consent', fn: 'AuthoriseGuardianPrivately', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { signedDelegation: delegation } },
  ],
  [
    'consent.revokeGuardianPrivately (private)',
    (cc) => cc.consent.revokeGuardianPrivately(guardianRevocation),
    { contract: 'Consent', fn: 'RevokeGuardianPrivately', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { signedRevocation: guardianRevocation } },
  ],
  [
    'consent.rotatePatientKeyPrivately (private)',
    (cc) => cc.consent.rotatePatientKeyPrivately(rotation),
    { contract: 'Consent', fn: 'RotatePatientKeyPrivately', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { signedRotation: rotation } },
  ],
  [
    'consent.amendRecordPrivately (private)',
    (cc) => cc.consent.amendRecordPrivately('rec-1', 'cd'.repeat(32), 1),
    { contract: 'Consent', fn: 'AmendRecordPrivately', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { recordId: 'rec-1', hash: 'cd'.repeat(32), expectedVersion: 1, metadata: null } },
  ],
  ['consent.getPrivateRecordVersion', (cc) => cc.consent.getPrivateRecordVersion('rec-1', 2), { contract: 'Consent', fn: 'GetPrivateRecordVersion', args: ['rec-1', '2'] }],
  [
    'crossChain.statement (private record anchor)',
    (cc) => cc.crossChain.statement({ kind: 'private-record-anchor', recordId: 'rec-1', version: 2, custodian: 'HospitalAMSP' }),
    { contract: 'CrossChain', fn: 'GetPrivateRecordAnchorAttestation', args: ['rec-1', '2', 'HospitalAMSP'] },
  ],
  [
    'consent.sealConsent (private: this org endorsing alone)',
    (cc) => cc.consent.sealConsent('cs_1', 'chain-b'),
    { contract: 'Consent', fn: 'SealConsent', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { consentId: 'cs_1', destChain: 'chain-b' } },
  ],
  ['consent.getSealedConsent', (cc) => cc.consent.getSealedConsent('ab'.repeat(32), 'HospitalBMSP'), { contract: 'Consent', fn: 'GetSealedConsent', args: ['ab'.repeat(32), 'HospitalBMSP'] }],
  [
    'consent.deliverSealedConsent (private: this org endorsing alone)',
    (cc) => cc.consent.deliverSealedConsent('{"format":"x"}'),
    { contract: 'Consent', fn: 'DeliverSealedConsent', args: [], endorsingOrganizations: ['HospitalAMSP'], privateRequest: { sealed: '{"format":"x"}' } },
  ],
  ['consent.getSealedArrival', (cc) => cc.consent.getSealedArrival('chain-a', 'cd'.repeat(32)), { contract: 'Consent', fn: 'GetSealedArrival', args: ['chain-a', 'cd'.repeat(32)] }],
  ['consent.listSealedArrivals', (cc) => cc.consent.listSealedArrivals('chain-a'), { contract: 'Consent', fn: 'ListSealedArrivals', args: ['chain-a', '', ''] }],
  ['consent.listConsentSeals', (cc) => cc.consent.listConsentSeals('cs_1'), { contract: 'Consent', fn: 'ListConsentSeals', args: ['cs_1'] }],
  ['consent.listSealedRemoteConsents', (cc) => cc.consent.listSealedRemoteConsents(), { contract: 'Consent', fn: 'ListSealedRemoteConsents', args: [] }],
  [
    'crossChain.sendPacket (consent.sealed)',
    (cc) => cc.crossChain.sendPacket('chain-b', 'consent.sealed', { routeId: 'r1', ref: 'ab'.repeat(32) }),
    { contract: 'CrossChain', fn: 'SendPacket', args: ['chain-b', 'consent.sealed', `{"routeId":"r1","ref":"${'ab'.repeat(32)}"}`] },
  ],
  // CrossChain
  ['crossChain.getNodeList (current)', (cc) => cc.crossChain.getNodeList(), { contract: 'CrossChain', fn: 'GetNodeList', args: [''] }],
  ['crossChain.getNodeList (epoch)', (cc) => cc.crossChain.getNodeList(3), { contract: 'CrossChain', fn: 'GetNodeList', args: ['3'] }],
  ['crossChain.statement (epoch link)', (cc) => cc.crossChain.statement({ kind: 'epoch-link', toEpoch: 4 }), { contract: 'CrossChain', fn: 'GetEpochLinkMessage', args: ['4'] }],
  ['crossChain.getRemoteChain', (cc) => cc.crossChain.getRemoteChain('chain-b'), { contract: 'CrossChain', fn: 'GetRemoteChain', args: ['chain-b'] }],
  ['crossChain.getRoute', (cc) => cc.crossChain.getRoute('r1'), { contract: 'CrossChain', fn: 'GetRoute', args: ['r1'] }],
  ['crossChain.listRemoteChains', (cc) => cc.crossChain.listRemoteChains(), { contract: 'CrossChain', fn: 'ListRemoteChains', args: [] }],
  ['crossChain.listRoutes', (cc) => cc.crossChain.listRoutes(), { contract: 'CrossChain', fn: 'ListRoutes', args: [] }],
  ['crossChain.sendPacket (ping)', (cc) => cc.crossChain.sendPacket('chain-b', 'ping', { routeId: 'r1', payload: { hello: 1 } }), { contract: 'CrossChain', fn: 'SendPacket', args: ['chain-b', 'ping', '{"routeId":"r1","payload":{"hello":1}}'] }],
  ['crossChain.grantAndSend', (cc) => cc.crossChain.grantAndSend(grant, 'chain-b', { routeId: 'r1' }), { contract: 'CrossChain', fn: 'GrantAndSend', args: [canonicalize(grant), 'chain-b', '{"routeId":"r1"}'] }],
  ['crossChain.sendPacket (consent)', (cc) => cc.crossChain.sendPacket('chain-b', 'consent.grant', { consentId: 'cs_1', timeoutAfterMs: 5000 }), { contract: 'CrossChain', fn: 'SendPacket', args: ['chain-b', 'consent.grant', '{"consentId":"cs_1","timeoutAfterMs":5000}'] }],
  ['crossChain.statement (packet)', (cc) => cc.crossChain.statement({ kind: 'packet', routeId: 'r1', sequence: 3 }), { contract: 'CrossChain', fn: 'GetPacketCommitment', args: ['r1', '3'] }],
  ['crossChain.statement (record anchor, head)', (cc) => cc.crossChain.statement({ kind: 'record-anchor', recordId: 'rec-1' }), { contract: 'CrossChain', fn: 'GetRecordAnchorAttestation', args: ['rec-1', ''] }],
  ['crossChain.statement (record anchor, version)', (cc) => cc.crossChain.statement({ kind: 'record-anchor', recordId: 'rec-1', version: 2 }), { contract: 'CrossChain', fn: 'GetRecordAnchorAttestation', args: ['rec-1', '2'] }],
  ['crossChain.getPacket', (cc) => cc.crossChain.getPacket('r1', 3), { contract: 'CrossChain', fn: 'GetPacket', args: ['r1', '3'] }],
  ['crossChain.listPackets', (cc) => cc.crossChain.listPackets('r1', { pageSize: 100 }), { contract: 'CrossChain', fn: 'ListPackets', args: ['r1', '100', ''] }],
  ['crossChain.acknowledgePacket', (cc) => cc.crossChain.acknowledgePacket(ack, proof), { contract: 'CrossChain', fn: 'AcknowledgePacket', args: [JSON.stringify(ack), JSON.stringify(proof)] }],
  ['crossChain.timeoutPacket', (cc) => cc.crossChain.timeoutPacket(ack, proof), { contract: 'CrossChain', fn: 'TimeoutPacket', args: [JSON.stringify(ack), JSON.stringify(proof)] }],
  ['crossChain.receivePacket', (cc) => cc.crossChain.receivePacket(packet, proof), { contract: 'CrossChain', fn: 'ReceivePacket', args: [JSON.stringify(packet), JSON.stringify(proof)] }],
  ['crossChain.receivePackets', (cc) => cc.crossChain.receivePackets([packet], proof), { contract: 'CrossChain', fn: 'ReceivePackets', args: [JSON.stringify([packet]), JSON.stringify(proof)] }],
  ['crossChain.sendPackets', (cc) => cc.crossChain.sendPackets([{ destChain: 'chain-b', type: 'ping', args: { routeId: 'r1', payload: { i: 1 } } }]), { contract: 'CrossChain', fn: 'SendPackets', args: ['[{"destChain":"chain-b","type":"ping","args":{"routeId":"r1","payload":{"i":1}}}]'] }],
  ['crossChain.acknowledgePackets', (cc) => cc.crossChain.acknowledgePackets([ack], proof), { contract: 'CrossChain', fn: 'AcknowledgePackets', args: [JSON.stringify([ack]), JSON.stringify(proof)] }],
  ['crossChain.statement (packet batch)', (cc) => cc.crossChain.statement({ kind: 'packet-batch', routeId: 'r1', fromSequence: 3, count: 2 }), { contract: 'CrossChain', fn: 'GetPacketBatchCommitment', args: ['r1', '3', '2'] }],
  ['crossChain.statement (ack batch)', (cc) => cc.crossChain.statement({ kind: 'ack-batch', routeId: 'r1', fromSequence: 3, count: 2 }), { contract: 'CrossChain', fn: 'GetAckBatchCommitment', args: ['r1', '3', '2'] }],
  ['crossChain.statement (packet runs)', (cc) => cc.crossChain.statement({ kind: 'packet-runs', runs: [{ routeId: 'r1', fromSequence: 3, count: 2 }, { routeId: 'r2', fromSequence: 1, count: 1 }] }), { contract: 'CrossChain', fn: 'GetPacketRunsCommitment', args: ['[{"count":2,"fromSequence":3,"routeId":"r1"},{"count":1,"fromSequence":1,"routeId":"r2"}]'] }],
  ['crossChain.statement (ack runs)', (cc) => cc.crossChain.statement({ kind: 'ack-runs', runs: [{ routeId: 'r1', fromSequence: 3, count: 2 }, { routeId: 'r2', fromSequence: 1, count: 1 }] }), { contract: 'CrossChain', fn: 'GetAckRunsCommitment', args: ['[{"count":2,"fromSequence":3,"routeId":"r1"},{"count":1,"fromSequence":1,"routeId":"r2"}]'] }],
  ['crossChain.recordTimeout', (cc) => cc.crossChain.recordTimeout(packet, proof), { contract: 'CrossChain', fn: 'RecordTimeout', args: [JSON.stringify(packet), JSON.stringify(proof)] }],
  ['crossChain.statement (ack)', (cc) => cc.crossChain.statement({ kind: 'ack', routeId: 'r1', sequence: 3 }), { contract: 'CrossChain', fn: 'GetAckCommitment', args: ['r1', '3'] }],
  ['crossChain.getReceipt', (cc) => cc.crossChain.getReceipt('r1', 3), { contract: 'CrossChain', fn: 'GetReceipt', args: ['r1', '3'] }],
  ['crossChain.listReceipts', (cc) => cc.crossChain.listReceipts('r1'), { contract: 'CrossChain', fn: 'ListReceipts', args: ['r1', '', ''] }],
  ['crossChain.listEvidence', (cc) => cc.crossChain.listEvidence('r1'), { contract: 'CrossChain', fn: 'ListEvidence', args: ['r1'] }],
  ['crossChain.submitRemoteEvidence', (cc) => cc.crossChain.submitRemoteEvidence('chain-b', evidence), { contract: 'CrossChain', fn: 'SubmitRemoteEvidence', args: ['chain-b', JSON.stringify(evidence)] }],
  ['crossChain.listRemoteExclusions', (cc) => cc.crossChain.listRemoteExclusions('chain-b'), { contract: 'CrossChain', fn: 'ListRemoteExclusions', args: ['chain-b'] }],
  // Incentive
  ['incentive.getBalance', (cc) => cc.incentive.getBalance('org:HospitalAMSP'), { contract: 'Incentive', fn: 'GetBalance', args: ['org:HospitalAMSP'] }],
  ['incentive.listAccounts', (cc) => cc.incentive.listAccounts({ pageSize: 200, bookmark: 'k' }), { contract: 'Incentive', fn: 'ListAccounts', args: ['200', 'k'] }],
  ['incentive.transfer', (cc) => cc.incentive.transfer('org:HospitalAMSP', 'org:HospitalCMSP', 25), { contract: 'Incentive', fn: 'Transfer', args: ['org:HospitalAMSP', 'org:HospitalCMSP', '25'] }],
  ['incentive.mint', (cc) => cc.incentive.mint('org:HospitalAMSP', 1000, 'fund A'), { contract: 'Incentive', fn: 'Mint', args: ['org:HospitalAMSP', '1000', 'fund A'] }],
  ['incentive.setParams', (cc) => cc.incentive.setParams(params, 'on'), { contract: 'Incentive', fn: 'SetParams', args: ['{"minFee":10}', 'on'] }],
  ['incentive.treasuryTransfer', (cc) => cc.incentive.treasuryTransfer('org:HospitalCMSP', 7, 'grant'), { contract: 'Incentive', fn: 'TreasuryTransfer', args: ['org:HospitalCMSP', '7', 'grant'] }],
  ['incentive.approveAction (mint)', (cc) => cc.incentive.approveAction({ kind: 'mint', to: 'org:HospitalAMSP', amount: 5, memo: 'm' }), { contract: 'Incentive', fn: 'Mint', args: ['org:HospitalAMSP', '5', 'm'] }],
  ['incentive.approveAction (set-params)', (cc) => cc.incentive.approveAction({ kind: 'set-params', params, memo: 'p' }), { contract: 'Incentive', fn: 'SetParams', args: ['{"minFee":10}', 'p'] }],
  ['incentive.approveAction (treasury)', (cc) => cc.incentive.approveAction({ kind: 'treasury-transfer', to: 'org:HospitalCMSP', amount: 9, memo: 't' }), { contract: 'Incentive', fn: 'TreasuryTransfer', args: ['org:HospitalCMSP', '9', 't'] }],
  ['incentive.getParams', (cc) => cc.incentive.getParams(), { contract: 'Incentive', fn: 'GetParams', args: [] }],
  ['incentive.getSupply', (cc) => cc.incentive.getSupply(), { contract: 'Incentive', fn: 'GetSupply', args: [] }],
  ['incentive.listMints', (cc) => cc.incentive.listMints(), { contract: 'Incentive', fn: 'ListMints', args: ['', ''] }],
  ['incentive.getValueProposal', (cc) => cc.incentive.getValueProposal('vp-1'), { contract: 'Incentive', fn: 'GetValueProposal', args: ['vp-1'] }],
  ['incentive.getEscrow', (cc) => cc.incentive.getEscrow('r1', 3), { contract: 'Incentive', fn: 'GetEscrow', args: ['r1', '3'] }],
  ['incentive.deposit', (cc) => cc.incentive.deposit('peer0.hospitala', 500), { contract: 'Incentive', fn: 'Deposit', args: ['peer0.hospitala', '500'] }],
  ['incentive.unbond', (cc) => cc.incentive.unbond('peer0.hospitala', 100), { contract: 'Incentive', fn: 'Unbond', args: ['peer0.hospitala', '100'] }],
  ['incentive.withdraw', (cc) => cc.incentive.withdraw('peer0.hospitala'), { contract: 'Incentive', fn: 'Withdraw', args: ['peer0.hospitala'] }],
  ['incentive.getStake', (cc) => cc.incentive.getStake('peer0.hospitala'), { contract: 'Incentive', fn: 'GetStake', args: ['peer0.hospitala'] }],
  ['incentive.listStakes', (cc) => cc.incentive.listStakes({ pageSize: 200 }), { contract: 'Incentive', fn: 'ListStakes', args: ['200', ''] }],
  ['incentive.submitEvidence', (cc) => cc.incentive.submitEvidence(evidence), { contract: 'Incentive', fn: 'SubmitEvidence', args: [JSON.stringify(evidence)] }],
];

/** The chaincode's own transaction declarations: name -> mode and parameter count (fabric-contract-api metadata). */
function declared(contract: object): Map<string, { mode: 'evaluate' | 'submit'; params: number }> {
  const txs = (Reflect.getMetadata('fabric:transactions', contract) ?? []) as Array<{ name: string; tag: string[]; parameters: unknown[] }>;
  return new Map(txs.map((t) => [t.name, { mode: t.tag.includes('EVALUATE') ? 'evaluate' : 'submit', params: t.parameters.length }]));
}

const CONTRACTS: Array<[name: string, table: TransactionTable, chaincode: object]> = [
  ['System', SystemTransactions, SystemContract.prototype],
  ['Governance', GovernanceTransactions, GovernanceContract.prototype],
  ['Consent', ConsentTransactions, ConsentContract.prototype],
  ['CrossChain', CrossChainTransactions, CrossChainContract.prototype],
  ['Incentive', IncentiveTransactions, IncentiveContract.prototype],
];

describe('typed chaincode client', () => {
  describe('transaction tables', () => {
    it.each(CONTRACTS)('%s: names every transaction of the chaincode contract, in the mode the chaincode declares', (_name, table, chaincode) => {
      const own = declared(chaincode);
      expect(own.size).toBeGreaterThan(0);
      expect(Object.keys(table).sort()).toEqual([...own.keys()].sort());
      for (const [fn, d] of own) expect([fn, table[fn]]).toEqual([fn, d.mode]);
    });

    it('has a call below for every transaction of every contract', () => {
      const called = new Set(CASES.map(([, , e]) => `${e.contract}:${e.fn}`));
      const all = CONTRACTS.flatMap(([name, table]) => Object.keys(table).map((fn) => `${name}:${fn}`));
      expect(all.filter((t) => !called.has(t))).toEqual([]);
    });
  });

  describe('sends under a shared send counter', () => {
    const conflictOnce = (): Responder => {
      let first = true;
      return () => {
        const status = first ? 11 : 0; // 11 = MVCC_READ_CONFLICT
        first = false;
        return { result: '{"sent":{}}', status };
      };
    };

    it.each([
      ['crossChain.sendPacket', (cc: Chaincode) => cc.crossChain.sendPacket('chain-b', 'ping', { routeId: 'r1', payload: { i: 1 } })],
      ['crossChain.grantAndSend', (cc: Chaincode) => cc.crossChain.grantAndSend(grant, 'chain-b', { routeId: 'r1' })],
    ])('%s proposes again after its commit lost a conflict, and commits', async (_label, send) => {
      const { conn, cc } = fake(conflictOnce());
      const r = await send(cc);
      expect(conn.calls).toHaveLength(2);
      expect(r.txId).toBe('tx-chain-a-2');
    });

    it('gives up after two more proposals with the conflict as its error', async () => {
      const { conn, cc } = fake(() => ({ result: '{}', status: 11 }));
      await expect(cc.crossChain.sendPacket('chain-b', 'ping', { routeId: 'r1', payload: { i: 1 } })).rejects.toMatchObject({ code: 'COMMIT_FAILED' });
      expect(conn.calls).toHaveLength(3);
    });
  });

  describe('calls', () => {
    it.each(CASES)('%s sends its transaction with the arguments the chaincode reads', async (_label, call, expected) => {
      const { conn, cc } = fake(() => ({ result: '{"ok":true}' }));
      await call(cc);
      const table = Object.fromEntries(CONTRACTS.map(([n, t]) => [n, t]));
      const mode = table[expected.contract]?.[expected.fn];
      expect(conn.calls).toEqual([{ ...expected, mode }]);
      const chaincode = CONTRACTS.find(([n]) => n === expected.contract)![2];
      expect(expected.args).toHaveLength(declared(chaincode).get(expected.fn)!.params);
    });

    it('runs every call on the chaincode of its own channel; onChannel switches channel with the same client', async () => {
      const { conn, cc } = fake();
      const seen: string[] = [];
      const contract = conn.contract.bind(conn);
      conn.contract = (channel: string, name?: string) => {
        seen.push(`${channel}/${name}`);
        return contract(channel, name);
      };
      await cc.system.ping();
      await cc.onChannel('chain-x').system.ping();
      expect(seen).toEqual(['chain-a/System', 'chain-x/System']);
      expect(cc.onChannel('chain-a')).toBe(cc);
    });

    it('anchors and amends with metadata in two transactions: the labels privately, then the anchor naming them', async () => {
      const { conn, cc } = fake(() => ({ result: '{"ok":true}' }));
      await cc.consent.anchorRecord({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32), metadata: LABELS });
      await cc.consent.amendRecord('rec-1', 'cd'.repeat(32), 1, LABELS);
      expect(conn.calls.map((c) => [c.fn, c.args, c.privateRequest, c.endorsingOrganizations])).toEqual([
        ['LabelRecord', [], { recordId: 'rec-1', version: 1, metadata: LABELS }, ['HospitalAMSP']],
        ['AnchorRecordLabelled', ['rec-1', patientId, 'Observation', 'ab'.repeat(32)], undefined, undefined],
        ['LabelRecord', [], { recordId: 'rec-1', version: 2, metadata: LABELS }, ['HospitalAMSP']],
        ['AmendRecordLabelled', ['rec-1', 'cd'.repeat(32), '1'], undefined, undefined],
      ]);
    });

    it('proposes a labelled anchor again while another org\'s peer has not committed the labels (NOT_FOUND), and gives up on any other refusal', async () => {
      let misses = 2;
      const { conn, cc } = fake((call) => (call.fn === 'AnchorRecordLabelled' && misses-- > 0 ? { error: endorseRejection('NOT_FOUND: version 1 of rec-1 has no private metadata') } : { result: '{"ok":true}' }));
      await cc.consent.anchorRecordLabelled({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32) });
      expect(conn.calls.map((c) => c.fn)).toEqual(['AnchorRecordLabelled', 'AnchorRecordLabelled', 'AnchorRecordLabelled']);
      const refused = fake(() => ({ error: endorseRejection('NOT_CUSTODIAN: only HospitalCMSP may amend rec-1') }));
      await expect(refused.cc.consent.amendRecordLabelled('rec-1', 'cd'.repeat(32), 1)).rejects.toMatchObject({ code: 'NOT_CUSTODIAN' });
      expect(refused.conn.calls).toHaveLength(1);
    });

    it('finds a consent in public state first, then among the private consents this org keeps', async () => {
      const { conn, cc } = fake((call) => (call.fn === 'GetConsent' ? { error: endorseRejection('NOT_FOUND: consent cs_1') } : { result: '{"consentId":"cs_1"}' }));
      await expect(cc.consent.findConsent('cs_1')).resolves.toEqual({ consentId: 'cs_1' });
      expect(conn.calls.map((c) => [c.fn, c.args])).toEqual([
        ['GetConsent', ['cs_1']],
        ['GetPrivateConsent', ['cs_1']],
      ]);
      const refused = fake(() => ({ error: endorseRejection('UNAUTHORIZED: no role') }));
      await expect(refused.cc.consent.findConsent('cs_1')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      expect(refused.conn.calls).toHaveLength(1);
    });

    it('passes submit options (endorsing orgs) through', async () => {
      const { conn, cc } = fake();
      await cc.crossChain.receivePacket(packet, proof, { endorsingOrgs: ['HospitalAMSP'] });
      expect(conn.calls[0]?.endorsingOrganizations).toEqual(['HospitalAMSP']);
    });
  });

  describe('results', () => {
    it('decodes JSON results, and an empty result as null', async () => {
      const { cc } = fake((c) => ({ result: c.fn === 'LastHeartbeat' ? '' : '{"chaincode":"medbridge","version":"0.1.0"}' }));
      expect(await cc.system.version()).toEqual({ chaincode: 'medbridge', version: '0.1.0' });
      expect(await cc.system.lastHeartbeat('HospitalCMSP')).toBeNull();
    });

    it('returns a submitted result with its transaction id and block', async () => {
      const { cc } = fake(() => ({ result: '{"mspId":"HospitalAMSP","note":"n","txId":"t","txTimeMs":1}' }));
      expect(await cc.system.heartbeat('n')).toEqual({ result: { mspId: 'HospitalAMSP', note: 'n', txId: 't', txTimeMs: 1 }, txId: 'tx-chain-a-1', blockNumber: 42n });
    });

    it('returns statements as the exact bytes the peer returned, never re-encoded', async () => {
      const message = Buffer.from('{"domain":"medbridge/packet/v1", "spaced":true}');
      const { cc } = fake(() => ({ result: new Uint8Array(message) }));
      const got = await cc.crossChain.statement({ kind: 'packet', routeId: 'r1', sequence: 3 });
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got.equals(message)).toBe(true);
    });

    it('reads the chain id once per Chaincode, and again after a failed read', async () => {
      let fail = true;
      const { conn, cc } = fake(() => {
        if (fail) {
          fail = false;
          return { error: new GatewayError({ code: 14, message: '14 UNAVAILABLE: connection refused', details: [], cause: grpcError(14) }) };
        }
        return { result: '{"chainId":"chain-a","members":["HospitalAMSP","HospitalCMSP"]}' };
      });
      await expect(cc.chainId()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await cc.chainId()).toBe('chain-a');
      expect(await cc.chainId()).toBe('chain-a');
      expect(conn.calls.map((c) => `${c.contract}:${c.fn}`)).toEqual(['Governance:GetMembers', 'Governance:GetMembers']);
    });

    it('reads every page of a list until the bookmark is empty', async () => {
      const pages: Record<string, string> = { '': '{"items":[{"id":"a"},{"id":"b"}],"bookmark":"k2"}', k2: '{"items":[{"id":"c"}],"bookmark":""}' };
      const { conn, cc } = fake((c) => ({ result: pages[c.args[1] ?? ''] ?? '{"items":[],"bookmark":""}' }));
      const all = await allPages((page) => cc.incentive.listAccounts({ ...page, pageSize: 2 }));
      expect(all).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
      expect(conn.calls.map((c) => c.args)).toEqual([
        ['2', ''],
        ['2', 'k2'],
      ]);
    });
  });

  describe('errors', () => {
    it("maps a chaincode rejection at endorsement to the chaincode's own code and message", async () => {
      const { cc } = fake(() => ({ error: endorseRejection('NOT_CUSTODIAN: only HospitalAMSP, the custodian of rec-1, logs its disclosures') }));
      const err = await cc.consent.logAccess('HospitalBMSP', 'rec-1', 'TREAT').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(err).toMatchObject({ code: 'NOT_CUSTODIAN', kind: 'rejected', message: 'only HospitalAMSP, the custodian of rec-1, logs its disclosures', txId: 'tx-rejected' });
      expect((err as ClientError).exitCode).toBe(3);
    });

    it('maps a rejected evaluation the same way', async () => {
      const { cc } = fake(() => ({ error: endorseRejection('NOT_FOUND: record rec-9 does not exist') }));
      await expect(cc.consent.getRecord('rec-9')).rejects.toMatchObject({ code: 'NOT_FOUND', kind: 'rejected', message: 'record rec-9 does not exist' });
    });

    it('maps an unreachable peer to UNAVAILABLE with what to do next', async () => {
      const { cc } = fake(() => ({ error: new GatewayError({ code: 14, message: '14 UNAVAILABLE: No connection established', details: [], cause: grpcError(14) }) }));
      const err = (await cc.system.ping().catch((e: unknown) => e)) as ClientError;
      expect(err).toMatchObject({ code: 'UNAVAILABLE', kind: 'unavailable' });
      expect(err.message).toBe('System:Ping on chain-a: peer 127.0.0.1:7051 unreachable');
      expect(err.hint).toMatch(/network-status/);
      expect(err.exitCode).toBe(4);
    });

    it('maps a transaction committed as invalid to COMMIT_FAILED with the validation code', async () => {
      const { cc } = fake(() => ({ result: '{}', status: 11 }));
      const err = (await cc.incentive.transfer('org:HospitalAMSP', 'org:HospitalCMSP', 1).catch((e: unknown) => e)) as ClientError;
      expect(err).toMatchObject({ code: 'COMMIT_FAILED', kind: 'rejected', txId: 'tx-chain-a-1' });
      expect(err.message).toBe('Incentive:Transfer on chain-a: transaction tx-chain-a-1 was not committed: MVCC_READ_CONFLICT');
    });

    it('orAbsent turns only the named codes into undefined', async () => {
      const { cc } = fake((c) => ({ error: endorseRejection(c.fn === 'GetStake' ? 'NOT_FOUND: node n1 has no stake' : 'UNKNOWN_CHAIN: chain-z is not a registered remote chain') }));
      expect(await orAbsent(cc.incentive.getStake('n1'))).toBeUndefined();
      await expect(orAbsent(cc.crossChain.getRemoteChain('chain-z'))).rejects.toMatchObject({ code: 'UNKNOWN_CHAIN' });
      expect(await orAbsent(cc.crossChain.getRemoteChain('chain-z'), ['UNKNOWN_CHAIN'])).toBeUndefined();
    });
  });

  describe('events', () => {
    const event = (eventName: string, payload: unknown, blockNumber: bigint): FabricEvent => ({
      blockNumber,
      transactionId: `tx-${blockNumber}`,
      chaincodeName: 'medbridge',
      eventName,
      payload: Buffer.from(JSON.stringify(payload)),
    });
    const stream = [
      event('PacketSent', { routeId: 'r1', sequence: 1, packetHash: 'h', packet }, 5n),
      event('SomethingNewer', { x: 1 }, 6n),
      event('PacketReceived', { routeId: 'r1', sequence: 1, outcome: 'success', ack, ackHash: 'a', signers: ['n1'], epoch: 1 }, 7n),
    ];

    it('yields known events typed by name, in commit order, and skips names this client does not know', async () => {
      const { conn, cc } = fake(undefined, stream);
      const seen: Array<Pick<ChaincodeEvent, 'name' | 'txId' | 'blockNumber'>> = [];
      const events = await cc.events({ startBlock: 5n });
      for await (const e of events) seen.push({ name: e.name, txId: e.txId, blockNumber: e.blockNumber });
      expect(seen).toEqual([
        { name: 'PacketSent', txId: 'tx-5', blockNumber: 5n },
        { name: 'PacketReceived', txId: 'tx-7', blockNumber: 7n },
      ]);
      expect(conn.eventRequests).toEqual([{ channel: 'chain-a', chaincode: 'medbridge', options: { startBlock: 5n } }]);
    });

    it('on() calls the handler with the payloads of the named events only', async () => {
      const { cc } = fake(undefined, stream);
      const got: number[][] = [];
      const sub = await cc.on(['PacketReceived'], (e) => {
        got.push([e.payload.sequence, e.payload.epoch]);
      });
      await sub.done;
      await sub.close();
      expect(got).toEqual([[1, 1]]);
    });
  });

  describe('services on the client', () => {
    it('CrossChainService sends a consent as its current state: a revoked consent goes as consent.revoke', async () => {
      const { conn, cc } = fake((c) => ({ result: c.fn === 'GetConsent' ? '{"consentId":"cs_1","status":"revoked"}' : '{"routeId":"r1","sequence":4}' }));
      const sent = await new CrossChainService(cc).sendConsent('chain-b', 'cs_1', { routeId: 'r1' });
      expect(sent.result).toEqual({ routeId: 'r1', sequence: 4 });
      expect(conn.calls.map((c) => [c.fn, c.mode, ...c.args])).toEqual([
        ['GetConsent', 'evaluate', 'cs_1'],
        ['SendPacket', 'submit', 'chain-b', 'consent.revoke', '{"routeId":"r1","consentId":"cs_1"}'],
      ]);
    });

    it('RecordAnchors anchors and amends through Consent where the patient is held, passing the head version it replaces', async () => {
      const held = { patient: false, record: false };
      const { conn, cc } = fake((c) => {
        if (c.fn === 'GetPatient') return { result: JSON.stringify({ patientId, ...(held.patient ? { heldPrivately: true } : {}) }) };
        if (c.fn === 'IsRecordHeldPrivately') return { result: JSON.stringify({ recordId: 'rec-1', heldPrivately: held.record }) };
        return { result: '{"recordId":"rec-1","version":2}' };
      });
      const anchors = new RecordAnchors(cc);
      await anchors.anchor({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32) });
      expect((await anchors.amend('rec-1', 'cd'.repeat(32), 1)).result).toEqual({ recordId: 'rec-1', version: 2 });
      expect(conn.calls.map((c) => [c.fn, c.mode, ...c.args])).toEqual([
        ['GetPatient', 'evaluate', patientId],
        ['AnchorRecord', 'submit', 'rec-1', patientId, 'Observation', 'ab'.repeat(32)],
        ['IsRecordHeldPrivately', 'evaluate', 'rec-1'],
        ['AmendRecord', 'submit', 'rec-1', 'cd'.repeat(32), '1'],
      ]);
      // A patient this org registered privately: both go to the private transactions (transient map, no arguments).
      held.patient = held.record = true;
      conn.calls.splice(0);
      await anchors.anchor({ recordId: 'rec-1', patientId, category: 'Observation', hash: 'ab'.repeat(32) }).catch(() => undefined);
      await anchors.amend('rec-1', 'cd'.repeat(32), 1).catch(() => undefined);
      expect(conn.calls.map((c) => c.fn)).toEqual(['GetPatient', 'AnchorRecordPrivately', 'IsRecordHeldPrivately', 'AmendRecordPrivately']);
      // An explicit choice needs no lookup.
      conn.calls.splice(0);
      await anchors.anchor({ recordId: 'rec-2', patientId, category: 'Observation', hash: 'ab'.repeat(32) }, false);
      expect(conn.calls.map((c) => c.fn)).toEqual(['AnchorRecord']);
    });

    it('ConsentService registers a patient once per org: privately when new, publicly when the chain already has them publicly, never a second copy', async () => {
      const answer = { patient: 'none' as 'none' | 'public' | 'private' };
      const { conn, cc } = fake((c) => {
        if (c.fn !== 'GetPatient') return { result: JSON.stringify({ patientId }) };
        if (answer.patient === 'none') return { error: endorseRejection(`PATIENT_NOT_REGISTERED: patient ${patientId} is not registered on this channel`) };
        return { result: JSON.stringify({ patientId, ...(answer.patient === 'private' ? { heldPrivately: true } : {}) }) };
      });
      const consents = new ConsentService(cc);
      await consents.registerPatient({ publicKey }, { privately: true }).catch(() => undefined);
      expect(conn.calls.map((c) => c.fn)).toEqual(['GetPatient', 'RegisterPatientPrivately']);
      answer.patient = 'public';
      conn.calls.splice(0);
      await consents.registerPatient({ publicKey }, { privately: true });
      expect(conn.calls.map((c) => c.fn)).toEqual(['GetPatient', 'RegisterPatient']);
      answer.patient = 'private';
      conn.calls.splice(0);
      await expect(consents.registerPatient({ publicKey })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(conn.calls.map((c) => c.fn)).toEqual(['GetPatient']);
    });

    it('IncentiveService reports no stake as undefined, and approves a proposal read back by id through its own transaction', async () => {
      const { conn, cc } = fake((c) => {
        if (c.fn === 'GetStake') return { error: endorseRejection('NOT_FOUND: node n1 has no stake') };
        if (c.fn === 'GetValueProposal') return { result: '{"proposalId":"vp-1","action":{"kind":"treasury-transfer","to":"org:HospitalCMSP","amount":9,"memo":"t"}}' };
        return { result: '{"proposalId":"vp-1","status":"executed"}' };
      });
      const value = new IncentiveService(cc);
      expect(await value.stake('n1')).toBeUndefined();
      await expect(value.stakeStatus('n1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect((await value.approveProposal('vp-1')).result).toEqual({ proposalId: 'vp-1', status: 'executed' });
      expect(conn.calls.slice(2).map((c) => [c.fn, ...c.args])).toEqual([
        ['GetValueProposal', 'vp-1'],
        ['TreasuryTransfer', 'org:HospitalCMSP', '9', 't'],
      ]);
    });
  });

  describe('against the real contracts on the fake ledger', () => {
    let ledger: FakeLedger;
    let admin: FakeIdentity;
    let user: FakeIdentity;
    const instances: Record<string, object> = {
      System: new SystemContract(),
      Governance: new GovernanceContract(),
      Consent: new ConsentContract(),
      CrossChain: new CrossChainContract(),
      Incentive: new IncentiveContract(),
    };

    /** A peer: runs the contract method on the ledger as `who`; a MedbridgeError comes back as the gateway reports it. */
    const peerAs = (who: () => FakeIdentity): Responder => async (c) => {
      const contract = instances[c.contract] as Record<string, (ctx: Context, ...args: string[]) => Promise<string>>;
      try {
        const out = await ledger.invoke({ identity: who(), timeMs: Date.now() }, async (ctx) => {
          await (contract as unknown as { beforeTransaction(ctx: Context): Promise<void> }).beforeTransaction(ctx);
          return contract[c.fn]!.call(contract, ctx, ...c.args);
        });
        return { result: out };
      } catch (e) {
        if (e instanceof MedbridgeError) return { error: endorseRejection(e.message) };
        throw e;
      }
    };

    beforeAll(async () => {
      const org = await createOrg('HospitalAMSP');
      admin = { mspId: 'HospitalAMSP', certPem: (await org.admin('admin-a')).certPem };
      user = { mspId: 'HospitalAMSP', certPem: (await org.client('gateway-a')).certPem };
    });

    beforeEach(() => {
      ledger = new FakeLedger('chain-a');
    });

    it('bootstraps the channel as an admin and reads the members and chain id back, typed', async () => {
      const { cc } = fake(peerAs(() => admin));
      const { result } = await cc.governance.bootstrap('', ['HospitalAMSP']);
      expect(result).toEqual({ chainId: 'chain-a', members: ['HospitalAMSP'] });
      expect(await cc.governance.getMembers()).toEqual({ chainId: 'chain-a', members: ['HospitalAMSP'] });
      expect(await cc.chainId()).toBe('chain-a');
      expect(ledger.events.map((e) => e.name)).toEqual(['Bootstrapped']);
    });

    it("refuses before the bootstrap, then registers a patient, anchors a record, checks its hash, and reports the chaincode's NOT_FOUND", async () => {
      let who = admin;
      const { cc } = fake(peerAs(() => who));
      await expect(cc.consent.registerPatient(publicKey)).rejects.toMatchObject({ code: 'NOT_BOOTSTRAPPED', kind: 'rejected' });
      await cc.governance.bootstrap('', ['HospitalAMSP']);
      who = user;
      const { result: patient } = await cc.consent.registerPatient(publicKey);
      expect(patient).toMatchObject({ patientId, publicKey, registeredBy: ['HospitalAMSP'] });
      const hash = 'ab'.repeat(32);
      const { result: anchor } = await cc.consent.anchorRecord({ recordId: 'rec-1', patientId, category: 'Observation', hash });
      expect(anchor).toMatchObject({ recordId: 'rec-1', patientId, custodian: 'HospitalAMSP', version: 1, hash });
      expect(await cc.consent.verifyRecordHash('rec-1', hash)).toEqual({ recordId: 'rec-1', version: 1, headVersion: 1, match: true });
      expect(await cc.consent.verifyRecordHash('rec-1', 'cd'.repeat(32))).toMatchObject({ match: false });
      await expect(cc.consent.getRecord('rec-2')).rejects.toMatchObject({ code: 'NOT_FOUND', kind: 'rejected' });
      expect(await orAbsent(cc.consent.getRecord('rec-2'))).toBeUndefined();
      expect((await cc.consent.getRecordHistory('rec-1')).items.map((v) => v.version)).toEqual([1]);
    });

    it('reports NOT_FOUND for the statement of a packet the chain never sent, and reads the chaincode version', async () => {
      const { cc } = fake(peerAs(() => user));
      await expect(cc.crossChain.statement({ kind: 'packet', routeId: 'r1', sequence: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await cc.system.version()).toEqual({ chaincode: 'medbridge', version: '0.1.0' });
    });
  });
});
