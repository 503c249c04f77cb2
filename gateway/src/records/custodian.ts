/**
 * The custodian hospital's side of records: store a record off chain and anchor its
 * salted hash on the patient's home channel; answer a fetch by letting the chaincode
 * decide and log the access (`logAccess`, one transaction for both) and release
 * the record with its salt only when access was granted.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ClientError, toClientError } from '../errors';
import type { ErasedRecord, RecordErasureMessage, RecordLabels, SignedPatientMessage } from '@medbridge/chaincode';
import type { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { profilesForChannel } from '../fabric/profile';
import { silentLogger } from '../logger';
import { collectAnchorAttestation, collectPrivateAnchorAttestation, type AnchorAttestation, type PrivateAnchorAttestation } from './anchor-attestation';
import { RecordAnchors } from './anchors';
import { newSalt, recordHash } from './hashing';
import { sourceChain, type SourceChain } from '../proofs';
import type { ErasedRows, RecordStore, StoredRecord } from './store';

/** Ledger reads in flight while `repairErased` checks the stored records. */
const REPAIR_READS = 8;

export interface AnchorResult {
  recordId: string;
  version: number;
  hash: string;
  channel: string;
  txId: string;
}

export interface PutInput {
  channel: string;
  patientId: string;
  category: string;
  content: Buffer;
  contentType?: string;
  recordId?: string;
  /** Consent v2 metadata of the record (labels, data date, author org), anchored with it. */
  metadata?: RecordLabels;
  /**
   * Anchor privately in this org's implicit collection (chaincode/CONSENT.md "Private patients
   * and anchors"): no member reads the record id from its ledger. Default: privately exactly when
   * this org registered the patient privately.
   */
  privately?: boolean;
}

export interface FetchRequest {
  recordId: string;
  purpose: string;
  /** The consent the requester relies on (recorded in logs; the chaincode decides over all consents). */
  consentId?: string;
  /**
   * Epochs of remote chains' lists the requester's chain knows (chainId -> epoch): the
   * custodian's anchor attestation then carries the epoch links from there.
   */
  knownEpochs?: Record<string, number>;
}

export type FetchAnswer =
  | { allowed: false; reason: string; requestId: string; txId: string; recordId: string }
  | {
      allowed: true;
      reason: string;
      requestId: string;
      txId: string;
      recordId: string;
      version: number;
      channel: string;
      patientId: string;
      category: string;
      contentType: string;
      consentId: string | null;
      /** base64 */
      content: string;
      /** base64 */
      salt: string;
      /** The anchored hash LogAccess read from the ledger in the same transaction. */
      anchorHash: string;
      /**
       * The anchor endorsed by a threshold of the record chain's verification nodes, for a
       * requester that is not a member of that chain (absent when it could not be collected).
       */
      attestation?: AnchorAttestation | PrivateAnchorAttestation;
    };

/** How a custodian erases: on the patient's signed request, or on one its privacy officer verified. */
export type ErasureBasis = { request: SignedPatientMessage<RecordErasureMessage> } | { reasonCode: string };

export interface ErasureResult extends ErasedRows {
  channel: string;
  /** The ledger's erasure marker; absent when the anchor had been erased before (a repair). */
  anchor?: ErasedRecord;
  txId: string | null;
  /** The purge of the record's private metadata (PurgeRecordLabels): the versions purged, or the error code it failed with. */
  labels: { purgedVersions: number[]; txId: string | null } | { error: string };
}

export function newRecordId(): string {
  return `rec-${randomBytes(8).toString('hex')}`;
}

export function newRequestId(): string {
  return `rq-${randomBytes(12).toString('hex')}`;
}

/** Peers of a channel the custodian asks to attest an anchor (default: every profile's peers on it). */
export type AttestingPeers = (channel: string) => SourceChain['peers'];

export class Custodian {
  constructor(
    readonly client: FabricClient,
    readonly store: RecordStore,
    private readonly log: Logger = silentLogger,
    private readonly attestingPeers: AttestingPeers = (channel) => profilesForChannel(channel).flatMap((p) => p.peers),
  ) {}

  private chaincode(channel: string): Chaincode {
    return new Chaincode(this.client, channel);
  }

  /**
   * The record chain's nodes' attestation of (recordId, version); undefined (and logged) when
   * no peer endorsed: the requester then refuses the record with ANCHOR_UNATTESTED.
   */
  private async attest(
    channel: string,
    recordId: string,
    version: number,
    heldPrivately: boolean,
    knownEpochs: Record<string, number> | undefined,
    log: Logger,
  ): Promise<AnchorAttestation | PrivateAnchorAttestation | undefined> {
    try {
      const chain = sourceChain(this.client, channel, this.attestingPeers(channel));
      const chainId = await this.chaincode(channel).chainId();
      if (!heldPrivately) return await collectAnchorAttestation(chain, recordId, version, knownEpochs?.[chainId]);
      // A record this org anchored privately (LogAccess said so): the nodes attest the hash of the stored version, whose bytes go with it.
      const versionBytes = await this.chaincode(channel).consent.getPrivateRecordVersion(recordId, version);
      if (versionBytes === undefined) throw new Error(`version ${version} of ${recordId} is not in this org's collection`);
      return await collectPrivateAnchorAttestation(chain, recordId, version, this.client.mspId, versionBytes, knownEpochs?.[chainId]);
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not collect the anchor attestation');
      return undefined;
    }
  }

  /**
   * A sealed consent this org keeps (chaincode/CONSENT.md "Sealed consent shares"), released to
   * `requesterMsp` (the org mutual TLS authenticated) only if the consent is for that org: the
   * chaincode decides on this org's own peer (GetSealedConsent), and the exact sealed bytes are
   * returned. NOT_FOUND when no channel of this org has chain id `sourceChain` or nothing is
   * sealed under `ref`; ACCESS_DENIED when the consent is for another org.
   */
  async releaseSealedConsent(requesterMsp: string, req: { sourceChain: string; ref: string }): Promise<{ sealed: string }> {
    for (const channel of this.client.profile.channels) {
      if ((await this.chaincode(channel).chainId()) !== req.sourceChain) continue;
      const sealed = await this.chaincode(channel).consent.getSealedConsent(req.ref, requesterMsp);
      this.log.info({ requester: requesterMsp, ref: req.ref, channel }, 'sealed consent released');
      return { sealed };
    }
    throw new ClientError('NOT_FOUND', 'rejected', `${this.client.mspId} is on no chain ${req.sourceChain}`);
  }

  /** Stores version 1 of a record and anchors its salted hash; the stored copy is dropped if anchoring fails. */
  async put(input: PutInput): Promise<AnchorResult> {
    const recordId = input.recordId ?? newRecordId();
    const salt = newSalt();
    const hash = recordHash(salt, input.content);
    this.store.put({
      recordId,
      version: 1,
      channel: input.channel,
      patientId: input.patientId,
      category: input.category,
      content: input.content,
      salt,
      hash,
      contentType: input.contentType ?? 'application/fhir+json',
      storedAt: Date.now(),
    });
    try {
      const anchorArgs = { recordId, patientId: input.patientId, category: input.category, hash, ...(input.metadata ? { metadata: input.metadata } : {}) };
      const { txId } = await new RecordAnchors(this.chaincode(input.channel)).anchor(anchorArgs, input.privately);
      this.store.setAnchorTx(recordId, 1, txId);
      this.log.info({ recordId, version: 1, txId }, 'record anchored');
      return { recordId, version: 1, hash, channel: input.channel, txId };
    } catch (e) {
      this.store.dropUnanchored(recordId, 1);
      throw e;
    }
  }

  /** Stores and anchors the next version of a record this org holds; `metadata` replaces the anchored metadata. */
  async amend(recordId: string, content: Buffer, contentType?: string, metadata?: RecordLabels): Promise<AnchorResult> {
    const head = this.store.get(recordId);
    if (!head) throw new ClientError('RECORD_NOT_FOUND', 'usage', `record ${recordId} is not in this org's store`);
    const version = head.version + 1;
    const salt = newSalt();
    const hash = recordHash(salt, content);
    this.store.put({ ...head, version, content, salt, hash, contentType: contentType ?? head.contentType, storedAt: Date.now(), anchorTxId: null });
    try {
      const { txId } = await new RecordAnchors(this.chaincode(head.channel)).amend(recordId, hash, head.version, metadata);
      this.store.setAnchorTx(recordId, version, txId);
      this.log.info({ recordId, version, txId }, 'record amended');
      return { recordId, version, hash, channel: head.channel, txId };
    } catch (e) {
      this.store.dropUnanchored(recordId, version);
      throw e;
    }
  }

  /**
   * Erases a record this org holds (CONSENT.md "Erasure"): the ledger first (the anchor keeps no
   * hash; RECORD_ERASED from then on), then the content and salt of every version in the store.
   * An anchor already erased (a crash between the two steps) is not an error here: the store
   * rows are deleted all the same.
   */
  async erase(recordId: string, basis: ErasureBasis): Promise<ErasureResult> {
    const stored = this.store.get(recordId);
    const noted = this.store.erasure(recordId);
    const channel = stored?.channel ?? noted?.channel;
    if (channel === undefined) throw new ClientError('RECORD_NOT_FOUND', 'usage', `record ${recordId} is not in this org's store`);
    const consent = this.chaincode(channel).consent;
    // A record anchored privately here is erased privately, its versions and metadata purged in the same transaction.
    const { heldPrivately } = await consent.isRecordHeldPrivately(recordId);
    let anchor: ErasedRecord | undefined;
    let txId: string | null = null;
    let purgedWith: number[] = [];
    try {
      const res = heldPrivately
        ? 'request' in basis
          ? await consent.eraseRecordPrivately(basis.request)
          : await consent.eraseRecordPrivatelyOnVerifiedRequest(recordId, basis.reasonCode)
        : 'request' in basis
          ? await consent.eraseRecord(basis.request)
          : await consent.eraseRecordOnVerifiedRequest(recordId, basis.reasonCode);
      const { purgedLabelVersions, ...marker } = res.result as ErasedRecord & { purgedLabelVersions?: number[] };
      anchor = marker;
      txId = res.txId;
      purgedWith = purgedLabelVersions ?? [];
    } catch (e) {
      if (toClientError(e).code !== 'RECORD_ERASED') throw e;
    }
    // The private metadata of every version leaves this org's collection and its peers' history too.
    // A failure here loses nothing: the erasure stands, and the purge can be run again (record purge-labels).
    const labels = heldPrivately ? { purgedVersions: purgedWith, txId } : await this.purgeLabels(channel, recordId);
    const rows = this.store.erase(recordId, channel, anchor?.erasedAt ?? Date.now(), txId);
    this.log.info({ recordId, txId, versions: rows.versions, walTruncated: rows.walTruncated }, 'record erased');
    return { ...rows, channel, ...(anchor ? { anchor } : {}), txId, labels };
  }

  /**
   * Deletes stored rows whose anchor the ledger says is erased: the repair after a crash
   * between the ledger write and the deletion, or after a restore of an older backup. Run
   * when `records serve` starts and by `records check`.
   */
  async repairErased(): Promise<ErasedRows[]> {
    const rows = this.store.recordChannels();
    // Whether each stored record's anchor is erased, asked REPAIR_READS at a time (one evaluate each).
    const erased: boolean[] = new Array<boolean>(rows.length).fill(false);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < rows.length) {
        const i = next++;
        const { recordId, channel } = rows[i]!;
        try {
          await this.chaincode(channel).consent.getRecord(recordId);
        } catch (e) {
          if (toClientError(e).code !== 'RECORD_ERASED') throw e;
          erased[i] = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REPAIR_READS, rows.length) }, worker));
    // The deletions in store order, one at a time (the store is one SQLite connection); the
    // record's private metadata is purged first, as erase() does (a purge of nothing purges nothing).
    const repaired: ErasedRows[] = [];
    for (const [i, { recordId, channel }] of rows.entries()) {
      if (!erased[i]) continue;
      if (!(await this.chaincode(channel).consent.isRecordHeldPrivately(recordId)).heldPrivately) await this.purgeLabels(channel, recordId);
      repaired.push(this.store.erase(recordId, channel, Date.now(), null));
      this.log.warn({ recordId }, 'stored record whose anchor is erased: deleted');
    }
    return repaired;
  }

  /**
   * PurgeRecordLabels of an erased record (NOT_FOUND: none left, nothing to do); a failure is
   * logged and returned, the erasure stands.
   */
  private async purgeLabels(channel: string, recordId: string): Promise<ErasureResult['labels']> {
    try {
      const purged = await this.chaincode(channel).consent.purgeRecordLabels(recordId);
      return { purgedVersions: purged.result.purgedVersions, txId: purged.txId };
    } catch (e) {
      const err = toClientError(e);
      if (err.code === 'NOT_FOUND') return { purgedVersions: [], txId: null };
      this.log.warn({ recordId, code: err.code }, 'record erased; purging its private metadata failed');
      return { error: err.code };
    }
  }

  /**
   * Answers a fetch from `requesterMsp` (taken from its verified TLS certificate). The
   * chaincode decides and logs in one transaction; a refusal is logged just the same.
   */
  async answer(requesterMsp: string, req: FetchRequest): Promise<FetchAnswer> {
    if (this.store.erasure(req.recordId)) throw erasedError(req.recordId, this.client.mspId);
    const stored = this.store.get(req.recordId);
    if (!stored) throw new ClientError('RECORD_NOT_FOUND', 'rejected', `record ${req.recordId} is not held by ${this.client.mspId}`);
    const requestId = newRequestId();
    let d;
    try {
      ({ result: d } = await this.chaincode(stored.channel).consent.logAccess(requesterMsp, req.recordId, req.purpose, requestId, { conflictRetries: 2 }));
    } catch (e) {
      // Erased on the ledger but still stored (a crash between the two steps): finish the erasure now.
      if (toClientError(e).code === 'RECORD_ERASED') this.store.erase(req.recordId, stored.channel, Date.now(), null);
      throw e;
    }
    const log = this.log.child({ requestId, recordId: req.recordId, requester: requesterMsp, txId: d.txId });
    if (!d.allowed) {
      log.info({ reason: d.reason }, 'record request refused');
      return { allowed: false, reason: d.reason, requestId, txId: d.txId, recordId: req.recordId };
    }
    const version: StoredRecord | undefined = this.store.get(req.recordId, d.version);
    if (!version || version.hash !== d.hash) {
      // The ledger's head is not what this store holds: release nothing.
      log.error({ anchoredVersion: d.version }, 'stored copy does not match the anchored head');
      throw new ClientError('RECORD_HASH_MISMATCH', 'other', `the stored copy of ${req.recordId} does not match anchored version ${d.version}`);
    }
    const attestation = await this.attest(version.channel, version.recordId, version.version, d.heldPrivately === true, req.knownEpochs, log);
    log.info({ version: d.version, consentId: d.consentId, reason: d.reason, attested: attestation !== undefined }, 'record released');
    return {
      allowed: true,
      reason: d.reason,
      requestId,
      txId: d.txId,
      recordId: version.recordId,
      version: version.version,
      channel: version.channel,
      patientId: version.patientId,
      category: version.category,
      contentType: version.contentType,
      consentId: d.consentId,
      content: version.content.toString('base64'),
      salt: version.salt.toString('base64'),
      anchorHash: d.hash,
      ...(attestation ? { attestation } : {}),
    };
  }
}

function erasedError(recordId: string, org: string): ClientError {
  return new ClientError('RECORD_ERASED', 'rejected', `record ${recordId} was erased by ${org} on request: its content no longer exists`);
}
