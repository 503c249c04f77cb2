#!/usr/bin/env node
/**
 * `medbridge`: the command line of a hospital (and of its patients' keys) on a medbridge
 * network. Exit codes: 0 success, 1 other failure, 2 usage, 3 rejected by the chaincode
 * or ledger (code printed), 4 network unreachable or timed out. Reference: gateway/CLI.md.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCodes } from '../errors';
import { registerBasic } from './commands/basic';
import { registerPatient } from './commands/patient';
import { registerRecords } from './commands/records';
import { registerCrossChain } from './commands/crosschain';
import { registerRelay } from './commands/relay';
import { registerIncentive } from './commands/incentive';
import { registerBundle } from './commands/bundle';
import { registerServe } from './commands/serve';

export function buildProgram(): Command {
  const program = new Command('medbridge');
  program
    .description('patient-owned consent and cross-chain record sharing on Hyperledger Fabric')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .option('--org <org>', 'act as this org: name, MSP id or profile file (env MEDBRIDGE_DEFAULT_ORG)')
    .option('--channel <channel>', "channel to use (default: the org's first channel)")
    .option('--json', 'print results (and errors) as JSON on stdout')
    .addOption(new Option('--identity <kind>', 'which identity of the org signs').choices(['user', 'admin']).default('user'))
    .option('--peer <index>', 'index of the org peer to talk to (default 0)')
    .option('-v, --verbose', 'debug logs on stderr, per-peer error details');
  registerBasic(program);
  registerPatient(program);
  registerRecords(program);
  registerCrossChain(program);
  registerRelay(program);
  registerIncentive(program);
  registerBundle(program);
  registerServe(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCodes.ok;
      return ExitCodes.usage;
    }
    process.stderr.write(`error INTERNAL: ${(e as Error).message}\n`);
    return ExitCodes.other;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
