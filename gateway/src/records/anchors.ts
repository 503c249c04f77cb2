/**
 * Record anchors on a channel: the one place the gateway anchors or amends a record's
 * salted hash, and the reads that check a hash against the ledger. The custodian anchors
 * what it stores (custodian.ts); `record anchor --hash` anchors a hash of a record kept
 * elsewhere; both come through here.
 *
 * @example
 *   const anchors = new RecordAnchors(new Chaincode(FabricClient.open('HospitalA'), 'chain-a'));
 *   await anchors.anchor({ recordId, patientId, category: 'Observation', hash });
 *   const { match } = await anchors.verify(recordId, hash);
 */
import type { AnchorRecordArgs, Page, RecordAnchor, RecordHashCheck, RecordLabels, RecordVersion } from '@medbridge/chaincode';
import type { Chaincode, Submitted } from '../fabric/contracts';
import type { RecordLabelsView } from '../fabric/contracts/consent';

export class RecordAnchors {
  constructor(readonly chaincode: Chaincode) {}

  /**
   * Anchors version 1 of a record held by this org: in this org's collection when it registered
   * the patient privately (chaincode/CONSENT.md "Private patients and anchors"), else publicly.
   * `privately` overrides the lookup.
   */
  async anchor(a: AnchorRecordArgs, privately?: boolean): Promise<Submitted<RecordAnchor>> {
    const consent = this.chaincode.consent;
    return (privately ?? (await consent.getPatient(a.patientId)).heldPrivately === true) ? consent.anchorRecordPrivately(a) : consent.anchorRecord(a);
  }

  /** Anchors the next version of a record this org holds, where its anchor is; `headVersion` is the version it replaces. */
  async amend(recordId: string, hash: string, headVersion: number, metadata?: RecordLabels): Promise<Submitted<RecordAnchor>> {
    const consent = this.chaincode.consent;
    return (await consent.isRecordHeldPrivately(recordId)).heldPrivately
      ? consent.amendRecordPrivately(recordId, hash, headVersion, metadata)
      : consent.amendRecord(recordId, hash, headVersion, metadata);
  }

  /** Whether `hash` is the anchored hash of the head, or of `version`. */
  verify(recordId: string, hash: string, version?: number): Promise<RecordHashCheck> {
    return this.chaincode.consent.verifyRecordHash(recordId, hash, version);
  }

  head(recordId: string): Promise<RecordAnchor> {
    return this.chaincode.consent.getRecord(recordId);
  }

  /** The head's consent metadata, for this org as its custodian (private metadata is read on this org's peer). */
  labels(recordId: string): Promise<RecordLabelsView> {
    return this.chaincode.consent.getRecordLabels(recordId);
  }

  /** Purges the private metadata of every version of a record this org erased; NOT_FOUND when none is left. */
  purgeLabels(recordId: string): Promise<Submitted<{ recordId: string; purgedVersions: number[] }>> {
    return this.chaincode.consent.purgeRecordLabels(recordId);
  }

  /** The anchored versions, oldest first (one page). */
  history(recordId: string, pageSize = 100, bookmark = ''): Promise<Page<RecordVersion>> {
    return this.chaincode.consent.getRecordHistory(recordId, { pageSize, bookmark });
  }
}
