/**
 * One subscription to the channel's chaincode events, fanned out to every Server-Sent Events
 * client (`GET /v1/events`): consent granted or revoked, access logged, emergency opened. An
 * EHR reacts without polling. Payloads are the chaincode's own event payloads (ids only).
 * When the Fabric stream fails it is opened again from the block after the last one
 * delivered, so a client sees each later event once.
 */
import type { ChaincodeEventName } from '@medbridge/chaincode';
import type { Logger } from 'pino';
import type { Chaincode, ChaincodeEvent, Subscription } from '../fabric/contracts';

export const STREAMED_EVENTS = ['ConsentGranted', 'ConsentRevoked', 'AccessLogged', 'EmergencyOpened', 'PatientKeyRotated'] as const satisfies readonly ChaincodeEventName[];
export type StreamedEvent = ChaincodeEvent<(typeof STREAMED_EVENTS)[number]>;

export type Listener = (event: StreamedEvent) => void;

const REOPEN_DELAY_MS = 1_000;

export class EventHub {
  private readonly listeners = new Set<Listener>();
  private subscription?: Subscription;
  private nextBlock?: bigint;
  private closed = false;
  private reopenTimer?: NodeJS.Timeout;

  constructor(
    private readonly chaincode: Chaincode,
    private readonly log: Logger,
    private readonly onEvent: (name: string) => void = () => undefined,
  ) {}

  /** Opens the Fabric event stream; resolves once it is open. */
  async start(): Promise<void> {
    const sub = await this.chaincode.on(
      STREAMED_EVENTS,
      (e) => {
        this.nextBlock = e.blockNumber;
        this.onEvent(e.name);
        for (const l of this.listeners) l(e);
      },
      this.nextBlock === undefined ? {} : { startBlock: this.nextBlock + 1n },
    );
    this.subscription = sub;
    sub.done.then(
      () => this.reopen('ended'),
      (e: unknown) => this.reopen((e as Error).message),
    );
  }

  private reopen(why: string): void {
    if (this.closed) return;
    this.log.warn({ why }, 'chaincode event stream closed; reopening');
    this.reopenTimer = setTimeout(() => {
      this.start().catch((e: unknown) => this.reopen((e as Error).message));
    }, REOPEN_DELAY_MS);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get clients(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.listeners.clear();
    await this.subscription?.close();
  }
}
