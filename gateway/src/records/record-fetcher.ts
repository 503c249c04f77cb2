/**
 * A grantee's whole fetch of a record, for a system that names only the custodian: find the
 * custodian org's connection profile and its record exchange, ask it over mutual TLS with
 * this org's TLS identity (the custodian's exchange decides and logs on chain), and verify the
 * record against its anchor: on this org's own ledger when the record's chain is one of its
 * channels, else by the attestation of the record chain's nodes as this org's chains
 * registered them (requester.ts). The API's record content route uses it.
 *
 * @example
 *   const fetcher = new RecordFetcher(client, { exchangeUrl: (p) => readEndpoint(dataDir, p.mspId)?.url });
 *   const record = await fetcher.fetch({ from: 'HospitalA', recordId, purpose: 'TREAT' });
 */
import { ClientError } from '../errors';
import type { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { loadProfile, ProfileError, type Profile } from '../fabric/profile';
import { readTrustedChains } from './anchor-attestation';
import { RecordAnchors } from './anchors';
import { tlsIdentityOf, trustedOrgs, type TrustedOrg } from './org-tls';
import { fetchRecord, fetchSealedConsent, type FetchedRecord, type SealedConsentAsk } from './requester';

export interface RecordFetchRequest {
  /** The custodian org: its name or MSP id (a connection profile of the network). */
  from: string;
  recordId: string;
  purpose: string;
  /** The consent the requester relies on (recorded in the custodian's logs). */
  consentId?: string;
}

/** What the API needs of a fetcher (a stand-in in unit tests). */
export interface RecordFetch {
  fetch(req: RecordFetchRequest): Promise<FetchedRecord>;
}

export interface RecordFetcherOptions {
  /** Where the custodian's record exchange listens, if known. */
  exchangeUrl: (custodian: Profile) => string | undefined;
  /** Finds an org's profile (default: loadProfile). */
  profileOf?: (org: string) => Profile;
}

export class RecordFetcher implements RecordFetch {
  constructor(
    /** The requesting org's connection (its TLS identity asks; its ledger verifies). */
    private readonly client: FabricClient,
    private readonly opts: RecordFetcherOptions,
  ) {}

  async fetch(req: RecordFetchRequest): Promise<FetchedRecord> {
    const requester = this.client.profile;
    const { profile: custodianProfile, custodian, url } = this.exchangeOf(req.from);
    // Chains of the custodian that this org's own chains registered: a record on one of them
    // whose anchor this org cannot read itself is accepted only with its nodes' attestation.
    const trustedChains = await readTrustedChains(this.client, requester.channels, custodianProfile.channels.filter((c) => !requester.channels.includes(c)));
    return fetchRecord({
      url,
      custodian,
      identity: tlsIdentityOf(requester),
      ...(trustedChains.length > 0 ? { trustedChains } : {}),
      request: { recordId: req.recordId, purpose: req.purpose, ...(req.consentId ? { consentId: req.consentId } : {}) },
      verifyOnLedger: async (channel, id, hash, version) => {
        if (!requester.channels.includes(channel)) return undefined;
        return (await new RecordAnchors(new Chaincode(this.client, channel)).verify(id, hash, version)).match;
      },
    });
  }

  /**
   * A sealed consent the custodian `from` keeps for this org (chaincode/CONSENT.md "Sealed
   * consent shares"), from its record exchange, checked against the digest its packet carried.
   */
  fetchSealed(from: string, ask: SealedConsentAsk): Promise<string> {
    const { custodian, url } = this.exchangeOf(from);
    return fetchSealedConsent({ url, custodian, identity: tlsIdentityOf(this.client.profile) }, ask);
  }

  /** The custodian's profile, its TLS trust and its record exchange's address. */
  private exchangeOf(from: string): { profile: Profile; custodian: TrustedOrg; url: string } {
    const profile = this.custodianProfile(from);
    const custodian = trustedOrgs([profile])[0];
    if (!custodian) throw new ClientError('PROFILE_ERROR', 'other', `the profile of ${profile.org} has no tls section; its record exchange cannot be trusted`);
    const url = this.opts.exchangeUrl(profile);
    if (!url) {
      throw new ClientError('UNAVAILABLE', 'unavailable', `no record exchange of ${profile.mspId} is known`, {
        hint: `start \`medbridge records serve --org ${profile.org}\` or set recordExchanges.${profile.mspId} in the configuration`,
      });
    }
    return { profile, custodian, url };
  }

  private custodianProfile(org: string): Profile {
    try {
      return (this.opts.profileOf ?? loadProfile)(org);
    } catch (e) {
      if (e instanceof ProfileError) throw new ClientError('NOT_FOUND', 'rejected', `no org ${org} in this network (no connection profile)`);
      throw e;
    }
  }
}
