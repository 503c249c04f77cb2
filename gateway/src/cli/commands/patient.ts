/**
 * Patients and their consents: `patient keygen|register|show|delegate|revoke-guardian|rotate-key|request-erasure|link|verify-link`,
 * `consent grant|revoke|list|show|remote`, `access check|log`, `emergency open|review|list`,
 * and `submit <file>`. Every consent change is signed by the patient's (or a guardian's) key,
 * never the hospital's; with `--sign-only` the signed envelope is written out and nothing is
 * sent, so it can be signed on one machine and submitted from another.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { canonicalize, keeperOf as keeperOfConsent, permittedRecipientOrgs, PURPOSES_OF_USE, reachOutside } from '@medbridge/chaincode';
import { usageError } from '../../errors';
import { accessLogToFhir, consentToFhir, prepareConsentImport } from '../../services/consent-fhir';
import { ConsentService } from '../../services/consent-service';
import { generatePatientKey, loadKey, saveNewKey, type PatientKey } from '../../services/patient-keys';
import { PatientSigner } from '../../services/patient-signer';
import { createPseudonymLink, PseudonymLinkVerifier, type LinkedId } from '../../services/pseudonym-links';
import { loadProfile } from '../../fabric/profile';
import { readEndpoint } from '../../records/endpoints';
import { RecordFetcher } from '../../records/record-fetcher';
import { SealedConsentReceiver } from '../../records/sealed-receiver';
import { act, int, list, num, required, type Opts } from '../action';
import type { CliContext } from '../context';
import { readJsonFile } from '../json-file';

function signer(ctx: CliContext, ref: string | undefined): PatientKey {
  const key = loadKey(required(ref, '--key <file|patientId>'), ctx.cfg.keysDir);
  if (key.tooOpen) ctx.note(`warning: ${key.file ?? ''} is readable by others; run chmod 600 on it`);
  return key;
}

/** The key that signs and the patient it signs for (--patient, else the patient the key derives). */
function patientSigner(ctx: CliContext, o: Opts): { key: PatientKey; patientId: string } {
  const key = signer(ctx, o.key as string);
  return { key, patientId: (o.patient as string | undefined) ?? key.patientId };
}

const PATIENT_DEFAULT = 'the patient (default: the key is the patient)';

/** `--key` and `--patient`, the options every patient-signed command opens with. */
function signingOptions(c: Command, keyHelp: string, patientHelp: string = PATIENT_DEFAULT): Command {
  return c.requiredOption('--key <file|patientId>', keyHelp).option('--patient <patientId>', patientHelp);
}

/** Collects a repeated option. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `chainId=key[,patientId]` of `patient link --as`. */
function linkedId(ctx: CliContext, spec: string): LinkedId {
  const m = /^([^=]+)=([^,]+)(?:,(.+))?$/.exec(spec);
  if (!m) throw usageError(`--as ${spec}: expected <chainId>=<key file|patientId>[,<patientId>]`);
  const [, chainId, keyRef, patientId] = m;
  return { chainId: chainId!, key: signer(ctx, keyRef), ...(patientId === undefined ? {} : { patientId }) };
}

function service(ctx: CliContext): ConsentService {
  return new ConsentService(ctx.chaincode());
}

/** A private consent (chaincode/CONSENT.md "Private consents"): the org that keeps and enforces it, named in what the patient signs. */
const KEEPER = ['--keeper <mspId>', 'keep the consent private at this org (it decides for the records that org holds; no other org reads it; --share carries it to another chain sealed)'] as const;

function keeperOf(o: Opts): string | undefined {
  const k = o.keeper as string | undefined;
  return k === undefined || k === '' ? undefined : k;
}

const PUBLIC = ['--public', "record the consent on the chain's ledger, where every member org reads it (it then crosses to another chain as a consent packet; a private one crosses sealed)"] as const;

/**
 * Where a grant lives (chaincode/CONSENT.md "Private consents"), private by default: `--keeper`
 * names the org that keeps it; `--public` puts it on the ledger. A patient the org this CLI speaks
 * for registered privately has no public registration: their consents are kept by that org, and
 * `--share` carries them sealed ("Sealed consent shares"). Otherwise `--share` without `--keeper`
 * puts the consent on the ledger, and with neither flag the consent is kept by that org when every
 * org it can reach is a member of this chain and public when one is not, saying so. Offline, the
 * CLI cannot read the chain, so the signer chooses. `reach`: the orgs the consent can reach.
 */
async function placeGrant(ctx: CliContext, o: Opts, reach: Parameters<typeof reachOutside>[0], patientId: string): Promise<string | undefined> {
  const keeper = keeperOf(o);
  if (keeper !== undefined && o.public) throw usageError('--keeper keeps the consent private and --public records it on the ledger: choose one');
  if (keeper !== undefined) return keptPrivately(ctx, keeper);
  if (o.public) return undefined;
  if (o.signOnly) throw usageError('--sign-only cannot read which orgs are on the chain: say --keeper <mspId> (private at that org) or --public');
  const chaincode = ctx.chaincode();
  if ((await chaincode.consent.getPatient(patientId)).heldPrivately === true) {
    ctx.note(`  the patient is registered privately at ${chaincode.mspId}: the consent is kept there${o.share ? ' and shared sealed' : ''}`);
    return keptPrivately(ctx, chaincode.mspId);
  }
  if (o.share) return undefined;
  const { members } = await chaincode.governance.getMembers();
  const beyond = reachOutside(reach, members);
  const outside = beyond.any ? ['every org'] : beyond.orgs;
  if (outside.length > 0) {
    ctx.note(`  public: it reaches ${outside.join(', ')}, not on ${chaincode.channel}, so it is recorded to cross as a consent packet (--keeper keeps it here, and --share then sends it sealed)`);
    return undefined;
  }
  return keptPrivately(ctx, chaincode.mspId);
}

function keptPrivately(ctx: CliContext, keeper: string): string {
  ctx.note(`  kept privately by ${keeper}: it decides for the records ${keeper} holds, and no other org reads it (--public to record it on the ledger)`);
  return keeper;
}

/** What --share prints: the packet, and for a sealed share its digest and reference (the grantee's `consent receive` fetches it by them). */
function packetOut(shared: { sent: { txId: string; result: { routeId: string; sequence: number } }; sealed: { digest: string; ref: string } | null }) {
  return { routeId: shared.sent.result.routeId, sequence: shared.sent.result.sequence, txId: shared.sent.txId, sealed: shared.sealed ? { digest: shared.sealed.digest, ref: shared.sealed.ref } : null };
}

const SIGN_ONLY = ['--sign-only [file]', 'sign offline: write the signed envelope (JSON) to <file> or stdout and send nothing; `medbridge submit` sends it'] as const;

/** The signer of --sign-only: bound to --channel (or the org profile's first channel), no network. */
function offline(ctx: CliContext): PatientSigner {
  return new PatientSigner(ctx.chainId());
}

/** Writes a signed envelope for --sign-only: to the file named, or stdout. */
function writeEnvelope(ctx: CliContext, envelope: object, target: unknown): void {
  const text = `${canonicalize(envelope as never)}\n`;
  if (typeof target === 'string') {
    writeFileSync(target, text, { mode: 0o600 });
    const m = (envelope as { message: { kind: string; recordId?: string } }).message;
    const next = m.kind === 'record.erase' ? `hand it to the record's custodian, which runs: medbridge records erase ${m.recordId ?? ''} --request ${target}` : `submit it with: medbridge submit ${target}`;
    ctx.note(`signed ${m.kind} written to ${target}; ${next}`);
  } else {
    process.stdout.write(text);
  }
}

/** FHIR JSON out: pretty to stdout (whatever --json says: it is JSON already), or to --out. */
function writeJson(ctx: CliContext, value: unknown, out: string | undefined): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  writeFileSync(out, text);
  ctx.note(`written to ${out}`);
}

function purposes(value: unknown): string[] {
  const ps = list(value as string | undefined);
  if (ps.length === 0) throw usageError(`missing --purpose (one or more of ${PURPOSES_OF_USE.join(', ')})`);
  return ps.map((p) => p.toUpperCase());
}

const CONSENT_COLUMNS = [
  { key: 'consentId', max: 20 },
  { key: 'grantee' },
  { key: 'effectiveStatus', header: 'status' },
  { key: 'terms.purposes', header: 'purposes' },
  { key: 'terms.scope.recordIds', header: 'records', max: 30 },
  { key: 'terms.scope.categories', header: 'categories' },
  { key: 'terms.period.end', header: 'until', as: 'time' as const },
];

const LOG_COLUMNS = [
  { key: 'time', as: 'time' as const },
  { key: 'kind' },
  { key: 'requester' },
  { key: 'recordId' },
  { key: 'purpose' },
  { key: 'allowed' },
  { key: 'reason' },
  { key: 'txId', max: 16 },
];

export function registerPatient(program: Command): void {
  const patient = program.command('patient').description("patients' keys, registration and guardians");

  patient
    .command('keygen')
    .description("generate a patient's (or guardian's) P-256 key into a 0600 file outside the repository")
    .option('--out <file>', 'key file (default: $MEDBRIDGE_KEYS_DIR/<patientId>.pem)')
    .action(
      act(async (ctx, o: Opts) => {
        const key = generatePatientKey();
        const file = saveNewKey(key, { dir: ctx.cfg.keysDir, file: o.out as string | undefined });
        ctx.print({ patientId: key.patientId, keyId: key.keyId, keyFile: file, publicKey: key.publicKey });
      }),
    );

  patient
    .command('register')
    .description(
      "register a patient's public key at --org on its channel (the patient's home channel): privately by default, in --org's own collection only, so no other member reads the patient from its ledger; their records are anchored and their consents kept there (chaincode/CONSENT.md \"Private patients and anchors\")",
    )
    .requiredOption('--key <file|patientId>', "the patient's key file")
    .option('--public', 'register on the public ledger instead, where every member of the channel reads the id and the key')
    .option('--private', 'privately (the default; kept so that scripts naming it keep working)')
    .action(
      act(async (ctx, o) => {
        if (o.public === true && o.private === true) throw usageError('--public and --private contradict each other');
        const key = signer(ctx, o.key as string);
        const res = await ctx.wait('registering', service(ctx).registerPatient(key, { privately: o.public !== true }));
        ctx.print({ ...(res.result as object), private: res.privately, txId: res.txId });
      }),
    );

  patient
    .command('show <patientId>')
    .description('a registered patient')
    .action(act(async (ctx, _o, patientId) => ctx.print(await service(ctx).getPatient(patientId as string))));

  patient
    .command('delegate')
    .description("the patient authorises a guardian key to grant, revoke and read the log on the patient's behalf")
    .requiredOption('--key <file|patientId>', "the patient's key")
    .requiredOption('--guardian <file|keyId>', "the guardian's key file (only its public key is used)")
    .option('--days <n>', 'how long the delegation lasts', '365')
    .option('--patient <patientId>', 'the patient (default: the key is the patient; give it after a key rotation)')
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o) => {
        const { key: p, patientId } = patientSigner(ctx, o);
        const g = loadKey(o.guardian as string, ctx.cfg.keysDir);
        if (o.signOnly) return writeEnvelope(ctx, offline(ctx).delegation(p, patientId, g, num(o.days, '--days')), o.signOnly);
        const res = await ctx.wait('delegating', service(ctx).delegate(p, g, num(o.days, '--days'), patientId));
        ctx.print({ ...(res.result as object), txId: res.txId });
      }),
    );

  signingOptions(patient.command('revoke-guardian <guardianId>'), "the patient's key", 'the patient (default: the key is the patient; give it after a key rotation)')
    .description('the patient revokes a guardian key (by key id)')
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o, guardianId) => {
        const { key: p, patientId } = patientSigner(ctx, o);
        if (o.signOnly) return writeEnvelope(ctx, offline(ctx).guardianRevocation(p, patientId, guardianId as string), o.signOnly);
        const res = await ctx.wait('revoking', service(ctx).revokeGuardian(p, guardianId as string, patientId));
        ctx.print({ ...(res.result as object), txId: res.txId });
      }),
    );

  patient
    .command('rotate-key')
    .description("replace the patient's key: signed by the current key and the new one; the patient id and consents stay")
    .requiredOption('--key <file|patientId>', "the patient's current key")
    .requiredOption('--new-key <file>', 'the new key file (make one with `patient keygen --out <file>`)')
    .option('--patient <patientId>', 'the patient (default: the id the current key derives, i.e. the first key)')
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o) => {
        const { key: current, patientId } = patientSigner(ctx, o);
        const next = loadKey(o.newKey as string, ctx.cfg.keysDir);
        if (o.signOnly) return writeEnvelope(ctx, offline(ctx).keyRotation(current, patientId, next), o.signOnly);
        const res = await ctx.wait('rotating', service(ctx).rotateKey(current, patientId, next));
        ctx.print({ patientId: res.result.patientId, keyId: next.keyId, retiredKeyId: current.keyId, rotations: res.result.keyRotations?.length ?? 0, txId: res.txId });
      }),
    );

  patient
    .command('link')
    .description("sign, with the key of each of the patient's ids, that they are one person (a pseudonym link); written to a file, never to a ledger")
    .requiredOption('--as <chainId=key[,patientId]...>', 'an id of the patient: its chain and its key file (or patientId in the keys folder); add ,patientId after a key rotation; two or more', collect, [])
    .option('--audience <mspId>', 'the org the link is for (only it can verify it)')
    .option('--days <n>', 'how long the link is valid (at most 30)', '7')
    .option('--out <file>', 'write the link here (default: stdout)')
    .action(
      act(async (ctx, o) => {
        const ids = (o.as as string[]).map((spec) => linkedId(ctx, spec));
        const signed = createPseudonymLink({ ids, audience: o.audience as string | undefined, validForMs: num(o.days, '--days') * 86_400_000, nowMs: Date.now() });
        const text = `${canonicalize(signed as never)}\n`;
        if (typeof o.out !== 'string') {
          process.stdout.write(text);
          return;
        }
        writeFileSync(o.out, text, { mode: 0o600 });
        ctx.note(`pseudonym link of ${ids.length} ids written to ${o.out}; it proves they are one person to whoever holds it until it expires`);
      }),
    );

  patient
    .command('verify-link <file>')
    .description("verify a patient's pseudonym link as --org: every signature, its period and audience, and each id's current key on the chains --org is a member of")
    .action(
      act(async (ctx, _o, file) => {
        const verifier = new PseudonymLinkVerifier(loadProfile(ctx.org()).mspId, (chainId) => ctx.chaincodeOn(chainId));
        const verdict = await ctx.wait('verifying', verifier.verify(readJsonFile(file as string, 'pseudonym link'), Date.now()));
        ctx.print({ linked: true, audience: verdict.link.audience ?? null, expiresAt: verdict.link.expiresAt, checkedOn: verdict.checkedOn, pseudonyms: verdict.pseudonyms }, { listKey: 'pseudonyms', title: `one person, on ${verdict.checkedOn.length} of ${verdict.pseudonyms.length} chains checked against the ledger` });
      }),
    );

  signingOptions(patient.command('labels'), 'signing key: the patient or a guardian')
    .description("the consent labels of the patient's records --org holds (private to it), read with a records.read signed by --key")
    .action(
      act(async (ctx, o) => {
        const { key, patientId } = patientSigner(ctx, o);
        const res = await ctx.wait('reading the labels', service(ctx).recordLabels(patientId, key));
        ctx.print(res.items.map((i) => ({ ...i, labels: i.metadata?.securityLabels.join(',') ?? '' })), {
          columns: [{ key: 'recordId' }, { key: 'category' }, { key: 'version' }, { key: 'private' }, { key: 'labels' }],
        });
      }),
    );

  signingOptions(patient.command('request-erasure <recordId>'), 'signing key: the patient or a guardian')
    .description("the patient (or a guardian) asks for a record's erasure (GDPR art. 17): signs a record.erase envelope on this device and sends nothing; the record's custodian runs `records erase --request`")
    .option('--out <file>', 'write the signed envelope here (default: stdout)')
    .action(
      act((ctx, o, recordId) => {
        const { key, patientId } = patientSigner(ctx, o);
        writeEnvelope(ctx, offline(ctx).erasure(key, patientId, recordId as string), o.out ?? true);
        return Promise.resolve();
      }),
    );

  const consent = program.command('consent').description('patient-signed consents: v1 terms, and consent v2 policies (FHIR R5 Consent, import/export)');

  signingOptions(consent.command('grant'), 'signing key: the patient or a guardian')
    .description('the patient (or a guardian) grants an org read access for purposes and a period')
    .requiredOption('--grantee <mspId>', 'org granted access, e.g. HospitalBMSP (may be on another chain)')
    .option('--records <ids>', 'record ids (comma-separated)')
    .option('--categories <types>', 'FHIR resource types, e.g. Observation,DiagnosticReport')
    .option('--purpose <codes>', `purposes of use: ${PURPOSES_OF_USE.join(', ')}`, 'TREAT')
    .option('--days <n>', 'length of the consent period', '30')
    .option('--share <chainId>', "also send the consent to the grantee's chain (a relay carries it): a public consent as a consent packet, a private one sealed")
    .option('--route <routeId>', 'with --share: the route to send on (needed when several lead to that chain)')
    .option(...KEEPER)
    .option(...PUBLIC)
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o) => {
        const { key, patientId } = patientSigner(ctx, o);
        const recordIds = list(o.records as string | undefined);
        const categories = list(o.categories as string | undefined);
        if (recordIds.length + categories.length === 0) throw usageError('give --records and/or --categories: the scope of the consent');
        const input = { grantee: o.grantee as string, recordIds, categories, purposes: purposes(o.purpose), days: num(o.days, '--days') };
        const keeper = await placeGrant(ctx, o, { any: false, orgs: [input.grantee] }, patientId);
        if (o.signOnly) {
          if (o.share) throw usageError('--share sends a packet: submit the envelope first, then `crosschain send`');
          return writeEnvelope(ctx, offline(ctx).grant(key, patientId, input, keeper), o.signOnly);
        }
        const res = await ctx.wait('granting', service(ctx).grant(key, patientId, input, keeper));
        const shared = o.share ? await ctx.wait('sending', service(ctx).shareAny(res.consentId, o.share as string, o.route as string | undefined)) : undefined;
        ctx.print({ ...(res.result as object), consentId: res.consentId, keeper: keeper ?? null, txId: res.txId, ...(shared ? { packet: packetOut(shared) } : {}) });
      }),
    );

  signingOptions(consent.command('import <file>'), 'signing key: the patient or a guardian')
    .description('a FHIR R4/R5 Consent (JSON) as a consent v2: shows what the patient signs, refuses what is not valid R5 by the official schema or cannot be enforced (with the element path), then signs and grants')
    .option('--days <n>', 'when the resource states no period end: the consent ends this many days from now', '365')
    .option('--dry-run', 'show what would be signed; sign and send nothing')
    .option('--share <chainId>', "also send the consent to that chain (a relay carries it): a public consent as a consent packet, a private one sealed")
    .option('--route <routeId>', 'with --share: the route to send on (needed when several lead to that chain)')
    .option(...KEEPER)
    .option(...PUBLIC)
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o, file) => {
        const { key, patientId } = patientSigner(ctx, o);
        const prepared = prepareConsentImport(readJsonFile(file as string, 'a FHIR Consent'), { now: Date.now(), days: num(o.days, '--days') });
        ctx.note(`FHIR ${prepared.version} Consent ${file as string}: the patient ${patientId} signs this policy:`);
        if (prepared.schema !== null) ctx.note(`  (valid by the official FHIR R5 JSON schema, ${prepared.schema})`);
        else if (prepared.version === 'R5') ctx.note('  (not checked against the FHIR R5 JSON schema: its package hl7.fhir.r5.core is not installed)');
        for (const line of prepared.summary) ctx.note(`  ${line}`);
        if (prepared.periodFilled.length > 0) ctx.note(`  (the resource states no period ${prepared.periodFilled.join(' or ')}: set here)`);
        if (prepared.notCarried.length > 0) ctx.note(`  not part of what is signed (they describe the document): ${prepared.notCarried.join(', ')}`);
        if (o.dryRun) {
          ctx.print({ version: prepared.version, schema: prepared.schema, policy: prepared.policy, summary: prepared.summary, notCarried: prepared.notCarried, periodFilled: prepared.periodFilled });
          return;
        }
        const keeper = await placeGrant(ctx, o, permittedRecipientOrgs(prepared.policy), patientId);
        if (o.signOnly) {
          if (o.share) throw usageError('--share sends a packet: submit the envelope first, then `crosschain send`');
          return writeEnvelope(ctx, offline(ctx).policyGrant(key, patientId, prepared.policy, keeper), o.signOnly);
        }
        const res = await ctx.wait('granting', service(ctx).grantPolicy(key, patientId, prepared.policy, keeper));
        const shared = o.share ? await ctx.wait('sending', service(ctx).shareAny(res.consentId, o.share as string, o.route as string | undefined)) : undefined;
        ctx.print({
          consentId: res.consentId,
          keeper: keeper ?? null,
          txId: res.txId,
          grantees: (res.result as { grantees?: string[] }).grantees,
          effectiveStatus: res.result.effectiveStatus,
          summary: prepared.summary,
          ...(shared ? { packet: packetOut(shared) } : {}),
        });
      }),
    );

  consent
    .command('export <consentId>')
    .description('a consent v2 as FHIR R5 Consent JSON (to stdout, or --out)')
    .option('--out <file>', 'write the JSON here')
    .action(
      act(async (ctx, o, consentId) => {
        const fhir = consentToFhir(await service(ctx).getConsent(consentId as string));
        writeJson(ctx, fhir, o.out as string | undefined);
      }),
    );

  signingOptions(consent.command('revoke <consentId>'), 'signing key')
    .description('the patient (or a guardian) revokes a consent; effective for every later check on this chain')
    .option('--share <chainId>', "also send the revocation to the grantee's chain")
    .option('--route <routeId>', 'with --share: the route to send on (needed when several lead to that chain)')
    .option('--keeper <mspId>', 'a private consent: revoke it at the org that keeps it')
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o, consentId) => {
        const { key, patientId } = patientSigner(ctx, o);
        let keeper = keeperOf(o);
        if (o.signOnly) {
          if (o.share) throw usageError('--share sends a packet: submit the envelope first, then `crosschain send`');
          return writeEnvelope(ctx, offline(ctx).revocation(key, patientId, consentId as string), o.signOnly);
        }
        // Private consents are the default: one this org keeps is revoked here without --keeper.
        if (keeper === undefined) keeper = keeperOfConsent(await service(ctx).getConsent(consentId as string)) ?? undefined;
        const res = await ctx.wait('revoking', service(ctx).revoke(key, patientId, consentId as string, keeper));
        // The revocation travels as the grant did: sealed for a private consent, a consent packet for a public one.
        const shared = o.share ? await ctx.wait('sending', service(ctx).shareAny(consentId as string, o.share as string, o.route as string | undefined)) : undefined;
        ctx.print({ ...(res.result as object), txId: res.txId, ...(shared ? { packet: packetOut(shared) } : {}) });
      }),
    );

  consent
    .command('receive')
    .description(
      "--org, a grantee, receives the consents sealed for it that arrived on --channel from --from (chaincode/CONSENT.md \"Sealed consent shares\"): each arrival it has not delivered is fetched from its custodian's record exchange (mutual TLS; released only to a grantee) and delivered to --org's own collection",
    )
    .requiredOption('--from <chainId>', 'the chain the consents came from')
    .option('--url <url>', "the custodian's record exchange URL (default: the one its `records serve` published)")
    .action(
      act(async (ctx, o) => {
        const url = o.url as string | undefined;
        const fetcher = new RecordFetcher(ctx.client(), { exchangeUrl: (p) => url ?? readEndpoint(ctx.dataDir(p), p.mspId)?.url });
        const receiver = new SealedConsentReceiver(ctx.chaincode(), fetcher);
        const items = await ctx.wait('receiving', receiver.receivePending(o.from as string));
        ctx.print({ items, delivered: items.filter((i) => i.outcome === 'delivered').length });
      }),
    );

  consent
    .command('list <patientId>')
    .description("a patient's consents on this channel")
    .option('--page-size <n>', 'page size', '50')
    .option('--bookmark <b>', 'continue after this bookmark', '')
    .option('--private', 'the private consents of the patient this org keeps, instead of the public ones')
    .action(
      act(async (ctx, o, patientId) => {
        if (o.private) {
          ctx.print(await service(ctx).listPrivateConsents(patientId as string), { listKey: 'items', columns: CONSENT_COLUMNS });
          return;
        }
        const page = await service(ctx).listConsents(patientId as string, int(o.pageSize, '--page-size', 1), o.bookmark as string);
        ctx.print(page, { listKey: 'items', columns: CONSENT_COLUMNS });
      }),
    );

  consent
    .command('show <consentId>')
    .description('one consent with its effective status now (public, or a private consent this org keeps)')
    .action(act(async (ctx, _o, consentId) => ctx.print(await service(ctx).getConsent(consentId as string))));

  consent
    .command('remote')
    .description('consents mirrored onto this channel from other chains, for a grantee (with those --org received sealed, when it is the grantee); or check one')
    .requiredOption('--grantee <mspId>', 'grantee org')
    .option('--source <chainId>', 'with --consent: the chain the consent comes from')
    .option('--consent <consentId>', 'check this consent for --purpose now')
    .option('--purpose <code>', 'purpose to check', 'TREAT')
    .action(
      act(async (ctx, o) => {
        const s = service(ctx);
        if (o.consent) {
          ctx.print(await s.checkRemoteConsent(required(o.source as string | undefined, '--source'), o.consent as string, String(o.purpose).toUpperCase()));
          return;
        }
        const page = await s.listRemoteConsents(o.grantee as string);
        // The consents --org received sealed are in its own collection: listed when it asks for itself.
        const sealed = o.grantee === ctx.client().mspId ? (await ctx.chaincode().consent.listSealedRemoteConsents()).items : [];
        ctx.print({ ...page, items: [...page.items, ...sealed.map((m) => ({ ...m, sealed: true }))] }, {
          listKey: 'items',
          columns: [{ key: 'sourceChain' }, ...CONSENT_COLUMNS],
        });
      }),
    );

  const access = program.command('access').description('access decisions and the access log');

  access
    .command('check')
    .description('would this grantee get this record for this purpose now? (read-only, not logged)')
    .requiredOption('--grantee <mspId>', 'requesting org')
    .requiredOption('--record <recordId>', 'record id')
    .option('--purpose <code>', 'purpose of use', 'TREAT')
    .action(
      act(async (ctx, o) => {
        ctx.print(await service(ctx).checkAccess(o.grantee as string, o.record as string, String(o.purpose).toUpperCase()));
      }),
    );

  access
    .command('log <patientId>')
    .description("a patient's access log; with --key the patient reads it with their own signature")
    .option('--key <file|patientId>', "patient's (or guardian's) key: a signed read")
    .option(...SIGN_ONLY)
    .action(
      act(async (ctx, o, patientId) => {
        const key = o.key ? signer(ctx, o.key as string) : undefined;
        if (o.signOnly) {
          if (!key) throw usageError('--sign-only signs a read with --key');
          return writeEnvelope(ctx, offline(ctx).accessLogRead(key, patientId as string), o.signOnly);
        }
        const entries = await ctx.wait('reading the log', service(ctx).accessLog(patientId as string, key));
        ctx.print(entries, { columns: LOG_COLUMNS });
      }),
    );

  program
    .command('log')
    .description("a patient's access log in an exchange format")
    .command('export')
    .description('the access log as a FHIR Bundle of R5 AuditEvents, one per decision (permit and deny, with provision path and break-glass flag)')
    .requiredOption('--patient <patientId>', 'the patient')
    .option('--key <file|patientId>', "patient's (or guardian's) key: the whole log, by a signed read; without: what --org may see")
    .option('--format <format>', 'fhir (the only format)', 'fhir')
    .option('--out <file>', 'write the JSON here')
    .action(
      act(async (ctx, o) => {
        if (o.format !== 'fhir') throw usageError(`--format must be fhir, got ${String(o.format)}`);
        const key = o.key ? signer(ctx, o.key as string) : undefined;
        const entries = await ctx.wait('reading the log', service(ctx).accessLog(o.patient as string, key));
        writeJson(ctx, accessLogToFhir(entries), o.out as string | undefined);
      }),
    );

  program
    .command('submit <file>')
    .description("submit a patient-signed envelope written by --sign-only or a patient's device ('-' = stdin); its kind decides the transaction")
    .option('--keeper <mspId>', 'a consent.revoke of a private consent: the org that keeps it')
    .action(
      act(async (ctx, o, file) => {
        const res = await ctx.wait('submitting', service(ctx).submit(readJsonFile(file as string, 'a signed envelope written by --sign-only'), keeperOf(o)));
        ctx.print(res);
      }),
    );

  const emergency = program.command('emergency').description('break-glass access: time-limited, flagged for review');

  emergency
    .command('open')
    .description("a clinician of --org opens emergency access to a patient's record (or all records)")
    .requiredOption('--patient <patientId>', 'patient')
    .option('--record <recordId>', 'one record (default: every record of the patient that --custodian holds)', '')
    .option('--custodian <mspId>', "the org whose records it opens, which keeps the emergency private (default: --org's own)")
    .requiredOption('--reason <text>', 'why (visible to the patient and the reviewer)')
    .option('--minutes <n>', 'duration (default 240, at most 1440)')
    .action(
      act(async (ctx, o) => {
        const minutes = o.minutes === undefined ? undefined : int(o.minutes, '--minutes', 1);
        const custodian = o.custodian as string | undefined;
        const res = await ctx.wait('opening', service(ctx).breakGlass(o.patient as string, o.record as string, o.reason as string, minutes, custodian));
        ctx.print({ ...(res.result as object), txId: res.txId });
      }),
    );

  emergency
    .command('review <emergencyId>')
    .description('a privacy officer (or admin: --identity admin) reviews an emergency access')
    .requiredOption('--outcome <justified|unjustified>', 'review outcome')
    .option('--custodian <mspId>', "the org that holds the emergency (default: --org's own)")
    .option('--public', 'an emergency opened before emergencies were private (public state; --custodian does not apply)')
    .action(
      act(async (ctx, o, emergencyId) => {
        const s = service(ctx);
        const id = emergencyId as string;
        const outcome = o.outcome as string;
        const res = await ctx.wait('reviewing', o.public === true ? s.reviewPublicEmergency(id, outcome) : s.reviewEmergency(id, outcome, o.custodian as string | undefined));
        ctx.print({ ...(res.result as object), txId: res.txId });
      }),
    );

  emergency
    .command('list')
    .description("the review queue at a custodian (privacy officer or admin): every emergency it holds if it is --org, else those --org opened there")
    .option('--custodian <mspId>', "the org whose queue to read, at its peer (default: --org's own)")
    .action(
      act(async (ctx, o) => {
        ctx.print(await service(ctx).listEmergencies(50, '', o.custodian as string | undefined), {
          listKey: 'items',
          columns: [{ key: 'emergencyId', max: 20 }, { key: 'org' }, { key: 'patientId', max: 20 }, { key: 'recordId' }, { key: 'expiresAt', as: 'time' }, { key: 'review.status', header: 'review' }],
        });
      }),
    );
}
