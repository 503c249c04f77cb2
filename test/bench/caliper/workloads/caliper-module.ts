/**
 * The part of Hyperledger Caliper 0.6 a workload module touches, typed here so that the workloads
 * type-check without Caliper installed (it is installed on demand by `make bench-caliper`, in
 * test/bench/caliper only). Caliper loads a workload module with require() and calls its
 * `createWorkloadModule()`; each worker then calls initializeWorkloadModule once per round,
 * submitTransaction on the round's rate control, and cleanupWorkloadModule at the end.
 */

/** A request to Caliper's Fabric peer-gateway connector. */
export interface FabricRequest {
  contractId: string;
  channel: string;
  /** `Contract:Transaction`, e.g. `Consent:RegisterPatient`. */
  contractFunction: string;
  contractArguments: string[];
  invokerMspId: string;
  invokerIdentity: string;
  readOnly: boolean;
}

/** Caliper's TxStatus, as far as a workload reads it. */
export interface TxStatus {
  GetStatus(): string;
  IsCommitted(): boolean;
  GetResult(): unknown;
}

/** Caliper's connector (the SUT adapter) handed to each workload. */
export interface Connector {
  sendRequests(request: FabricRequest): Promise<TxStatus>;
}

export interface WorkloadModule {
  initializeWorkloadModule(workerIndex: number, totalWorkers: number, roundIndex: number, roundArguments: Record<string, unknown>, sutAdapter: Connector, sutContext: unknown): Promise<void>;
  submitTransaction(): Promise<void>;
  cleanupWorkloadModule(): Promise<void>;
}

/** Where a workload sends its transactions (round arguments, written by gateway/src/bench/caliper.ts). */
export interface Target {
  channel: string;
  contractId: string;
  mspId: string;
  identity: string;
}

/** The round argument `name` as a non-empty string. */
export function stringArg(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new Error(`caliper workload: round argument ${name} must be a non-empty string`);
  return v;
}

export function targetOf(args: Record<string, unknown>): Target {
  return { channel: stringArg(args, 'channel'), contractId: stringArg(args, 'contractId'), mspId: stringArg(args, 'mspId'), identity: stringArg(args, 'identity') };
}

/** A submit (endorse, order, wait for commit) of `fn` with `args` as the target's identity. */
export function submitRequest(t: Target, fn: string, args: string[]): FabricRequest {
  return { contractId: t.contractId, channel: t.channel, contractFunction: fn, contractArguments: args, invokerMspId: t.mspId, invokerIdentity: t.identity, readOnly: false };
}
