/**
 * Records: `record anchor|amend|verify|show|history` (anchors on chain) and
 * `records put|list|serve|fetch|check|erase|backup|restore` (the off-chain store and the mutual-TLS exchange).
 */
import type { Command } from 'commander';
import { ERASURE_REASONS, parseSignedPatientMessage, type RecordErasureMessage, type RecordLabels, type SignedPatientMessage } from '@medbridge/chaincode';
import { readFileSync, writeFileSync } from 'node:fs';
import { toClientError, usageError } from '../../errors';
import { listenAddress, listProfiles, loadProfile, serviceUrl } from '../../fabric/profile';
import { RecordAnchors } from '../../records/anchors';
import { Custodian, type ErasureBasis } from '../../records/custodian';
import { publishEndpoint, readEndpoint, storeFileOf, withdrawEndpoint } from '../../records/endpoints';
import { recordHash } from '../../records/hashing';
import { tlsIdentityOf, trustedOrgs } from '../../records/org-tls';
import { RecordFetcher } from '../../records/record-fetcher';
import { startRecordServer } from '../../records/server';
import { RecordStore } from '../../records/store';
import { backupStore, restoreStore } from '../../records/store-backup';
import { createLogger } from '../../logger';
import { act, int, list, required } from '../action';
import { readJsonFile } from '../json-file';
import type { CliContext } from '../context';

function storeFile(ctx: CliContext): string {
  return storeFileOf(ctx.dataDir(), ctx.client().mspId);
}

function openStore(ctx: CliContext): RecordStore {
  return new RecordStore(storeFile(ctx));
}

function anchors(ctx: CliContext): RecordAnchors {
  return new RecordAnchors(ctx.chaincode());
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Date options: an ISO date or date-time (UTC when no offset), or ms since the epoch. */
function instant(value: string, flag: string): number {
  const ms = /^-?\d+$/.test(value) ? Number(value) : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isSafeInteger(ms)) throw usageError(`${flag} must be an ISO date (2024-03-01), a date-time, or ms since the epoch; got ${value}`);
  return ms;
}

/**
 * The consent v2 metadata of `--labels/--data-date/--author-org/--document-class`, or
 * undefined when none is given (a label-less anchor). The chaincode validates the codes.
 */
export function metadataOptions(o: Record<string, unknown>, ownMsp: string): RecordLabels | undefined {
  const given = ['labels', 'dataDate', 'authorOrg', 'documentClass'].some((k) => o[k] !== undefined);
  if (!given) return undefined;
  const documentClasses = list(o.documentClass as string[] | undefined).map((c) => {
    const bar = c.lastIndexOf('|');
    if (bar <= 0 || bar === c.length - 1) throw usageError(`--document-class must be <system>|<code>, got ${c}`);
    return { system: c.slice(0, bar), code: c.slice(bar + 1) };
  });
  return {
    securityLabels: list(o.labels as string | undefined).map((l) => l.toUpperCase()),
    dataDate: instant(required(o.dataDate as string | undefined, '--data-date (with record metadata)'), '--data-date'),
    authorOrg: (o.authorOrg as string | undefined) ?? ownMsp,
    documentClasses,
  };
}

/** The metadata options of `record anchor`, `records put` and `record amend`. */
function withMetadataOptions(c: Command): Command {
  return c
    .option('--labels <codes>', 'security labels for consent decisions: a confidentiality code (U L M N R V) and sensitivity codes (PSY, HIV, SUD, ETH...), comma-separated')
    .option('--data-date <date>', 'when the data was produced (ISO date or date-time); required with any metadata option')
    .option('--author-org <mspId>', 'org that authored the record (default: --org, the custodian)')
    .option('--document-class <system|code>', 'a document class, e.g. http://loinc.org|11488-4 (repeatable)', (v: string, prev: string[] = []) => [...prev, v]);
}

async function putRecord(ctx: CliContext, o: Record<string, unknown>): Promise<void> {
  const client = ctx.client();
  const metadata = metadataOptions(o, client.mspId);
  const store = openStore(ctx);
  try {
    const custodian = new Custodian(client, store, ctx.log);
    const res = await ctx.wait(
      'anchoring',
      custodian.put({
        channel: ctx.channel(client),
        patientId: required(o.patient as string | undefined, '--patient'),
        category: required(o.category as string | undefined, '--category'),
        content: readInput(required(o.file as string | undefined, '--file')),
        contentType: o.contentType as string | undefined,
        recordId: o.recordId as string | undefined,
        ...(metadata ? { metadata } : {}),
      }),
    );
    ctx.print(res);
  } finally {
    store.close();
  }
}

export function registerRecords(program: Command): void {
  const record = program.command('record').description('record anchors on chain (salted SHA-256; the record stays off chain)');

  withMetadataOptions(record.command('anchor'))
    .description('store a record in --org\'s record store and anchor its salted hash (or anchor a given --hash only)')
    .requiredOption('--patient <patientId>', 'patient registered at --org')
    .requiredOption('--category <type>', 'FHIR resource type, e.g. Observation')
    .option('--file <path>', 'the record (FHIR JSON); - for stdin')
    .option('--hash <hex>', 'anchor this salted hash instead (record kept elsewhere)')
    .option('--record-id <id>', 'record id (default: generated)')
    .option('--content-type <type>', 'media type of the record', 'application/fhir+json')
    .action(
      act(async (ctx, o) => {
        if (o.hash) {
          const id = required(o.recordId as string | undefined, '--record-id (with --hash)');
          const metadata = metadataOptions(o, ctx.client().mspId);
          const args = { recordId: id, patientId: o.patient as string, category: o.category as string, hash: o.hash as string };
          const res = await ctx.wait('anchoring', anchors(ctx).anchor(metadata ? { ...args, metadata } : args));
          ctx.print({ ...res.result, txId: res.txId });
          return;
        }
        await putRecord(ctx, o);
      }),
    );

  withMetadataOptions(record.command('amend <recordId>'))
    .description('store and anchor the next version of a record --org holds; metadata options replace its metadata (else kept)')
    .requiredOption('--file <path>', 'the new version')
    .action(
      act(async (ctx, o, recordId) => {
        const store = openStore(ctx);
        try {
          const res = await ctx.wait('amending', new Custodian(ctx.client(), store, ctx.log).amend(recordId as string, readInput(o.file as string), undefined, metadataOptions(o, ctx.client().mspId)));
          ctx.print(res);
        } finally {
          store.close();
        }
      }),
    );

  record
    .command('verify <recordId>')
    .description('check a file (with its salt) against the anchor on chain; default: the copy in --org\'s store')
    .option('--file <path>', 'record bytes to check')
    .option('--salt <hex>', 'salt of that record (hex)')
    .option('--at-version <n>', 'anchored version (default: head)')
    .action(
      act(async (ctx, o, recordId) => {
        let content: Buffer;
        let salt: Buffer;
        let version: number | undefined = o.atVersion === undefined ? undefined : int(o.atVersion, '--at-version', 1);
        if (o.file) {
          content = readInput(o.file as string);
          salt = Buffer.from(required(o.salt as string | undefined, '--salt (with --file)'), 'hex');
        } else {
          const store = openStore(ctx);
          try {
            const r = store.mustGet(recordId as string, version);
            content = r.content;
            salt = r.salt;
            version = r.version;
          } finally {
            store.close();
          }
        }
        const hash = recordHash(salt, content);
        const res = await anchors(ctx).verify(recordId as string, hash, version);
        ctx.print({ ...res, hash });
        if (!res.match) process.exitCode = 3;
      }),
    );

  record
    .command('show <recordId>')
    .description('the anchor of a record (head version)')
    .action(
      act(async (ctx, _o, recordId) => {
        ctx.print(await anchors(ctx).head(recordId as string));
      }),
    );

  record
    .command('labels <recordId>')
    .description("the consent metadata of a record this org holds (private to its custodian: asked of this org's own peer)")
    .action(
      act(async (ctx, _o, recordId) => {
        ctx.print(await anchors(ctx).labels(recordId as string));
      }),
    );

  record
    .command('purge-labels <recordId>')
    .description("purge the private consent metadata of every version of a record this org erased (done by `records erase`; run again if that step failed); NOT_FOUND when none is left")
    .action(
      act(async (ctx, _o, recordId) => {
        const res = await anchors(ctx).purgeLabels(recordId as string);
        ctx.print({ ...res.result, txId: res.txId });
      }),
    );

  record
    .command('history <recordId>')
    .description('every anchored version of a record')
    .action(
      act(async (ctx, _o, recordId) => {
        const page = await anchors(ctx).history(recordId as string);
        ctx.print(page, { listKey: 'items', columns: [{ key: 'version' }, { key: 'hash', max: 20 }, { key: 'amendedBy' }, { key: 'time', as: 'time' }, { key: 'createdAt', as: 'time' }, { key: 'txId', max: 16 }] });
      }),
    );

  const records = program.command('records').description("the off-chain record store and exchange of --org");

  withMetadataOptions(records.command('put'))
    .description('store a record and anchor it (same as `record anchor --file`)')
    .requiredOption('--patient <patientId>', 'patient registered at --org')
    .requiredOption('--category <type>', 'FHIR resource type')
    .requiredOption('--file <path>', 'the record; - for stdin')
    .option('--record-id <id>', 'record id (default: generated)')
    .option('--content-type <type>', 'media type', 'application/fhir+json')
    .action(act(async (ctx, o) => putRecord(ctx, o)));

  records
    .command('list')
    .description("records in --org's store (metadata only)")
    .option('--patient <patientId>', 'only this patient')
    .action(
      act(async (ctx, o) => {
        const store = openStore(ctx);
        try {
          ctx.print(store.list(o.patient as string | undefined), {
            columns: [{ key: 'recordId' }, { key: 'version' }, { key: 'channel' }, { key: 'category' }, { key: 'patientId', max: 20 }, { key: 'size' }, { key: 'anchorTxId', max: 16 }],
          });
        } finally {
          store.close();
        }
      }),
    );

  records
    .command('check')
    .description("check every row of --org's store against its checksum, and SQLite's structure; exit 3 when anything does not match. Then delete rows whose anchor the ledger says is erased (--offline: skip)")
    .option('--offline', 'check the file only; do not ask the ledger which records are erased')
    .action(
      act(async (ctx, o) => {
        const store = openStore(ctx);
        try {
          const check = store.verify();
          let erased: string[] | undefined;
          if (!o.offline) {
            try {
              erased = (await new Custodian(ctx.client(), store, ctx.log).repairErased()).map((r) => r.recordId);
            } catch (e) {
              ctx.note(`could not ask the ledger which records are erased (${toClientError(e).message}); the file check stands`);
            }
          }
          ctx.print({ store: store.file, ...check, ...(erased ? { erasedRepaired: erased } : {}) });
          if (!check.ok) process.exitCode = 3;
        } finally {
          store.close();
        }
      }),
    );

  records
    .command('erase <recordId>')
    .description(
      `erase a record --org holds (GDPR art. 17): the anchor on the ledger keeps no hash, then the content and salt of every version are destroyed in the store. On the patient's signed request (--request), or on a request a privacy officer verified (--reason, with --identity of the privacy officer): ${ERASURE_REASONS.join(', ')}`,
    )
    .option('--request <file>', "the patient's (or guardian's) signed record.erase envelope (`medbridge patient request-erasure`); - for stdin")
    .option('--reason <code>', 'a verified request: why, as a code (no free text)')
    .action(
      act(async (ctx, o, recordId) => {
        if ((o.request === undefined) === (o.reason === undefined)) throw usageError('give exactly one of --request <file> and --reason <code>');
        let basis: ErasureBasis;
        if (o.request !== undefined) {
          const signed = parseSignedPatientMessage(readJsonFile(o.request as string, 'a signed record.erase envelope'));
          if (signed.message.kind !== 'record.erase') throw usageError(`${o.request as string} holds a ${signed.message.kind} envelope, not a record.erase`);
          if ((signed.message as RecordErasureMessage).recordId !== recordId) throw usageError(`${o.request as string} asks to erase ${(signed.message as RecordErasureMessage).recordId}, not ${recordId as string}`);
          basis = { request: signed as SignedPatientMessage<RecordErasureMessage> };
        } else {
          basis = { reasonCode: o.reason as string };
        }
        const store = openStore(ctx);
        try {
          ctx.print(await ctx.wait('erasing', new Custodian(ctx.client(), store, ctx.log).erase(recordId as string, basis)));
        } finally {
          store.close();
        }
      }),
    );

  records
    .command('backup')
    .description("copy --org's store into one checked file while it keeps serving (gateway/CLI.md \"Backup and restore of the record store\")")
    .requiredOption('--out <file>', 'the backup file (replaced if it exists)')
    .action(
      act(async (ctx, o) => {
        const store = openStore(ctx);
        try {
          ctx.print({ store: store.file, ...(await backupStore(store, o.out as string)) });
        } finally {
          store.close();
        }
      }),
    );

  records
    .command('restore')
    .description("replace --org's store with a checked backup; the replaced store is set aside, never deleted (stop `records serve` first)")
    .requiredOption('--from <file>', 'a file written by `records backup`')
    .action(
      act((ctx, o) => {
        ctx.print(restoreStore(o.from as string, storeFile(ctx)));
        return Promise.resolve();
      }),
    );

  records
    .command('serve')
    .description("serve --org's records over HTTPS with mutual TLS (org TLS identities) until stopped")
    .option('--port <n>', 'port (0 = any free port)', '0')
    .option('--host <addr>', "listen address (default: the profile's host address, else 127.0.0.1)")
    .action(
      act(async (ctx, o) => {
        const client = ctx.client();
        const store = openStore(ctx);
        const logger = createLogger({ name: 'medbridge-records', level: ctx.opts.verbose ? 'debug' : ctx.cfg.logLevel ?? 'info' }).child({ org: client.mspId });
        const host = listenAddress(client.profile, o.host as string | undefined);
        const custodian = new Custodian(client, store, logger);
        // An erasure cut short (ledger written, rows not yet deleted) is finished before serving.
        await custodian.repairErased();
        const server = await startRecordServer({
          custodian,
          identity: tlsIdentityOf(client.profile),
          trusted: trustedOrgs(listProfiles()),
          host,
          port: int(o.port, '--port'),
          logger,
        });
        // Other orgs dial the profile's host name when it has one (hosts as data), else the address.
        const url = serviceUrl(client.profile, host, server.port);
        publishEndpoint(ctx.dataDir(client.profile), { mspId: client.mspId, url, pid: process.pid });
        ctx.print({ org: client.mspId, url, store: store.file });
        await new Promise<void>((resolveStop) => {
          const stop = () => resolveStop();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        withdrawEndpoint(ctx.dataDir(client.profile), client.mspId);
        await server.close();
        store.close();
      }),
    );

  records
    .command('fetch <recordId>')
    .description('--org asks the custodian for a record; the custodian checks consent and logs on chain; the hash is checked here')
    .requiredOption('--from <org>', 'custodian org (e.g. HospitalA)')
    .option('--purpose <code>', 'purpose of use', 'TREAT')
    .option('--consent <consentId>', 'the consent relied on')
    .option('--url <url>', "custodian's exchange URL (default: the one `records serve` published)")
    .option('--out <file>', 'write the verified record here')
    .action(
      act(async (ctx, o, recordId) => {
        const custodianProfile = loadProfile(o.from as string);
        if (!custodianProfile.tls) throw usageError(`profile of ${custodianProfile.org} has no tls section`);
        const url = (o.url as string | undefined) ?? readEndpoint(ctx.dataDir(custodianProfile), custodianProfile.mspId)?.url;
        if (!url) throw usageError(`no record exchange URL for ${custodianProfile.mspId}`, `start it with \`medbridge records serve --org ${custodianProfile.org}\` or pass --url`);
        // The same fetch as the API's record content route: the anchor is checked on --org's own
        // ledger, or by the attestation of the record chain's nodes as --org's chains registered them.
        const fetcher = new RecordFetcher(ctx.client(), { exchangeUrl: () => url, profileOf: () => custodianProfile });
        const fetched = await ctx.wait(
          'fetching',
          fetcher.fetch({ from: custodianProfile.org, recordId: recordId as string, purpose: String(o.purpose).toUpperCase(), ...(o.consent ? { consentId: o.consent as string } : {}) }),
        );
        if (o.out) writeFileSync(o.out as string, fetched.content, { mode: 0o600 });
        const { content, ...meta } = fetched;
        const text = content.toString('utf8');
        ctx.print({ ...meta, verified: true, size: content.length, ...(o.out ? { file: o.out as string } : { content: text }) });
      }),
    );
}
