/**
 * What every command gets: the global options, the configuration, Fabric clients opened
 * on demand (closed at the end), and one way to print results and errors.
 */
import type { Logger } from 'pino';
import { config, gatewayDataDir, type Config } from '../config';
import { ClientError, toClientError, usageError } from '../errors';
import { FabricClient } from '../fabric/client';
import { Chaincode } from '../fabric/contracts';
import { loadProfile, type IdentityKind, type Profile } from '../fabric/profile';
import { createLogger } from '../logger';
import { formatObject, formatTable, TIME_KEYS, toJson, type Column } from './format';
import { withProgress } from './progress';

export interface GlobalOptions {
  org?: string;
  channel?: string;
  json?: boolean;
  identity?: string;
  peer?: string;
  verbose?: boolean;
}

export interface View {
  /** Columns for a list (array) value. */
  columns?: Column[];
  /** For an object value holding a list, which property to show as the table. */
  listKey?: string;
  /** A one-line human summary printed before the table/object. */
  title?: string;
}

export class CliContext {
  readonly cfg: Config;
  readonly log: Logger;
  private readonly clients = new Map<string, FabricClient>();

  constructor(
    readonly opts: GlobalOptions,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.cfg = config();
    this.log = createLogger({ name: 'medbridge', level: opts.verbose ? 'debug' : this.cfg.logLevel ?? 'warn' });
  }

  get json(): boolean {
    return this.opts.json === true;
  }

  identity(): IdentityKind {
    const id = this.opts.identity ?? 'user';
    if (id !== 'user' && id !== 'admin') throw usageError(`--identity must be user or admin, not ${id}`);
    return id;
  }

  org(): string {
    const org = this.opts.org ?? this.cfg.defaultOrg;
    if (!org) throw usageError('which org? pass --org <name> (e.g. --org HospitalA) or set MEDBRIDGE_DEFAULT_ORG');
    return org;
  }

  /** A client of --org with --identity (or the given identity), opened once per identity. */
  client(identity: IdentityKind = this.identity(), org = this.org()): FabricClient {
    const peer = this.opts.peer === undefined ? undefined : Number(this.opts.peer);
    if (peer !== undefined && (!Number.isInteger(peer) || peer < 0)) throw usageError('--peer must be a peer index (0, 1, ...)');
    const k = `${org}/${identity}/${peer ?? 0}`;
    let c = this.clients.get(k);
    if (!c) {
      c = FabricClient.open(org, { identity, peer, logger: this.log });
      this.clients.set(k, c);
    }
    return c;
  }

  /** The chaincode on --channel (or the org's first channel) as --org with --identity (or the given identity). */
  chaincode(identity: IdentityKind = this.identity(), org = this.org()): Chaincode {
    const client = this.client(identity, org);
    return new Chaincode(client, this.channel(client));
  }

  /** The chaincode on `channel` as --org with --identity, or undefined when --org is not a member of it. */
  chaincodeOn(channel: string): Chaincode | undefined {
    const client = this.client();
    return client.profile.channels.includes(channel) ? new Chaincode(client, channel) : undefined;
  }

  /** The gateway state folder of the network PROFILE belongs to (default: --org's). */
  dataDir(profile: Profile = this.client().profile): string {
    return gatewayDataDir(this.cfg, profile.network);
  }

  /** --channel, or the org's first channel. */
  channel(client: FabricClient = this.client()): string {
    const ch = this.opts.channel ?? client.defaultChannel;
    if (!client.profile.channels.includes(ch)) {
      throw usageError(`${client.profile.org} is not a member of channel ${ch} (its channels: ${client.profile.channels.join(', ')})`);
    }
    return ch;
  }

  /**
   * The chain id a patient message is bound to, found without any network: --channel, or
   * the first channel of --org's connection profile (read from disk only).
   */
  chainId(): string {
    if (this.opts.channel) return this.opts.channel;
    const ch = loadProfile(this.org()).channels[0];
    if (!ch) throw usageError('which chain? pass --channel <chainId>');
    return ch;
  }

  /** Runs a wait with a progress indicator when it takes over a second on a terminal. */
  wait<T>(label: string, work: Promise<T>): Promise<T> {
    return this.json ? work : withProgress(label, work, this.stderr);
  }

  /** Prints a value: JSON with --json, otherwise a table (lists) or key/value lines (objects). */
  print(value: unknown, view: View = {}): void {
    if (this.json) {
      this.stdout.write(`${toJson(value)}\n`);
      return;
    }
    const lines: string[] = [];
    if (view.title) lines.push(view.title);
    const listValue =
      view.listKey && value && typeof value === 'object' ? (value as Record<string, unknown>)[view.listKey] : undefined;
    if (Array.isArray(value)) lines.push(formatTable(value, view.columns));
    else if (Array.isArray(listValue)) {
      const rest = { ...(value as Record<string, unknown>) };
      delete rest[view.listKey as string];
      // An exhausted page cursor says nothing to a person.
      for (const [k, v] of Object.entries(rest)) if (v === '' || v === null) delete rest[k];
      const restText = Object.keys(rest).length > 0 ? formatObject(rest, TIME_KEYS) : '';
      if (restText) lines.push(restText, '');
      lines.push(formatTable(listValue, view.columns));
    } else if (value !== null && typeof value === 'object') lines.push(formatObject(value as Record<string, unknown>, TIME_KEYS));
    else lines.push(value === null || value === undefined ? '(empty)' : String(value));
    this.stdout.write(`${lines.join('\n')}\n`);
  }

  /** A human note on stderr (never in --json output). */
  note(text: string): void {
    if (!this.json) this.stderr.write(`${text}\n`);
  }

  /** Prints an error and returns the exit code for it. */
  fail(err: unknown): number {
    const e = toClientError(err);
    if (this.json) {
      this.stdout.write(`${toJson({ error: e.toJSON() })}\n`);
    } else {
      this.stderr.write(`error ${e.code}: ${e.message}\n`);
      if (e.hint) this.stderr.write(`  next: ${e.hint}\n`);
      if (e.txId) this.stderr.write(`  tx: ${e.txId}\n`);
      if (this.opts.verbose) for (const p of e.peers) this.stderr.write(`  peer ${p.address} (${p.mspId}): ${p.message}\n`);
    }
    this.log.debug({ code: e.code, kind: e.kind, txId: e.txId }, 'command failed');
    return e.exitCode;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

export { ClientError };
